//! [`Harness`]: starts the mock and the provider for a scenario, plays its steps, and returns
//! the [`Transcript`].

use std::collections::BTreeMap;
use std::path::Path;

use mock_apns::LintMode;

use crate::error::{Error, LintFailure, StepFailure};
use crate::mock::{Mock, MockTarget};
use crate::player::{Player, Stop};
use crate::provider::Provider;
use crate::scenario::Scenario;
use crate::transcript::{self, Names, RawStep, Transcript};

/// Runs scenarios against one provider.
#[derive(Debug, Clone)]
pub struct Harness {
    provider: Provider,
    mock: MockTarget,
    deny_lint: bool,
}

impl Harness {
    /// A harness for `provider`, with a fresh in-process mock per scenario.
    pub fn new(provider: Provider) -> Self {
        Self {
            provider,
            mock: MockTarget::InProcess,
            deny_lint: false,
        }
    }

    /// Fails a scenario whose pushes have lint findings ([`Error::Lint`]), even when every
    /// step passed: `apns-harness run --deny-lint`. A running mock started with `--lint deny`
    /// does the same without it. APNs's answers never change.
    pub fn deny_lint(mut self, deny: bool) -> Self {
        self.deny_lint = deny;
        self
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
        if !scenario.provider_env.is_empty() && matches!(self.provider, Provider::Url(_)) {
            return Err(Error::setup(format!(
                "{} sets provider_env, which a provider already running cannot get: let the \
                 harness start it (--provider-cmd)",
                scenario.name
            )));
        }
        let tokens = scenario.tokens();
        let mut mock =
            Mock::start(&self.mock, &scenario.mock, &scenario.bundle_id, &tokens).await?;
        mock.env.provider_env = scenario.provider_env.clone().into_iter().collect();
        let provider = self.provider.start(&mock.env).await?;
        let mut player = Player::new(&mock, &provider, tokens, &scenario.mock.key);
        let outcome = play(scenario, &mut player).await;
        let mut names = player.names();
        names.connections = mock.connections().await.unwrap_or_default();
        let raw = player.into_steps();
        let output = provider.stop().await;
        let mut transcript = transcript::build(&scenario.name, &scenario.description, &raw, &names);
        if scenario.steps.iter().any(|s| s.uses_phone()) {
            transcript.phones = Some(timelines(&mock, scenario, &names).await?);
        }
        match outcome {
            Ok(()) if self.denies_lint(&mock) => match lint_findings(&raw, &names) {
                findings if findings.is_empty() => Ok(transcript),
                findings => Err(Error::Lint(Box::new(LintFailure {
                    scenario: scenario.name.clone(),
                    findings,
                    transcript,
                }))),
            },
            Ok(()) => Ok(transcript),
            Err(Stop::Setup(e)) => Err(match raw.last() {
                Some(step) => e.in_step(raw.len(), &step.action),
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

impl Harness {
    /// Whether lint findings fail the run: asked for, or the mock's own `--lint deny`.
    fn denies_lint(&self, mock: &Mock) -> bool {
        self.deny_lint || mock.lint_mode() == LintMode::Deny
    }
}

/// Each phone's timeline (a device is a phone of the same name), as transcript lines.
async fn timelines(
    mock: &Mock,
    scenario: &Scenario,
    names: &Names,
) -> Result<BTreeMap<String, Vec<String>>, Error> {
    let mut all = BTreeMap::new();
    for device in scenario.devices.keys() {
        let phone = mock.phone(device).await?;
        all.insert(device.clone(), names.timeline(&phone.timeline));
    }
    Ok(all)
}

/// Every lint finding of the run, one entry each: the step, the push, the rule, its message
/// and its source.
fn lint_findings(raw: &[RawStep], names: &Names) -> Vec<String> {
    let mut out = Vec::new();
    for (i, step) in raw.iter().enumerate() {
        // In the transcript's order, whatever order the pushes arrived in.
        for r in transcript::in_order(step.records.as_deref().unwrap_or_default(), names) {
            for f in &r.lint {
                out.push(format!(
                    "step {} ({}), {} push to {}: {} ({}): {}\n      source: {}",
                    i + 1,
                    step.action,
                    r.header("apns-push-type").unwrap_or("untyped"),
                    r.device_token
                        .as_deref()
                        .map_or_else(|| "-".to_owned(), |t| names.device(t)),
                    f.rule,
                    f.severity,
                    names.text(&f.message),
                    f.source
                ));
            }
        }
    }
    out
}

/// Plays the steps in order, each with its line in the transcript, until one stops.
async fn play(scenario: &Scenario, player: &mut Player<'_>) -> Result<(), Stop> {
    for step in &scenario.steps {
        player.begin(step.describe());
        step.play(player).await?;
    }
    Ok(())
}
