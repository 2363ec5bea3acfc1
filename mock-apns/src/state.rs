//! What every connection and the admin API share: configuration, keys, devices, record, clock.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use crate::auth::FirstSeen;
use crate::connections::Connections;
use crate::devices::Devices;
use crate::faults::Faults;
use crate::keys::KeyStore;
use crate::recorder::Recorder;
use crate::{Clock, Environment};

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
        }
    }
}

/// State shared by every task of one mock.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) keys: KeyStore,
    pub(crate) devices: Arc<Devices>,
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) clock: Clock,
    pub(crate) connections: Connections,
    pub(crate) faults: Faults,
    pub(crate) first_seen: FirstSeen,
    /// Flips to true when the server starts shutting down.
    stop: watch::Sender<bool>,
    next_connection_id: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: Config, keys: KeyStore, recorder: Recorder, clock: Clock) -> Self {
        Self {
            config,
            keys,
            devices: Arc::default(),
            recorder: Arc::new(recorder),
            clock,
            connections: Connections::default(),
            faults: Faults::default(),
            first_seen: FirstSeen::default(),
            stop: watch::Sender::new(false),
            next_connection_id: AtomicU64::new(1),
        }
    }

    /// A receiver of the shutdown flag.
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Starts the graceful shutdown of every task.
    pub(crate) fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Connection ids count from 1 in accept order.
    pub(crate) fn next_connection_id(&self) -> u64 {
        self.next_connection_id.fetch_add(1, Ordering::Relaxed)
    }
}
