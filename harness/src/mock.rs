//! The mock a scenario runs against, driven only through its admin API: a fresh in-process
//! [`MockApns`] per scenario, or a `mock-apns` already running (`--mock URL`).
//!
//! Either way the provider gets the same [`ApnsEnv`]: the endpoint, the CA to trust and the
//! `.p8` key to sign provider tokens with, as files in a directory that lives as long as the
//! run. Each device of the scenario is a virtual phone on the mock, owning its two tokens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mock_apns::admin::{Client, ClientError, PushQuery};
use mock_apns::phones::{Call, PhoneCondition, PhoneSpec, PhoneView};
use mock_apns::{
    ConnectionSummary, Device, Environment, LintMode, MockApns, Notification, RuleSummary,
    SigningKey,
};
use serde_json::Value;

use crate::error::Error;
use crate::setup::{MockSetup, TokenInfo};

/// Admin calls are local and quick; this only bounds a hung mock.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Which mock the harness uses.
#[derive(Debug, Clone, Default)]
pub enum MockTarget {
    /// A fresh mock in this process for every scenario (the default).
    #[default]
    InProcess,
    /// A running `mock-apns`: its admin URL and its state directory (where `ca.pem` and
    /// `dev-key.json` are). Its record is cleared before each scenario.
    Remote {
        /// `http://127.0.0.1:2198`.
        admin_url: String,
        /// The mock's `--state-dir` (default `./.mock-apns`).
        state_dir: PathBuf,
    },
}

/// What a provider needs to reach the mock; a command provider gets it as environment
/// variables ([`ApnsEnv::vars`]).
#[derive(Debug, Clone)]
pub struct ApnsEnv {
    /// `https://localhost:<port>`.
    pub url: String,
    /// `localhost`.
    pub host: String,
    /// The APNs port.
    pub port: u16,
    /// PEM file of the CA to trust.
    pub ca_file: PathBuf,
    /// The provider key, an Apple-style `.p8` file.
    pub key_file: PathBuf,
    /// The key's id (`kid`).
    pub key_id: String,
    /// The team id (`iss`).
    pub team_id: String,
    /// The app's bundle id.
    pub topic: String,
    /// The CA's PEM text.
    pub ca_pem: String,
    /// The key's PEM text.
    pub key_pem: String,
    /// The mock's admin API.
    pub admin_url: String,
    /// The scenario's `provider_env`: more variables for the provider of this scenario (a
    /// command gets them after all others; a closure may read them here).
    pub provider_env: Vec<(String, String)>,
}

impl ApnsEnv {
    /// The environment variables a command provider is started with. The CA goes into the
    /// variables OpenSSL, Node and Python's requests read, so most stacks trust it unchanged.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        let ca = self.ca_file.display().to_string();
        vec![
            ("APNS_URL", self.url.clone()),
            ("APNS_HOST", self.host.clone()),
            ("APNS_PORT", self.port.to_string()),
            ("APNS_CA_FILE", ca.clone()),
            ("APNS_KEY_FILE", self.key_file.display().to_string()),
            ("APNS_KEY_ID", self.key_id.clone()),
            ("APNS_TEAM_ID", self.team_id.clone()),
            ("APNS_TOPIC", self.topic.clone()),
            ("MOCK_APNS_ADMIN_URL", self.admin_url.clone()),
            ("SSL_CERT_FILE", ca.clone()),
            ("NODE_EXTRA_CA_CERTS", ca.clone()),
            ("REQUESTS_CA_BUNDLE", ca),
        ]
    }
}

/// A mock ready for one scenario.
#[derive(Debug)]
pub(crate) struct Mock {
    pub(crate) env: ApnsEnv,
    /// The setup's fault rules: (id the mock gave, name for the transcript).
    pub(crate) setup_faults: Vec<(u64, String)>,
    /// The mock's admin API.
    admin: Client,
    /// A running mock (`--mock`), which other runs have used: its state must be cleared.
    shared: bool,
    /// What it does with lint findings: a running mock says at start (its `--lint` cannot
    /// change while it runs); the harness's own is started on the default.
    lint: LintMode,
    key: SigningKey,
    _own: Option<MockApns>,
    _files: tempfile::TempDir,
}

