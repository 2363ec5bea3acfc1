//! Configures a mock, loads its keys and binds its sockets: [`MockApnsBuilder`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::apns::environment::Environment;
use crate::auth::dev_key::{load_or_generate_dev_key, DEV_TEAM_ID};
use crate::auth::keys::{KeyStore, SigningKey, VerifyingKey};
use crate::auth::pki::Pki;
use crate::config::Config;
use crate::error::Error;
use crate::faults::RuleSpec;
use crate::lint::LintMode;
use crate::record::clock::Clock;
use crate::record::recorder::Recorder;
use crate::server::bound::{bind, bind_error, Bound};
use crate::shared::Shared;

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

    /// Lets the admin API answer requests whose `Host` is `name` (besides `localhost`,
    /// loopback addresses and its listen address): the name a container or proxy reaches it
    /// by. Repeatable.
    pub fn admin_allow_host(mut self, name: impl Into<String>) -> Self {
        self.config.admin_allowed_hosts.push(name.into());
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

    /// How long a connection may take to start HTTP/2 (first byte, TLS handshake, preface),
    /// in real time; slower ones are closed (default 10 s).
    pub fn handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.config.handshake_timeout = timeout;
        self
    }

    /// Connections open at once on the APNs endpoint (and on the CONNECT front door), counting
    /// those still in their handshake (default 1000); more are closed as soon as accepted.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n.max(1);
        self
    }

    /// How long a graceful stop waits for streams in flight before it closes the connections
    /// left (default 5 s).
    pub fn shutdown_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.config.shutdown_timeout = timeout;
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

    /// What lint findings do (default [`LintMode::Warn`]: recorded and counted). With
    /// [`LintMode::Deny`] any finding fails the mock's verification (on drop, or `verify()`);
    /// APNs's answers never change.
    pub fn lint(mut self, mode: LintMode) -> Self {
        self.config.lint = mode;
        self
    }

    /// Where a payload's call id is looked for, in order (JSON pointers; default `/call_id`,
    /// `/callId`, `/callUUID`, `/uuid`).
    pub fn call_id_pointers<I, S>(mut self, pointers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.config.phones.call_id_pointers = pointers.into_iter().map(Into::into).collect();
        self
    }

    /// How long an unanswered call rings, on the mock's clock (default 60 s; `None`: until
    /// something ends it).
    pub fn ring_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.config.phones.ring_timeout = timeout;
        self
    }

    /// PushKit violations after which a phone gets no more VoIP pushes until reset (default 3;
    /// Apple says "repeatedly"; 0 never suspends).
    pub fn voip_violation_limit(mut self, n: u32) -> Self {
        self.config.phones.violation_limit = n;
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
                .map_err(|e| Error::Faults(e.in_list(i)))?;
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
}
