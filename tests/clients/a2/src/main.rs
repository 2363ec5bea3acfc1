//! One push with a2 0.10, patched by `mock-apns.patch` to reach mock-apns: `A2_ENDPOINT`
//! (`localhost:<port>`) replaces Apple's host, `A2_CA_FILE` (the mock's `ca.pem`) its roots.
//! Token auth from `APNS_KEY_FILE` / `APNS_KEY_ID` / `APNS_TEAM_ID`, or certificate auth from
//! `APNS_CERT_FILE` / `APNS_CERT_KEY_FILE`; the push from `$PUSH` (JSON: token, topic,
//! push_type, priority, expiration, payload, pad_to), as the other clients' scripts take it.
//!
//! Prints `{"status", "reason", "timestamp", "apns_id", "body_bytes"}` from a2's own `Response`
//! for tests/clients/a2.rs.

use a2::request::notification::{NotificationOptions, Priority};
use a2::request::payload::PayloadLike;
use a2::{Client, ClientConfig, Endpoint, Error, PushType};
use serde_json::{json, Map, Value};

/// The payload exactly as given: a2's own builder always writes an `aps` of its making.
#[derive(Debug, serde::Serialize)]
struct RawPayload<'a> {
    #[serde(flatten)]
    json: Map<String, Value>,
    #[serde(skip)]
    device_token: &'a str,
    #[serde(skip)]
    options: NotificationOptions<'a>,
}

impl PayloadLike for RawPayload<'_> {
    fn get_device_token(&self) -> &str {
        self.device_token
    }

    fn get_options(&self) -> &NotificationOptions<'_> {
        &self.options
    }
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

fn client() -> Client {
    // The sandbox: api.development.push.apple.com, unless A2_ENDPOINT says otherwise.
    let config = ClientConfig::new(Endpoint::Sandbox);
    let client = match std::env::var("APNS_CERT_FILE") {
        Ok(cert) => {
            let cert = std::fs::read(cert).expect("the certificate file");
            let key = std::fs::read(required("APNS_CERT_KEY_FILE")).expect("the key file");
            Client::certificate_parts(&cert, &key, config)
        }
        Err(_) => {
            let key = std::fs::File::open(required("APNS_KEY_FILE")).expect("the .p8 file");
            Client::token(key, required("APNS_KEY_ID"), required("APNS_TEAM_ID"), config)
        }
    };
    client.expect("a2 builds its client")
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let push: Value = serde_json::from_str(&required("PUSH")).expect("$PUSH is JSON");
    let mut json = push["payload"].as_object().cloned().expect("a JSON object payload");
    if let Some(size) = push["pad_to"].as_u64() {
        json.insert("pad".into(), "".into());
        let bare = serde_json::to_string(&json).expect("JSON").len() as u64;
        json.insert("pad".into(), "x".repeat((size - bare) as usize).into());
    }
    let body_bytes = serde_json::to_string(&json).expect("JSON").len();
    let topic = push["topic"].as_str().expect("a topic").to_owned();
    let payload = RawPayload {
        json,
        device_token: push["token"].as_str().expect("a device token"),
        options: NotificationOptions {
            apns_push_type: Some(match push["push_type"].as_str() {
                Some("voip") => PushType::Voip,
                _ => PushType::Alert,
            }),
            apns_priority: Some(match push["priority"].as_u64() {
                Some(5) => Priority::Normal,
                _ => Priority::High,
            }),
            apns_expiration: push["expiration"].as_u64(),
            apns_topic: Some(&topic),
            ..NotificationOptions::default()
        },
    };

    let result = client().send(payload).await;

    let response = match result {
        Ok(response) | Err(Error::ResponseError(response)) => response,
        Err(other) => panic!("a2 failed before APNs answered: {other}"),
    };
    let error = response.error.as_ref();
    println!(
        "{}",
        json!({
            "status": response.code,
            "reason": error.map(|e| format!("{:?}", e.reason)),
            "timestamp": error.and_then(|e| e.timestamp),
            "apns_id": response.apns_id,
            "body_bytes": body_bytes,
        })
    );
}
