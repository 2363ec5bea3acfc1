//! HTTP/2 error codes by name, for GOAWAY and RST_STREAM in the admin API and fault rules.

use std::str::FromStr;

/// An HTTP/2 error code (RFC 9113 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `NO_ERROR` (0x0): what APNs sends with `{"reason":"Shutdown"}`.
    #[default]
    NoError,
    /// `PROTOCOL_ERROR` (0x1).
    ProtocolError,
    /// `INTERNAL_ERROR` (0x2).
    InternalError,
    /// `FLOW_CONTROL_ERROR` (0x3).
    FlowControlError,
    /// `SETTINGS_TIMEOUT` (0x4).
    SettingsTimeout,
    /// `STREAM_CLOSED` (0x5).
    StreamClosed,
    /// `FRAME_SIZE_ERROR` (0x6).
    FrameSizeError,
    /// `REFUSED_STREAM` (0x7): safe for the client to retry.
    RefusedStream,
    /// `CANCEL` (0x8).
    Cancel,
    /// `COMPRESSION_ERROR` (0x9).
    CompressionError,
    /// `CONNECT_ERROR` (0xa).
    ConnectError,
    /// `ENHANCE_YOUR_CALM` (0xb).
    EnhanceYourCalm,
    /// `INADEQUATE_SECURITY` (0xc).
    InadequateSecurity,
    /// `HTTP_1_1_REQUIRED` (0xd).
    Http11Required,
}

const NAMES: &[(ErrorCode, &str)] = &[
    (ErrorCode::NoError, "NO_ERROR"),
    (ErrorCode::ProtocolError, "PROTOCOL_ERROR"),
    (ErrorCode::InternalError, "INTERNAL_ERROR"),
    (ErrorCode::FlowControlError, "FLOW_CONTROL_ERROR"),
    (ErrorCode::SettingsTimeout, "SETTINGS_TIMEOUT"),
    (ErrorCode::StreamClosed, "STREAM_CLOSED"),
    (ErrorCode::FrameSizeError, "FRAME_SIZE_ERROR"),
    (ErrorCode::RefusedStream, "REFUSED_STREAM"),
    (ErrorCode::Cancel, "CANCEL"),
    (ErrorCode::CompressionError, "COMPRESSION_ERROR"),
    (ErrorCode::ConnectError, "CONNECT_ERROR"),
    (ErrorCode::EnhanceYourCalm, "ENHANCE_YOUR_CALM"),
    (ErrorCode::InadequateSecurity, "INADEQUATE_SECURITY"),
    (ErrorCode::Http11Required, "HTTP_1_1_REQUIRED"),
];

impl ErrorCode {
    /// The RFC name, e.g. `REFUSED_STREAM`.
    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("NO_ERROR", |(_, n)| n)
    }

    /// Every code, in numeric order.
    pub(crate) fn all() -> impl Iterator<Item = ErrorCode> {
        NAMES.iter().map(|(code, _)| *code)
    }

    /// The numeric code on the wire.
    pub fn code(self) -> u32 {
        NAMES.iter().position(|(c, _)| *c == self).unwrap_or(0) as u32
    }

    pub(crate) fn to_h2(self) -> h2::Reason {
        h2::Reason::from(self.code())
    }
}

/// Not an HTTP/2 error code name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown HTTP/2 error code {0:?} (expected e.g. NO_ERROR, REFUSED_STREAM, CANCEL, INTERNAL_ERROR)")]
pub struct UnknownErrorCode(pub String);

impl FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(s))
            .map(|(c, _)| *c)
            .ok_or_else(|| UnknownErrorCode(s.to_owned()))
    }
}

crate::apns::str_enum::str_traits!(ErrorCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_rfc_codes() {
        assert_eq!(
            "REFUSED_STREAM".parse::<ErrorCode>(),
            Ok(ErrorCode::RefusedStream)
        );
        assert_eq!(ErrorCode::RefusedStream.code(), 7);
        assert_eq!(ErrorCode::Http11Required.code(), 0xd);
        assert_eq!(ErrorCode::Cancel.to_h2(), h2::Reason::CANCEL);
        assert!("NOPE".parse::<ErrorCode>().is_err());
    }
}
