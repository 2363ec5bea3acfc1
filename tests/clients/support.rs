//! What every client test needs: a mock whose CA and development key are files, the push to
//! send, a runner for the client scripts, and the admin API.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use mock_apns::{ClientCertRequest, MockApns, MockApnsBuilder, Notification};
use serde_json::{json, Value};

use crate::support::{admin, OrFail};

/// A VoIP device token (PushKit's, 32 bytes).
pub(crate) const DEVICE: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
/// The app's bundle id: the topic of its alert pushes, not of its VoIP pushes.
pub(crate) const BUNDLE_ID: &str = "com.example.app";
/// The VoIP topic: the bundle id plus `.voip`.
pub(crate) const VOIP_TOPIC: &str = "com.example.app.voip";
/// When the admin API says the token stopped being valid (epoch ms).
pub(crate) const UNREGISTERED_AT: u64 = 1_700_000_000_123;
/// One byte over Apple's VoIP limit (5120).
pub(crate) const OVER_VOIP_LIMIT: usize = 5121;

/// Bounds a client script that hangs; a passing run takes well under a second.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);
/// Bounds waiting for a record that should already be there.
const RECORD_TIMEOUT: Duration = Duration::from_secs(10);

/// Variables a developer's shell may carry that would change where a client goes or what it
/// trusts; every script starts without them and gets only what its test gives it.
const SCRUBBED_ENV: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "NODE_EXTRA_CA_CERTS",
    "NODE_OPTIONS",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "CURL_HOME",
];

/// A running mock and the files a user points a client at.
pub(crate) struct Mock {
    pub(crate) apns: MockApns,
    /// The CA certificate to trust (`<state dir>/ca.pem`).
    pub(crate) ca_file: PathBuf,
    /// The development key's `.p8`, as Apple hands one out.
    pub(crate) key_file: PathBuf,
    _state: tempfile::TempDir,
}

impl Mock {
    /// A mock on a free loopback port.
    pub(crate) async fn start() -> Self {
        Self::start_with(MockApns::builder()).await
    }

    /// A mock from `builder`, with a fresh state directory.
    pub(crate) async fn start_with(builder: MockApnsBuilder) -> Self {
        match Self::try_start_with(builder).await {
            Ok(mock) => mock,
            Err(e) => panic!("mock-apns could not start: {e}"),
        }
    }

    /// Like [`Self::start_with`], returning the error (to tell "may not bind 443" apart).
    pub(crate) async fn try_start_with(builder: MockApnsBuilder) -> Result<Self, mock_apns::Error> {
        let state = tempfile::tempdir().expect("a temporary state directory");
        let apns = builder.state_dir(state.path()).try_start().await?;
        let ca_file = state.path().join("ca.pem");
        let key_file = state
            .path()
            .join(format!("AuthKey_{}.p8", apns.dev_key().key_id()));
        assert!(
            ca_file.is_file(),
            "the state dir has no {}",
            ca_file.display()
        );
        assert!(
            key_file.is_file(),
            "the state dir has no {}",
            key_file.display()
        );
        Ok(Self {
            apns,
            ca_file,
            key_file,
            _state: state,
        })
    }

    /// The token-auth credentials, as the scripts read them.
    pub(crate) fn key_env(&self) -> Vec<(String, String)> {
        let key = self.apns.dev_key();
        vec![
            var("APNS_KEY_FILE", self.key_file.display()),
            var("APNS_KEY_ID", key.key_id()),
            var("APNS_TEAM_ID", key.team_id()),
        ]
    }

    /// A provider certificate for the app and its VoIP topic, issued by the mock's CA (what
    /// `mock-apns cert issue --topic com.example.app --voip` writes), as the scripts read it.
    pub(crate) fn cert_env(&self) -> Vec<(String, String)> {
        let cert = self
            .apns
            .issue_client_cert(&ClientCertRequest {
                bundle_id: BUNDLE_ID.to_owned(),
                voip: true,
                environment: None,
            })
            .expect("the mock issues a client certificate");
        let dir = self._state.path();
        let (cert_file, key_file) = (
            dir.join(format!("{BUNDLE_ID}.pem")),
            dir.join(format!("{BUNDLE_ID}-key.pem")),
        );
        std::fs::write(&cert_file, &cert.cert_pem).expect("certificate written");
        std::fs::write(&key_file, &cert.key_pem).expect("key written");
        vec![
            var("APNS_CERT_FILE", cert_file.display()),
            var("APNS_CERT_KEY_FILE", key_file.display()),
        ]
    }

    /// Host, port and CA for a client that can be told all three.
    pub(crate) fn direct_env(&self) -> Vec<(String, String)> {
        vec![
            var("APNS_HOST", "localhost"),
            var("APNS_PORT", self.apns.address().port()),
            var("APNS_CA", self.ca_file.display()),
        ]
    }

