//! The iOS Simulator's push file for a recorded push (`docs/phones.md` §6): the payload with a
//! top-level `"Simulator Target Bundle"` naming the app, which `xcrun simctl push <device>
//! file.apns` and drag-and-drop onto the Simulator accept (Xcode 11.4 release notes).
//!
//! The Simulator does not deliver PushKit pushes this way (nor complication or File Provider
//! ones), so those are refused with a clear error rather than turned into a file that silently
//! does nothing.

use crate::record::notification::{Notification, Payload};
use crate::PushType;

/// The key `simctl` reads the app's bundle id from.
pub const TARGET_BUNDLE_KEY: &str = "Simulator Target Bundle";

/// Why a push has no Simulator file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimulatorFileError {
    /// The Simulator does not deliver this push type from a file.
    #[error(
        "push {id} is a {push_type} push: the iOS Simulator does not deliver {push_type} pushes \
         from an .apns file (only alert, background and the other UserNotifications types); \
         test VoIP on a device, or with mock-apns's virtual phones"
    )]
    UnsupportedPushType {
        /// The push.
        id: u64,
        /// Its type.
        push_type: PushType,
    },
    /// The payload is not a JSON dictionary.
    #[error("push {id}'s payload is not a JSON dictionary, so it cannot become an .apns file")]
    NotADictionary {
        /// The push.
        id: u64,
    },
    /// No topic names the app.
    #[error("push {id} has no apns-topic, so the file cannot name the app's bundle")]
    NoTopic {
        /// The push.
        id: u64,
    },
}

impl Notification {
    /// The `.apns` file the iOS Simulator accepts for this push: its payload, unchanged byte for
    /// byte, with `"Simulator Target Bundle": "<bundle id>"` added first.
    pub fn simulator_file(&self) -> Result<String, SimulatorFileError> {
        let id = self.id;
        let push_type = PushType::declared_or_implied(self.push_type(), self.topic());
        if let Some(t @ (PushType::Voip | PushType::Complication | PushType::Fileprovider)) =
            push_type
        {
            return Err(SimulatorFileError::UnsupportedPushType { id, push_type: t });
        }
        let topic = self.topic().ok_or(SimulatorFileError::NoTopic { id })?;
        let bundle = PushType::bundle_of(push_type, topic);
        let Payload::Json(raw) = &self.payload else {
            return Err(SimulatorFileError::NotADictionary { id });
        };
        let body = raw
            .trim()
            .strip_prefix('{')
            .ok_or(SimulatorFileError::NotADictionary { id })?;
        let target = format!(
            "{{{}:{}",
            serde_json::Value::from(TARGET_BUNDLE_KEY),
            serde_json::Value::from(bundle)
        );
        if body.trim_start().starts_with('}') {
            return Ok(format!("{target}}}"));
        }
        Ok(format!("{target},{body}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(topic: &str, push_type: &str, payload: &[u8]) -> Notification {
        let mut n = Notification::sample(9, Payload::from_bytes(payload), 200);
        n.headers = vec![
            ("apns-topic".into(), topic.into()),
            ("apns-push-type".into(), push_type.into()),
        ];
        n
    }

    #[test]
    fn an_alert_becomes_its_payload_plus_the_target_bundle() {
        let body = br#"{ "aps": {"alert": {"title": "Missed call"}}, "call_id": 42 }"#;
        let file = push("com.example.app", "alert", body)
            .simulator_file()
            .unwrap();
        let json: serde_json::Value = serde_json::from_str(&file).unwrap();
        assert_eq!(json[TARGET_BUNDLE_KEY], "com.example.app");
        assert_eq!(json["aps"]["alert"]["title"], "Missed call");
        assert!(
            file.ends_with(r#""call_id": 42 }"#),
            "payload kept as sent: {file}"
        );
        let empty = push("com.example.app", "background", b"{}")
            .simulator_file()
            .unwrap();
        assert_eq!(empty, r#"{"Simulator Target Bundle":"com.example.app"}"#);
    }

    #[test]
    fn a_live_activity_names_the_bundle_without_its_suffix() {
        let file = push(
            "com.example.app.push-type.liveactivity",
            "liveactivity",
            br#"{"aps":{}}"#,
        )
        .simulator_file()
        .unwrap();
        assert!(
            file.starts_with(r#"{"Simulator Target Bundle":"com.example.app","#),
            "{file}"
        );
    }

    #[test]
    fn voip_and_non_dictionaries_are_refused_with_the_reason() {
        let err = push("com.example.app.voip", "voip", br#"{"aps":{}}"#)
            .simulator_file()
            .unwrap_err();
        assert!(
            err.to_string().contains("does not deliver voip pushes"),
            "{err}"
        );
        let err = push("com.example.app", "alert", b"[1]")
            .simulator_file()
            .unwrap_err();
        assert_eq!(err, SimulatorFileError::NotADictionary { id: 9 });
    }
}
