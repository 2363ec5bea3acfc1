//! [`MockApns`]: the handle a Rust test holds. Dropping it stops the server.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, watch};

use crate::api::builder::MockApnsBuilder;
use crate::api::phone::Phone;
use crate::api::verification::{self, Times};
use crate::auth::client_cert::{ClientCert, ClientCertRequest};
use crate::auth::keys::SigningKey;
use crate::auth::pki::Pki;
use crate::error::Error;
use crate::faults::{Rule, RuleError, RuleSpec};
use crate::lint::{LintMode, LintReport};
use crate::phones::PhoneView;
use crate::record::clock::Clock;
use crate::record::devices::Device;
use crate::record::notification::Notification;
use crate::server::bound::Bound;
use crate::server::connection_state::{ConnectionSummary, GoAway};
use crate::shared::{Shared, StopSignal};

/// A running mock APNs: real TLS and HTTP/2 on a loopback port, with an admin API beside it.
///
/// It runs on its own thread and runtime (like wiremock's server), so it keeps answering even
/// while a test blocks its own thread, and works under any test runtime.
#[derive(Debug)]
pub struct MockApns {
    apns_addr: SocketAddr,
    admin_addr: SocketAddr,
    connect_proxy_addr: Option<SocketAddr>,
    ca_cert_pem: String,
    dev_key: SigningKey,
    shared: Arc<Shared>,
    pki: Arc<Pki>,
    /// Mocks mounted with `Mock::mount`, checked on drop.
    mounted: Mutex<Vec<(Arc<Rule>, Option<Times>)>>,
    stop: watch::Sender<bool>,
    stopped: Option<oneshot::Receiver<()>>,
}

