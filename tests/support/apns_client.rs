//! A real APNs client: tokio-rustls trusting only the mock's CA, and the `h2` crate's HTTP/2
//! client, with ALPN `h2` or with no ALPN at all (HTTP/2 with prior knowledge, like Pushy).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{anyhow, Context as _};
use bytes::{Bytes, BytesMut};
use h2::client::{ResponseFuture, SendRequest};
use h2::SendStream;
use http::HeaderMap;
use mock_apns::{ClientCert, MockApns};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::{Push, PATIENCE};

/// What the client offers in the TLS handshake's ALPN extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Alpn {
    /// `h2`, as curl and most HTTP/2 clients do.
    H2,
    /// Nothing: HTTP/2 with prior knowledge over TLS (Pushy's default).
    None,
}

/// A TLS client configuration that trusts the mock's CA and nothing else, presenting
/// `identity` (certificate PEM, key PEM) when given: certificate-based authentication.
fn tls_config(
    ca_pem: &str,
    alpn: &[&[u8]],
    identity: Option<&ClientCert>,
) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(cert.expect("the mock's CA is valid PEM"))
            .expect("the mock's CA is a usable trust anchor");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots);
    let mut config = match identity {
        None => config.with_no_client_auth(),
        Some(identity) => {
            let chain = CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("the client certificate is PEM");
            let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())
                .expect("the client key is PEM");
            config
                .with_client_auth_cert(chain, key)
                .expect("rustls takes the client certificate")
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// Opens TCP + TLS to `addr`, verifying the certificate for `server_name`.
pub(crate) async fn tls_connect(
    addr: SocketAddr,
    ca_pem: &str,
    server_name: &str,
    alpn: &[&[u8]],
) -> anyhow::Result<TlsStream<TcpStream>> {
    tls_connect_as(addr, ca_pem, server_name, alpn, None).await
}

/// Like [`tls_connect`], presenting a client certificate when `identity` is given.
pub(crate) async fn tls_connect_as(
    addr: SocketAddr,
    ca_pem: &str,
    server_name: &str,
    alpn: &[&[u8]],
    identity: Option<&ClientCert>,
) -> anyhow::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from(server_name.to_owned())?;
    let tls = TlsConnector::from(tls_config(ca_pem, alpn, identity))
        .connect(name, tcp)
        .await
        .context("TLS handshake")?;
    Ok(tls)
}

/// One HTTP/2 connection to the mock.
#[derive(Debug, Clone)]
pub(crate) struct ApnsClient {
    sender: SendRequest<Bytes>,
    /// `:authority` of requests that do not set their own.
    authority: String,
}

impl ApnsClient {
    /// Connects to a mock in this process with ALPN `h2`.
    pub(crate) async fn connect(apns: &MockApns) -> Self {
        Self::connect_with(apns.address(), apns.ca_cert_pem(), Alpn::H2)
            .await
            .expect("connecting to the mock")
    }

    /// Connects to a mock in this process with ALPN `h2`, authenticating with a client
    /// certificate instead of provider tokens.
    pub(crate) async fn connect_with_cert(apns: &MockApns, identity: &ClientCert) -> Self {
        Self::connect_as(apns.address(), apns.ca_cert_pem(), Alpn::H2, Some(identity))
            .await
            .expect("connecting to the mock with a client certificate")
    }

    /// Connects to `addr`, trusting `ca_pem`, offering `alpn`.
    pub(crate) async fn connect_with(
        addr: SocketAddr,
        ca_pem: &str,
        alpn: Alpn,
    ) -> anyhow::Result<Self> {
        Self::connect_as(addr, ca_pem, alpn, None).await
    }

    /// Connects to a mock in this process as if to `server_name` (an Apple host name, or an
    /// IP address, for which no SNI is sent): verified against it, and the `:authority` of
    /// requests that do not set their own.
    pub(crate) async fn connect_to_name(apns: &MockApns, server_name: &str) -> Self {
        Self::connect_named(
            apns.address(),
            apns.ca_cert_pem(),
            server_name,
            Alpn::H2,
            None,
        )
        .await
        .unwrap_or_else(|e| panic!("connecting to the mock as {server_name}: {e:#}"))
    }

    async fn connect_as(
        addr: SocketAddr,
        ca_pem: &str,
        alpn: Alpn,
        identity: Option<&ClientCert>,
    ) -> anyhow::Result<Self> {
        Self::connect_named(addr, ca_pem, "localhost", alpn, identity).await
    }

