//! The three notifications a calling app sends, with the headers Apple asks for each.

use serde_json::json;
use uuid::Uuid;

use crate::apns::Push;

/// How long the callee's phone rings, in seconds (sent to the app in the VoIP payload).
pub(crate) const RING_TIMEOUT_SECS: u64 = 30;

/// The incoming call: a VoIP push to the PushKit token.
///
/// Push type `voip`, topic `<bundle>.voip`, priority 10 (ring now), expiration 0: a call that
/// cannot be delivered right away must not ring minutes later (Apple's PushKit guidance). The
/// payload carries what CallKit's incoming-call screen needs.
pub(crate) fn incoming_call(bundle: &str, token: &str, call_id: Uuid, caller: &str) -> Push {
    Push {
        device_token: token.to_owned(),
        push_type: "voip",
        topic: format!("{bundle}.voip"),
        priority: 10,
        expiration: Some(0),
        payload: json!({
            "aps": {},
            "call_id": call_id,
            "caller": caller,
            "ring_timeout": RING_TIMEOUT_SECS,
        })
        .to_string()
        .into_bytes(),
    }
}

/// The payload telling the user they missed a call.
fn missed_call_payload(call_id: Uuid, caller: &str) -> Vec<u8> {
    json!({
        "aps": {
            "alert": {
                "title": "Missed call",
                "body": format!("Missed call from {caller}"),
            },
        },
        "call_id": call_id,
    })
    .to_string()
    .into_bytes()
}

/// The caller hung up first: a visible "missed call" alert to the regular token.
///
/// Not a VoIP push: since iOS 13 every VoIP push must report a new incoming call to CallKit,
/// and an app that receives one without ringing is terminated and eventually cut off from
/// VoIP pushes. No expiration: APNs may store it until the phone is reachable.
pub(crate) fn missed_call(bundle: &str, token: &str, call_id: Uuid, caller: &str) -> Push {
    Push {
        device_token: token.to_owned(),
        push_type: "alert",
        topic: bundle.to_owned(),
        priority: 10,
        expiration: None,
        payload: missed_call_payload(call_id, caller),
    }
}

/// The deliberate bug (`CALL_PROVIDER_BUG=cancel-as-voip`): the missed-call notice sent as a
/// VoIP push to the VoIP token, exactly the mistake [`missed_call`] avoids.
pub(crate) fn missed_call_as_voip(bundle: &str, token: &str, call_id: Uuid, caller: &str) -> Push {
    Push {
        device_token: token.to_owned(),
        push_type: "voip",
        topic: format!("{bundle}.voip"),
        priority: 10,
        expiration: Some(0),
        payload: missed_call_payload(call_id, caller),
    }
}

/// The deliberate bug (`CALL_PROVIDER_BUG=voip-expiration-60`): `push` with an
/// `apns-expiration` one minute ahead, so APNs stores it for an offline phone and delivers
/// it late, exactly what [`incoming_call`]'s expiration 0 avoids.
pub(crate) fn stored_for_a_minute(push: Push) -> Push {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Push {
        expiration: Some(now + 60),
        ..push
    }
}

/// Answered on one device: tell the others to stop ringing.
///
/// A background push (`content-available: 1`, no alert), which Apple requires at priority 5,
/// to the regular token; the app ends its CallKit call when it wakes.
pub(crate) fn answered_elsewhere(bundle: &str, token: &str, call_id: Uuid) -> Push {
    Push {
        device_token: token.to_owned(),
        push_type: "background",
        topic: bundle.to_owned(),
        priority: 5,
        expiration: None,
        payload: json!({
            "aps": { "content-available": 1 },
            "call_id": call_id,
            "event": "answered-elsewhere",
        })
        .to_string()
        .into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(push: &Push) -> serde_json::Value {
        serde_json::from_slice(&push.payload).unwrap()
    }

    #[test]
    fn the_incoming_call_is_a_voip_push_that_expires_at_once() {
        let id = Uuid::nil();
        let push = incoming_call("com.example.app", "abcd", id, "alice");
        assert_eq!(
            (push.push_type, push.topic.as_str(), push.priority),
            ("voip", "com.example.app.voip", 10)
        );
        assert_eq!(push.expiration, Some(0));
        assert_eq!(
            payload(&push),
            json!({"aps": {}, "call_id": id, "caller": "alice", "ring_timeout": 30})
        );
    }

    #[test]
    fn the_late_voip_bug_keeps_the_call_but_expires_a_minute_ahead() {
        let push = incoming_call("com.example.app", "abcd", Uuid::nil(), "alice");
        let late = stored_for_a_minute(push.clone());
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let expiration = late.expiration.unwrap();
        assert!((now + 59..=now + 61).contains(&expiration), "{expiration}");
        assert_eq!(late.payload, push.payload);
    }

    #[test]
    fn the_missed_call_is_an_alert_on_the_bare_bundle_topic() {
        let push = missed_call("com.example.app", "abcd", Uuid::nil(), "alice");
        assert_eq!(
            (push.push_type, push.topic.as_str(), push.priority),
            ("alert", "com.example.app", 10)
        );
        assert_eq!(
            payload(&push)["aps"]["alert"],
            json!({"title": "Missed call", "body": "Missed call from alice"})
        );
    }

    #[test]
    fn answered_elsewhere_is_a_silent_background_push_at_priority_5() {
        let push = answered_elsewhere("com.example.app", "abcd", Uuid::nil());
        assert_eq!(
            (push.push_type, push.topic.as_str(), push.priority),
            ("background", "com.example.app", 5)
        );
        let p = payload(&push);
        assert_eq!(p["aps"], json!({"content-available": 1}));
        assert_eq!(p["event"], "answered-elsewhere");
    }
}
