//! `aioapns` (PyPI, pinned in `tests/clients/python/requirements.txt`), token auth, pointed at
//! the mock through its connection class attributes `APNS_SERVER` / `APNS_PORT` and an
//! `ssl_context` that trusts the mock's CA (script: `tests/clients/python/aioapns_push.py`).
//!
//! aioapns offers no ALPN over TLS and starts HTTP/2 with prior knowledge, and sends a `host`
//! header rather than `:authority`: the mock must serve it all the same. Its
//! `NotificationResult` carries the status as a string (`"410"`), the reason as
//! `description` and the 410 `timestamp`.

use serde_json::Value;

use super::cases::{self, as_string, as_u64, Client, Sent};
use super::support::{run_python, Mock, Push};

/// aioapns told the mock's host, port and CA.
struct Aioapns;

impl Client for Aioapns {
    fn name(&self) -> &'static str {
        "aioapns"
    }

    async fn send(&self, mock: &Mock, push: &Push) -> Sent {
        let mut env = mock.key_env();
        env.extend(mock.direct_env());
        env.push(push.to_env());
        let out = run_python("aioapns_push.py", env).await;
        // The no-ALPN path is what makes aioapns worth testing: make sure it was taken.
        assert_eq!(
            out["alpn"],
            Value::from(vec![Value::Null]),
            "aioapns negotiated ALPN on its one connection: {out}"
        );
        let result = &out["result"];
        Sent {
            status: as_u64(&result["status"]).unwrap_or_default() as u16,
            reason: as_string(&result["description"]),
            timestamp: as_u64(&result["timestamp"]),
            apns_id: as_string(&result["notification_id"]),
            body_bytes: as_u64(&out["body_bytes"]).unwrap_or_default(),
            raw: out,
        }
    }
}

#[tokio::test]
async fn voip_push_is_accepted() {
    cases::voip_push_is_accepted(&Aioapns, &Mock::start().await).await;
}

#[tokio::test]
async fn voip_push_to_the_bundle_topic_is_disallowed() {
    cases::voip_push_to_the_bundle_topic_is_disallowed(&Aioapns, &Mock::start().await).await;
}

#[tokio::test]
async fn unregistered_token_is_gone_with_its_timestamp() {
    cases::unregistered_token_is_gone_with_its_timestamp(&Aioapns, &Mock::start().await).await;
}

#[tokio::test]
async fn oversized_voip_payload_is_too_large() {
    cases::oversized_voip_payload_is_too_large(&Aioapns, &Mock::start().await).await;
}