impl Mock {
    /// Starts (or connects to and resets) the mock and applies a scenario's setup: `topic` is
    /// its bundle id, `tokens` its devices' tokens.
    pub(crate) async fn start(
        target: &MockTarget,
        setup: &MockSetup,
        topic: &str,
        tokens: &[TokenInfo],
    ) -> Result<Self, Error> {
        let files = tempfile::Builder::new()
            .prefix("apns-harness-")
            .tempdir()
            .map_err(|e| Error::setup(format!("cannot create a temporary directory: {e}")))?;
        let (own, admin, admin_url, apns_url, ca_pem, key, lint) = match target {
            MockTarget::InProcess => {
                let generated = SigningKey::generate(&setup.key.team_id)
                    .and_then(|k| {
                        SigningKey::from_pem(
                            &setup.key.key_id,
                            &setup.key.team_id,
                            k.to_pem().as_bytes(),
                        )
                    })
                    .map_err(|e| Error::setup(format!("mock.key: {e}")))?;
                let lint = LintMode::default();
                let apns = MockApns::builder()
                    .environment(setup.environment)
                    .lint(lint)
                    .strict_devices(setup.strict_devices)
                    .dev_key(generated.clone())
                    .try_start()
                    .await
                    .map_err(|e| Error::setup(format!("mock-apns could not start: {e}")))?;
                let (admin_url, uri, ca) =
                    (apns.admin_uri(), apns.uri(), apns.ca_cert_pem().to_owned());
                let admin = admin_client(&admin_url)?;
                (Some(apns), admin, admin_url, uri, ca, generated, lint)
            }
            MockTarget::Remote {
                admin_url,
                state_dir,
            } => {
                if setup.strict_devices {
                    return Err(Error::setup(
                        "mock.strict_devices needs the harness's own mock (a running mock keeps \
                         its --strict-devices setting); drop --mock",
                    ));
                }
                let admin_url = admin_url.trim_end_matches('/').to_owned();
                let admin = admin_client(&admin_url)?;
                let health = admin.health().await.map_err(Error::mock(format!(
                    "asking the running mock at {admin_url} for its health"
                )))?;
                if health.environment != setup.environment {
                    return Err(Error::setup(format!(
                        "the scenario wants a {} mock; the one at {admin_url} is {}",
                        setup.environment, health.environment
                    )));
                }
                let apns_url = health.apns_url;
                let (ca, key) = read_state_dir(state_dir)?;
                (None, admin, admin_url, apns_url, ca, key, health.lint)
            }
        };
        let port = apns_url
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
            .ok_or_else(|| Error::setup(format!("the mock's APNs URL {apns_url:?} has no port")))?;
        let ca_file = files.path().join("mock-apns-ca.pem");
        let key_file = files.path().join(format!("AuthKey_{}.p8", key.key_id()));
        write(&ca_file, &ca_pem)?;
        write(&key_file, &key.to_pem())?;
        let env = ApnsEnv {
            url: apns_url,
            host: "localhost".into(),
            port,
            ca_file,
            key_file,
            key_id: key.key_id().to_owned(),
            team_id: key.team_id().to_owned(),
            topic: topic.to_owned(),
            ca_pem,
            key_pem: key.to_pem(),
            admin_url,
            provider_env: Vec::new(),
        };
        let mut mock = Mock {
            admin,
            shared: matches!(target, MockTarget::Remote { .. }),
            lint,
            env,
            setup_faults: Vec::new(),
            key,
            _own: own,
            _files: files,
        };
        mock.reset().await?;
        if setup.register_devices {
            for t in tokens {
                mock.register(&t.value, &t.topic, t.environment).await?;
            }
        }
        mock.phones(tokens).await?;
        let tokens = tokens
            .iter()
            .map(|t| (t.name.clone(), t.value.clone()))
            .collect();
        for (i, rule) in setup.faults.iter().enumerate() {
            let rule = crate::template::expand_value(rule, &tokens)
                .map_err(|e| Error::setup(format!("mock.faults[{i}]: {e}")))?;
            let added = mock
                .admin
                .add_fault_json(&rule)
                .await
                .map_err(Error::mock(format!("adding mock.faults[{i}]")))?;
            let name = added
                .spec
                .name
                .unwrap_or_else(|| format!("mock.faults[{i}]"));
            mock.setup_faults.push((added.id, name));
        }
        Ok(mock)
    }

