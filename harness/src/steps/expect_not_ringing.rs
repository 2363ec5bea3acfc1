//! `expect_not_ringing`: wait until nothing rings on a phone.

use mock_apns::phones::PhoneCondition;
use serde::Deserialize;
use serde_json::json;

use super::phone;
use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::span::Span;

/// Wait until no call rings on the phone (answered, declined, stopped by a push, ended with
/// the app, or never started). Passes at once on a silent phone. Closes the group of pushes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectNotRinging {
    /// The phone: a device's name.
    pub phone: String,
    /// Longest wait (default 10s).
    #[serde(default)]
    pub timeout: Option<Span>,
}

impl ExpectNotRinging {
    /// The step's key in the file.
    pub const KIND: &'static str = "expect_not_ringing";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = true;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = true;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("expect {} not ringing", self.phone)
    }

    /// The phone is a device.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        phone::check(scope, &self.phone)
    }

    /// Waits on the mock until nothing rings.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let timeout = self.timeout.map_or(phone::TIMEOUT, |s| s.duration());
        phone::expect(
            player,
            &self.phone,
            PhoneCondition::NotRinging,
            timeout,
            |p| json!({ "ringing": p.ringing }),
        )
        .await
    }
}
