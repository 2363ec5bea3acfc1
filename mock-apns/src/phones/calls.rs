//! Incoming calls on a phone: started by a delivered VoIP push, ringing until answered,
//! declined, stopped by a later push carrying the same call id, ended with the app, or timed
//! out on the mock's clock.

use serde::{Deserialize, Serialize};

/// The JSON pointers a call id is looked for at, in order, unless configured otherwise.
pub const DEFAULT_CALL_ID_POINTERS: &[&str] = &["/call_id", "/callId", "/callUUID", "/uuid"];

/// How long a call rings before the phone gives up, unless configured otherwise. CallKit has
/// no timeout of its own (the app ends the call); one minute is the mock's choice
/// (`docs/phones.md` §7).
pub const DEFAULT_RING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallState {
    /// The phone rings.
    Ringing,
    /// The user answered on this phone.
    Answered,
    /// Over; [`Call::end`] says how.
    Ended,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CallEnd {
    /// The user declined it (the test did).
    Declined,
    /// A non-VoIP push carried its call id: the provider's cancel or "stop ringing".
    StoppedByPush,
    /// Nobody answered before the ring timeout.
    RingTimeout,
    /// iOS terminated the app for a PushKit violation, and its calls ended with it.
    AppTerminated,
}

impl CallEnd {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CallEnd::Declined => "declined",
            CallEnd::StoppedByPush => "stopped_by_push",
            CallEnd::RingTimeout => "ring_timeout",
            CallEnd::AppTerminated => "app_terminated",
        }
    }
}

/// One incoming call on one phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The call id the VoIP push carried.
    pub call: String,
    /// Ringing, answered or ended.
    pub state: CallState,
    /// The push that started it.
    pub push_id: u64,
    /// When it started ringing (epoch ms, mock clock).
    pub started_at: u64,
    /// When it stops ringing unanswered (epoch ms), while it rings and a timeout is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ring_deadline: Option<u64>,
    /// When it was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<u64>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<u64>,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<CallEnd>,
    /// The push that ended it ([`CallEnd::StoppedByPush`]) or whose violation did
    /// ([`CallEnd::AppTerminated`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_by_push: Option<u64>,
}

impl Call {
    pub(crate) fn ringing(call: &str, push_id: u64, at: u64, deadline: Option<u64>) -> Self {
        Self {
            call: call.to_owned(),
            state: CallState::Ringing,
            push_id,
            started_at: at,
            ring_deadline: deadline,
            answered_at: None,
            ended_at: None,
            end: None,
            ended_by_push: None,
        }
    }

    /// Ringing or answered.
    pub fn is_active(&self) -> bool {
        self.state != CallState::Ended
    }

    pub(crate) fn finish(&mut self, end: CallEnd, at: u64, push_id: Option<u64>) {
        self.state = CallState::Ended;
        self.ring_deadline = None;
        self.ended_at = Some(at);
        self.end = Some(end);
        self.ended_by_push = push_id;
    }
}