    /// Makes each device a virtual phone owning its two tokens, fresh (a running mock's phone
    /// of the same name is replaced, its timeline and PushKit violations forgotten; a fresh
    /// mock has none to replace).
    async fn phones(&self, tokens: &[TokenInfo]) -> Result<(), Error> {
        let mut devices: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for t in tokens {
            devices.entry(&t.device).or_default().push(t.value.clone());
        }
        for (name, tokens) in devices {
            if self.shared {
                match self.admin.remove_phone(name).await {
                    Ok(()) | Err(ClientError::Refused { status: 404, .. }) => {}
                    Err(e) => return Err(Error::mock(format!("replacing phone {name}"))(e)),
                }
            }
            self.admin
                .put_phone(name, &PhoneSpec::default().tokens(tokens))
                .await
                .map_err(Error::mock(format!("making device {name} a phone")))?;
        }
        Ok(())
    }

    /// A phone as it is now.
    pub(crate) async fn phone(&self, name: &str) -> Result<PhoneView, Error> {
        self.admin
            .phone(name)
            .await
            .map_err(Error::mock(format!("reading phone {name}")))
    }

    /// Changes what `spec` sets on a phone (going online delivers what APNs stored).
    pub(crate) async fn update_phone(&self, name: &str, spec: &PhoneSpec) -> Result<(), Error> {
        self.admin
            .update_phone(name, spec)
            .await
            .map(drop)
            .map_err(Error::mock(format!("changing phone {name}")))
    }

    /// Waits on the mock until the phone is in `condition`: `Ok` with the phone then, `Err`
    /// with the phone at the deadline.
    pub(crate) async fn wait_phone(
        &self,
        name: &str,
        condition: &PhoneCondition,
        timeout: Duration,
    ) -> Result<Result<PhoneView, PhoneView>, Error> {
        match self.admin.wait_for_phone(name, condition, timeout).await {
            Ok(view) => Ok(Ok(view)),
            Err(ClientError::PhoneWaitTimeout(late)) => Ok(Err(*late.phone)),
            Err(e) => Err(Error::mock(format!("waiting for {name} to be {condition}"))(e)),
        }
    }

    /// The user answers (or declines) on a phone: the call, or why nothing could be
    /// answered (nothing rings: the provider's doing).
    pub(crate) async fn gesture(
        &self,
        name: &str,
        answer: bool,
        call: Option<&str>,
    ) -> Result<Result<Call, String>, Error> {
        let done = if answer {
            self.admin.answer(name, call).await
        } else {
            self.admin.decline(name, call).await
        };
        match done {
            Ok(call) => Ok(Ok(call)),
            Err(ClientError::Refused {
                status: 409,
                message,
                ..
            }) => Ok(Err(message)),
            Err(e) => Err(Error::mock(format!("answering on {name}"))(e)),
        }
    }

    /// The mock's `--lint` mode (`warn` for a running mock that does not say).
    pub(crate) fn lint_mode(&self) -> LintMode {
        self.lint
    }

    /// Forgets a running mock's record and fault rules (a fresh one has neither).
    async fn reset(&self) -> Result<(), Error> {
        if self.shared {
            self.admin
                .clear_pushes()
                .await
                .map_err(Error::mock("clearing the running mock's record"))?;
            // A mock without the fault API has no rules to forget.
            let _ = self.admin.clear_faults().await;
        }
        Ok(())
    }