    /// Marks `token` unregistered at `timestamp_ms` the way a test in any language would:
    /// `DELETE /api/v1/devices/{token}?timestamp=MS` on the admin API.
    pub(crate) async fn unregister_through_admin_api(&self, token: &str, timestamp_ms: u64) {
        admin(&self.apns)
            .unregister_device(token, Some(timestamp_ms))
            .await
            .or_fail();
    }

    /// The one request the mock recorded; fails if there were none or several.
    pub(crate) async fn only_record(&self) -> Notification {
        let mut records = self
            .apns
            .wait_for(1, RECORD_TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("the mock recorded nothing: {e}"));
        let all = self.apns.received_notifications();
        assert_eq!(
            all.len(),
            1,
            "expected one request, the mock recorded: {:#?}",
            all
        );
        records.remove(0)
    }
}

/// An environment variable for a script.
pub(crate) fn var(name: &str, value: impl std::fmt::Display) -> (String, String) {
    (name.to_owned(), value.to_string())
}

/// One push as the scripts take it (`$PUSH`).
#[derive(Debug, Clone)]
pub(crate) struct Push {
    pub(crate) token: String,
    pub(crate) topic: String,
    pub(crate) push_type: &'static str,
    pub(crate) priority: u8,
    pub(crate) payload: Value,
    /// Pad the serialized payload to exactly this many bytes (a `pad` string key is added).
    pub(crate) pad_to: Option<usize>,
}

impl Push {
    /// An incoming call: VoIP push type, `.voip` topic, immediate priority, call details
    /// beside an empty `aps` (as Apple's PushKit sample reads them).
    pub(crate) fn incoming_call() -> Self {
        Self {
            token: DEVICE.to_owned(),
            topic: VOIP_TOPIC.to_owned(),
            push_type: "voip",
            priority: 10,
            payload: json!({
                "aps": {},
                "call_id": "8d3f5a2e-42",
                "caller": "Alice",
                "handle": "+15550100",
            }),
            pad_to: None,
        }
    }

    /// The same push on another topic.
    pub(crate) fn on_topic(mut self, topic: &str) -> Self {
        topic.clone_into(&mut self.topic);
        self
    }

    /// The same push with its payload padded to `bytes`.
    pub(crate) fn padded_to(mut self, bytes: usize) -> Self {
        self.pad_to = Some(bytes);
        self
    }

    /// `$PUSH` for the scripts.
    pub(crate) fn to_env(&self) -> (String, String) {
        let push = json!({
            "token": self.token,
            "topic": self.topic,
            "push_type": self.push_type,
            "priority": self.priority,
            "expiration": 0,
            "payload": self.payload,
            "pad_to": self.pad_to,
        });
        var("PUSH", push)
    }
}

/// `tests/clients/<sub>`.
pub(crate) fn clients_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("clients")
        .join(sub)
}

/// A Node script in `tests/clients/node`, whose `node_modules` `make clients` installs.
pub(crate) async fn run_node(script: &str, env: Vec<(String, String)>) -> Value {
    let dir = clients_dir("node");
    assert!(
        dir.join("node_modules/@parse/node-apn").is_dir()
            && dir.join("node_modules/apns2").is_dir(),
        "the Node clients are not installed in {}: run `make clients`",
        dir.display()
    );
    run_script(Path::new("node"), &dir.join(script), env).await
}

/// A Python script in `tests/clients/python`, run by the virtual environment `make clients`
/// creates.
pub(crate) async fn run_python(script: &str, env: Vec<(String, String)>) -> Value {
    let dir = clients_dir("python");
    let python = dir.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "the Python clients are not installed ({} is missing): run `make clients`",
        python.display()
    );
    run_script(&python, &dir.join(script), env).await
}

/// Removes the variables that would change where a client goes or what it trusts.
pub(crate) fn scrub(command: &mut tokio::process::Command) {
    for name in SCRUBBED_ENV {
        command.env_remove(name);
    }
}

/// Runs `program script` with only `env` added to a scrubbed environment; returns the JSON
/// line the script printed last. A script that fails or prints no JSON fails the test, with
/// its output.
async fn run_script(program: &Path, script: &Path, env: Vec<(String, String)>) -> Value {
    let mut command = tokio::process::Command::new(program);
    command
        .arg(script)
        .current_dir(script.parent().unwrap_or(Path::new(".")));
    run_command(command, script, env).await
}

/// A client program built for a test (the a2 one), run like the scripts.
pub(crate) async fn run_binary(binary: &Path, env: Vec<(String, String)>) -> Value {
    run_command(tokio::process::Command::new(binary), binary, env).await
}

async fn run_command(
    mut command: tokio::process::Command,
    script: &Path,
    env: Vec<(String, String)>,
) -> Value {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    scrub(&mut command);
    command.envs(env);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let output = tokio::time::timeout(SCRIPT_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{} did not finish in {SCRIPT_TIMEOUT:?}", script.display()))
        .expect("the script's output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        script.display(),
        output.status
    );
    let last = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    serde_json::from_str(last).unwrap_or_else(|e| {
        panic!(
            "{} printed no JSON ({e}):\nstdout: {stdout}\nstderr: {stderr}",
            script.display()
        )
    })
}
