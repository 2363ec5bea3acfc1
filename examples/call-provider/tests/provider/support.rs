//! Test support: a mock-apns with its files on disk, and call-provider as a child process
//! configured from those files, as the harness runs it.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mock_apns::{Device, LintMode, MockApns, Notification};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// The app's bundle id.
pub(crate) const BUNDLE: &str = "com.example.app";
/// Bounds failures only; nothing waits this long when things work.
pub(crate) const WAIT: Duration = Duration::from_secs(15);

/// A distinct 32-byte device token per tag.
pub(crate) fn token(tag: u8) -> String {
    format!("{tag:02x}").repeat(32)
}

/// A running mock and a running provider pointed at it.
pub(crate) struct World {
    pub(crate) apns: MockApns,
    pub(crate) provider: Provider,
    state: tempfile::TempDir,
}

impl World {
    /// Starts both; `extra` environment variables go to the provider. The mock denies lint
    /// (any finding fails it when dropped) unless a deliberate bug is switched on: the reference
    /// provider's pushes pass every rule.
    pub(crate) async fn start(extra: &[(&str, &str)]) -> Self {
        let state = tempfile::tempdir().expect("temp dir");
        let lint = if extra.iter().any(|(k, _)| *k == "CALL_PROVIDER_BUG") {
            LintMode::Warn
        } else {
            LintMode::Deny
        };
        let apns = MockApns::builder()
            .state_dir(state.path())
            .lint(lint)
            .start()
            .await;
        let mut env = provider_env(&apns, state.path());
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let provider = Provider::start(env).await;
        Self {
            apns,
            provider,
            state,
        }
    }

    /// Registers a device with the provider (`POST /devices`) and its tokens with the mock,
    /// each bound to the topic APNs binds it to: a pushed token on the wrong topic is refused.
    pub(crate) async fn register(
        &self,
        user: &str,
        device: &str,
        apns: Option<&str>,
        voip: Option<&str>,
    ) {
        for (token, topic) in [(apns, BUNDLE.to_owned()), (voip, format!("{BUNDLE}.voip"))] {
            if let Some(token) = token {
                self.apns.register_device(
                    token,
                    Device {
                        topic: Some(topic),
                        ..Device::default()
                    },
                );
            }
        }
        let (status, body) = self
            .provider
            .post(
                "/devices",
                serde_json::json!({"user": user, "device": device, "apns_token": apns, "voip_token": voip}),
            )
            .await;
        assert_eq!(status, 201, "registering {device}: {body}");
    }

    /// Waits until the mock has recorded `n` requests, and checks there are not more.
    pub(crate) async fn pushes(&self, n: usize) -> Vec<Notification> {
        let pushes = match self.apns.wait_for(n, WAIT).await {
            Ok(p) => p,
            Err(e) => panic!("{e}\nprovider log:\n{}", self.provider.logs()),
        };
        assert_eq!(
            pushes.len(),
            n,
            "more pushes than expected: {}",
            describe(&pushes)
        );
        pushes
    }

    /// Stops the mock (a graceful GOAWAY to every connection) and starts a new one on the
    /// same address with the same CA and key, as when APNs restarts a server.
    pub(crate) async fn restart_apns(self) -> Self {
        self.stop_apns().await.start_apns().await
    }

    /// Stops the mock; the provider keeps running, with nothing listening at `APNS_URL`.
    pub(crate) async fn stop_apns(self) -> ApnsDown {
        let World {
            apns,
            provider,
            state,
        } = self;
        let addr = apns.address();
        apns.shutdown().await;
        ApnsDown {
            provider,
            state,
            addr,
        }
    }
}

/// A [`World`] whose mock is stopped.
pub(crate) struct ApnsDown {
    pub(crate) provider: Provider,
    state: tempfile::TempDir,
    addr: std::net::SocketAddr,
}

impl ApnsDown {
    /// Starts a mock again on the same address, with the same CA and key.
    pub(crate) async fn start_apns(self) -> World {
        let apns = MockApns::builder()
            .state_dir(self.state.path())
            .listen(self.addr)
            .lint(LintMode::Deny)
            .start()
            .await;
        World {
            apns,
            provider: self.provider,
            state: self.state,
        }
    }
}

