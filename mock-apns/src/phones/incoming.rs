//! A push as the phone side and the lint rules read it: its type, app, expiration, priority and
//! call id. Built for every push, but the payload is parsed only when something asks (a VoIP
//! push being linted, or a push to a phone), so a push to a token no phone owns costs nothing
//! more than before.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::Value;

use crate::apns::push_head::PushHead;
use crate::record::json_syntax::{array_elements, object_members};
use crate::PushType;

/// `apns-expiration` as APNs reads it (`docs/phones.md` §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expiration {
    /// No header: APNs stores the push for an offline device (for a period Apple does not give).
    Absent,
    /// `0`: one delivery attempt, never stored.
    Now,
    /// Epoch seconds: stored and retried until then.
    At(u64),
}

impl Expiration {
    fn parse(value: Option<&str>) -> Self {
        match value.map(str::parse::<u64>) {
            None | Some(Err(_)) => Expiration::Absent,
            Some(Ok(0)) => Expiration::Now,
            Some(Ok(secs)) => Expiration::At(secs),
        }
    }
}

/// One push, read lazily.
#[derive(Debug)]
pub(crate) struct Incoming<'a> {
    /// The record's id.
    pub(crate) push_id: u64,
    /// When it arrived, epoch ms on the mock's clock.
    pub(crate) at_ms: u64,
    /// The declared push type, else the one the topic's suffix implies.
    pub(crate) push_type: Option<PushType>,
    /// The topic it goes to (`apns-topic`, or a single-topic certificate's).
    pub(crate) topic: Option<&'a str>,
    pub(crate) expiration: Expiration,
    /// `apns-priority` as sent (`None`: absent, which means 10).
    pub(crate) priority: Option<&'a str>,
    body: &'a [u8],
    /// Where a call id may be in the payload, in order (JSON pointers).
    pointers: &'a [String],
    /// The payload's top level, parsed on first use: keys and their values' raw text. Only
    /// what a pointer or `aps` leads to is parsed further, so a kilobyte of custom data costs
    /// one scan, not a copy of every string in it.
    top: OnceLock<Option<Object<'a>>>,
    /// Borrowed from the payload unless it had to be decoded.
    call_id: OnceLock<Option<Cow<'a, str>>>,
}

/// A JSON object's keys (raw: quoted, escapes as written) and their values as raw text,
/// borrowed from the payload, in order. A payload has a handful of keys: a list searched from
/// the end (the last of a repeated key wins, as with serde_json) costs less than a map, and
/// a key is unescaped only when it has an escape.
#[derive(Debug)]
struct Object<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Object<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0
            .iter()
            .rev()
            .find(|(raw, _)| raw_key_is(raw, key))
            .map(|(_, v)| *v)
    }

    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// Whether a key as written (quoted, escapes as sent) reads as `key`. Without an escape the
/// text between the quotes is the key; an escape makes that text longer than the key it
/// spells, so only a longer text with a backslash is decoded. (Looking a key up among a
/// payload's members is done a few times per VoIP push.)
fn raw_key_is(raw: &str, key: &str) -> bool {
    let Some(inner) = raw.get(1..raw.len().saturating_sub(1)) else {
        return false;
    };
    // Keys are short: a loop over their bytes costs less than a call to `memchr`.
    let escaped = || inner.bytes().any(|b| b == b'\\');
    match inner.len().cmp(&key.len()) {
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => inner == key && !escaped(),
        std::cmp::Ordering::Greater => {
            escaped() && serde_json::from_str::<String>(raw).is_ok_and(|k| k == key)
        }
    }
}

/// Reads a JSON object's members with the record's own JSON scanner: the payload of every VoIP
/// push is read here, and serde_json spent about 4 instructions per byte on it (most of a
/// payload is string contents, which the scanner skips with vector instructions).
fn object(text: &str) -> Option<Object<'_>> {
    object_members(text).map(Object)
}

impl<'a> Incoming<'a> {
    pub(crate) fn new(
        push_id: u64,
        at_ms: u64,
        head: &'a PushHead,
        topic: Option<&'a str>,
        body: &'a [u8],
        pointers: &'a [String],
    ) -> Self {
        Self {
            push_id,
            at_ms,
            push_type: PushType::declared_or_implied(head.push_type(), topic),
            topic,
            expiration: Expiration::parse(head.header("apns-expiration")),
            priority: head.header("apns-priority"),
            body,
            pointers,
            top: OnceLock::new(),
            call_id: OnceLock::new(),
        }
    }

    /// The payload's top-level members, when the caller has already read them (`None`: the
    /// payload is not a JSON object), so that they are not read again.
    pub(crate) fn with_members(self, members: Option<Vec<(&'a str, &'a str)>>) -> Self {
        let _ = self.top.set(members.map(Object));
        self
    }

    /// A PushKit VoIP push.
    pub(crate) fn is_voip(&self) -> bool {
        self.push_type == Some(PushType::Voip)
    }

