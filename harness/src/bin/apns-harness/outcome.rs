//! What a run found, scenario by scenario: the one record the terminal, `--junit` and
//! `--format json` reports are all written from, so they never disagree.

use std::path::PathBuf;
use std::time::Duration;

use harness::ScenarioError;
use serde::Serialize;

/// How one scenario ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Outcome {
    /// The transcript matched the snapshot.
    Ok,
    /// `--accept` wrote the transcript as the snapshot (there was none, or it differed).
    Accepted,
    /// There is no snapshot yet; the transcript is pending as `.snap.new`.
    New,
    /// The transcript differs from the snapshot; the new one is pending as `.snap.new`.
    Diff,
    /// An expectation failed; the transcript up to that step is pending as `.snap.new`.
    Fail,
    /// Every step passed, but with `--deny-lint` (or a mock on `--lint deny`) pushes had lint
    /// findings: VoIP pushes APNs accepts and a phone pays for.
    Lint,
    /// The harness could not do its part (the provider never got ready, …): the run stops.
    Error,
    /// Not run: an earlier scenario's set-up error stopped the run.
    Skipped,
}

impl Outcome {
    /// Counted as passed.
    pub(crate) fn passed(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Accepted)
    }

    /// Counted as failed: the provider's traffic or behaviour is not what was reviewed.
    pub(crate) fn failed(self) -> bool {
        matches!(
            self,
            Outcome::New | Outcome::Diff | Outcome::Fail | Outcome::Lint
        )
    }
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ScenarioResult {
    /// The scenario's (and its snapshot's) name.
    pub(crate) name: String,
    /// The scenario file, as given.
    pub(crate) file: PathBuf,
    /// How it ended.
    pub(crate) outcome: Outcome,
    /// Wall time: starting the mock and the provider, playing, comparing.
    #[serde(serialize_with = "seconds")]
    pub(crate) seconds: Duration,
    /// One line: what happened (`the traffic differs from the snapshot`); empty for `ok`.
    pub(crate) message: String,
    /// The evidence: the diff, the failed step with the pushes and the provider's output,
    /// or the set-up error.
    pub(crate) details: String,
    /// The snapshot file written: the `.snap` with `--accept`, else the pending `.snap.new`.
    pub(crate) wrote: Option<PathBuf>,
}

impl ScenarioResult {
    /// A scenario not run, because of another's set-up error or invalid file.
    pub(crate) fn skipped(name: String, file: PathBuf) -> Self {
        Self {
            name,
            file,
            outcome: Outcome::Skipped,
            seconds: Duration::ZERO,
            message: "not run: another scenario's set-up failed or its file is invalid".into(),
            details: String::new(),
            wrote: None,
        }
    }

    /// A scenario file that is not valid: a set-up error, so nothing runs.
    pub(crate) fn invalid(name: String, file: PathBuf, error: &ScenarioError) -> Self {
        Self {
            name,
            file,
            outcome: Outcome::Error,
            seconds: Duration::ZERO,
            message: format!(
                "invalid scenario{}: {}",
                error
                    .path
                    .as_deref()
                    .map(|p| format!(" at {p}"))
                    .unwrap_or_default(),
                error.message
            ),
            details: error.to_string(),
            wrote: None,
        }
    }
}

/// A whole run.
#[derive(Debug, Default, Serialize)]
pub(crate) struct RunReport {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    pub(crate) errors: usize,
    pub(crate) skipped: usize,
    /// Wall time of the whole run.
    #[serde(serialize_with = "seconds")]
    pub(crate) seconds: Duration,
    pub(crate) scenarios: Vec<ScenarioResult>,
}

impl RunReport {
    /// Adds a result to the counts.
    pub(crate) fn push(&mut self, result: ScenarioResult) {
        match result.outcome {
            o if o.passed() => self.passed += 1,
            o if o.failed() => self.failed += 1,
            Outcome::Skipped => self.skipped += 1,
            _ => self.errors += 1,
        }
        self.scenarios.push(result);
    }

    /// The exit code: 2 for a set-up error, 1 for a failed scenario, else 0.
    pub(crate) fn exit_code(&self) -> u8 {
        if self.errors > 0 {
            2
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

/// Durations as seconds with millisecond precision: what JUnit's `time` holds too.
fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_millis() as f64) / 1000.0)
}
