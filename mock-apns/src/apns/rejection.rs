//! A refused push: the reason from Apple's table plus what the mock says about it.

use crate::apns::reason::Reason;

/// Why a push is refused: Apple's reason, the 410 timestamp, and the mock's own explanation
/// (recorded, never sent on the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) reason: Reason,
    pub(crate) timestamp: Option<u64>,
    pub(crate) detail: String,
}

impl Rejection {
    pub(crate) fn new(reason: Reason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            timestamp: None,
            detail: detail.into(),
        }
    }
}
