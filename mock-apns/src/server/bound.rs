//! A mock whose sockets are bound and keys loaded, and its life: serve until told to stop,
//! then shut down gracefully.

use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::admin::guard::Guard;
use crate::admin::{self, AdminCtx};
use crate::auth::client_cert::{ClientCert, ClientCertRequest};
use crate::auth::keys::SigningKey;
use crate::auth::pki::Pki;
use crate::error::Error;
use crate::redirect::connect_proxy;
use crate::server::accept;
use crate::shared::Shared;

/// A mock whose sockets are bound and keys loaded, ready to serve.
#[derive(Debug)]
pub struct Bound {
    /// The APNs endpoint's address.
    pub apns_addr: SocketAddr,
    /// The admin API's address.
    pub admin_addr: SocketAddr,
    /// PEM of the certificate clients must trust.
    pub ca_cert_pem: String,
    /// Where that certificate is on disk, if it is.
    pub ca_path: Option<PathBuf>,
    /// The development key, registered automatically.
    pub dev_key: SigningKey,
    /// Where the development key's `.p8` is on disk, if it is.
    pub dev_key_path: Option<PathBuf>,
    /// The CONNECT front door's address, when it is on.
    pub connect_proxy_addr: Option<SocketAddr>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) pki: Arc<Pki>,
    pub(crate) tls: Arc<rustls::ServerConfig>,
    pub(crate) listeners: (StdListener, StdListener),
    pub(crate) proxy_listener: Option<StdListener>,
}

impl Bound {
    /// The APNs endpoint as an `https://` URL (the certificate names `localhost`).
    pub fn apns_url(&self) -> String {
        format!("https://localhost:{}", self.apns_addr.port())
    }

    /// Issues a client certificate signed by the mock's CA (certificate authentication).
    pub fn issue_client_cert(&self, request: &ClientCertRequest) -> Result<ClientCert, Error> {
        self.pki.issue_client_cert(request)
    }

    /// A warning to print at start when the admin API listens beyond loopback: it has no
    /// authentication, and can read every push, mount fault rules and send GOAWAY.
    pub fn admin_exposure_warning(&self) -> Option<String> {
        let ip = self.admin_addr.ip();
        if ip.is_loopback() || ip.to_canonical().is_loopback() {
            return None;
        }
        Some(format!(
            "WARNING: the admin API listens on {addr}, beyond loopback. It has no \
             authentication: anyone who can reach {addr} can read every push (payloads \
             included), mount fault rules and send GOAWAY. Keep it on 127.0.0.1 unless this \
             network is yours alone.",
            addr = self.admin_addr
        ))
    }

    /// The admin API as an `http://` URL.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// Serves until `shutdown` completes, then shuts down gracefully: accepted streams are
    /// answered (and recorded) before the connections close, for at most the shutdown timeout
    /// ([`crate::MockApnsBuilder::shutdown_timeout`]); what is still open then is closed.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let apns_url = self.apns_url();
        let (apns, admin) = self.listeners;
        let apns = TcpListener::from_std(apns).map_err(|e| bind_error(self.apns_addr, e))?;
        let admin = TcpListener::from_std(admin).map_err(|e| bind_error(self.admin_addr, e))?;
        let stop_rx = self.shared.stop_signal();
        let acceptor = TlsAcceptor::from(self.tls);
        let apns_task = tokio::spawn(accept::run(
            apns,
            acceptor,
            self.shared.clone(),
            stop_rx.clone(),
        ));
        let shared = self.shared.clone();
        let guard = Guard::new(self.admin_addr, &self.shared.config.admin_allowed_hosts);
        let ctx = AdminCtx {
            shared: self.shared,
            apns_url,
            guard,
            ca_path: self.ca_path,
        };
        let admin_task = tokio::spawn(admin::run(admin, ctx, stop_rx.clone()));
        let proxy_task = match self.proxy_listener {
            Some(listener) => {
                let addr = self.connect_proxy_addr.unwrap_or(self.apns_addr);
                let listener = TcpListener::from_std(listener).map_err(|e| bind_error(addr, e))?;
                Some(tokio::spawn(connect_proxy::run(
                    listener,
                    self.apns_addr,
                    shared.config.max_connections,
                    shared.tunnels.clone(),
                    stop_rx,
                )))
            }
            None => None,
        };
        shutdown.await;
        shared.stop();
        let _ = apns_task.await;
        let _ = admin_task.await;
        if let Some(task) = proxy_task {
            let _ = task.await;
        }
        Ok(())
    }
}

pub(crate) fn bind(addr: SocketAddr) -> Result<StdListener, Error> {
    let listener = StdListener::bind(addr).map_err(|e| bind_error(addr, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| bind_error(addr, e))?;
    Ok(listener)
}

pub(crate) fn bind_error(addr: SocketAddr, source: std::io::Error) -> Error {
    Error::Bind {
        addr: addr.to_string(),
        source,
    }
}
