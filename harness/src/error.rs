//! Why a run did not produce a transcript.

use std::path::PathBuf;

use crate::transcript::Transcript;

/// A run's failure. [`Error::Step`] is the provider's fault (exit 1 in the CLI); the others
/// are the set-up's (exit 2).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The scenario file is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The mock or the provider could not be started or driven.
    #[error("{0}")]
    Setup(String),
    /// The provider could not be reached for a call.
    #[error("{0}")]
    Provider(String),
    /// A step's expectation failed.
    #[error(transparent)]
    Step(Box<StepFailure>),
    /// Every step passed, but pushes had lint findings and lint was denied
    /// ([`crate::Harness::deny_lint`], `apns-harness run --deny-lint`, or a mock run with
    /// `--lint deny`).
    #[error(transparent)]
    Lint(Box<LintFailure>),
}

impl Error {
    pub(crate) fn setup(message: impl Into<String>) -> Self {
        Error::Setup(message.into())
    }

    /// Whether the provider (not the set-up) is at fault.
    pub fn is_failure(&self) -> bool {
        matches!(self, Error::Step(_) | Error::Lint(_))
    }
}

/// A scenario file that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", file.display(), path.as_deref().map(|p| format!(" at {p}")).unwrap_or_default())]
pub struct ScenarioError {
    /// The file (`Scenario::load`), or the name given to `Scenario::parse`.
    pub file: PathBuf,
    /// Where in the JSON (`steps[2].call.path`), when known.
    pub path: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// A failed step, with what the run had seen so far.
#[derive(Debug, thiserror::Error)]
#[error("{scenario}: step {step} ({action}) failed: {message}{}{}",
    pushes_section(&self.pushes), output_section(&self.provider_output))]
pub struct StepFailure {
    /// The scenario.
    pub scenario: String,
    /// The step's position, from 1.
    pub step: usize,
    /// The step's one-line description.
    pub action: String,
    /// What went wrong.
    pub message: String,
    /// One line per push seen since the previous expectation.
    pub pushes: Vec<String>,
    /// The transcript up to and including the failed step.
    pub transcript: Transcript,
    /// The provider's last output lines (command providers).
    pub provider_output: String,
}

/// Lint findings that fail a run under `--deny-lint`: APNs answered every push as Apple would,
/// but a phone pays for these.
#[derive(Debug, thiserror::Error)]
#[error("{scenario}: {} lint finding{} (lint is denied): APNs accepts these pushes, a phone pays for them{}",
    findings.len(), if findings.len() == 1 { "" } else { "s" }, findings_section(&self.findings))]
pub struct LintFailure {
    /// The scenario.
    pub scenario: String,
    /// One entry per finding: the step, the push, the rule, its message and source.
    pub findings: Vec<String>,
    /// The whole transcript (every step passed).
    pub transcript: Transcript,
}

fn findings_section(findings: &[String]) -> String {
    findings.iter().map(|f| format!("\n  {f}")).collect()
}

fn pushes_section(pushes: &[String]) -> String {
    if pushes.is_empty() {
        return "\n  pushes since the previous expectation: none".into();
    }
    let lines: String = pushes.iter().map(|p| format!("\n    {p}")).collect();
    format!("\n  pushes since the previous expectation:{lines}")
}

fn output_section(output: &str) -> String {
    if output.is_empty() {
        return String::new();
    }
    format!("\n  provider output:\n{}", indent(output).trim_end())
}

/// Provider output, indented under an error message.
pub(crate) fn indent(output: &str) -> String {
    if output.trim().is_empty() {
        return "  (the provider printed nothing)".into();
    }
    output.lines().map(|l| format!("  | {l}\n")).collect()
}
