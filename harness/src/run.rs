//! [`Harness`]: runs a scenario's steps against a provider and a mock, and returns the
//! [`Transcript`].

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::error::{Error, StepFailure};
use crate::mock::{Mock, MockTarget};
use crate::provider::{Provider, ProviderRequest, RunningProvider};
use crate::record::Record;
use crate::scenario::{PushFilter, Scenario, Step};
use crate::template;
use crate::transcript::{self, Names, RawStep, Transcript};

const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const RUN_TIMEOUT: Duration = Duration::from_secs(30);
const EXPECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs scenarios against one provider.
#[derive(Debug, Clone)]
pub struct Harness {
    provider: Provider,
    mock: MockTarget,
}

impl Harness {
    /// A harness for `provider`, with a fresh in-process mock per scenario.
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            mock: MockTarget::InProcess,
        }
    }

    /// Uses another mock (a running `mock-apns`).
    pub fn mock(mut self, target: MockTarget) -> Self {
        self.mock = target;
        self
    }

    /// Loads and runs a scenario file.
    pub async fn run_file(&self, file: impl AsRef<Path>) -> Result<Transcript, Error> {
        let scenario = Scenario::load(file)?;
        self.run(&scenario).await
    }

    /// [`Self::run_file`] on a runtime of its own, for synchronous tests (`insta::glob!`).
    pub fn run_file_blocking(&self, file: impl AsRef<Path>) -> Result<Transcript, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::setup(format!("cannot start a tokio runtime: {e}")))?;
        runtime.block_on(self.run_file(file))
    }

    /// Runs one scenario: starts the mock and the provider, plays the steps, stops both.
    pub async fn run(&self, scenario: &Scenario) -> Result<Transcript, Error> {
        let mock = Mock::start(&self.mock, scenario).await?;
        let provider = self.provider.start(&mock.env).await?;
        let mut run = Run::new(scenario, &mock, &provider);
        let outcome = run.play().await;
        let mut names = run.names();
        names.connections = mock.connections().await.unwrap_or_default();
        let raw = std::mem::take(&mut run.steps);
        let output = provider.stop().await;
        let transcript = transcript::build(&scenario.name, &scenario.description, &raw, &names);
        match outcome {
            Ok(()) => Ok(transcript),
            Err(Stop::Setup(e)) => Err(match raw.last() {
                Some(step) => Error::setup(format!("step {} ({}): {e}", raw.len(), step.action)),
                None => e,
            }),
            Err(Stop::Failed { message, pushes }) => Err(Error::Step(Box::new(StepFailure {
                scenario: scenario.name.clone(),
                step: raw.len(),
                action: raw.last().map(|s| s.action.clone()).unwrap_or_default(),
                message,
                pushes,
                transcript,
                provider_output: output,
            }))),
        }
    }
}

/// Why playing stopped early.
enum Stop {
    /// The provider misbehaved: the step's expectation failed.
    Failed {
        message: String,
        pushes: Vec<String>,
    },
    /// The harness could not do its part.
    Setup(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        match e {
            Error::Provider(message) => Stop::Failed {
                message,
                pushes: Vec::new(),
            },
            other => Stop::Setup(other),
        }
    }
}

fn failed(message: impl Into<String>) -> Stop {
    Stop::Failed {
        message: message.into(),
        pushes: Vec::new(),
    }
}

/// One scenario being played.
struct Run<'a> {
    scenario: &'a Scenario,
    mock: &'a Mock,
    provider: &'a RunningProvider,
    /// Template values: token names and captures.
    values: BTreeMap<String, String>,
    /// Captured values, for the transcript.
    captures: Vec<(String, String)>,
    /// Fault name → the id the mock gave it (rules still mounted).
    faults: BTreeMap<String, Value>,
    /// Every fault added by a step: (id, name), for the transcript.
    faults_added: Vec<(Value, String)>,
    /// Records already shown under an earlier expectation.
    seen: usize,
    steps: Vec<RawStep>,
}

impl<'a> Run<'a> {
    fn new(scenario: &'a Scenario, mock: &'a Mock, provider: &'a RunningProvider) -> Self {
        let values = scenario
            .tokens()
            .into_iter()
            .map(|t| (t.name, t.value))
            .collect();
        Self {
            scenario,
            mock,
            provider,
            values,
            captures: Vec::new(),
            faults: BTreeMap::new(),
            faults_added: Vec::new(),
            seen: 0,
            steps: Vec::new(),
        }
    }

