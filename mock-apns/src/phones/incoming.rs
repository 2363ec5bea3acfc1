//! A push as the phone side and the lint rules read it: its type, app, expiration, priority and
//! call id. Built for every push, but the payload is parsed only when something asks (a VoIP
//! push being linted, or a push to a phone), so a push to a token no phone owns costs nothing
//! more than before.

use std::sync::OnceLock;

use serde_json::Value;

use crate::apns::push_head::PushHead;
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
    json: OnceLock<Option<Value>>,
    call_id: OnceLock<Option<String>>,
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
            push_type: head
                .push_type()
                .or_else(|| topic.and_then(PushType::from_topic_suffix)),
            topic,
            expiration: Expiration::parse(head.header("apns-expiration")),
            priority: head.header("apns-priority"),
            body,
            pointers,
            json: OnceLock::new(),
            call_id: OnceLock::new(),
        }
    }

    /// A PushKit VoIP push.
    pub(crate) fn is_voip(&self) -> bool {
        self.push_type == Some(PushType::Voip)
    }

    /// The payload as JSON, parsed on first use (`None` when it is not JSON).
    pub(crate) fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| serde_json::from_slice(self.body).ok())
            .as_ref()
    }

    /// The call id the payload carries at the first pointer that holds a string or a number.
    pub(crate) fn call_id(&self) -> Option<&str> {
        self.call_id
            .get_or_init(|| self.json().and_then(|j| call_id_in(j, self.pointers)))
            .as_deref()
    }

    /// The app the push is for: the topic without its push type's suffix. APNs keeps one
    /// stored push per app, whichever of its topics it came on.
    pub(crate) fn bundle(&self) -> &str {
        let topic = self.topic.unwrap_or_default();
        match self.push_type.and_then(PushType::topic_suffix) {
            Some(suffix) if !suffix.is_empty() && topic.len() > suffix.len() => {
                topic.strip_suffix(suffix).unwrap_or(topic)
            }
            _ => topic,
        }
    }
}

/// The value at the first of `pointers` that holds a non-empty string or a number, as text.
pub(crate) fn call_id_in(json: &Value, pointers: &[String]) -> Option<String> {
    pointers.iter().find_map(|p| match json.pointer(p)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers() -> Vec<String> {
        crate::phones::DEFAULT_CALL_ID_POINTERS
            .iter()
            .map(|p| (*p).to_owned())
            .collect()
    }

    #[test]
    fn the_first_pointer_holding_a_string_or_number_names_the_call() {
        let p = pointers();
        assert_eq!(
            call_id_in(&json!({"call_id": "42"}), &p).as_deref(),
            Some("42")
        );
        assert_eq!(
            call_id_in(&json!({"callId": 42}), &p).as_deref(),
            Some("42")
        );
        assert_eq!(
            call_id_in(&json!({"call_id": "", "uuid": "U"}), &p).as_deref(),
            Some("U")
        );
        assert_eq!(call_id_in(&json!({"call_id": {"x": 1}}), &p), None);
        assert_eq!(call_id_in(&json!({"aps": {}}), &p), None);
    }

    #[test]
    fn expiration_reads_absent_zero_and_a_date() {
        assert_eq!(Expiration::parse(None), Expiration::Absent);
        assert_eq!(Expiration::parse(Some("0")), Expiration::Now);
        assert_eq!(Expiration::parse(Some("17")), Expiration::At(17));
    }
}
