//! `remove_fault`: remove a fault rule added earlier, by its name.

use serde::Deserialize;

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};

/// The name of a fault an earlier `add_fault` installed: `"outage"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct RemoveFault {
    /// The `add_fault` name.
    pub name: String,
}

impl RemoveFault {
    /// The step's key in the file.
    pub const KIND: &'static str = "remove_fault";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("remove fault {}", self.name)
    }

    /// An earlier step added the fault (and none removed it yet).
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        if !scope.remove_fault(&self.name) {
            return Err(Invalid::new(
                "",
                format!("no fault named {:?} was added before", self.name),
            ));
        }
        Ok(())
    }

    /// Removes the rule from the mock.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        if let Some(id) = player.take_fault(&self.name) {
            player.mock.remove_fault(id).await?;
        }
        Ok(())
    }
}
