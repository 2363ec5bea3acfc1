//! The provider under test, reduced to its APNs client: crates.io's `h2` over tokio-rustls,
//! trusting only the CA it is given, as a provider's own code would be configured in its tests.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// What APNs answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

/// Sends one VoIP push to `device` over a fresh connection to `addr` (verified as
/// `localhost` against `ca_pem`), signed with the provider token `jwt`.
pub async fn send_voip_push(
    addr: SocketAddr,
    ca_pem: &str,
    jwt: &str,
    device: &str,
    payload: &str,
) -> Result<Answer, Box<dyn std::error::Error + Send + Sync>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = TcpStream::connect(addr).await?;
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let (sender, connection) = h2::client::handshake(tls).await?;
    tokio::spawn(connection);
    let request = http::Request::post(format!(
        "https://localhost:{}/3/device/{device}",
        addr.port()
    ))
    .header("authorization", format!("bearer {jwt}"))
    .header("apns-push-type", "voip")
    .header("apns-topic", "com.example.app.voip")
    .header("apns-priority", "10")
    .header("apns-expiration", "0")
    .body(())?;
    let mut sender = sender.ready().await?;
    let (response, mut stream) = sender.send_request(request, false)?;
    stream.send_data(Bytes::copy_from_slice(payload.as_bytes()), true)?;
    let response = response.await?;
    let status = response.status().as_u16();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        body: String::from_utf8(bytes)?,
    })
}
