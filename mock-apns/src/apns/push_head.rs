//! A push request as it arrived: method, path, headers and body. Parsing only, no policy.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use crate::apns::push_type::{PushType, MAX_PAYLOAD};

/// The path prefix of Apple's device API.
pub(crate) const DEVICE_PATH: &str = "/3/device/";

/// The device token a request path names (`/3/device/<token>`), if any.
pub(crate) fn device_token_of(path: &str) -> Option<&str> {
    path.strip_prefix(DEVICE_PATH).filter(|t| !t.is_empty())
}

/// The headers the checks ask about, again and again: their first values are found in one pass
/// when the head arrives. `HeaderMap::get(&str)` parses and hashes the name on every call, and
/// with a dozen calls per push that showed up in profiles under load.
/// (`apns-push-type` must stay third: its value is parsed in `from_parts`. The `apns-*` names
/// come first: the record writes each as its position here, `record/compact.rs`.)
pub(crate) const KNOWN: [&str; 7] = [
    "apns-id",
    "apns-expiration",
    "apns-push-type",
    "apns-topic",
    "apns-priority",
    "apns-collapse-id",
    "authorization",
];

/// The position of a [`KNOWN`] name. A `match` on the text compares the length first, then
/// one candidate at most; searching the list compared every name in turn, some 60 string
/// comparisons per push.
pub(crate) fn known_index(name: &str) -> Option<usize> {
    let i = match name {
        "apns-id" => 0,
        "apns-expiration" => 1,
        "apns-push-type" => 2,
        "apns-topic" => 3,
        "apns-priority" => 4,
        "apns-collapse-id" => 5,
        "authorization" => 6,
        _ => return None,
    };
    debug_assert_eq!(KNOWN[i], name);
    Some(i)
}

/// The request head, as the HTTP/2 layer handed it over.
#[derive(Debug)]
pub(crate) struct PushHead {
    pub(crate) method: Method,
    /// `:path` and `:authority` as they came (moved, not copied: see [`Self::path`]).
    uri: http::Uri,
    pub(crate) headers: HeaderMap,
    /// The first value of each [`KNOWN`] header, in that order.
    known: [Option<HeaderValue>; KNOWN.len()],
    /// `apns-push-type` when it is one of Apple's values (parsed once: several checks ask).
    push_type: Option<PushType>,
}

impl PushHead {
    /// Takes the head over: the header map moves, it is not copied (a clone per push was a
    /// measurable part of the mock's CPU time under load).
    pub(crate) fn from_parts(parts: http::request::Parts) -> Self {
        let mut known: [Option<HeaderValue>; KNOWN.len()] = Default::default();
        for (name, value) in &parts.headers {
            if let Some(i) = known_index(name.as_str()) {
                // Iteration yields a name's values in order: keep the first.
                known[i].get_or_insert_with(|| value.clone());
            }
        }
        let push_type = known[2]
            .as_ref()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Self {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            known,
            push_type,
        }
    }

    /// The first value of a header, or `None`.
    pub(crate) fn value(&self, name: &str) -> Option<&HeaderValue> {
        match known_index(name) {
            Some(i) => self.known[i].as_ref(),
            None => self.headers.get(name),
        }
    }

    /// The first value of a header, if it is present and valid UTF-8.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.value(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the header is present at all (even with a non-UTF-8 value).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// Where the request says it is going: `:authority`, else the `host` header (aioapns and
    /// Apple's own example send `host`).
    pub(crate) fn authority(&self) -> Option<&str> {
        match self.uri.authority() {
            Some(authority) => Some(authority.as_str()),
            None => self.header("host"),
        }
    }

    /// `:path`, as sent.
    pub(crate) fn path(&self) -> &str {
        self.uri.path_and_query().map_or("", |p| p.as_str())
    }

    /// The device token from `/3/device/<token>`, if the path has that shape.
    pub(crate) fn device_token(&self) -> Option<&str> {
        device_token_of(self.path())
    }

    /// The push type the request declares, if the header holds a known value.
    pub(crate) fn push_type(&self) -> Option<PushType> {
        self.push_type
    }

    /// The push type that decides the payload limit: the declared one, else the one the topic's
    /// suffix implies (a `.voip` topic without `apns-push-type` is still a VoIP push).
    pub(crate) fn effective_push_type(&self) -> Option<PushType> {
        PushType::declared_or_implied(self.push_type(), self.header("apns-topic"))
    }

    /// The largest body this request may carry (inclusive).
    pub(crate) fn payload_limit(&self) -> usize {
        self.effective_push_type()
            .map_or(MAX_PAYLOAD, PushType::max_payload)
    }

    /// Every `apns-*` header (name, value as sent), in the order sent (repeated names are
    /// kept).
    pub(crate) fn apns_headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.headers
            .iter()
            .filter(|(name, _)| name.as_str().starts_with("apns-"))
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
    }

    /// The first header name that appears more than once.
    pub(crate) fn repeated_header(&self) -> Option<&str> {
        if self.headers.keys_len() == self.headers.len() {
            return None;
        }
        self.headers
            .keys()
            .find(|k| self.headers.get_all(*k).iter().nth(1).is_some())
            .map(|k| k.as_str())
    }
}

/// The request body as read: at most `limit + 1` bytes, so an oversized body is never buffered.
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub(crate) bytes: Bytes,
    /// The client sent more than the limit; `bytes` holds only what was read before stopping.
    pub(crate) too_large: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_name_has_its_index() {
        for (i, name) in KNOWN.iter().enumerate() {
            assert_eq!(known_index(name), Some(i));
        }
        assert_eq!(known_index("apns-topicx"), None);
    }

    fn head(headers: &[(&str, &[u8])]) -> PushHead {
        let mut request = http::Request::builder().method("POST").uri("/3/device/ab");
        for (name, value) in headers {
            request = request.header(*name, HeaderValue::from_bytes(value).unwrap());
        }
        PushHead::from_parts(request.body(()).unwrap().into_parts().0)
    }

    #[test]
    fn headers_read_their_first_value_whether_looked_up_early_or_not() {
        let head = head(&[
            ("apns-topic", b"com.example.app"),
            ("apns-topic", b"second"),
            ("apns-priority", b"\xff"),
            ("x-other", b"1"),
        ]);
        assert_eq!(head.header("apns-topic"), Some("com.example.app"));
        assert!(head.has("apns-priority"), "a non-UTF-8 value is present");
        assert_eq!(head.header("apns-priority"), None);
        assert_eq!(head.header("x-other"), Some("1"));
        assert_eq!(head.header("APNS-TOPIC"), Some("com.example.app"));
        assert!(!head.has("apns-id"));
        assert_eq!(head.repeated_header(), Some("apns-topic"));
    }

    #[test]
    fn repeated_names_are_kept_in_order_and_the_first_one_repeated_is_named() {
        let sent = head(&[
            ("apns-priority", b"10"),
            ("x-trace", b"a"),
            ("apns-topic", b"first"),
            ("x-trace", b"b"),
            ("apns-topic", b"second"),
        ]);
        assert_eq!(sent.repeated_header(), Some("x-trace"));
        assert_eq!(sent.header("x-trace"), Some("a"));
        let apns: Vec<_> = sent.apns_headers().collect();
        assert_eq!(
            apns,
            [
                ("apns-priority", &b"10"[..]),
                ("apns-topic", b"first"),
                ("apns-topic", b"second"),
            ]
        );
        assert!(head(&[("apns-topic", b"t")]).repeated_header().is_none());
    }
}
