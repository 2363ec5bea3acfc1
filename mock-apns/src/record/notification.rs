//! The record of one request: what arrived, how it was authenticated, and what the mock answered.

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap as _, Serializer};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::lint::LintFinding;
use crate::phones::Delivery;
use crate::{Environment, PushType, Reason};

/// One recorded request, accepted or rejected, as the admin API and the record file show it.
/// It reads back from that JSON too (the admin [`Client`](crate::admin::Client) does).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notification {
    /// Sequence number, in the order the answers were decided.
    pub id: u64,
    /// When the request arrived (epoch ms, on the mock's clock).
    pub received_at: u64,
    /// The connection it came on (numbered from 1 in accept order).
    pub connection_id: u64,
    /// The HTTP/2 stream id.
    pub stream_id: u32,
    /// `:method`.
    pub method: Box<str>,
    /// `:path`.
    pub path: Box<str>,
    /// The token from the path, as sent.
    pub device_token: Option<Box<str>>,
    /// Every `apns-*` header, as sent, in order.
    #[serde(
        serialize_with = "headers_as_map",
        deserialize_with = "headers_from_map"
    )]
    pub headers: Vec<(Box<str>, Box<str>)>,
    /// How the request was authenticated.
    pub auth: AuthSummary,
    /// The TLS server name (SNI) its connection asked for; `null` when none was sent (clients
    /// send none for an IP address).
    #[serde(default)]
    pub sni: Option<Arc<str>>,
    /// The request's `:authority`, or its `host` header when it had no `:authority`.
    #[serde(default)]
    pub authority: Option<Arc<str>>,
    /// For a connection through the CONNECT front door: the `host:port` the client asked the
    /// front door for.
    #[serde(default)]
    pub connect_target: Option<Arc<str>>,
    /// The environment the mock stands in for.
    pub environment: Environment,
    /// The connection's advertised `SETTINGS_MAX_CONCURRENT_STREAMS` when the push arrived.
    pub stream_limit: u32,
    /// The body, as JSON when it parses, else as text.
    pub payload: Payload,
    /// Bytes of body read (at most the limit + 1 when the body was too large).
    pub payload_size: usize,
    /// The HTTP status answered; 0 when a fault rule left the stream without an answer (reset,
    /// connection closed, stalled): `detail` says which.
    pub status: u16,
    /// Apple's reason, for a rejection.
    pub reason: Option<Reason>,
    /// The `apns-id` answered (the client's, or a generated upper-case UUID).
    pub apns_id: Box<str>,
    /// The `apns-unique-id` answered (development environment only).
    pub apns_unique_id: Option<Box<str>>,
    /// The 410 timestamp (epoch ms).
    pub timestamp: Option<u64>,
    /// The mock's own explanation of a rejection, or notes on behaviour Apple does not
    /// document. Never sent to the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Box<str>>,
    /// The fault rule that changed this push's fate, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<AppliedFault>,
    /// Mistakes APNs accepted but a phone pays for (`docs/phones.md` §5); empty: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lint: Vec<LintFinding>,
    /// What the phone owning the token did with the push (accepted pushes to a phone only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// A fault rule applied to a push.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppliedFault {
    /// The rule's id.
    pub rule_id: u64,
    /// The rule's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What it did.
    pub action: crate::faults::Action,
}

#[cfg(test)]
impl Notification {
    /// A plain record for unit tests.
    pub(crate) fn sample(id: u64, payload: Payload, status: u16) -> Self {
        Notification {
            id,
            received_at: 1_700_000_000_000,
            connection_id: 1,
            stream_id: 1,
            method: "POST".into(),
            path: "/3/device/ab".into(),
            device_token: Some("ab".into()),
            headers: vec![("apns-topic".into(), "com.example.app.voip".into())],
            auth: AuthSummary::default(),
            sni: Some("localhost".into()),
            authority: Some("localhost:2197".into()),
            connect_target: None,
            environment: crate::Environment::Development,
            stream_limit: 1,
            payload_size: payload.as_str().len(),
            payload,
            status,
            reason: None,
            apns_id: "ABA4427E-50AB-4F5C-8360-E4E4CC041DA2".into(),
            apns_unique_id: None,
            timestamp: None,
            detail: Some("a \"quoted\" note".into()),
            fault: None,
            lint: Vec::new(),
            delivery: None,
        }
    }
}

