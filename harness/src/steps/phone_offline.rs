//! `phone_offline`: a phone goes offline (airplane mode).

use serde::Deserialize;

use super::phone;
use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};

/// The phone goes offline: APNs stores pushes for it as their `apns-expiration` allows (the
/// newest per app), or discards them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneOffline {
    /// The phone: a device's name.
    pub phone: String,
}

impl PhoneOffline {
    /// The step's key in the file.
    pub const KIND: &'static str = "phone_offline";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = true;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("{} goes offline", self.phone)
    }

    /// The phone is a device.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        phone::check(scope, &self.phone)
    }

    /// Sets the mock's phone offline.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        phone::set_online(player, &self.phone, false).await
    }
}