    pub(crate) async fn register(
        &self,
        token: &str,
        topic: &str,
        environment: Environment,
    ) -> Result<(), Error> {
        let device = Device {
            topic: Some(topic.to_owned()),
            environment: Some(environment),
            ..Device::default()
        };
        self.admin
            .register_device(token, &device)
            .await
            .map_err(Error::mock(format!("registering device token {token}")))
    }

    pub(crate) async fn unregister(
        &self,
        token: &str,
        timestamp_ms: Option<u64>,
    ) -> Result<(), Error> {
        self.admin
            .unregister_device(token, timestamp_ms)
            .await
            .map(drop)
            .map_err(Error::mock(format!("unregistering device token {token}")))
    }

    pub(crate) async fn advance_clock(&self, by: Duration) -> Result<(), Error> {
        self.admin
            .advance_clock(by)
            .await
            .map(drop)
            .map_err(Error::mock("advancing the mock's clock"))
    }

    /// Installs a fault rule, as JSON (the mock's parser names a bad field); answers it as
    /// the mock listed it, with the id it gave it.
    pub(crate) async fn add_fault(&self, rule: &Value) -> Result<RuleSummary, Error> {
        self.admin
            .add_fault_json(rule)
            .await
            .map_err(Error::mock("adding a fault rule"))
    }

    pub(crate) async fn remove_fault(&self, id: u64) -> Result<(), Error> {
        self.admin
            .remove_fault(id)
            .await
            .map(drop)
            .map_err(Error::mock(format!("removing fault rule #{id}")))
    }

    /// Every record so far.
    pub(crate) async fn records(&self) -> Result<Vec<Notification>, Error> {
        self.admin
            .pushes(&PushQuery::all())
            .await
            .map_err(Error::mock("reading the mock's record"))
    }

    /// Every connection the mock has seen.
    pub(crate) async fn connections(&self) -> Result<Vec<ConnectionSummary>, Error> {
        self.admin
            .connections()
            .await
            .map_err(Error::mock("reading the mock's connections"))
    }

    /// Waits (long-poll on the mock) until at least `count` records exist, or `timeout`
    /// passes; answers every record and whether the count was reached.
    pub(crate) async fn wait_total(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<(Vec<Notification>, bool), Error> {
        match self
            .admin
            .wait_for_pushes(count, timeout, &PushQuery::all())
            .await
        {
            Ok(records) => Ok((records, true)),
            Err(ClientError::WaitTimeout { received, .. }) => Ok((received, false)),
            Err(e) => Err(Error::mock(format!(
                "waiting for {count} pushes on the mock"
            ))(e)),
        }
    }

    /// A provider token signed with the scenario's key, issued now (real time, as a provider
    /// mints it; the mock ages tokens by its own clock from when it first sees them).
    pub(crate) fn jwt(&self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.key.token(now)
    }
}

/// The admin client for `admin_url`, with the harness's deadline.
fn admin_client(admin_url: &str) -> Result<Client, Error> {
    Client::new(admin_url)
        .map(|c| c.with_timeout(ADMIN_TIMEOUT))
        .map_err(Error::mock("the mock's admin API"))
}

fn read_state_dir(dir: &Path) -> Result<(String, SigningKey), Error> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read_to_string(&path).map_err(|e| {
            Error::setup(format!(
                "{}: {e} (point --mock-state-dir at the running mock's --state-dir)",
                path.display()
            ))
        })
    };
    let ca = read("ca.pem")?;
    let meta: Value = serde_json::from_str(&read("dev-key.json")?)
        .map_err(|e| Error::setup(format!("dev-key.json: {e}")))?;
    let field = |name: &str| meta[name].as_str().unwrap_or_default().to_owned();
    let pem = read(&field("file"))?;
    let key = SigningKey::from_pem(&field("key_id"), &field("team_id"), pem.as_bytes())
        .map_err(|e| Error::setup(format!("the mock's development key: {e}")))?;
    Ok((ca, key))
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text)
        .map_err(|e| Error::setup(format!("cannot write {}: {e}", path.display())))
}