    fn names(&self) -> Names {
        let mut addresses = Vec::new();
        let apns = format!("localhost:{}", self.mock.env.port);
        addresses.push((apns, "localhost:[port]".to_owned()));
        addresses.push((
            format!("127.0.0.1:{}", self.mock.env.port),
            "127.0.0.1:[port]".to_owned(),
        ));
        if let Some(base) = self.provider.base_url() {
            let authority = base
                .split("://")
                .nth(1)
                .unwrap_or(base)
                .split('/')
                .next()
                .unwrap_or_default();
            if !authority.is_empty() {
                addresses.push((authority.to_owned(), "[provider]".to_owned()));
            }
        }
        let key = &self.scenario.mock.key;
        let faults = self
            .mock
            .setup_faults
            .iter()
            .chain(self.faults_added.iter())
            .filter_map(|(id, name)| id.as_u64().map(|id| (id, name.clone())))
            .collect();
        Names {
            faults,
            connections: Vec::new(),
            tokens: self
                .scenario
                .tokens()
                .into_iter()
                .map(|t| (t.value.to_ascii_lowercase(), t.name))
                .collect(),
            captures: self.captures.clone(),
            addresses,
            key: Some((
                (self.mock.env.key_id.clone(), self.mock.env.team_id.clone()),
                (key.key_id.clone(), key.team_id.clone()),
            )),
        }
    }

    async fn play(&mut self) -> Result<(), Stop> {
        for step in &self.scenario.steps {
            self.steps.push(RawStep {
                action: describe(step),
                ..RawStep::default()
            });
            self.step(step).await?;
        }
        Ok(())
    }

    fn current(&mut self) -> &mut RawStep {
        let last = self.steps.len() - 1;
        &mut self.steps[last]
    }

    fn expand(&self, text: &str) -> Result<String, Stop> {
        template::expand(text, &self.values).map_err(failed)
    }

    async fn step(&mut self, step: &Step) -> Result<(), Stop> {
        match step {
            Step::Call(call) => {
                let path = self.expand(&call.path)?;
                let body = match &call.body {
                    Some(b) => Some(template::expand_value(b, &self.values).map_err(failed)?),
                    None => None,
                };
                self.current().request = call.body.clone();
                let request = ProviderRequest {
                    method: call.method.as_str().to_owned(),
                    path,
                    body,
                };
                let timeout = call.timeout.map_or(CALL_TIMEOUT, |s| s.duration());
                let answer = self.provider.call(request, timeout).await?;
                self.current().response = Some((answer.status, answer.body.clone()));
                if let Some(want) = call.expect_status {
                    if answer.status != want {
                        return Err(failed(format!(
                            "the provider answered {} (expected {want}): {}",
                            answer.status, answer.body
                        )));
                    }
                }
                for (var, pointer) in &call.capture {
                    let value = match answer.body.pointer(pointer) {
                        Some(Value::String(s)) => s.clone(),
                        Some(v @ Value::Number(_)) => v.to_string(),
                        _ => {
                            return Err(failed(format!(
                            "capture {var}: the answer has no string or number at {pointer:?}: {}",
                            answer.body
                        )))
                        }
                    };
                    self.values.insert(var.clone(), value.clone());
                    self.captures.retain(|(_, v)| v != var);
                    self.captures.push((value, var.clone()));
                }
            }
            Step::Run(run) => {
                let command = self.expand(&run.command)?;
                let jwt = self.mock.jwt();
                let timeout = run.timeout.map_or(RUN_TIMEOUT, |s| s.duration());
                let (code, output) = run_command(&command, &self.mock.env.vars(), &jwt, timeout)
                    .await
                    .map_err(Stop::Setup)?;
                self.current().exit = Some(code);
                if code != run.expect_exit {
                    return Err(failed(format!(
                        "the command exited with {code} (expected {}):\n{}",
                        run.expect_exit,
                        crate::error::indent(&output)
                    )));
                }
            }
            Step::ExpectPushes(e) => {
                let timeout = e.timeout.map_or(EXPECT_TIMEOUT, |s| s.duration());
                self.expect_pushes(e.count, &e.filter(), timeout).await?;
            }
            Step::ExpectNoPush(e) => self.expect_no_push(&e.filter(), e.span.duration()).await?,
            Step::AddFault(f) => {
                let rule = template::expand_value(&f.rule, &self.values).map_err(failed)?;
                let id = self.mock.add_fault(&rule).await?;
                self.faults_added.push((id.clone(), f.name.clone()));
                self.faults.insert(f.name.clone(), id);
            }
            Step::RemoveFault(name) => {
                if let Some(id) = self.faults.remove(name) {
                    self.mock.remove_fault(&id).await?;
                }
            }
            Step::RegisterDevice(name) => {
                for t in self.scenario.tokens() {
                    if t.name == *name || t.name.rsplit_once('.').map(|(d, _)| d) == Some(name) {
                        self.mock
                            .register(&t.value, &t.topic, t.environment)
                            .await?;
                    }
                }
            }
            Step::UnregisterDevice(u) => {
                let token = self.values.get(&u.token).cloned().unwrap_or_default();
                self.mock.unregister(&token, u.timestamp_ms).await?;
            }
            Step::AdvanceClock(span) => self.mock.advance_clock(span.duration()).await?,
            Step::Mark(_) => {}
        }
        Ok(())
    }

