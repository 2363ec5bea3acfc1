//! `register_device`: register a token, or both of a device's, with the mock.

use serde::Deserialize;

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};

/// A token by name (`"bob-ipad.voip"`), or a device (`"bob-ipad"`) for both its tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct RegisterDevice {
    /// The token or device name.
    pub name: String,
}

impl RegisterDevice {
    /// The step's key in the file.
    pub const KIND: &'static str = "register_device";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("register {}", self.name)
    }

    /// The name is a declared token or device.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        if !scope.is_token_or_device(&self.name) {
            return Err(Invalid::new(
                "",
                format!("no device or token named {:?}", self.name),
            ));
        }
        Ok(())
    }

    /// Registers each token named, with its topic and environment.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let name = &self.name;
        for t in player.tokens() {
            if t.name == *name || t.name.rsplit_once('.').map(|(d, _)| d) == Some(name) {
                player
                    .mock
                    .register(&t.value, &t.topic, t.environment)
                    .await?;
            }
        }
        Ok(())
    }
}
