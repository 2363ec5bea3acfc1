//! `@parse/node-apn` (npm, pinned in `tests/clients/node/package.json`), pointed at the mock
//! with its own options: `address: "localhost"`, `port`, `ca` (script:
//! `tests/clients/node/node_apn.js`); token auth with the development `.p8`, and certificate
//! auth with a provider certificate the mock issued.
//!
//! node-apn resolves `Provider.send` with `{sent, failed}`: an accepted push is in `sent`
//! with its `apns-id`; a rejected one in `failed` with `status` and APNs' JSON `response`.

use mock_apns::AuthKind;

use super::cases::{self, as_string, as_u64, Client, Sent};
use super::support::{run_node, Mock, Push};

/// node-apn, with the environment of one route to the mock and one way to authenticate.
pub(crate) struct NodeApn {
    /// Extra variables: host, port and CA, or HTTPS_PROXY and NODE_EXTRA_CA_CERTS.
    pub(crate) route: fn(&Mock) -> Vec<(String, String)>,
    /// Token (the development `.p8`) or certificate auth.
    pub(crate) auth: AuthKind,
}

/// node-apn told the mock's host, port and CA, with a provider token.
const DIRECT: NodeApn = NodeApn {
    route: Mock::direct_env,
    auth: AuthKind::Token,
};

/// The same with a provider certificate instead.
const DIRECT_CERTIFICATE: NodeApn = NodeApn {
    route: Mock::direct_env,
    auth: AuthKind::Certificate,
};

impl Client for NodeApn {
    fn name(&self) -> &'static str {
        match self.auth {
            AuthKind::Certificate => "@parse/node-apn (certificate)",
            _ => "@parse/node-apn",
        }
    }

    fn auth(&self) -> AuthKind {
        self.auth
    }

    async fn send(&self, mock: &Mock, push: &Push) -> Sent {
        let mut env = if self.auth == AuthKind::Certificate {
            mock.cert_env()
        } else {
            mock.key_env()
        };
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

#[tokio::test]
async fn with_a_certificate_voip_push_is_accepted() {
    cases::voip_push_is_accepted(&DIRECT_CERTIFICATE, &Mock::start().await).await;
}

#[tokio::test]
async fn with_a_certificate_voip_push_to_the_bundle_topic_is_disallowed() {
    cases::voip_push_to_the_bundle_topic_is_disallowed(&DIRECT_CERTIFICATE, &Mock::start().await)
        .await;
}

#[tokio::test]
async fn with_a_certificate_unregistered_token_is_gone_with_its_timestamp() {
    cases::unregistered_token_is_gone_with_its_timestamp(&DIRECT_CERTIFICATE, &Mock::start().await)
        .await;
}

#[tokio::test]
async fn with_a_certificate_oversized_voip_payload_is_too_large() {
    cases::oversized_voip_payload_is_too_large(&DIRECT_CERTIFICATE, &Mock::start().await).await;
}
