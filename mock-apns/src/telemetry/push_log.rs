//! One `info` log line per push, so the terminal running the mock says what happened to each
//! push and why, without a trip to `/api/v1/pushes`.
//!
//! The line is a `tracing` event with target [`TARGET`] and fixed field names (the README's
//! "Log lines" lists them): the binary prints it as text or as one JSON object per line, and
//! `--log info,mock_apns::push=off` silences it. It carries the record's `detail`, never the
//! `authorization` header, a token's signature or the payload; the device token is shortened,
//! as a log travels further than the record.

use std::borrow::Cow;

use crate::Reason;

/// The `tracing` target of the per-push line.
pub(crate) const TARGET: &str = "mock_apns::push";

/// Whether the per-push line is wanted: lets the caller skip copying what only the line uses.
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::INFO)
}

/// What the per-push line says, borrowed from the request and the record.
#[derive(Debug)]
pub(crate) struct PushLine<'a> {
    pub(crate) connection: u64,
    pub(crate) stream: u32,
    /// The status answered; 0 when the stream got no answer.
    pub(crate) status: u16,
    pub(crate) reason: Option<Reason>,
    /// `apns-push-type`, as sent.
    pub(crate) push_type: Option<&'a str>,
    /// `apns-topic`, as sent.
    pub(crate) topic: Option<&'a str>,
    /// The device token from the path, as sent (shortened in the line).
    pub(crate) device_token: Option<&'a str>,
    pub(crate) apns_id: &'a str,
    /// The record's `detail`.
    pub(crate) detail: Option<&'a str>,
    /// The ids of the lint rules the push broke, comma-separated (`docs/phones.md` §5).
    pub(crate) lint: Option<&'a str>,
    /// The phone that owns the token, when one does.
    pub(crate) phone: Option<&'a str>,
    /// What that phone did with the push, in one line (`delivered, call 42 rings`).
    pub(crate) delivery: Option<&'a str>,
}

impl PushLine<'_> {
    /// Emits the line. Values a client chose are recorded as strings, which both formats quote
    /// and escape, so a header cannot forge a line.
    pub(crate) fn emit(&self) {
        let outcome = match (self.status, self.reason) {
            (200, _) => "accepted",
            (0, _) => "not answered",
            _ => "rejected",
        };
        tracing::info!(
            target: TARGET,
            connection = self.connection,
            stream = self.stream,
            status = self.status,
            reason = self.reason.map(Reason::as_str),
            push_type = self.push_type,
            topic = self.topic,
            token = self.device_token.map(short_token).as_deref(),
            apns_id = self.apns_id,
            detail = self.detail,
            lint = self.lint,
            phone = self.phone,
            delivery = self.delivery,
            "{outcome}"
        );
    }
}

/// The first 8 and last 4 characters of a device token: enough to tell tokens apart in a log,
/// short of the whole identifier of someone's device.
pub(crate) fn short_token(token: &str) -> Cow<'_, str> {
    const HEAD: usize = 8;
    const TAIL: usize = 4;
    let chars = token.chars().count();
    if chars <= HEAD + TAIL + 3 {
        return Cow::Borrowed(token);
    }
    let head: String = token.chars().take(HEAD).collect();
    let tail: String = token.chars().skip(chars - TAIL).collect();
    Cow::Owned(format!("{head}...{tail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_shortened_to_its_ends_and_a_short_one_is_kept() {
        let token = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
        assert_eq!(short_token(token), "a1b2c3d4...8f90");
        assert_eq!(short_token("abc"), "abc");
        assert_eq!(short_token("0123456789abcde"), "0123456789abcde");
        assert_eq!(short_token("ééééééééééééééééé"), "éééééééé...éééé");
    }
}
