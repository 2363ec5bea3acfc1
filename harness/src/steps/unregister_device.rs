//! `unregister_device`: mark a token unregistered, so later pushes to it get 410.

use serde::Deserialize;

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::token_ref::TokenRef;

/// Which token stops being valid, and since when.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnregisterDevice {
    /// The token, written as in call bodies: `"{{bob-ipad.voip}}"`.
    pub token: TokenRef,
    /// The 410 `timestamp` (epoch ms); default: now on the mock's clock.
    #[serde(default)]
    pub timestamp_ms: Option<u64>,
}

impl UnregisterDevice {
    /// The step's key in the file.
    pub const KIND: &'static str = "unregister_device";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("unregister {}", self.token)
    }

    /// The token is a declared one.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        scope
            .token(self.token.name())
            .map_err(|m| Invalid::new(".token", m))
    }

    /// Tells the mock the token is gone.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let token = player
            .value(self.token.name())
            .unwrap_or_default()
            .to_owned();
        player.mock.unregister(&token, self.timestamp_ms).await?;
        Ok(())
    }
}
