//! [`Player`]: one scenario being played, the state each step's `play` reads and changes; and
//! [`Stop`], why playing ended early.

use std::collections::BTreeMap;

use mock_apns::{Notification, RuleSummary};
use serde_json::Value;

use crate::error::Error;
use crate::mock::Mock;
use crate::provider::RunningProvider;
use crate::setup::{KeySpec, TokenInfo};
use crate::template;
use crate::transcript::{Names, RawStep};

/// Why playing stopped early.
pub(crate) enum Stop {
    /// The provider misbehaved: the step's expectation failed.
    Failed {
        message: String,
        pushes: Vec<String>,
    },
    /// The harness could not do its part.
    Setup(Error),
}

impl Stop {
    /// A failed expectation, with no pushes to show.
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Stop::Failed {
            message: message.into(),
            pushes: Vec::new(),
        }
    }
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        match e {
            Error::Provider(message) => Stop::failed(message),
            other => Stop::Setup(other),
        }
    }
}

/// One scenario being played.
pub(crate) struct Player<'a> {
    /// The mock, driven through its admin API.
    pub(crate) mock: &'a Mock,
    /// The provider under test.
    pub(crate) provider: &'a RunningProvider,
    /// The scenario's tokens.
    tokens: Vec<TokenInfo>,
    /// The scenario's key, shown instead of the one the mock used.
    key: &'a KeySpec,
    /// Template values: token names and captures.
    values: BTreeMap<String, String>,
    /// Captured values, for the transcript.
    captures: Vec<(String, String)>,
    /// Fault name → the id the mock gave it (rules still mounted).
    faults: BTreeMap<String, u64>,
    /// Every fault added by a step: (id, name), for the transcript.
    faults_added: Vec<(u64, String)>,
    /// Records already shown under an earlier expectation.
    seen: usize,
    /// The transcript so far, one entry per step begun.
    steps: Vec<RawStep>,
}

impl<'a> Player<'a> {
    pub(crate) fn new(
        mock: &'a Mock,
        provider: &'a RunningProvider,
        tokens: Vec<TokenInfo>,
        key: &'a KeySpec,
    ) -> Self {
        let values = tokens
            .iter()
            .map(|t| (t.name.clone(), t.value.clone()))
            .collect();
        Self {
            mock,
            provider,
            tokens,
            key,
            values,
            captures: Vec::new(),
            faults: BTreeMap::new(),
            faults_added: Vec::new(),
            seen: 0,
            steps: Vec::new(),
        }
    }

    /// What normalising the transcript needs to know about the run so far (all but the
    /// mock's connections).
    pub(crate) fn names(&self) -> Names {
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
        let faults = self
            .mock
            .setup_faults
            .iter()
            .chain(self.faults_added.iter())
            .cloned()
            .collect();
        Names {
            faults,
            connections: Vec::new(),
            tokens: self
                .tokens
                .iter()
                .map(|t| (t.value.to_ascii_lowercase(), t.name.clone()))
                .collect(),
            captures: self.captures.clone(),
            addresses,
            key: Some((
                (self.mock.env.key_id.clone(), self.mock.env.team_id.clone()),
                (self.key.key_id.clone(), self.key.team_id.clone()),
            )),
        }
    }

    /// The transcript's raw steps, once playing is over.
    pub(crate) fn into_steps(self) -> Vec<RawStep> {
        self.steps
    }

    /// The scenario's tokens.
    pub(crate) fn tokens(&self) -> &[TokenInfo] {
        &self.tokens
    }

    /// Begins a step's entry in the transcript, with its one-line description.
    pub(crate) fn begin(&mut self, action: String) {
        self.steps.push(RawStep {
            action,
            ..RawStep::default()
        });
    }

    /// The entry of the step being played.
    pub(crate) fn current(&mut self) -> &mut RawStep {
        let last = self.steps.len() - 1;
        &mut self.steps[last]
    }

    /// A template value: a token's by its name, or a captured one.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// `text` with its templates expanded.
    pub(crate) fn expand(&self, text: &str) -> Result<String, Stop> {
        template::expand(text, &self.values).map_err(Stop::failed)
    }

    /// [`Self::expand`] over every string in a JSON value.
    pub(crate) fn expand_value(&self, value: &Value) -> Result<Value, Stop> {
        template::expand_value(value, &self.values).map_err(Stop::failed)
    }

    /// Keeps a value from the provider's answer for later templates and the transcript.
    pub(crate) fn capture(&mut self, var: &str, value: String) {
        self.values.insert(var.to_owned(), value.clone());
        self.captures.retain(|(_, v)| v != var);
        self.captures.push((value, var.to_owned()));
    }

    /// Notes a fault rule the mock accepted under `name` (with the id it gave it).
    pub(crate) fn fault_added(&mut self, name: &str, rule: &RuleSummary) {
        self.faults_added.push((rule.id, name.to_owned()));
        self.faults.insert(name.to_owned(), rule.id);
    }

    /// The id of the fault rule added as `name`, forgetting it (it is being removed).
    pub(crate) fn take_fault(&mut self, name: &str) -> Option<u64> {
        self.faults.remove(name)
    }

    /// The records that arrived since the previous expectation.
    pub(crate) fn new_records<'r>(&self, records: &'r [Notification]) -> &'r [Notification] {
        records.get(self.seen..).unwrap_or_default()
    }

    /// Takes the records since the previous expectation into the current step.
    pub(crate) fn close(&mut self, records: &[Notification]) -> Vec<Notification> {
        let new = self.new_records(records).to_vec();
        self.seen = records.len();
        self.current().records = Some(new.clone());
        new
    }

    /// One line per record, tokens by name, for a failure message:
    /// `voip com.example.app.voip bob-ipad.voip → 410 Unregistered`.
    pub(crate) fn summaries(&self, records: &[Notification]) -> Vec<String> {
        let names = self.names();
        records
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} → {}{}",
                    r.header("apns-push-type").unwrap_or("-"),
                    r.topic().unwrap_or("-"),
                    r.device_token
                        .as_deref()
                        .map_or_else(|| "-".to_owned(), |t| names.device(t)),
                    r.status,
                    r.reason.map(|r| format!(" {r}")).unwrap_or_default()
                )
            })
            .collect()
    }
}
