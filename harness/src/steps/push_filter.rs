//! [`PushFilter`]: which pushes an expectation counts, shared by `expect_pushes` and
//! `expect_no_push`; and [`deserialize_with_filter!`], which reads a step written with the
//! filter's fields beside its own.
//!
//! In the file the filter's fields sit beside the step's own (`{"count": 2, "push_type":
//! "voip"}`). serde's `flatten` would read them into a field of their own, but it does not work
//! with `deny_unknown_fields`, and an unknown field must be refused with its JSON path. So the
//! macro gives each step one flat struct with the filter's fields spliced in, derived as
//! before, and splits it after: the fields, the messages (`unknown field `within`, expected
//! one of `count`, `device`, …`) and the paths stay what serde derives.
//!
//! A push type or a reason is read as mock-apns's own [`PushType`] or [`Reason`], so a typo
//! (`"Unregisterd"`) is a parse error at its path that names the nearest choice, not an
//! expectation that times out; the device is a [`TokenRef`], `"{{bob-ipad.voip}}"`.

use mock_apns::{Notification, PushType, Reason};

use crate::check::{Invalid, Scope};
use crate::player::Player;
use crate::token_ref::TokenRef;

/// Which pushes an expectation counts; every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushFilter {
    /// A token: `"{{bob-ipad.voip}}"`.
    pub device: Option<TokenRef>,
    /// `apns-topic`.
    pub topic: Option<String>,
    /// `apns-push-type`.
    pub push_type: Option<PushType>,
    /// The status the mock answered.
    pub status: Option<u16>,
    /// The reason the mock answered.
    pub reason: Option<Reason>,
}

impl PushFilter {
    /// What serde cannot check: the device is a declared token, and a status given with a
    /// reason is the reason's own (Apple's table pairs each reason with one status, so any
    /// other would never match).
    pub(crate) fn check(&self, scope: &Scope) -> Result<(), Invalid> {
        if let (Some(status), Some(reason)) = (self.status, self.reason) {
            if reason.status() != status {
                return Err(Invalid::new(
                    ".status",
                    format!(
                        "{reason} comes with status {}, so status {status} would never match; \
                         write {} or leave status out",
                        reason.status(),
                        reason.status()
                    ),
                ));
            }
        }
        match &self.device {
            Some(device) => scope
                .token(device.name())
                .map_err(|message| Invalid::new(".device", message)),
            None => Ok(()),
        }
    }

    /// Whether a record is one of the pushes the filter counts.
    pub(crate) fn matches(&self, r: &Notification, player: &Player<'_>) -> bool {
        let token_ok = self.device.as_ref().is_none_or(|name| {
            let want = player.value(name.name()).unwrap_or_default();
            r.device_token
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(want))
        });
        token_ok
            && self.topic.as_deref().is_none_or(|t| r.topic() == Some(t))
            && self.push_type.is_none_or(|t| r.push_type() == Some(t))
            && self.status.is_none_or(|s| r.status == s)
            && self.reason.is_none_or(|want| r.reason == Some(want))
    }

    /// The filter for a step's description: ` (device bob-ipad.voip, status 410)`, or nothing.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(d) = &self.device {
            parts.push(format!("device {d}"));
        }
        if let Some(t) = &self.topic {
            parts.push(format!("topic {t}"));
        }
        if let Some(t) = self.push_type {
            parts.push(format!("push_type {t}"));
        }
        if let Some(s) = self.status {
            parts.push(format!("status {s}"));
        }
        if let Some(r) = self.reason {
            parts.push(format!("reason {r}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join(", "))
        }
    }
}

/// `Deserialize` for a step struct with a `filter: PushFilter` field, written in the file
/// with the filter's fields among its own. List the step's fields in file order (that is the
/// order serde's messages name them in), with `..filter` where the filter's fields go:
///
/// ```text
/// deserialize_with_filter!(ExpectPushes {
///     count: usize,
///     ..filter,
///     #[serde(default)]
///     timeout: Option<Span>,
/// });
/// ```
///
/// The flat struct is declared inside `deserialize` under the step's own name, so serde's
/// messages read as they would for the step (`expected struct ExpectPushes`).
macro_rules! deserialize_with_filter {
    (
        $step:ident {
            $( $(#[$before_attr:meta])* $before:ident : $before_ty:ty, )*
            ..filter,
            $( $(#[$after_attr:meta])* $after:ident : $after_ty:ty, )*
        }
    ) => {
        impl<'de> serde::Deserialize<'de> for $step {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                #[derive(serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                struct $step {
                    $( $(#[$before_attr])* $before: $before_ty, )*
                    #[serde(default)]
                    device: Option<$crate::token_ref::TokenRef>,
                    #[serde(default)]
                    topic: Option<String>,
                    #[serde(default, deserialize_with = "crate::choices::de_push_type")]
                    push_type: Option<mock_apns::PushType>,
                    #[serde(default)]
                    status: Option<u16>,
                    #[serde(default, deserialize_with = "crate::choices::de_reason")]
                    reason: Option<mock_apns::Reason>,
                    $( $(#[$after_attr])* $after: $after_ty, )*
                }
                let flat = <$step as serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self {
                    $( $before: flat.$before, )*
                    filter: PushFilter {
                        device: flat.device,
                        topic: flat.topic,
                        push_type: flat.push_type,
                        status: flat.status,
                        reason: flat.reason,
                    },
                    $( $after: flat.$after, )*
                })
            }
        }
    };
}
pub(crate) use deserialize_with_filter;
