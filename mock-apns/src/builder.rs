//! Configures a mock, binds its sockets and loads its keys: [`MockApnsBuilder`] and [`Bound`].

use std::future::Future;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::admin::{self, AdminCtx};
use crate::error::Error;
use crate::faults::RuleSpec;
use crate::keys::{KeyStore, SigningKey, VerifyingKey};
use crate::recorder::Recorder;
use crate::state::{Config, Shared};
use crate::tls::Pki;
use crate::{
    connect_proxy, files, server, ClientCert, ClientCertRequest, Clock, Environment, MockApns,
};

/// Team id of a freshly generated development key: obviously not a real team.
pub const DEV_TEAM_ID: &str = "DEVTEAM001";
const DEV_KEY_FILE: &str = "dev-key.json";

/// Builds a [`MockApns`] (tests) or a [`Bound`] server (the binary).
#[derive(Debug)]
pub struct MockApnsBuilder {
    config: Config,
    listen: SocketAddr,
    admin_listen: SocketAddr,
    state_dir: Option<PathBuf>,
    tls_files: Option<(PathBuf, PathBuf)>,
    dev_key: Option<SigningKey>,
    token_keys: Vec<VerifyingKey>,
    faults: Vec<RuleSpec>,
    clock: Clock,
    connect_proxy: Option<SocketAddr>,
}

impl Default for MockApnsBuilder {
    fn default() -> Self {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            config: Config::default(),
            listen: loopback,
            admin_listen: loopback,
            state_dir: None,
            tls_files: None,
            dev_key: None,
            token_keys: Vec::new(),
            faults: Vec::new(),
            clock: Clock::new(),
            connect_proxy: None,
        }
    }
}

impl MockApnsBuilder {
    /// Where the APNs endpoint listens (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Where the admin API listens (default `127.0.0.1:0`).
    pub fn admin_listen(mut self, addr: SocketAddr) -> Self {
        self.admin_listen = addr;
        self
    }

    /// Which APNs to stand in for (default development).
    pub fn environment(mut self, environment: Environment) -> Self {
        self.config.environment = environment;
        self
    }

    /// Refuse device tokens that were not registered.
    pub fn strict_devices(mut self, strict: bool) -> Self {
        self.config.strict_devices = strict;
        self
    }

    /// `SETTINGS_MAX_CONCURRENT_STREAMS` (default 1000, as APNs advertised in 2021).
    pub fn max_concurrent_streams(mut self, n: u32) -> Self {
        self.config.max_concurrent_streams = n;
        self
    }

    /// Drop the stream limit to 1 after a rejected push, as APNs does (default on).
    pub fn throttle_on_reject(mut self, on: bool) -> Self {
        self.config.throttle_on_reject = on;
        self
    }

    /// Close connections idle this long (on the mock's clock) with GOAWAY `IdleTimeout`.
    /// Apple does not document its value; default: never.
    pub fn idle_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// Records kept in memory (default 100 000); older ones are dropped and counted.
    pub fn max_records(mut self, n: usize) -> Self {
        self.config.max_records = n;
        self
    }

    /// Appends every record to this JSON-lines file before answering.
    pub fn record_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.record_file = Some(path.into());
        self
    }

    /// Keep the CA, server certificate and development key in `dir`, reusing them on later
    /// starts. Without it everything is generated in memory for this mock alone.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// Serve with your own certificate chain and key (PEM files).
    pub fn tls_files(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls_files = Some((cert.into(), key.into()));
        self
    }

    /// Use this development key (registered automatically) instead of generating one.
    pub fn dev_key(mut self, key: SigningKey) -> Self {
        self.dev_key = Some(key);
        self
    }

    /// Registers another provider key.
    pub fn token_key(mut self, key: VerifyingKey) -> Self {
        self.token_keys.push(key);
        self
    }

    /// Mounts fault rules at start (the `--faults` file).
    pub fn faults(mut self, rules: impl IntoIterator<Item = RuleSpec>) -> Self {
        self.faults.extend(rules);
        self
    }

    /// Shares a clock with the caller (default: a new one).
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Also serve the CONNECT front door on `addr` (`127.0.0.1:0` for a free port): an HTTP
    /// proxy that tunnels `CONNECT api.push.apple.com:443` (and the sandbox host, and port
    /// 2197) to the APNs endpoint and refuses anything else. Off by default.
    pub fn connect_proxy(mut self, addr: SocketAddr) -> Self {
        self.connect_proxy = Some(addr);
        self
    }

    /// Loads or generates certificates and keys and binds the sockets; nothing is served
    /// until [`Bound::serve`].
    pub fn bind(self) -> Result<Bound, Error> {
        let pki = match (&self.tls_files, &self.state_dir) {
            (Some((cert, key)), _) => Pki::from_files(cert, key)?,
            (None, Some(dir)) => Pki::load_or_generate(dir)?,
            (None, None) => Pki::generate()?,
        };
        let ca_path = match (&self.tls_files, &self.state_dir) {
            (Some((cert, _)), _) => Some(cert.clone()),
            (None, Some(dir)) => Some(Pki::ca_path(dir)),
            (None, None) => None,
        };
        let (dev_key, dev_key_path) = match (self.dev_key, &self.state_dir) {
            (Some(key), _) => (key, None),
            (None, Some(dir)) => {
                let (key, path) = load_or_generate_dev_key(dir)?;
                (key, Some(path))
            }
            (None, None) => (SigningKey::generate(DEV_TEAM_ID)?, None),
        };
        let mut keys = KeyStore::new();
        keys.insert(dev_key.verifying_key());
        for key in self.token_keys {
            keys.insert(key);
        }
        let recorder = Recorder::new(self.config.max_records, self.config.record_file.as_deref())?;
        let shared = Arc::new(Shared::new(self.config, keys, recorder, self.clock));
        for (i, rule) in self.faults.into_iter().enumerate() {
            shared
                .faults
                .add(rule)
                .map_err(|e| Error::Faults(format!("[{i}].{e}")))?;
        }
        let apns = bind(self.listen)?;
        let admin = bind(self.admin_listen)?;
        let proxy = self.connect_proxy.map(bind).transpose()?;
        Ok(Bound {
            apns_addr: apns.local_addr().map_err(|e| bind_error(self.listen, e))?,
            admin_addr: admin
                .local_addr()
                .map_err(|e| bind_error(self.admin_listen, e))?,
            tls: pki.server_config()?,
            ca_cert_pem: pki.ca_cert_pem().to_owned(),
            pki: Arc::new(pki),
            ca_path,
            dev_key,
            dev_key_path,
            shared,
            connect_proxy_addr: match (&proxy, self.connect_proxy) {
                (Some(l), Some(asked)) => Some(l.local_addr().map_err(|e| bind_error(asked, e))?),
                _ => None,
            },
            listeners: (apns, admin),
            proxy_listener: proxy,
        })
    }

    /// Starts the mock on its own thread and runtime, so it works under any test runtime.
    ///
    /// # Panics
    /// If it cannot start (a test cannot go on without it); use [`Self::try_start`] to handle it.
    pub async fn start(self) -> MockApns {
        match self.try_start().await {
            Ok(mock) => mock,
            Err(e) => panic!("mock-apns could not start: {e}"),
        }
    }

    /// Like [`Self::start`], returning the error.
    pub async fn try_start(self) -> Result<MockApns, Error> {
        MockApns::spawn(self.bind()?)
    }
}

