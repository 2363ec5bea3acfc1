//! `advance_clock`: move the mock's clock forward (provider tokens age by it).

use serde::Deserialize;

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::span::Span;

/// How far to move the mock's clock: `"61m"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct AdvanceClock {
    /// The span.
    pub by: Span,
}

impl AdvanceClock {
    /// The step's key in the file.
    pub const KIND: &'static str = "advance_clock";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("advance the clock by {}", self.by)
    }

    /// Nothing serde has not checked.
    pub(crate) fn check(&self, _scope: &mut Scope) -> Result<(), Invalid> {
        Ok(())
    }

    /// Advances the mock's clock.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        player.mock.advance_clock(self.by.duration()).await?;
        Ok(())
    }
}
