//! `add_fault`: install a fault rule on the mock, under a name.

use serde::Deserialize;
use serde_json::Value;

use crate::check::{self, Invalid, Scope};
use crate::player::{Player, Stop};

/// A fault rule in the admin API's vocabulary, and the name to remove it by.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddFault {
    /// The name `remove_fault` uses.
    pub name: String,
    /// The rule, exactly as `POST /api/v1/faults` takes it (checked with the mock's own
    /// rule parser when the scenario is); string values may hold templates
    /// (`"device_token": "{{bob-iphone.voip}}"`).
    pub rule: Value,
}

impl AddFault {
    /// The step's key in the file.
    pub const KIND: &'static str = "add_fault";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("add fault {}", self.name)
    }

    /// The rule is one the mock mounts, using only names defined before; the name is not in
    /// use.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        check::fault_rule(&self.rule, scope).map_err(|e| e.under(".rule"))?;
        if !scope.add_fault(&self.name) {
            return Err(Invalid::new(
                ".name",
                format!("fault {:?} is already added", self.name),
            ));
        }
        Ok(())
    }

    /// Installs the rule, templates expanded, and keeps the id the mock gave it.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let rule = player.expand_value(&self.rule)?;
        let added = player.mock.add_fault(&rule).await?;
        player.fault_added(&self.name, &added);
        Ok(())
    }
}