impl Notification {
    /// The first value of an `apns-*` header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| &**v)
    }

    /// `apns-topic`.
    pub fn topic(&self) -> Option<&str> {
        self.header("apns-topic")
    }

    /// `apns-push-type`, when it is one of Apple's values.
    pub fn push_type(&self) -> Option<PushType> {
        self.header("apns-push-type").and_then(|v| v.parse().ok())
    }

    /// Whether the mock answered 200.
    pub fn accepted(&self) -> bool {
        self.status == 200
    }

    /// The payload parsed as JSON (`Value::String` of the text when it is not JSON).
    pub fn payload_json(&self) -> serde_json::Value {
        match &self.payload {
            Payload::Json(raw) => serde_json::from_str(raw).unwrap_or(serde_json::Value::Null),
            Payload::Text(t) => serde_json::Value::String(t.to_string()),
        }
    }

    /// This record as one JSON line (no trailing newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn headers_as_map<S: Serializer>(h: &[(Box<str>, Box<str>)], s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    let mut seen: Vec<&str> = Vec::with_capacity(h.len());
    for (name, value) in h {
        // A repeated header keeps its first value here; the rejection says which was repeated.
        if !seen.contains(&&**name) {
            seen.push(name);
            map.serialize_entry(&**name, &**value)?;
        }
    }
    map.end()
}

/// `apns-*` headers in the order they came: (name, value).
type Headers = Vec<(Box<str>, Box<str>)>;

/// Reads the `headers` object back in document order.
fn headers_from_map<'de, D: Deserializer<'de>>(d: D) -> Result<Headers, D::Error> {
    struct InOrder;
    impl<'de> Visitor<'de> for InOrder {
        type Value = Headers;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an object of header names and values")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
            while let Some((name, value)) = map.next_entry::<String, String>()? {
                out.push((name.into(), value.into()));
            }
            Ok(out)
        }
    }
    d.deserialize_map(InOrder)
}

/// How a request was authenticated.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct AuthSummary {
    /// `token` (a verified provider token), `certificate` (a client certificate), or `none`.
    pub kind: AuthKind,
    /// `kid` of the provider token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<Box<str>>,
    /// `iss` of the provider token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Box<str>>,
    /// `iat` of the provider token (epoch seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// The first 16 hex digits of the provider token's SHA-256: tells a refreshed token from
    /// the one it replaces even when both were issued in the same second (same `iat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_sha256: Option<Box<str>>,
    /// How the provider token was written: `base64url, unpadded, raw R‖S signature` (JWT's
    /// own form), or e.g. `standard base64, padded, DER signature` (a2 with OpenSSL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_form: Option<Box<str>>,
    /// The client certificate's subject.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Box<str>>,
    /// The client certificate's topics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topics: Option<Vec<String>>,
}

/// The kind of authentication a request carried.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthKind {
    /// No verified credentials (rejected before, or at, authentication).
    #[default]
    None,
    /// A verified provider token (JWT).
    Token,
    /// A client certificate issued by the mock's CA.
    Certificate,
}

/// A request body, kept as the bytes arrived: memory stays close to the payload's own size.
#[derive(Debug, Clone)]
pub enum Payload {
    /// Valid JSON text.
    Json(Box<str>),
    /// Anything else (lossy UTF-8).
    Text(Box<str>),
}

impl Payload {
    /// Classifies a body: JSON when it is valid UTF-8 and parses, else its text (lossy UTF-8).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        match std::str::from_utf8(bytes) {
            Ok(text) if crate::record::json_syntax::is_json(text) => Payload::Json(text.into()),
            Ok(text) => Payload::Text(text.into()),
            Err(_) => Payload::Text(String::from_utf8_lossy(bytes).into()),
        }
    }

    /// The body text.
    pub fn as_str(&self) -> &str {
        match self {
            Payload::Json(t) | Payload::Text(t) => t,
        }
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Json(raw) => match serde_json::value::RawValue::from_string(raw.to_string()) {
                Ok(raw) => raw.serialize(s),
                Err(_) => s.serialize_str(raw),
            },
            Payload::Text(t) => s.serialize_str(t),
        }
    }
}

/// A JSON string reads back as [`Payload::Text`] (the record writes a non-JSON body as a
/// string); anything else as [`Payload::Json`], its text as it stands in the record.
impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        if raw.get().starts_with('"') {
            let text: String = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
            return Ok(Payload::Text(text.into()));
        }
        Ok(Payload::Json(raw.get().into()))
    }
}
