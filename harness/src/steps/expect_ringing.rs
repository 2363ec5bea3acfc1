//! `expect_ringing`: wait until a phone rings (for one call, when given).

use mock_apns::phones::PhoneCondition;
use serde::Deserialize;
use serde_json::json;

use super::phone;
use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::span::Span;

/// Wait until a VoIP push made the phone ring. Waits on the mock; the timeout only bounds
/// failure. Closes the group of pushes, like `expect_pushes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectRinging {
    /// The phone: a device's name.
    pub phone: String,
    /// Only this call (a template, `"{{call_id}}"`).
    #[serde(default)]
    pub call: Option<String>,
    /// Longest wait (default 10s).
    #[serde(default)]
    pub timeout: Option<Span>,
}

impl ExpectRinging {
    /// The step's key in the file.
    pub const KIND: &'static str = "expect_ringing";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = true;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = true;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        match &self.call {
            None => format!("expect {} ringing", self.phone),
            Some(call) => format!("expect {} ringing for call {call}", self.phone),
        }
    }

    /// The phone is a device, and the call's templates are defined.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        phone::check_call(scope, &self.phone, self.call.as_deref())
    }

    /// Waits on the mock until the phone rings.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let call = self.call.as_deref().map(|c| player.expand(c)).transpose()?;
        let timeout = self.timeout.map_or(phone::TIMEOUT, |s| s.duration());
        let condition = PhoneCondition::Ringing(call);
        phone::expect(player, &self.phone, condition, timeout, |p| {
            json!({ "ringing": p.ringing })
        })
        .await
    }
}