    async fn connect_named(
        addr: SocketAddr,
        ca_pem: &str,
        server_name: &str,
        alpn: Alpn,
        identity: Option<&ClientCert>,
    ) -> anyhow::Result<Self> {
        let protocols: &[&[u8]] = match alpn {
            Alpn::H2 => &[b"h2"],
            Alpn::None => &[],
        };
        let tls = tls_connect_as(addr, ca_pem, server_name, protocols, identity).await?;
        let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let expected = (alpn == Alpn::H2).then(|| b"h2".to_vec());
        anyhow::ensure!(
            negotiated == expected,
            "ALPN negotiated {negotiated:?}, expected {expected:?}"
        );
        let (sender, connection) = h2::client::handshake(tls)
            .await
            .context("HTTP/2 handshake")?;
        tokio::spawn(async move {
            // Ends when the server closes the connection or every handle is dropped.
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            authority: format!("{server_name}:{}", addr.port()),
        })
    }

    /// Sends a push and reads the whole answer, within [`PATIENCE`].
    pub(crate) async fn send(&self, push: &Push) -> anyhow::Result<Reply> {
        let exchange = async {
            let mut stream = self.open(push, push.body.is_empty()).await?;
            let chunk_size = push.chunk_size.unwrap_or(push.body.len()).max(1);
            let chunks: Vec<Bytes> = push
                .body
                .chunks(chunk_size)
                .map(Bytes::copy_from_slice)
                .collect();
            let count = chunks.len();
            for (i, chunk) in chunks.into_iter().enumerate() {
                stream.send_data(chunk, i + 1 == count)?;
            }
            stream.finish().await
        };
        tokio::time::timeout(PATIENCE, exchange)
            .await
            .map_err(|_| anyhow!("no answer within {PATIENCE:?}"))?
    }

    /// How many concurrent streams the server's latest SETTINGS allow this client.
    pub(crate) fn stream_limit(&self) -> usize {
        self.sender.current_max_send_streams()
    }

    /// Sends `push` (which must be accepted) until the server's SETTINGS have lifted the stream
    /// limit above 1: APNs allows one stream per token connection until a push with a valid
    /// token was accepted, and the SETTINGS that lift it may trail the first 200 by a frame.
    pub(crate) async fn unlock_streams(&self, push: &Push) -> anyhow::Result<usize> {
        for _ in 0..10 {
            let reply = self.send(push).await?;
            anyhow::ensure!(reply.status == 200, "push refused: {reply:?}");
            if self.stream_limit() > 1 {
                return Ok(self.stream_limit());
            }
        }
        anyhow::bail!("the stream limit stayed at {}", self.stream_limit())
    }

    /// Sends only the request head (and ends the stream when `end_of_stream`); the body, if
    /// any, goes through the returned [`OpenStream`].
    pub(crate) async fn open(
        &self,
        push: &Push,
        end_of_stream: bool,
    ) -> anyhow::Result<OpenStream> {
        let authority = push.authority.as_deref().unwrap_or(&self.authority);
        let mut request = http::Request::builder()
            .method(push.method.clone())
            .uri(format!("https://{authority}{}", push.path));
        for (name, value) in &push.headers {
            // `header` appends, so a repeated name goes out as two header fields.
            request = request.header(name, value);
        }
        let request = request.body(()).context("building the request")?;
        let mut sender = self.sender.clone().ready().await.context("stream slot")?;
        let (response, body) = sender
            .send_request(request, end_of_stream)
            .context("sending the request head")?;
        Ok(OpenStream { response, body })
    }
}

/// A request whose head is sent and whose body is still being written.
#[derive(Debug)]
pub(crate) struct OpenStream {
    pub(crate) response: ResponseFuture,
    pub(crate) body: SendStream<Bytes>,
}

impl OpenStream {
    /// Queues one DATA frame.
    pub(crate) fn send_data(&mut self, data: Bytes, end_of_stream: bool) -> anyhow::Result<()> {
        self.body
            .send_data(data, end_of_stream)
            .context("sending body data")
    }

    /// Waits for the answer and reads its body.
    pub(crate) async fn finish(self) -> anyhow::Result<Reply> {
        read_reply(self.response).await
    }
}

/// Reads an answer: status, headers and the whole body.
pub(crate) async fn read_reply(response: ResponseFuture) -> anyhow::Result<Reply> {
    let response = response.await.context("waiting for the response head")?;
    let (parts, mut body) = response.into_parts();
    let mut bytes = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.context("reading the response body")?;
        let _ = body.flow_control().release_capacity(chunk.len());
        bytes.extend_from_slice(&chunk);
    }
    Ok(Reply {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: bytes.freeze(),
    })
}

/// An answer from the APNs endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Reply {
    /// A response header as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `apns-id` header; every APNs answer has one.
    pub(crate) fn apns_id(&self) -> &str {
        self.header("apns-id")
            .unwrap_or_else(|| panic!("answer {} has no apns-id: {self:?}", self.status))
    }

    /// The body as JSON, if it is JSON.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// `reason` from a JSON error body.
    pub(crate) fn reason(&self) -> Option<String> {
        self.json()?.get("reason")?.as_str().map(String::from)
    }

    /// `timestamp` from a JSON error body (410 only).
    pub(crate) fn timestamp(&self) -> Option<u64> {
        self.json()?.get("timestamp")?.as_u64()
    }
}