fn bind(addr: SocketAddr) -> Result<StdListener, Error> {
    let listener = StdListener::bind(addr).map_err(|e| bind_error(addr, e))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| bind_error(addr, e))?;
    Ok(listener)
}

fn bind_error(addr: SocketAddr, source: std::io::Error) -> Error {
    Error::Bind {
        addr: addr.to_string(),
        source,
    }
}

/// What `dev-key.json` in the state directory says.
#[derive(Debug, Serialize, Deserialize)]
struct DevKeyFile {
    key_id: String,
    team_id: String,
    file: String,
}

fn load_or_generate_dev_key(dir: &Path) -> Result<(SigningKey, PathBuf), Error> {
    let meta_path = dir.join(DEV_KEY_FILE);
    if let Ok(text) = std::fs::read_to_string(&meta_path) {
        let meta: DevKeyFile = serde_json::from_str(&text)
            .map_err(|e| Error::key(&meta_path.display().to_string(), e.to_string()))?;
        let path = dir.join(&meta.file);
        let pem = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        return Ok((
            SigningKey::from_pem(&meta.key_id, &meta.team_id, &pem)?,
            path,
        ));
    }
    files::ensure_dir(dir)?;
    let key = SigningKey::generate(DEV_TEAM_ID)?;
    let path = key.write_p8(dir)?;
    let meta = DevKeyFile {
        key_id: key.key_id().to_owned(),
        team_id: key.team_id().to_owned(),
        file: format!("AuthKey_{}.p8", key.key_id()),
    };
    let json = serde_json::to_string_pretty(&meta).unwrap_or_default();
    files::write_public(&meta_path, json.as_bytes())?;
    Ok((key, path))
}

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
    tls: Arc<rustls::ServerConfig>,
    listeners: (StdListener, StdListener),
    proxy_listener: Option<StdListener>,
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

    /// The admin API as an `http://` URL.
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// Serves until `shutdown` completes, then shuts down gracefully: accepted streams are
    /// answered (and recorded) before the connections close.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
        let apns_url = self.apns_url();
        let (apns, admin) = self.listeners;
        let apns = TcpListener::from_std(apns).map_err(|e| bind_error(self.apns_addr, e))?;
        let admin = TcpListener::from_std(admin).map_err(|e| bind_error(self.admin_addr, e))?;
        let stop_rx = self.shared.stop_signal();
        let acceptor = TlsAcceptor::from(self.tls);
        let apns_task = tokio::spawn(server::run(
            apns,
            acceptor,
            self.shared.clone(),
            stop_rx.clone(),
        ));
        let shared = self.shared.clone();
        let ctx = AdminCtx {
            shared: self.shared,
            apns_url,
        };
        let admin_task = tokio::spawn(admin::run(admin, ctx, stop_rx.clone()));
        let proxy_task = match self.proxy_listener {
            Some(listener) => {
                let addr = self.connect_proxy_addr.unwrap_or(self.apns_addr);
                let listener = TcpListener::from_std(listener).map_err(|e| bind_error(addr, e))?;
                Some(tokio::spawn(connect_proxy::run(
                    listener,
                    self.apns_addr,
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