    /// The payload's top-level object (`None` when it is not a JSON object).
    fn top(&self) -> Option<&Object<'a>> {
        self.top
            .get_or_init(|| object(std::str::from_utf8(self.body).ok()?))
            .as_ref()
    }

    /// Which of `keys` the payload's `aps` dictionary holds.
    pub(crate) fn aps_keys(&self, keys: &[&'static str]) -> Vec<&'static str> {
        let Some(aps) = self.top().and_then(|top| top.get("aps")).and_then(object) else {
            return Vec::new();
        };
        keys.iter()
            .copied()
            .filter(|k| aps.contains_key(k))
            .collect()
    }

    /// The call id the payload carries at the first pointer that holds a non-empty string or
    /// a number.
    pub(crate) fn call_id(&self) -> Option<&str> {
        self.call_id
            .get_or_init(|| {
                let top = self.top()?;
                self.pointers.iter().find_map(|p| call_id_at(top, p))
            })
            .as_deref()
    }

    /// The app the push is for: the topic without its push type's suffix. APNs keeps one
    /// stored push per app, whichever of its topics it came on.
    pub(crate) fn bundle(&self) -> &str {
        PushType::bundle_of(self.push_type, self.topic.unwrap_or_default())
    }
}

/// A JSON pointer's reference token, unescaped (copied only when it has an escape).
fn unescape(token: &str) -> Cow<'_, str> {
    match token.contains('~') {
        true => Cow::Owned(token.replace("~1", "/").replace("~0", "~")),
        false => Cow::Borrowed(token),
    }
}

/// The call id at one JSON pointer (RFC 6901: `~1` is `/`, `~0` is `~`) below the top level:
/// a non-empty string, or a number as text.
fn call_id_at<'a>(top: &Object<'a>, pointer: &str) -> Option<Cow<'a, str>> {
    let mut tokens = pointer.strip_prefix('/')?.split('/');
    let mut raw: &str = top.get(&unescape(tokens.next()?))?;
    for token in tokens {
        let token = unescape(token);
        raw = match raw.as_bytes().first()? {
            b'{' => object(raw)?.get(&token)?,
            b'[' => *array_elements(raw)?.get(token.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    // The usual call id, a string without escapes, is read where it stands.
    if let Some(plain) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        if !plain.contains('\\') {
            return (!plain.is_empty()).then_some(Cow::Borrowed(plain));
        }
    }
    match serde_json::from_str::<Value>(raw).ok()? {
        Value::String(s) if !s.is_empty() => Some(Cow::Owned(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call_id(payload: Value, pointers: &[&str]) -> Option<String> {
        let head = PushHead::from_parts(
            http::Request::builder()
                .uri("/3/device/ab")
                .body(())
                .unwrap()
                .into_parts()
                .0,
        );
        let body = payload.to_string();
        let pointers: Vec<String> = pointers.iter().map(|p| (*p).to_owned()).collect();
        let push = Incoming::new(1, 0, &head, None, body.as_bytes(), &pointers);
        push.call_id().map(str::to_owned)
    }

    #[test]
    fn the_first_pointer_holding_a_string_or_number_names_the_call() {
        let p = crate::phones::DEFAULT_CALL_ID_POINTERS;
        assert_eq!(call_id(json!({"call_id": "42"}), p).as_deref(), Some("42"));
        assert_eq!(call_id(json!({"callId": 42}), p).as_deref(), Some("42"));
        assert_eq!(
            call_id(json!({"call_id": "", "uuid": "U"}), p).as_deref(),
            Some("U")
        );
        assert_eq!(call_id(json!({"call_id": {"x": 1}}), p), None);
        assert_eq!(call_id(json!({"aps": {}}), p), None);
        assert_eq!(call_id(json!([1]), p), None, "not an object");
    }

    #[test]
    fn a_pointer_descends_objects_and_arrays_and_unescapes_its_tokens() {
        let payload = json!({"session": {"calls": [{"id": "a"}, {"id": "b"}]}, "a/b": {"~": 7}});
        assert_eq!(
            call_id(payload.clone(), &["/session/calls/1/id"]).as_deref(),
            Some("b")
        );
        assert_eq!(
            call_id(payload.clone(), &["/a~1b/~0"]).as_deref(),
            Some("7")
        );
        assert_eq!(call_id(payload, &["/session/calls/9/id", "/nope"]), None);
    }

    #[test]
    fn keys_are_matched_as_json_reads_them() {
        assert!(raw_key_is(r#""aps""#, "aps"));
        assert!(!raw_key_is(r#""pad""#, "aps"), "same length, other key");
        assert!(!raw_key_is(r#""ap""#, "aps"));
        assert!(!raw_key_is(r#""apsx""#, "aps"), "longer without an escape");
        assert!(raw_key_is(r#""\u0061ps""#, "aps"), "an escape is decoded");
        assert!(raw_key_is(r#""a\\b""#, r"a\b"));
        assert!(!raw_key_is(r#""a\b""#, r"a\b"), r"\b is a backspace");
        assert!(!raw_key_is(r#""""#, "aps"));
        // The last of a repeated key wins, as with serde_json.
        let object = object(r#"{"call_id":"1","c\u0061ll_id":"2"}"#).unwrap();
        assert_eq!(object.get("call_id"), Some(r#""2""#));
    }

    #[test]
    fn expiration_reads_absent_zero_and_a_date() {
        assert_eq!(Expiration::parse(None), Expiration::Absent);
        assert_eq!(Expiration::parse(Some("0")), Expiration::Now);
        assert_eq!(Expiration::parse(Some("17")), Expiration::At(17));
    }
}
