//! [`Harness`]: starts the mock and the provider for a scenario, plays its steps, and returns
//! the [`Transcript`].

use std::path::Path;

use crate::error::{Error, StepFailure};
use crate::mock::{Mock, MockTarget};
use crate::player::{Player, Stop};
use crate::provider::Provider;
use crate::scenario::Scenario;
use crate::transcript::{self, Transcript};

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
        let tokens = scenario.tokens();
        let mock = Mock::start(&self.mock, &scenario.mock, &scenario.bundle_id, &tokens).await?;
        let provider = self.provider.start(&mock.env).await?;
        let mut player = Player::new(&mock, &provider, tokens, &scenario.mock.key);
        let outcome = play(scenario, &mut player).await;
        let mut names = player.names();
        names.connections = mock.connections().await.unwrap_or_default();
        let raw = player.into_steps();
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

/// Plays the steps in order, each with its line in the transcript, until one stops.
async fn play(scenario: &Scenario, player: &mut Player<'_>) -> Result<(), Stop> {
    for step in &scenario.steps {
        player.begin(step.describe());
        step.play(player).await?;
    }
    Ok(())
}
