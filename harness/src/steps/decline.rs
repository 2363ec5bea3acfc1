//! `decline`: the user declines a ringing call on a phone.

use serde::Deserialize;

use super::gesture::{self, Gesture};
use super::phone;
use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};

/// The user declines: the call given, or the one ringing longest. Fails when nothing (or not
/// that call) rings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decline {
    /// The phone: a device's name.
    pub phone: String,
    /// The call (a template, `"{{call_id}}"`); default: the one ringing longest.
    #[serde(default)]
    pub call: Option<String>,
}

impl Decline {
    /// The step's key in the file.
    pub const KIND: &'static str = "decline";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = true;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        gesture::describe("decline", &self.phone, self.call.as_deref())
    }

    /// The phone is a device, and the call's templates are defined.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        phone::check_call(scope, &self.phone, self.call.as_deref())
    }

    /// Declines on the mock's phone.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        gesture::play(player, Gesture::Decline, &self.phone, self.call.as_deref()).await
    }
}
