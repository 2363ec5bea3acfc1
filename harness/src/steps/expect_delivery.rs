//! `expect_delivery`: wait until the latest push that reached a phone has a fate.

use mock_apns::phones::{DeliveryReason, PhoneCondition};
use mock_apns::DeliveryStatus;
use serde::Deserialize;
use serde_json::json;

use super::phone;
use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::span::Span;

/// Wait until the latest push that reached the phone was `delivered`, `stored` (device
/// offline) or `discarded`, and why (`expired`, `token_unregistered`, `superseded`,
/// `voip_suspended`; `from_storage` for a delivered one). Closes the group of pushes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectDelivery {
    /// The phone: a device's name.
    pub phone: String,
    /// `delivered`, `stored` or `discarded`.
    pub status: DeliveryStatus,
    /// Why, when it matters.
    #[serde(default)]
    pub reason: Option<DeliveryReason>,
    /// Longest wait (default 10s).
    #[serde(default)]
    pub timeout: Option<Span>,
}

impl ExpectDelivery {
    /// The step's key in the file.
    pub const KIND: &'static str = "expect_delivery";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = true;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = true;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!(
            "expect {}'s latest push {}{}",
            self.phone,
            self.status,
            self.reason
                .map(|r| format!(" ({})", r.as_str()))
                .unwrap_or_default()
        )
    }

    /// The phone is a device.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        phone::check(scope, &self.phone)
    }

    /// Waits on the mock until the latest push has that fate.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let timeout = self.timeout.map_or(phone::TIMEOUT, |s| s.duration());
        let condition = PhoneCondition::LastPush(self.status, self.reason);
        phone::expect(player, &self.phone, condition, timeout, |p| {
            json!({ "last_push": phone::fate(p.last_push()) })
        })
        .await
    }
}