    fn matches(&self, filter: &PushFilter, r: &Record) -> bool {
        let token_ok = filter.device.as_ref().is_none_or(|name| {
            let want = self
                .values
                .get(name)
                .map(String::as_str)
                .unwrap_or_default();
            r.device_token
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(want))
        });
        token_ok
            && filter
                .topic
                .as_deref()
                .is_none_or(|t| r.header("apns-topic") == Some(t))
            && filter
                .push_type
                .as_deref()
                .is_none_or(|t| r.header("apns-push-type") == Some(t))
            && filter.status.is_none_or(|s| r.status == s)
            && filter
                .reason
                .as_deref()
                .is_none_or(|want| r.reason.as_deref() == Some(want))
    }

    fn summaries(&self, records: &[Record]) -> Vec<String> {
        let names = self.names();
        records
            .iter()
            .map(|r| r.summary(|t| names.device(t)))
            .collect()
    }

    /// Takes the records since the previous expectation into the current step.
    fn close(&mut self, records: &[Record]) -> Vec<Record> {
        let new = records.get(self.seen..).unwrap_or_default().to_vec();
        self.seen = records.len();
        self.current().records = Some(new.clone());
        new
    }

    async fn expect_pushes(
        &mut self,
        count: usize,
        filter: &PushFilter,
        timeout: Duration,
    ) -> Result<(), Stop> {
        let deadline = Instant::now() + timeout;
        let mut records = self.mock.records().await?;
        loop {
            let matching = new_records(&records, self.seen)
                .iter()
                .filter(|r| self.matches(filter, r))
                .count();
            if matching >= count {
                let new = self.close(&records);
                if matching > count {
                    return Err(Stop::Failed {
                        message: format!("expected {count} matching pushes, got {matching}"),
                        pushes: self.summaries(&new),
                    });
                }
                return Ok(());
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let (now, complete) = self.mock.wait_total(records.len() + 1, remaining).await?;
            records = now;
            if !complete {
                let new = self.close(&records);
                let matching = new.iter().filter(|r| self.matches(filter, r)).count();
                return Err(Stop::Failed {
                    message: format!(
                        "expected {count} matching pushes within {timeout:?}, got {matching}"
                    ),
                    pushes: self.summaries(&new),
                });
            }
        }
    }

    async fn expect_no_push(&mut self, filter: &PushFilter, span: Duration) -> Result<(), Stop> {
        let deadline = Instant::now() + span;
        let mut records = self.mock.records().await?;
        loop {
            let arrived = new_records(&records, self.seen)
                .iter()
                .any(|r| self.matches(filter, r));
            if arrived {
                let new = self.close(&records);
                return Err(Stop::Failed {
                    message: "a push arrived".into(),
                    pushes: self.summaries(&new),
                });
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                self.close(&records);
                return Ok(());
            }
            // Watching is the point of this step: the long-poll returns early only when a
            // push arrives.
            let (now, _) = self.mock.wait_total(records.len() + 1, remaining).await?;
            records = now;
        }
    }
}

fn new_records(records: &[Record], seen: usize) -> &[Record] {
    records.get(seen..).unwrap_or_default()
}

/// One line per step, for the transcript and for messages.
fn describe(step: &Step) -> String {
    fn filter_text(f: &PushFilter) -> String {
        let mut parts = Vec::new();
        if let Some(d) = &f.device {
            parts.push(format!("device {d}"));
        }
        if let Some(t) = &f.topic {
            parts.push(format!("topic {t}"));
        }
        if let Some(t) = &f.push_type {
            parts.push(format!("push_type {t}"));
        }
        if let Some(s) = f.status {
            parts.push(format!("status {s}"));
        }
        if let Some(r) = &f.reason {
            parts.push(format!("reason {r}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }
    match step {
        Step::Call(c) => format!("call {} {}", c.method.as_str(), c.path),
        Step::Run(r) => format!("run {}", r.command),
        Step::ExpectPushes(e) => format!(
            "expect {} push{}{}",
            e.count,
            if e.count == 1 { "" } else { "es" },
            filter_text(&e.filter())
        ),
        Step::ExpectNoPush(e) => {
            format!("expect no push for {}{}", e.span, filter_text(&e.filter()))
        }
        Step::AddFault(f) => format!("add fault {}", f.name),
        Step::RemoveFault(name) => format!("remove fault {name}"),
        Step::RegisterDevice(name) => format!("register {name}"),
        Step::UnregisterDevice(u) => format!("unregister {}", u.token),
        Step::AdvanceClock(span) => format!("advance the clock by {span}"),
        Step::Mark(label) => format!("mark: {label}"),
    }
}

/// Runs a `run` step's command: exit code and output.
async fn run_command(
    command: &str,
    vars: &[(&'static str, String)],
    jwt: &str,
    timeout: Duration,
) -> Result<(i32, String), Error> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .env("APNS_JWT", jwt)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::setup(format!("cannot run {command:?}: {e}")))?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            Ok((out.status.code().unwrap_or(-1), text))
        }
        Ok(Err(e)) => Err(Error::setup(format!("running {command:?}: {e}"))),
        Err(_) => Ok((-1, format!("(killed after {timeout:?})"))),
    }
}
