//! PushKit's rule on the phone (`docs/phones.md` §1): every VoIP push must be reported to
//! CallKit as a new incoming call. A push that cannot be (it carries no call id, or repeats a
//! call the phone already rang) gets the app terminated; after `violation_limit` such pushes
//! iOS stops delivering VoIP pushes to the app until it is reset.
//!
//! Apple says "repeatedly" without a number: the default limit, 3, is the mock's choice
//! (`--voip-violation-limit`), written down in `docs/phones.md` §7 with the other choices.

use serde::{Deserialize, Serialize};

/// How many violations suspend VoIP delivery when nobody says otherwise.
pub const DEFAULT_VIOLATION_LIMIT: u32 = 3;

/// Why a VoIP push could not be reported to CallKit as a new call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Violation {
    /// Its call id is one the phone already rang: the classic "cancel (or keep ringing) with
    /// another VoIP push".
    RepeatedCall,
    /// It carries no call id at any of the configured pointers: the app has nothing to report.
    NoCallId,
}

impl Violation {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Violation::RepeatedCall => "repeated_call",
            Violation::NoCallId => "no_call_id",
        }
    }
}

/// Judges one delivered VoIP push: the new call it may start, or the rule it breaks.
pub(crate) fn judge(
    call_id: Option<&str>,
    already_rang: impl Fn(&str) -> bool,
) -> Result<&str, Violation> {
    match call_id {
        None => Err(Violation::NoCallId),
        Some(id) if already_rang(id) => Err(Violation::RepeatedCall),
        Some(id) => Ok(id),
    }
}

/// Whether `violations` so far suspend VoIP delivery (a limit of 0 never does).
pub(crate) fn suspends(violations: u32, limit: u32) -> bool {
    limit > 0 && violations >= limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_is_a_new_call_only_with_an_unseen_call_id() {
        let rang = |id: &str| id == "41";
        assert_eq!(judge(Some("42"), rang), Ok("42"));
        assert_eq!(judge(Some("41"), rang), Err(Violation::RepeatedCall));
        assert_eq!(judge(None, rang), Err(Violation::NoCallId));
    }

    #[test]
    fn the_limit_counts_from_one_and_zero_disables_it() {
        assert!(!suspends(2, 3));
        assert!(suspends(3, 3));
        assert!(!suspends(100, 0));
    }
}
