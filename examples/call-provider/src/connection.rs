//! The one long-lived HTTP/2 connection to APNs, opened on first use and reopened when it dies.
//!
//! Apple asks providers to keep a connection open for hours and reuse it, not to open one per
//! push (rapid open/close may be taken for a denial-of-service attack). Every push borrows the
//! same `h2` handle; `h2` queues streams beyond the server's `SETTINGS_MAX_CONCURRENT_STREAMS`.
//! A connection is dropped from the slot when it closes, after a GOAWAY, or when a request shows
//! it is unusable; the next push opens a fresh one.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use h2::client::SendRequest;
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_rustls::TlsConnector;

use crate::config::{Config, Endpoint};

/// One open HTTP/2 connection.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    /// Ours, counted from 1: lets a failed request drop exactly the connection it used.
    pub(crate) id: u64,
    pub(crate) send: SendRequest<Bytes>,
    /// Set when the connection task ends (closed, GOAWAY fully processed, I/O error).
    closed: Arc<AtomicBool>,
}

/// Holds the current connection and opens a new one when needed.
#[derive(Debug)]
pub(crate) struct Connector {
    endpoint: Endpoint,
    tls: Arc<rustls::ClientConfig>,
    /// A tokio mutex, held while connecting, so concurrent pushes share one new connection.
    slot: Mutex<Option<Live>>,
    opened: AtomicU64,
}

impl Connector {
    /// Builds the TLS setup: trust `APNS_CA_FILE` if given, else the public web roots (which
    /// include Apple's USERTrust root); offer ALPN `h2`.
    pub(crate) fn new(config: &Config) -> anyhow::Result<Self> {
        let mut roots = RootCertStore::empty();
        match &config.ca_file {
            Some(path) => {
                let certs = CertificateDer::pem_file_iter(path)
                    .with_context(|| format!("reading APNS_CA_FILE {}", path.display()))?;
                for cert in certs {
                    let cert = cert.with_context(|| format!("parsing {}", path.display()))?;
                    roots
                        .add(cert)
                        .with_context(|| format!("adding {} to the roots", path.display()))?;
                }
                anyhow::ensure!(
                    !roots.is_empty(),
                    "APNS_CA_FILE {} holds no certificate",
                    path.display()
                );
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Self {
            endpoint: config.apns.clone(),
            tls: Arc::new(tls),
            slot: Mutex::new(None),
            opened: AtomicU64::new(0),
        })
    }

    /// The current connection, or a new one if there is none or it has closed.
    pub(crate) async fn get(&self) -> anyhow::Result<Live> {
        let mut slot = self.slot.lock().await;
        if let Some(live) = &*slot {
            if !live.closed.load(Ordering::Acquire) {
                return Ok(live.clone());
            }
            tracing::info!(connection = live.id, "APNs connection closed; reconnecting");
        }
        let live = self.open().await?;
        *slot = Some(live.clone());
        Ok(live)
    }

    /// Stops using connection `id` for new pushes. Its streams in flight still finish; the
    /// connection closes once the last handle is gone.
    pub(crate) async fn discard(&self, id: u64) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|live| live.id == id) {
            tracing::info!(connection = id, "leaving the APNs connection");
            *slot = None;
        }
    }

    async fn open(&self) -> anyhow::Result<Live> {
        let Endpoint { host, port } = &self.endpoint;
        let tcp = TcpStream::connect((host.as_str(), *port))
            .await
            .with_context(|| format!("connecting to {host}:{port}"))?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(host.clone())
            .with_context(|| format!("{host:?} is not a valid TLS server name"))?;
        let tls = TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .with_context(|| format!("TLS handshake with {host}:{port}"))?;
        // APNs negotiates h2; a server that picks anything else cannot be APNs.
        if let Some(alpn) = tls.get_ref().1.alpn_protocol() {
            anyhow::ensure!(
                alpn == b"h2",
                "{host}:{port} chose ALPN {:?}, not h2",
                String::from_utf8_lossy(alpn)
            );
        }
        let (send, connection) = h2::client::handshake(tls)
            .await
            .with_context(|| format!("HTTP/2 handshake with {host}:{port}"))?;
        let id = self.opened.fetch_add(1, Ordering::Relaxed) + 1;
        let closed = Arc::new(AtomicBool::new(false));
        let flag = closed.clone();
        tokio::spawn(async move {
            match connection.await {
                Ok(()) => tracing::info!(connection = id, "APNs connection ended"),
                Err(e) => tracing::info!(connection = id, "APNs connection ended: {e}"),
            }
            flag.store(true, Ordering::Release);
        });
        tracing::info!(connection = id, "connected to APNs at {host}:{port}");
        Ok(Live { id, send, closed })
    }
}
