//! `apns2` (npm, pinned in `tests/clients/node/package.json`), token auth, in the port-443
//! mode (script: `tests/clients/node/apns2.js`).
//!
//! apns2 takes a `host` but always connects to port 443, and it builds its own undici `Pool`,
//! so neither a port option nor a proxy (undici's global dispatcher, HTTPS_PROXY) reaches it.
//! The mock therefore listens on 127.0.0.1:443 (`mock-apns --listen 127.0.0.1:443`), apns2
//! gets `host: "localhost"`, and trusts the CA through NODE_EXTRA_CA_CERTS. Binding 443 needs
//! root (CI runs as root); without it these tests say so on stderr and pass without running.
//!
//! apns2 resolves `send` with the notification on 200 and rejects with an `ApnsError`
//! (`statusCode`, `reason`, `timestamp`) otherwise; it reports no `apns-id`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use mock_apns::MockApns;

use super::cases::{self, as_string, as_u64, Client, Sent};
use super::support::{run_node, var, Mock, Push};

/// Port 443 is one per machine: the apns2 tests take turns.
static PORT_443: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// apns2 with `host: "localhost"` and the CA in NODE_EXTRA_CA_CERTS.
struct Apns2;

impl Client for Apns2 {
    fn name(&self) -> &'static str {
        "apns2"
    }

    async fn send(&self, mock: &Mock, push: &Push) -> Sent {
        let mut env = mock.key_env();
        env.push(var("APNS_HOST", "localhost"));
        env.push(var("NODE_EXTRA_CA_CERTS", mock.ca_file.display()));
        env.push(push.to_env());
        let out = run_node("apns2.js", env).await;
        let result = &out["result"];
        let ok = result["ok"].as_bool().unwrap_or(false);
        Sent {
            status: if ok {
                200
            } else {
                as_u64(&result["statusCode"]).unwrap_or_default() as u16
            },
            reason: as_string(&result["reason"]),
            timestamp: as_u64(&result["timestamp"]),
            apns_id: None,
            body_bytes: as_u64(&out["body_bytes"]).unwrap_or_default(),
            raw: out,
        }
    }
}

/// Runs `case` against a mock on 127.0.0.1:443, then frees the port even if `case` failed.
async fn on_port_443<F, Fut>(case: F)
where
    F: FnOnce(Arc<Mock>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let _turn = PORT_443.lock().await;
    let builder = MockApns::builder().listen(SocketAddr::from(([127, 0, 0, 1], 443)));
    let mock = match Mock::try_start_with(builder).await {
        Ok(mock) => Arc::new(mock),
        Err(mock_apns::Error::Bind { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            eprintln!(
                "SKIPPED: apns2 always connects to port 443, and this user may not listen on it \
                 (run as root, as CI does)"
            );
            return;
        }
        Err(e) => panic!("mock-apns on 127.0.0.1:443: {e}"),
    };
    let outcome = tokio::spawn(case(mock.clone())).await;
    if let Ok(mock) = Arc::try_unwrap(mock) {
        mock.apns.shutdown().await;
    }
    if let Err(failure) = outcome {
        std::panic::resume_unwind(failure.into_panic());
    }
}

#[tokio::test]
async fn voip_push_is_accepted() {
    on_port_443(|mock| async move { cases::voip_push_is_accepted(&Apns2, &mock).await }).await;
}

#[tokio::test]
async fn voip_push_to_the_bundle_topic_is_disallowed() {
    on_port_443(|mock| async move {
        cases::voip_push_to_the_bundle_topic_is_disallowed(&Apns2, &mock).await;
    })
    .await;
}

#[tokio::test]
async fn unregistered_token_is_gone_with_its_timestamp() {
    on_port_443(|mock| async move {
        cases::unregistered_token_is_gone_with_its_timestamp(&Apns2, &mock).await;
    })
    .await;
}

#[tokio::test]
async fn oversized_voip_payload_is_too_large() {
    on_port_443(|mock| async move {
        cases::oversized_voip_payload_is_too_large(&Apns2, &mock).await;
    })
    .await;
}
