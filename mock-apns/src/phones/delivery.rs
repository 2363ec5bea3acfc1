//! What a phone did with one push, named with the statuses of Apple's Push Notifications
//! Console (`docs/phones.md` §4): delivered, stored, discarded, and why.
//!
//! A delivery never changes APNs's answer: it is decided after the answer, for pushes answered
//! 200, and recorded beside it.

use serde::{Deserialize, Serialize};

use super::policy::Violation;

/// Where a push ended up on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryStatus {
    /// The app received it.
    Delivered,
    /// APNs keeps it until the phone is back online or it expires.
    Stored,
    /// Nothing reached the app; [`DeliveryReason`] says why.
    Discarded,
}

impl DeliveryStatus {
    /// The wire name (`delivered`, `stored`, `discarded`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Stored => "stored",
            DeliveryStatus::Discarded => "discarded",
        }
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "delivered" => Ok(DeliveryStatus::Delivered),
            "stored" => Ok(DeliveryStatus::Stored),
            "discarded" => Ok(DeliveryStatus::Discarded),
            _ => Err(format!(
                "delivery status {s:?} is not delivered, stored or discarded"
            )),
        }
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a push was stored or discarded, or that it came from storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliveryReason {
    /// Delivered when the phone came back online.
    FromStorage,
    /// Stored: the phone is offline.
    DeviceOffline,
    /// Discarded: its `apns-expiration` passed (or was 0) while the phone was offline.
    Expired,
    /// Discarded: the app is not installed on the phone.
    TokenUnregistered,
    /// Discarded: a newer push for the same app replaced it in storage.
    Superseded,
    /// Discarded: iOS stopped delivering VoIP pushes to this app (PushKit policy).
    VoipSuspended,
}

impl DeliveryReason {
    /// Every reason.
    pub const ALL: &'static [DeliveryReason] = &[
        DeliveryReason::FromStorage,
        DeliveryReason::DeviceOffline,
        DeliveryReason::Expired,
        DeliveryReason::TokenUnregistered,
        DeliveryReason::Superseded,
        DeliveryReason::VoipSuspended,
    ];

    /// The wire name (`device_offline`, `expired`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryReason::FromStorage => "from_storage",
            DeliveryReason::DeviceOffline => "device_offline",
            DeliveryReason::Expired => "expired",
            DeliveryReason::TokenUnregistered => "token_unregistered",
            DeliveryReason::Superseded => "superseded",
            DeliveryReason::VoipSuspended => "voip_suspended",
        }
    }

    /// The status with this reason as Apple's Push Notifications Console words it, or the
    /// mock's wording in the same style where the console has no such line.
    pub fn console_label(self) -> &'static str {
        match self {
            DeliveryReason::FromStorage => "Delivered to device (from storage)",
            DeliveryReason::DeviceOffline => "Stored — device offline",
            DeliveryReason::Expired => "Discarded — expired",
            DeliveryReason::TokenUnregistered => "Discarded — token unregistered",
            DeliveryReason::Superseded => "Discarded — superseded by a newer push",
            DeliveryReason::VoipSuspended => "Discarded — VoIP delivery suspended by iOS",
        }
    }
}

impl std::str::FromStr for DeliveryReason {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeliveryReason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = DeliveryReason::ALL.iter().map(|r| r.as_str()).collect();
                format!("delivery reason {s:?} is not one of {}", known.join(", "))
            })
    }
}

/// What a delivered push did on the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Effect {
    /// A VoIP push started an incoming call: the phone rings.
    Ringing,
    /// A non-VoIP push carried the id of a call in progress: that call ended.
    EndedCall,
    /// A VoIP push that could not be reported as a new call: the app was terminated.
    PolicyViolation,
}

/// A push's fate on a phone, as the record shows it (`delivery`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The phone that owns the token.
    pub phone: String,
    /// Delivered, stored or discarded.
    pub status: DeliveryStatus,
    /// Why it was stored or discarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DeliveryReason>,
    /// The call it started, ended or repeated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// What it did on the phone, when delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
    /// Which PushKit rule it broke, for [`Effect::PolicyViolation`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violation: Option<Violation>,
}

impl Delivery {
    pub(crate) fn new(phone: &str, status: DeliveryStatus, reason: Option<DeliveryReason>) -> Self {
        Self {
            phone: phone.to_owned(),
            status,
            reason,
            call: None,
            effect: None,
            violation: None,
        }
    }

    /// One line: `delivered (ringing call 42)`, `discarded: expired`.
    pub fn describe(&self) -> String {
        let mut out = self.status.to_string();
        if let Some(reason) = self.reason {
            out.push_str(&format!(" ({})", reason.console_label()));
        }
        match (self.effect, &self.call, self.violation) {
            (Some(Effect::PolicyViolation), call, Some(v)) => out.push_str(&format!(
                ", PushKit policy violation: {}{}",
                v.as_str(),
                call.as_deref()
                    .map(|c| format!(" (call {c})"))
                    .unwrap_or_default()
            )),
            (Some(Effect::Ringing), Some(call), _) => out.push_str(&format!(", call {call} rings")),
            (Some(Effect::EndedCall), Some(call), _) => {
                out.push_str(&format!(", call {call} ended"))
            }
            _ => {}
        }
        out
    }
}
