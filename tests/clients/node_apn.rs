//! `@parse/node-apn` (npm, pinned in `tests/clients/node/package.json`), token auth, pointed at
//! the mock with its own options: `address: "localhost"`, `port`, `ca` (script:
//! `tests/clients/node/node_apn.js`).
//!
//! node-apn resolves `Provider.send` with `{sent, failed}`: an accepted push is in `sent`
//! with its `apns-id`; a rejected one in `failed` with `status` and APNs' JSON `response`.

use super::cases::{self, as_string, as_u64, Client, Sent};
use super::support::{run_node, Mock, Push};

/// node-apn, with the environment of one route to the mock.
pub(crate) struct NodeApn {
    /// Extra variables: host, port and CA, or HTTPS_PROXY and NODE_EXTRA_CA_CERTS.
    pub(crate) route: fn(&Mock) -> Vec<(String, String)>,
}

/// node-apn told the mock's host, port and CA.
const DIRECT: NodeApn = NodeApn {
    route: Mock::direct_env,
};

impl Client for NodeApn {
    fn name(&self) -> &'static str {
        "@parse/node-apn"
    }

    async fn send(&self, mock: &Mock, push: &Push) -> Sent {
        let mut env = mock.key_env();
        env.extend((self.route)(mock));
        env.push(push.to_env());
        let out = run_node("node_apn.js", env).await;
        let result = &out["result"];
        let (sent, failed) = (&result["sent"], &result["failed"]);
        let one = match (
            sent.as_array().map(Vec::len),
            failed.as_array().map(Vec::len),
        ) {
            (Some(1), Some(0)) => &sent[0],
            (Some(0), Some(1)) => &failed[0],
            _ => panic!("node-apn did not report exactly one push: {out}"),
        };
        Sent {
            status: one.get("status").and_then(as_u64).unwrap_or(200) as u16,
            reason: one["response"].get("reason").and_then(as_string),
            timestamp: one["response"].get("timestamp").and_then(as_u64),
            apns_id: one.get("apns-id").and_then(as_string),
            body_bytes: as_u64(&out["body_bytes"]).unwrap_or_default(),
            raw: out,
        }
    }
}

#[tokio::test]
async fn voip_push_is_accepted() {
    cases::voip_push_is_accepted(&DIRECT, &Mock::start().await).await;
}

#[tokio::test]
async fn voip_push_to_the_bundle_topic_is_disallowed() {
    cases::voip_push_to_the_bundle_topic_is_disallowed(&DIRECT, &Mock::start().await).await;
}

#[tokio::test]
async fn unregistered_token_is_gone_with_its_timestamp() {
    cases::unregistered_token_is_gone_with_its_timestamp(&DIRECT, &Mock::start().await).await;
}

#[tokio::test]
async fn oversized_voip_payload_is_too_large() {
    cases::oversized_voip_payload_is_too_large(&DIRECT, &Mock::start().await).await;
}
