//! Matchers for [`Mock::given`](crate::Mock::given): each builds a [`Match`] condition, and
//! [`Match::and`] combines them. They are the `match` object of a JSON fault rule, in Rust.

use crate::faults::{Match, PayloadMatch};

/// Every push.
pub fn any() -> Match {
    Match::default()
}

/// Pushes to this device token (case-insensitive).
pub fn device_token(token: impl Into<String>) -> Match {
    Match {
        device_token: Some(token.into()),
        ..Match::default()
    }
}

/// Pushes on this topic.
pub fn topic(topic: impl Into<String>) -> Match {
    Match {
        topic: Some(topic.into()),
        ..Match::default()
    }
}

/// Pushes with this `apns-push-type`.
pub fn push_type(push_type: crate::PushType) -> Match {
    Match {
        push_type: Some(push_type.as_str().into()),
        ..Match::default()
    }
}

/// Pushes with this `apns-priority` (10 when the header is absent).
pub fn priority(priority: u8) -> Match {
    Match {
        priority: Some(priority),
        ..Match::default()
    }
}

/// Pushes whose provider token belongs to this team.
pub fn team_id(team: impl Into<String>) -> Match {
    Match {
        team_id: Some(team.into()),
        ..Match::default()
    }
}

/// Pushes whose provider token uses this key.
pub fn key_id(key: impl Into<String>) -> Match {
    Match {
        key_id: Some(key.into()),
        ..Match::default()
    }
}

/// Pushes on this connection (numbered from 1 in accept order).
pub fn connection_id(id: u64) -> Match {
    Match {
        connection_id: Some(id),
        ..Match::default()
    }
}

/// Pushes whose payload has `value` at the JSON pointer `pointer` (e.g. `/call_id`).
pub fn payload(pointer: impl Into<String>, value: impl Into<serde_json::Value>) -> Match {
    let payload = PayloadMatch {
        pointer: pointer.into(),
        equals: value.into(),
    };
    Match {
        payload: Some(payload),
        ..Match::default()
    }
}

impl Match {
    /// Both conditions; where both set a field, `other`'s value wins.
    pub fn and(self, other: Match) -> Match {
        Match {
            device_token: other.device_token.or(self.device_token),
            topic: other.topic.or(self.topic),
            push_type: other.push_type.or(self.push_type),
            priority: other.priority.or(self.priority),
            team_id: other.team_id.or(self.team_id),
            key_id: other.key_id.or(self.key_id),
            connection_id: other.connection_id.or(self.connection_id),
            payload: other.payload.or(self.payload),
        }
    }
}
