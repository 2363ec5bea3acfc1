//! `mark`: a named point in the transcript.

use serde::Deserialize;

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};

/// A label for a reader of the transcript: `"alice hangs up"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct Mark {
    /// The label.
    pub label: String,
}

impl Mark {
    /// The step's key in the file.
    pub const KIND: &'static str = "mark";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("mark: {}", self.label)
    }

    /// Nothing serde has not checked.
    pub(crate) fn check(&self, _scope: &mut Scope) -> Result<(), Invalid> {
        Ok(())
    }

    /// Nothing to do: the transcript shows the mark.
    pub(crate) async fn play(&self, _player: &mut Player<'_>) -> Result<(), Stop> {
        Ok(())
    }
}
