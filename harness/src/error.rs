//! Why a run did not produce a transcript.

use std::path::PathBuf;

use mock_apns::admin::ClientError;

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
    /// The mock's admin API failed a request of the harness's.
    #[error("{context}: {error}{}", fault_api_hint(error))]
    Mock {
        /// What the harness was doing (`reading the mock's record`), after the step when one
        /// was being played (`step 3 (add fault outage): adding a fault rule`).
        context: String,
        /// What the admin client reported. It is part of the message (tests print errors
        /// with `{e}`), so it is not also a `source`: a chain would print it twice.
        error: ClientError,
    },
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

    /// For `map_err`: a failed admin request, said of what the harness was doing.
    pub(crate) fn mock(context: impl Into<String>) -> impl FnOnce(ClientError) -> Self {
        let context = context.into();
        move |error| Error::Mock { context, error }
    }

    /// The same error, said of the step being played: `step 3 (add fault outage): …`.
    pub(crate) fn in_step(self, step: usize, action: &str) -> Self {
        let at = format!("step {step} ({action})");
        match self {
            Error::Mock { context, error } => Error::Mock {
                context: format!("{at}: {context}"),
                error,
            },
            other => Error::setup(format!("{at}: {other}")),
        }
    }

    /// Whether the provider (not the set-up) is at fault.
    pub fn is_failure(&self) -> bool {
        matches!(self, Error::Step(_) | Error::Lint(_))
    }
}

/// A mock without the fault API answers 404 to its routes: say so, rather than "not found".
fn fault_api_hint(error: &ClientError) -> &'static str {
    match error {
        ClientError::Refused {
            status: 404, path, ..
        } if path.starts_with("/api/v1/faults") => " (this mock-apns has no fault rules API yet)",
        ClientError::Refused {
            status: 404,
            path,
            message,
            ..
        } if path.starts_with("/api/v1/phones") && message.starts_with("no route") => {
            " (this mock-apns has no phones API yet)"
        }
        _ => "",
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
#[error("{scenario}: {}{}{}",
    self.summary(), pushes_section(&self.pushes), output_section(&self.provider_output))]
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
#[error("{scenario}: {}{}", self.summary(), findings_section(&self.findings))]
pub struct LintFailure {
    /// The scenario.
    pub scenario: String,
    /// One entry per finding: the step, the push, the rule, its message and source.
    pub findings: Vec<String>,
    /// The whole transcript (every step passed).
    pub transcript: Transcript,
}

impl StepFailure {
    /// What failed, without the scenario, the pushes or the provider's output: the CLI's
    /// report line and `.snap.new` header say it apart from those.
    pub fn summary(&self) -> String {
        format!(
            "step {} ({}) failed: {}",
            self.step, self.action, self.message
        )
    }
}

impl LintFailure {
    /// How many findings and why they fail the run, without the scenario or the findings:
    /// the CLI's report line says it apart from those.
    pub fn summary(&self) -> String {
        let n = self.findings.len();
        format!(
            "{n} lint finding{} (lint is denied): APNs accepts these pushes, a phone pays for \
             them",
            if n == 1 { "" } else { "s" }
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript() -> Transcript {
        Transcript {
            scenario: "s".into(),
            description: String::new(),
            steps: Vec::new(),
            connections: Vec::new(),
            phones: None,
        }
    }

    #[test]
    fn a_failure_s_message_is_its_summary_after_the_scenario() {
        let step = StepFailure {
            scenario: "s".into(),
            step: 3,
            action: "call POST /calls".into(),
            message: "expected 201, got 500".into(),
            pushes: Vec::new(),
            transcript: transcript(),
            provider_output: String::new(),
        };
        let lint = |findings: &[&str]| LintFailure {
            scenario: "s".into(),
            findings: findings.iter().map(|f| f.to_string()).collect(),
            transcript: transcript(),
        };

        assert_eq!(
            step.summary(),
            "step 3 (call POST /calls) failed: expected 201, got 500"
        );
        assert_eq!(
            step.to_string(),
            format!(
                "s: {}\n  pushes since the previous expectation: none",
                step.summary()
            )
        );
        assert_eq!(
            lint(&["f"]).summary(),
            "1 lint finding (lint is denied): APNs accepts these pushes, a phone pays for them"
        );
        assert_eq!(
            lint(&["f", "g"]).to_string(),
            "s: 2 lint findings (lint is denied): APNs accepts these pushes, a phone pays for \
             them\n  f\n  g"
        );
    }

    #[test]
    fn a_failed_admin_request_says_which_step_and_keeps_the_client_error() {
        let refused = ClientError::Refused {
            method: http::Method::POST,
            path: "/api/v1/faults".into(),
            status: 404,
            message: "no such route".into(),
        };

        let err = Error::mock("adding a fault rule")(refused).in_step(3, "add fault outage");

        assert_eq!(
            err.to_string(),
            "step 3 (add fault outage): adding a fault rule: admin POST /api/v1/faults: 404: \
             no such route (this mock-apns has no fault rules API yet)"
        );
        assert!(!err.is_failure(), "the set-up's fault, not the provider's");
        assert!(matches!(
            err,
            Error::Mock {
                error: ClientError::Refused { status: 404, .. },
                ..
            }
        ));
    }
}
