//! `phone_online`: a phone comes back online.

use serde::Deserialize;

use super::phone;
use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};

/// The phone comes back online: the push APNs stored for it is delivered, if its expiration
/// has not passed on the mock's clock (a stored VoIP push rings, late).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneOnline {
    /// The phone: a device's name.
    pub phone: String,
}

impl PhoneOnline {
    /// The step's key in the file.
    pub const KIND: &'static str = "phone_online";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = true;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("{} comes back online", self.phone)
    }

    /// The phone is a device.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        phone::check(scope, &self.phone)
    }

    /// Sets the mock's phone online.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        phone::set_online(player, &self.phone, true).await
    }
}
