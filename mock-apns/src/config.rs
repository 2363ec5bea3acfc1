//! The validated settings a mock runs with, built by the CLI or [`crate::MockApnsBuilder`].

use std::path::PathBuf;
use std::time::Duration;

use crate::apns::environment::Environment;
use crate::lint::LintMode;
use crate::phones::PhoneSettings;

/// Validated settings the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which APNs the mock stands in for.
    pub environment: Environment,
    /// Refuse tokens that were not registered (400 `BadDeviceToken`).
    pub strict_devices: bool,
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` once a connection is trusted (token connections start
    /// at 1 until a push is accepted, as APNs does).
    pub max_concurrent_streams: u32,
    /// Drop the limit to 1 after a rejected push, back up after the next accepted one.
    pub throttle_on_reject: bool,
    /// Close connections idle this long (mock clock) with GOAWAY `IdleTimeout`; `None`: never.
    pub idle_timeout: Option<std::time::Duration>,
    /// Records kept in memory before the oldest are dropped.
    pub max_records: usize,
    /// JSON-lines file every record is appended to.
    pub record_file: Option<PathBuf>,
    /// What lint findings do (`docs/phones.md` §5).
    pub lint: LintMode,
    /// How virtual phones behave (`docs/phones.md`).
    pub phones: PhoneSettings,
    /// Host names the admin API answers to besides loopback and its listen address (a
    /// container's name, say): its DNS-rebinding check refuses any other.
    pub admin_allowed_hosts: Vec<String>,
    /// How long a connection may take from accept to a started HTTP/2 connection (first byte,
    /// TLS handshake, preface), in real time: a silent peer must not hold a socket for ever.
    pub handshake_timeout: Duration,
    /// Connections open at once on the APNs endpoint (and on the CONNECT front door); more are
    /// closed as soon as they are accepted, so a flood cannot exhaust file descriptors.
    pub max_connections: usize,
    /// How long a graceful shutdown waits for streams in flight before closing what is left.
    pub shutdown_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            strict_devices: false,
            max_concurrent_streams: 1000,
            throttle_on_reject: true,
            idle_timeout: None,
            max_records: 100_000,
            record_file: None,
            lint: LintMode::default(),
            phones: PhoneSettings::default(),
            admin_allowed_hosts: Vec::new(),
            handshake_timeout: Duration::from_secs(10),
            max_connections: 1000,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}
