//! Apple's rejection reasons: the one table pairing each reason string with its HTTP status.
//!
//! Source: "Handling notification responses from APNs" (Apple), mirrored in
//! `docs/apns.md` §4. Everything else (validation, fault injection, the admin API)
//! names reasons through this enum, so a status can never disagree with its reason. Each row's
//! one-line doc comment is also its [`Reason::explanation`], which the web UI shows beside a
//! rejected push (through `GET /api/v1/reasons`), so the wording lives here only.

use std::str::FromStr;

macro_rules! reasons {
    ($( #[doc = $doc:literal] $variant:ident = $status:literal ),+ $(,)?) => {
        /// A reason APNs gives for refusing a push (or, in a GOAWAY, for closing a connection).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Reason {
            $( #[doc = $doc] $variant, )+
        }

        impl Reason {
            /// Every reason, in the order of Apple's table (by status, then name).
            pub const ALL: &'static [Reason] = &[$(Reason::$variant),+];

            /// The HTTP status APNs answers with for this reason.
            pub const fn status(self) -> u16 {
                match self { $(Reason::$variant => $status,)+ }
            }

            /// The exact string APNs puts in `{"reason": "…"}`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Reason::$variant => stringify!($variant),)+ }
            }

            /// What the reason means, in one line (Apple's table, `docs/apns.md` §4).
            pub fn explanation(self) -> &'static str {
                match self { $(Reason::$variant => $doc,)+ }.trim()
            }
        }
    };
}

reasons! {
    /// The collapse identifier exceeds 64 bytes.
    BadCollapseId = 400,
    /// The device token is malformed, or belongs to the other environment.
    BadDeviceToken = 400,
    /// `apns-expiration` is not a valid epoch-seconds value.
    BadExpirationDate = 400,
    /// `apns-id` is not a canonical UUID.
    BadMessageId = 400,
    /// `apns-priority` is not 10, 5 or 1 (or is 10 for a background push).
    BadPriority = 400,
    /// `apns-topic` is invalid.
    BadTopic = 400,
    /// The device token does not belong to the topic.
    DeviceTokenNotForTopic = 400,
    /// A header was repeated.
    DuplicateHeaders = 400,
    /// The connection was idle for too long.
    IdleTimeout = 400,
    /// `apns-push-type` is not one of Apple's push types.
    InvalidPushType = 400,
    /// The `:path` has no device token.
    MissingDeviceToken = 400,
    /// `apns-topic` is required here and missing.
    MissingTopic = 400,
    /// The body is empty.
    PayloadEmpty = 400,
    /// Pushing to this topic is not allowed.
    TopicDisallowed = 400,
    /// The client certificate is invalid.
    BadCertificate = 403,
    /// The client certificate is for the other environment.
    BadCertificateEnvironment = 403,
    /// The provider token is more than an hour old.
    ExpiredProviderToken = 403,
    /// The action is not allowed.
    Forbidden = 403,
    /// The provider token is invalid or its signature cannot be verified.
    InvalidProviderToken = 403,
    /// No client certificate and no (or an empty) `authorization` header.
    MissingProviderToken = 403,
    /// The key id differs from the one used on this connection's first push.
    UnrelatedKeyIdInToken = 403,
    /// The key id is not valid for this environment.
    BadEnvironmentKeyIdInToken = 403,
    /// The `:path` is not `/3/device/<token>`.
    BadPath = 404,
    /// The `:method` is not `POST`.
    MethodNotAllowed = 405,
    /// The device token has expired.
    ExpiredToken = 410,
    /// The device token is no longer active for the topic.
    Unregistered = 410,
    /// The body exceeds the limit (4096 bytes, 5120 for VoIP).
    PayloadTooLarge = 413,
    /// The provider token changed more than once in 20 minutes on this connection.
    TooManyProviderTokenUpdates = 429,
    /// Too many requests to the same device token.
    TooManyRequests = 429,
    /// An internal server error.
    InternalServerError = 500,
    /// The service is unavailable.
    ServiceUnavailable = 503,
    /// The server is shutting down.
    Shutdown = 503,
}

impl Reason {
    /// Whether Apple's response carries a `timestamp` (only 410s do).
    pub const fn has_timestamp(self) -> bool {
        self.status() == 410
    }

    /// The `http::StatusCode` for this reason.
    pub fn status_code(self) -> http::StatusCode {
        // Every status in the table is a valid HTTP status.
        http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::BAD_REQUEST)
    }

    /// The JSON body APNs sends: `{"reason":"…"}`, plus `"timestamp"` (epoch ms) for 410s.
    pub fn body(self, timestamp_ms: Option<u64>) -> String {
        match (self.has_timestamp(), timestamp_ms) {
            (true, Some(ts)) => format!(r#"{{"reason":"{}","timestamp":{}}}"#, self.as_str(), ts),
            _ => format!(r#"{{"reason":"{}"}}"#, self.as_str()),
        }
    }
}

/// The string was not one of Apple's reasons.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown APNs reason {0:?} (expected one of Apple's reason strings, e.g. \"Unregistered\")"
)]
pub struct UnknownReason(pub String);

impl FromStr for Reason {
    type Err = UnknownReason;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reason::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownReason(s.to_owned()))
    }
}

crate::apns::str_enum::str_traits!(Reason);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_the_32_reasons_of_the_reference_with_their_statuses() {
        assert_eq!(Reason::ALL.len(), 32);
        assert_eq!(Reason::Unregistered.status(), 410);
        assert_eq!(Reason::PayloadTooLarge.status(), 413);
        assert_eq!(Reason::UnrelatedKeyIdInToken.status(), 403);
        assert_eq!(Reason::Shutdown.status(), 503);
        for r in Reason::ALL {
            assert_eq!(r.as_str().parse::<Reason>(), Ok(*r));
        }
    }

    #[test]
    fn every_reason_has_a_one_line_explanation() {
        for r in Reason::ALL {
            let text = r.explanation();
            assert!(text.ends_with('.') && !text.contains('\n'), "{r}: {text:?}");
        }
        assert_eq!(
            Reason::Unregistered.explanation(),
            "The device token is no longer active for the topic."
        );
    }

    #[test]
    fn only_410_bodies_carry_a_timestamp() {
        assert_eq!(
            Reason::Unregistered.body(Some(1_700_000_000_000)),
            r#"{"reason":"Unregistered","timestamp":1700000000000}"#
        );
        assert_eq!(Reason::BadTopic.body(Some(5)), r#"{"reason":"BadTopic"}"#);
    }

    #[test]
    fn unknown_reason_is_named_in_the_error() {
        let err = "Gone".parse::<Reason>().unwrap_err();
        assert!(err.to_string().contains("\"Gone\""));
    }
}
