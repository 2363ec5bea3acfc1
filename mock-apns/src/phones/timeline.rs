//! A phone's timeline: every push that reached it and what it did, calls started, answered and
//! ended (and why), policy violations, and the test's own changes (offline, app removed, …).
//! Bounded: the oldest entries go first, and the count of dropped ones is kept.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::calls::CallEnd;
use super::delivery::{DeliveryReason, DeliveryStatus};
use super::policy::Violation;
use crate::PushType;

/// Entries kept per phone.
const MAX_ENTRIES: usize = 10_000;

/// One entry: when, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// Epoch ms on the mock's clock.
    pub at: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: PhoneEvent,
}

/// What happened on a phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PhoneEvent {
    /// A push reached the phone's side of APNs: delivered, stored or discarded.
    Push {
        /// The record's id.
        push_id: u64,
        /// Its push type.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        push_type: Option<PushType>,
        /// Its fate.
        status: DeliveryStatus,
        /// Why it was stored or discarded, or that it came from storage.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<DeliveryReason>,
    },
    /// A VoIP push started an incoming call.
    Ringing {
        /// The call id.
        call: String,
        /// The push.
        push_id: u64,
    },
    /// The user answered.
    Answered {
        /// The call id.
        call: String,
    },
    /// A call ended.
    Ended {
        /// The call id.
        call: String,
        /// How.
        why: CallEnd,
        /// The push that ended it, if one did.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        push_id: Option<u64>,
    },
    /// A VoIP push that could not be reported as a new call: iOS terminated the app.
    Violation {
        /// The push.
        push_id: u64,
        /// Which rule.
        why: Violation,
        /// Violations so far (since the last reset).
        count: u32,
    },
    /// iOS stopped delivering VoIP pushes to the app.
    VoipSuspended {
        /// Violations that led to it.
        violations: u32,
    },
    /// The phone went offline (airplane mode).
    Offline,
    /// The phone came back online.
    Online,
    /// The app was removed.
    AppRemoved,
    /// The app was (re)installed.
    AppInstalled,
    /// The policy state was reset: violations forgotten, VoIP delivery resumed.
    Reset,
}

impl PhoneEvent {
    /// One line, without times or push ids: `voip push delivered`, `ringing: call 42`,
    /// `ended: call 42 (stopped_by_push)`. The harness's transcripts show timelines this way.
    pub fn describe(&self) -> String {
        match self {
            PhoneEvent::Push {
                push_type,
                status,
                reason,
                ..
            } => format!(
                "{} push {status}{}",
                push_type.map_or("untyped", PushType::as_str),
                reason
                    .map(|r| format!(" ({})", r.as_str()))
                    .unwrap_or_default()
            ),
            PhoneEvent::Ringing { call, .. } => format!("ringing: call {call}"),
            PhoneEvent::Answered { call } => format!("answered: call {call}"),
            PhoneEvent::Ended { call, why, .. } => {
                format!("ended: call {call} ({})", why.as_str())
            }
            PhoneEvent::Violation { why, count, .. } => format!(
                "PushKit violation {count} ({}): the app is terminated",
                why.as_str()
            ),
            PhoneEvent::VoipSuspended { violations } => {
                format!("VoIP delivery suspended after {violations} violations")
            }
            PhoneEvent::Offline => "offline".into(),
            PhoneEvent::Online => "online".into(),
            PhoneEvent::AppRemoved => "app removed".into(),
            PhoneEvent::AppInstalled => "app installed".into(),
            PhoneEvent::Reset => "reset: violations forgotten".into(),
        }
    }
}

/// The bounded list of entries.
#[derive(Debug, Default)]
pub(crate) struct Timeline {
    entries: VecDeque<TimelineEntry>,
    dropped: u64,
}

impl Timeline {
    pub(crate) fn push(&mut self, at: u64, event: PhoneEvent) {
        if self.entries.len() == MAX_ENTRIES {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(TimelineEntry { at, event });
    }

    pub(crate) fn entries(&self) -> Vec<TimelineEntry> {
        self.entries.iter().cloned().collect()
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_one_flat_object_and_reads_back() {
        let entry = TimelineEntry {
            at: 7,
            event: PhoneEvent::Ended {
                call: "42".into(),
                why: CallEnd::StoppedByPush,
                push_id: Some(3),
            },
        };
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"at": 7, "event": "ended", "call": "42", "why": "stopped_by_push", "push_id": 3})
        );
        assert_eq!(
            serde_json::from_value::<TimelineEntry>(json).unwrap(),
            entry
        );
        let offline: TimelineEntry =
            serde_json::from_value(serde_json::json!({"at": 1, "event": "offline"})).unwrap();
        assert_eq!(offline.event, PhoneEvent::Offline);
    }
}
