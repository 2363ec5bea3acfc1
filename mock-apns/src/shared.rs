//! What every connection and the admin API share: configuration, keys, devices, phones, lint,
//! record, clock, and the shutdown flag.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::watch;

use crate::auth::keys::KeyStore;
use crate::auth::provider_token::VerifiedTokens;
use crate::config::Config;
use crate::faults::Faults;
use crate::lint::Lint;
use crate::phones::Phones;
use crate::record::clock::Clock;
use crate::record::devices::Devices;
use crate::record::recorder::Recorder;
use crate::redirect::tunnels::Tunnels;
use crate::server::connection_state::Connections;
use crate::telemetry::metrics::{Gauges, Metrics};

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
    pub(crate) verified_tokens: VerifiedTokens,
    pub(crate) phones: Phones,
    pub(crate) lint: Lint,
    /// Tunnels open through the CONNECT front door, so a connection shows its target.
    pub(crate) tunnels: Arc<Tunnels>,
    /// Counters for `GET /metrics`.
    pub(crate) metrics: Metrics,
    /// Flips to true when the server starts shutting down.
    stop: watch::Sender<bool>,
    next_connection_id: AtomicU64,
}

impl Shared {
    pub(crate) fn new(config: Config, keys: KeyStore, recorder: Recorder, clock: Clock) -> Self {
        Self {
            phones: Phones::new(config.phones.clone()),
            lint: Lint::new(config.lint),
            config,
            keys,
            devices: Arc::default(),
            recorder: Arc::new(recorder),
            clock,
            connections: Connections::default(),
            faults: Faults::default(),
            verified_tokens: VerifiedTokens::default(),
            tunnels: Arc::default(),
            metrics: Metrics::default(),
            stop: watch::Sender::new(false),
            next_connection_id: AtomicU64::new(1),
        }
    }

    /// The shutdown flag, as a task waits on it.
    pub(crate) fn stop_signal(&self) -> StopSignal {
        StopSignal(self.stop.subscribe())
    }

    /// Starts the graceful shutdown of every task.
    pub(crate) fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// The Prometheus text `GET /metrics` answers.
    pub(crate) fn render_metrics(&self) -> String {
        let gauges = Gauges {
            connections_open: self.connections.open_count() as u64,
            records: self.recorder.kept() as u64,
            records_dropped: self.recorder.dropped(),
            lint_findings: self
                .lint
                .counts()
                .into_iter()
                .map(|(rule, n)| (rule.id, n))
                .collect(),
        };
        self.metrics.render(self.config.environment, gauges)
    }

    /// Connection ids count from 1 in accept order.
    pub(crate) fn next_connection_id(&self) -> u64 {
        self.next_connection_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// The shutdown flag as one task sees it: cheap to clone, one per task.
#[derive(Debug, Clone)]
pub(crate) struct StopSignal(watch::Receiver<bool>);

impl StopSignal {
    /// Follows a flag that is not a mock's own (the test handle's stop button).
    pub(crate) fn new(rx: watch::Receiver<bool>) -> Self {
        Self(rx)
    }

    /// Resolves once shutdown has begun (or the flag's sender is gone).
    pub(crate) async fn stopped(&mut self) {
        // The guard `wait_for` returns is dropped here, so callers' futures stay `Send`.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}