/// The `APNS_*` variables for `apns`, from the files its state directory holds.
pub(crate) fn provider_env(apns: &MockApns, state: &std::path::Path) -> Vec<(String, String)> {
    let meta: Value = serde_json::from_str(
        &std::fs::read_to_string(state.join("dev-key.json")).expect("dev-key.json"),
    )
    .expect("dev-key.json is JSON");
    let key_id = meta["key_id"].as_str().expect("key_id").to_owned();
    let team_id = meta["team_id"].as_str().expect("team_id").to_owned();
    let key_file = state.join(format!("AuthKey_{key_id}.p8"));
    [
        ("APNS_URL", apns.uri()),
        ("APNS_CA_FILE", state.join("ca.pem").display().to_string()),
        ("APNS_KEY_FILE", key_file.display().to_string()),
        ("APNS_KEY_ID", key_id),
        ("APNS_TEAM_ID", team_id),
        ("APNS_TOPIC", BUNDLE.to_owned()),
        ("PORT", "0".to_owned()),
        ("APNS_RETRY_BASE_MS", "10".to_owned()),
        ("RUST_LOG", "info".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// One line per push, for failure messages.
pub(crate) fn describe(pushes: &[Notification]) -> String {
    pushes
        .iter()
        .map(|p| {
            format!(
                "\n  #{} conn {} {} {} {:?} → {} {:?}",
                p.id,
                p.connection_id,
                p.path,
                p.topic().unwrap_or("-"),
                p.header("apns-push-type"),
                p.status,
                p.reason
            )
        })
        .collect()
}

/// call-provider running as a child process; killed when dropped.
pub(crate) struct Provider {
    /// Held only so the process is killed when the test ends.
    _child: Child,
    /// `http://127.0.0.1:<port>`, from its readiness line.
    pub(crate) url: String,
    /// Its JSON API, through mock-apns's plain HTTP/1.1 JSON client.
    api: mock_apns::admin::Client,
    logs: Arc<Mutex<String>>,
}

impl Provider {
    /// Starts the binary with exactly `env` (plus PATH) and waits for its readiness line.
    pub(crate) async fn start(env: Vec<(String, String)>) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_call-provider"))
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("call-provider starts");
        let logs = Arc::new(Mutex::new(String::new()));
        collect(child.stderr.take().expect("stderr"), logs.clone());
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = tokio::time::timeout(WAIT, stdout.next_line()).await;
        let url = match line {
            Ok(Ok(Some(line))) => line
                .strip_prefix("listening on ")
                .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
                .to_owned(),
            other => {
                let status = child.wait().await;
                panic!(
                    "no readiness line ({other:?}), exit {status:?}; log:\n{}",
                    logs.lock().expect("logs")
                );
            }
        };
        let api = mock_apns::admin::Client::new(&url)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_timeout(WAIT);
        Self {
            _child: child,
            url,
            api,
            logs,
        }
    }

    /// What it wrote on stderr so far.
    pub(crate) fn logs(&self) -> String {
        self.logs.lock().expect("logs").clone()
    }

    /// `POST path` with a JSON body; the status and the JSON answer.
    pub(crate) async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.request(http::Method::POST, path, Some(body)).await
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        self.request(http::Method::GET, path, None).await
    }

    async fn request(&self, method: http::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let answer = match self.api.send(method, path, body).await {
            Ok(answer) => answer,
            Err(e) => panic!("{e}; provider log:\n{}", self.logs()),
        };
        (answer.status, answer.json_or_text())
    }
}

/// Runs the process and collects everything it writes on stderr (no readiness line there).
pub(crate) async fn run_to_exit(env: Vec<(String, String)>) -> (std::process::ExitStatus, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_call-provider"))
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .output();
    let output = tokio::time::timeout(WAIT, output)
        .await
        .expect("the provider exits")
        .expect("the provider runs");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn collect(stream: impl AsyncRead + Unpin + Send + 'static, into: Arc<Mutex<String>>) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut logs) = into.lock() {
                logs.push_str(&line);
                logs.push('\n');
            }
        }
    });
}