impl MockApnsBuilder {
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

/// Waiting for pushes timed out; holds what had arrived.
#[derive(Debug, thiserror::Error)]
#[error("expected {expected} pushes within {timeout:?}, got {}: {}", received.len(), summary(received))]
pub struct WaitTimeout {
    /// How many were expected.
    pub expected: usize,
    /// How long was waited.
    pub timeout: Duration,
    /// What had arrived.
    pub received: Vec<Notification>,
}

fn summary(received: &[Notification]) -> String {
    if received.is_empty() {
        return "nothing".into();
    }
    received
        .iter()
        .map(|n| {
            format!(
                "[{} {} {} → {}{}]",
                n.method,
                n.path,
                n.topic().unwrap_or("-"),
                n.status,
                n.reason.map(|r| format!(" {r}")).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl MockApns {
    /// Starts a mock with the defaults: development environment, fresh CA and development key,
    /// free loopback ports.
    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// Configures a mock before starting it.
    pub fn builder() -> MockApnsBuilder {
        MockApnsBuilder::default()
    }

    pub(crate) fn spawn(bound: Bound) -> Result<Self, Error> {
        if let Some(warning) = bound.admin_exposure_warning() {
            tracing::warn!("{warning}");
        }
        let (stop, stop_rx) = watch::channel(false);
        let (done_tx, done_rx) = oneshot::channel();
        let mock = MockApns {
            apns_addr: bound.apns_addr,
            admin_addr: bound.admin_addr,
            connect_proxy_addr: bound.connect_proxy_addr,
            ca_cert_pem: bound.ca_cert_pem.clone(),
            dev_key: bound.dev_key.clone(),
            shared: bound.shared.clone(),
            pki: bound.pki.clone(),
            mounted: Mutex::new(Vec::new()),
            stop,
            stopped: Some(done_rx),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mock-apns")
            .enable_all()
            .build()
            .map_err(|e| Error::io("<tokio runtime>", e))?;
        std::thread::Builder::new()
            .name("mock-apns".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let stopped = async move {
                        StopSignal::new(stop_rx).stopped().await;
                    };
                    if let Err(e) = bound.serve(stopped).await {
                        tracing::error!("mock-apns stopped: {e}");
                    }
                });
                let _ = done_tx.send(());
            })
            .map_err(|e| Error::io("<mock-apns thread>", e))?;
        Ok(mock)
    }

    /// The APNs endpoint, `https://localhost:<port>`.
    pub fn uri(&self) -> String {
        format!("https://localhost:{}", self.apns_addr.port())
    }

    /// The APNs endpoint's socket address.
    pub fn address(&self) -> SocketAddr {
        self.apns_addr
    }

    /// The admin API, `http://127.0.0.1:<port>`.
    pub fn admin_uri(&self) -> String {
        format!("http://{}", self.admin_addr)
    }

    /// The CONNECT front door's address, when it was asked for
    /// ([`MockApnsBuilder::connect_proxy`]). `http://<address>` is the `HTTPS_PROXY` for
    /// clients that keep Apple's host name.
    pub fn connect_proxy_address(&self) -> Option<SocketAddr> {
        self.connect_proxy_addr
    }

    /// PEM of the CA that signed the server certificate: what a client must trust.
    pub fn ca_cert_pem(&self) -> &str {
        &self.ca_cert_pem
    }

    /// The development key, registered with the mock: use it to sign provider tokens.
    pub fn dev_key(&self) -> &SigningKey {
        &self.dev_key
    }

    /// A provider token from the development key, issued now, as a provider would mint it:
    /// from the real clock (the mock ages tokens by its own clock from when it first sees them).
    pub fn provider_token(&self) -> String {
        let clock = &self.shared.clock;
        let real_now = clock.now_secs().saturating_sub(clock.offset().as_secs());
        self.dev_key.token(real_now)
    }

    /// The mock's clock.
    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    /// Moves the mock's clock forward: token ages and 410 timestamps follow it.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// Registers a device token (its topic and environment).
    pub fn register_device(&self, token: &str, device: Device) {
        self.shared.devices.register(token, device);
    }

    /// Marks a device token unregistered at `timestamp_ms`: later pushes get 410.
    pub fn unregister_device(&self, token: &str, timestamp_ms: u64) {
        self.shared.devices.unregister(token, timestamp_ms);
    }

    /// The virtual phone named `name`, created (online, app installed, no tokens) if new:
    /// `apns.phone("bob-iphone").tokens([voip, apns]).online(false)`.
    ///
    /// # Panics
    /// If the name is not 1 to 64 letters, digits, `-` or `_`.
    #[track_caller]
    pub fn phone(&self, name: &str) -> Phone {
        Phone::open(self.shared.clone(), name)
    }

    /// Every virtual phone, by name.
    pub fn phones(&self) -> Vec<PhoneView> {
        self.shared.phones.list(&self.shared.clock)
    }

    /// The lint mode, and each rule with its count so far.
    pub fn lint_report(&self) -> LintReport {
        LintReport::of(&self.shared.lint)
    }

    /// Issues a client certificate signed by the mock's CA, for certificate authentication.
    pub fn issue_client_cert(&self, request: &ClientCertRequest) -> Result<ClientCert, Error> {
        self.pki.issue_client_cert(request)
    }

    /// Every connection so far, open or closed, in accept order.
    pub fn connections(&self) -> Vec<ConnectionSummary> {
        self.shared
            .connections
            .all()
            .iter()
            .map(|c| c.summary())
            .collect()
    }

    /// Sends GOAWAY on connection `id`. Returns false if there is no such open connection.
    pub fn go_away(&self, id: u64, goaway: GoAway) -> bool {
        self.shared
            .connections
            .get(id)
            .is_some_and(|c| c.go_away(goaway, "requested by the test"))
    }

    /// Mounts a fault rule (the admin API's `POST /api/v1/faults`), returning it with its id.
    pub fn add_fault(&self, rule: RuleSpec) -> Result<Arc<Rule>, RuleError> {
        self.shared.faults.add(rule)
    }

    /// Unmounts a fault rule.
    pub fn remove_fault(&self, id: u64) -> bool {
        self.shared.faults.remove(id)
    }

    /// The mounted fault rules, in evaluation order.
    pub fn faults(&self) -> Vec<Arc<Rule>> {
        self.shared.faults.list()
    }

    pub(crate) fn remember(&self, rule: Arc<Rule>, expect: Option<Times>) {
        self.mounted
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((rule, expect));
    }

    pub(crate) fn faults_handle(&self) -> FaultsHandle {
        FaultsHandle {
            shared: self.shared.clone(),
        }
    }

    /// Checks every mounted mock's expectation now, and with `lint(LintMode::Deny)` that no
    /// push has a lint finding.
    ///
    /// # Panics
    /// With a message naming each failed mock (and each finding) and listing the received
    /// pushes.
    pub fn verify(&self) {
        if let Some(message) = self.verification_failure() {
            panic!("{message}");
        }
    }

    fn verification_failure(&self) -> Option<String> {
        let mounted = self.mounted.lock().unwrap_or_else(|p| p.into_inner());
        let mut failures: Vec<String> = mounted
            .iter()
            .filter_map(|(rule, expect)| verification::failure(rule, *expect))
            .collect();
        // The record is copied once, and only when something reads it.
        let denied = self.shared.config.lint == LintMode::Deny;
        let received = denied.then(|| self.received_notifications());
        if let Some(received) = &received {
            failures.extend(verification::lint_failures(received));
        }
        (!failures.is_empty()).then(|| {
            let received = received.unwrap_or_else(|| self.received_notifications());
            verification::report(&failures, &received)
        })
    }

    /// Every recorded request so far, accepted or rejected, in order.
    pub fn received_notifications(&self) -> Vec<Notification> {
        self.shared.recorder.snapshot()
    }

    /// Waits until `count` requests have been recorded; the timeout only bounds failure.
    pub async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Notification>, WaitTimeout> {
        let (_, complete) = self
            .shared
            .recorder
            .wait_for(count, timeout, 0, |_| true)
            .await;
        let found = self.received_notifications();
        if complete {
            Ok(found)
        } else {
            Err(WaitTimeout {
                expected: count,
                timeout,
                received: found,
            })
        }
    }

    /// Stops accepting, answers the streams already accepted, and waits for the server to end.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.await;
        }
    }
}

impl Drop for MockApns {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if std::thread::panicking() {
            return;
        }
        if let Some(message) = self.verification_failure() {
            panic!("{message}");
        }
    }
}

/// What a [`crate::MockGuard`] needs of its mock: unmounting and the record.
#[derive(Debug, Clone)]
pub(crate) struct FaultsHandle {
    shared: Arc<Shared>,
}

impl FaultsHandle {
    pub(crate) fn remove(&self, id: u64) {
        self.shared.faults.remove(id);
    }

    pub(crate) fn received(&self) -> Vec<Notification> {
        self.shared.recorder.snapshot()
    }
}
