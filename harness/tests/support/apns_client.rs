//! A small APNs client for the stand-in provider: rustls trusting the mock's CA, HTTP/2 via
//! h2, provider tokens from the `.p8` the harness hands out.
#![allow(
    clippy::unwrap_used,
    reason = "test support: a failure here is a failed test"
)]

use bytes::Bytes;
use harness::ApnsEnv;
use mock_apns::SigningKey;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// One HTTP/2 connection to the mock.
pub(crate) struct ApnsClient {
    send: h2::client::SendRequest<Bytes>,
    /// One provider token per connection: APNs refuses a new one within 20 minutes.
    jwt: String,
    topic: String,
    authority: String,
}

impl ApnsClient {
    pub(crate) async fn connect(env: &ApnsEnv) -> ApnsClient {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(env.ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec()];
        let tcp = TcpStream::connect(("127.0.0.1", env.port)).await.unwrap();
        let tls = TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let (send, conn) = h2::client::handshake(tls).await.unwrap();
        tokio::spawn(conn);
        let key = SigningKey::from_pem(&env.key_id, &env.team_id, env.key_pem.as_bytes()).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        ApnsClient {
            send,
            jwt: key.token(now),
            topic: env.topic.clone(),
            authority: format!("localhost:{}", env.port),
        }
    }

    /// Sends one push; answers the status.
    pub(crate) async fn push(
        &self,
        token: &str,
        push_type: &str,
        payload: serde_json::Value,
    ) -> u16 {
        let topic = match push_type {
            "voip" => format!("{}.voip", self.topic),
            _ => self.topic.clone(),
        };
        let request = http::Request::post(format!("https://{}/3/device/{token}", self.authority))
            .header("authorization", format!("bearer {}", self.jwt))
            .header("apns-topic", topic)
            .header("apns-push-type", push_type)
            .header("apns-priority", "10")
            .header("apns-expiration", "0")
            .body(())
            .unwrap();
        let mut send = self.send.clone().ready().await.unwrap();
        let (response, mut stream) = send.send_request(request, false).unwrap();
        stream
            .send_data(Bytes::from(payload.to_string()), true)
            .unwrap();
        response.await.unwrap().status().as_u16()
    }
}
