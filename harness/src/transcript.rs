//! [`Transcript`]: what happened, step by step, normalised so that a snapshot of it only
//! changes when the traffic does.
//!
//! Normalisation happens in two places. Here: tokens are shown by name (`bob-iphone.voip`),
//! values captured from the provider by their variable (`[call_id]`), the provider's and
//! the mock's ports are hidden, connections and provider tokens (JWTs) are numbered in order
//! of appearance, and the pushes of one step are ordered by (token, topic, arrival) so that
//! concurrency cannot reorder a snapshot. In the snapshot: `apns-id`, `apns-unique-id`,
//! arrival times and 410 timestamps are insta redactions (`snapshot::redactions`),
//! so the transcript itself keeps the real values for failure reports.

use std::collections::BTreeMap;

use mock_apns::{AppliedFault, AuthKind, ConnectionSummary, Notification, Reason};
use serde::Serialize;
use serde_json::Value;

/// Strings longer than this are shortened in the transcript (an oversized payload stays
/// readable).
const LONG_STRING: usize = 200;

/// Everything one scenario run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    /// The scenario's name (its file stem).
    pub scenario: String,
    /// Its description.
    pub description: String,
    /// One entry per step.
    pub steps: Vec<StepRecord>,
    /// The connections the pushes came on, in order of appearance, and how the mock ended
    /// them (a GOAWAY, a close) when it did.
    pub connections: Vec<ConnectionView>,
    /// Each phone's timeline at the end, one line per event (no times, no push ids), for a
    /// scenario with phone steps (`expect_ringing`, `answer`, `phone_offline`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phones: Option<BTreeMap<String, Vec<String>>>,
}

/// One connection of the transcript.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView {
    /// Its number in this transcript.
    pub connection: usize,
    /// The ALPN protocol negotiated (`h2`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// How the mock ended it (`GOAWAY Shutdown (NO_ERROR), …`), if it did by the end of the
    /// scenario. Closings by the provider are left out: their timing is the provider's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_by_mock: Option<String>,
}

/// A fault rule that decided a push.
#[derive(Debug, Clone, Serialize)]
pub struct FaultView {
    /// The rule's name in the scenario.
    pub rule: String,
    /// What it did.
    pub action: Value,
}

/// One step and what it observed.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// Position, from 1.
    pub step: usize,
    /// What the step did, in one line: `call POST /calls`, `expect 2 pushes (push_type voip)`.
    pub action: String,
    /// The request body of a call, as the scenario wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Value>,
    /// The provider's answer to a call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Answer>,
    /// A command's exit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    /// For expectations: every push that reached the mock since the previous expectation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushes: Option<Vec<Exchange>>,
    /// For phone steps: what the phone showed (`ringing: [...]`, `last_push: ...`, the call
    /// answered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<Value>,
}

/// The provider's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// JSON body (a string when not JSON, null when empty).
    pub body: Value,
}

/// One request that reached the mock, and the mock's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// The token, by name (`bob-ipad.voip`), or as sent when the scenario does not know it.
    pub device: String,
    /// Connection number, in order of appearance in this transcript.
    pub connection: usize,
    /// `:method`.
    pub method: String,
    /// `:path`, the token shown by name.
    pub path: String,
    /// Every `apns-*` header, sorted by name.
    pub headers: BTreeMap<String, String>,
    /// How the request authenticated.
    pub auth: AuthView,
    /// The body.
    pub payload: Value,
    /// The mock's status.
    pub status: u16,
    /// Apple's reason, for a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// The 410 timestamp (redacted in snapshots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<u64>,
    /// The fault rule that decided the answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultView>,
    /// The ids of the lint rules the push broke (APNs accepted it; a phone pays).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lint: Vec<String>,
    /// `apns-id` answered (redacted in snapshots).
    pub apns_id: String,
    /// `apns-unique-id` answered (redacted in snapshots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apns_unique_id: Option<String>,
    /// Arrival, epoch ms on the mock's clock (redacted in snapshots).
    pub received_at: u64,
}

/// Authentication, without the token itself.
#[derive(Debug, Clone, Serialize)]
pub struct AuthView {
    /// `token`, `certificate` or `none`.
    pub kind: AuthKind,
    /// `kid` (the scenario's key id when it is the harness's key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// `iss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// Which provider token this is: 1 for the first `iat` seen, 2 after a refresh, ….
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<usize>,
}

/// A step as the runner saw it, before normalisation.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawStep {
    pub(crate) action: String,
    pub(crate) request: Option<Value>,
    pub(crate) response: Option<(u16, Value)>,
    pub(crate) exit: Option<i32>,
    pub(crate) records: Option<Vec<Notification>>,
    pub(crate) phone: Option<Value>,
}

/// What normalisation needs to know about the run.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Token value (lower case) → token name.
    pub(crate) tokens: Vec<(String, String)>,
    /// Captured value → variable name.
    pub(crate) captures: Vec<(String, String)>,
    /// `host:port` strings to hide, with their replacement.
    pub(crate) addresses: Vec<(String, String)>,
    /// The key actually used → the scenario's key id and team id.
    pub(crate) key: Option<((String, String), (String, String))>,
    /// Fault rule id → its name in the scenario.
    pub(crate) faults: Vec<(u64, String)>,
    /// The mock's connections at the end of the run.
    pub(crate) connections: Vec<ConnectionSummary>,
}

impl Names {
    fn token_name(&self, token: &str) -> Option<&str> {
        self.tokens
            .iter()
            .find(|(value, _)| value.eq_ignore_ascii_case(token))
            .map(|(_, name)| name.as_str())
    }

    /// A token's display name.
    pub(crate) fn device(&self, token: &str) -> String {
        self.token_name(token).unwrap_or(token).to_owned()
    }

    fn string(&self, s: &str) -> Value {
        if let Some((_, var)) = self.captures.iter().find(|(v, _)| v == s) {
            return Value::String(format!("[{var}]"));
        }
        let mut out = s.to_owned();
        for (value, name) in &self.tokens {
            if out.to_ascii_lowercase().contains(value.as_str()) {
                out = replace_ignore_case(&out, value, &format!("[{name}]"));
            }
        }
        for (value, var) in &self.captures {
            // Short values (a call id of "7") would match by accident inside other text.
            if value.len() >= 8 {
                out = out.replace(value.as_str(), &format!("[{var}]"));
            }
        }
        for (address, replacement) in &self.addresses {
            out = out.replace(address.as_str(), replacement);
        }
        for (id, name) in &self.faults {
            out = replace_rule_id(&out, *id, name);
        }
        if out.chars().count() > LONG_STRING {
            let head: String = out.chars().take(40).collect();
            out = format!("{head}… ({} characters)", out.chars().count());
        }
        Value::String(out)
    }

    /// Normalises every string (and captured number) in a JSON value.
    pub(crate) fn value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => self.string(s),
            Value::Number(n) => match self.captures.iter().find(|(c, _)| *c == n.to_string()) {
                Some((_, var)) => Value::String(format!("[{var}]")),
                None => v.clone(),
            },
            Value::Array(items) => Value::Array(items.iter().map(|i| self.value(i)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.value(v)))
                    .collect(),
            ),
            Value::Null | Value::Bool(_) => v.clone(),
        }
    }

    /// A phone's timeline as transcript lines: tokens, captures and addresses by name.
    pub(crate) fn timeline(&self, entries: &[mock_apns::phones::TimelineEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| self.text(&e.event.describe()))
            .collect()
    }

    /// A string with tokens, captures, addresses and fault ids by name.
    pub(crate) fn text(&self, s: &str) -> String {
        match self.string(s) {
            Value::String(s) => s,
            other => other.to_string(),
        }
    }
}

/// `fault rule #3 …` → `fault rule [name] …` (ids differ between mocks, names do not).
fn replace_rule_id(text: &str, id: u64, name: &str) -> String {
    let needle = format!("#{id}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        out.push_str(&rest[..at]);
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            out.push_str(&needle);
        } else {
            out.push_str(&format!("[{name}]"));
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

fn replace_ignore_case(haystack: &str, needle: &str, with: &str) -> String {
    let lower = haystack.to_ascii_lowercase();
    let mut out = String::with_capacity(haystack.len());
    let mut last = 0;
    for (at, _) in lower.match_indices(needle) {
        out.push_str(&haystack[last..at]);
        out.push_str(with);
        last = at + needle.len();
    }
    out.push_str(&haystack[last..]);
    out
}

/// Turns raw steps into the transcript: names, numbering, ordering.
pub(crate) fn build(
    scenario: &str,
    description: &str,
    raw: &[RawStep],
    names: &Names,
) -> Transcript {
    let mut connections: Vec<u64> = Vec::new();
    let mut jwts: Vec<(Option<String>, String)> = Vec::new();
    let steps = raw
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let pushes = step.records.as_ref().map(|records| {
                in_order(records, names)
                    .into_iter()
                    .map(|r| exchange(r, names, &mut connections, &mut jwts))
                    .collect()
            });
            StepRecord {
                step: i + 1,
                action: step.action.clone(),
                request: step.request.as_ref().map(|b| names.value(b)),
                response: step.response.as_ref().map(|(status, body)| Answer {
                    status: *status,
                    body: names.value(body),
                }),
                exit: step.exit,
                pushes,
                phone: step.phone.as_ref().map(|p| names.value(p)),
            }
        })
        .collect();
    let connections = connections
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let info = names.connections.iter().find(|c| c.id == *id);
            ConnectionView {
                connection: i + 1,
                alpn: info.and_then(|c| c.alpn.clone()),
                ended_by_mock: info
                    .and_then(|c| c.closed_how.as_deref())
                    .filter(|how| ended_by_mock(how))
                    .map(|how| names.text(how)),
            }
        })
        .collect();
    Transcript {
        scenario: scenario.to_owned(),
        description: description.to_owned(),
        steps,
        connections,
        phones: None,
    }
}

/// A step's pushes in the transcript's order: by token name, topic, then arrival, whatever
/// order concurrency gave them.
pub(crate) fn in_order<'a>(records: &'a [Notification], names: &Names) -> Vec<&'a Notification> {
    let mut sorted: Vec<&Notification> = records.iter().collect();
    sorted.sort_by_cached_key(|r| {
        (
            r.device_token.as_deref().map(|t| names.device(t)),
            r.topic().map(str::to_owned),
            r.id,
        )
    });
    sorted
}

/// Whether a connection's end was the mock's doing (so its timing is the scenario's).
fn ended_by_mock(how: &str) -> bool {
    how.starts_with("GOAWAY") || how.starts_with("closed without GOAWAY")
}

fn number<T: PartialEq>(seen: &mut Vec<T>, item: T) -> usize {
    match seen.iter().position(|s| *s == item) {
        Some(i) => i + 1,
        None => {
            seen.push(item);
            seen.len()
        }
    }
}

fn exchange(
    r: &Notification,
    names: &Names,
    connections: &mut Vec<u64>,
    jwts: &mut Vec<(Option<String>, String)>,
) -> Exchange {
    let device = r
        .device_token
        .as_deref()
        .map_or_else(|| "-".to_owned(), |t| names.device(t));
    let (rk, rt) = (r.auth.key_id.as_deref(), r.auth.team_id.as_deref());
    let (key_id, team_id) = match (&names.key, rk, rt) {
        (Some(((k, t), (sk, st))), Some(rk), Some(rt)) if k == rk && t == rt => {
            (Some(sk.clone()), Some(st.clone()))
        }
        (_, k, t) => (k.map(str::to_owned), t.map(str::to_owned)),
    };
    // A token is told apart by its fingerprint when the mock reports one (a refresh within
    // the same second keeps `iat`), else by its `iat`.
    let identity = match (r.auth.token_sha256.as_deref(), r.auth.iat) {
        (Some(sha), _) => Some(sha.to_owned()),
        (None, Some(iat)) => Some(iat.to_string()),
        (None, None) => None,
    };
    let jwt = identity.map(|id| number(jwts, (rk.map(str::to_owned), id)));
    Exchange {
        device,
        connection: number(connections, r.connection_id),
        method: r.method.to_string(),
        path: names.text(&r.path),
        headers: r
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), names.text(v)))
            .collect(),
        auth: AuthView {
            kind: r.auth.kind,
            key_id,
            team_id,
            jwt,
        },
        payload: names.value(&r.payload_json()),
        status: r.status,
        reason: r.reason,
        timestamp: r.timestamp,
        fault: r.fault.as_ref().map(|f| fault_view(f, names)),
        lint: r.lint.iter().map(|f| f.rule.clone()).collect(),
        apns_id: r.apns_id.to_string(),
        apns_unique_id: r.apns_unique_id.as_deref().map(str::to_owned),
        received_at: r.received_at,
    }
}

fn fault_view(applied: &AppliedFault, names: &Names) -> FaultView {
    let rule = names
        .faults
        .iter()
        .find(|(known, _)| *known == applied.rule_id)
        .map(|(_, name)| name.clone())
        .or_else(|| applied.name.clone())
        .unwrap_or_else(|| format!("#{}", applied.rule_id));
    // As the admin API writes it, so its strings are normalised like the rest.
    let action = serde_json::to_value(&applied.action).unwrap_or_default();
    FaultView {
        rule,
        action: names.value(&action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mock_apns::{AuthSummary, Environment, Payload};
    use serde_json::json;

    fn record(id: u64, token: &str, topic: &str, connection: u64, iat: u64) -> Notification {
        let payload =
            json!({"call_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "to": token}).to_string();
        Notification {
            id,
            received_at: 1,
            connection_id: connection,
            stream_id: 1,
            method: "POST".into(),
            path: format!("/3/device/{token}").into(),
            device_token: Some(token.into()),
            sni: None,
            authority: None,
            connect_target: None,
            headers: vec![("apns-topic".into(), topic.into())],
            auth: AuthSummary {
                kind: AuthKind::Token,
                key_id: Some("REALKEY001".into()),
                team_id: Some("TEAM000001".into()),
                iat: Some(iat),
                ..AuthSummary::default()
            },
            environment: Environment::Development,
            stream_limit: 1000,
            payload_size: payload.len(),
            payload: Payload::from_bytes(payload.as_bytes()),
            status: 200,
            reason: None,
            apns_id: "X".into(),
            apns_unique_id: None,
            timestamp: None,
            detail: None,
            fault: None,
            lint: Vec::new(),
            delivery: None,
        }
    }

    fn names() -> Names {
        Names {
            tokens: vec![
                ("aa".into(), "bob-ipad.voip".into()),
                ("bb".into(), "bob-iphone.voip".into()),
            ],
            captures: vec![(
                "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
                "call_id".into(),
            )],
            addresses: vec![],
            faults: vec![(3, "outage".into())],
            connections: vec![],
            key: Some((
                ("REALKEY001".into(), "TEAM000001".into()),
                ("HARNESSKEY".into(), "DEVTEAM001".into()),
            )),
        }
    }

    #[test]
    fn arrival_order_does_not_change_the_transcript() {
        let a = record(1, "BB", "t.voip", 7, 100);
        let b = record(2, "aa", "t.voip", 9, 100);
        let step = |records| RawStep {
            action: "expect".into(),
            records: Some(records),
            ..RawStep::default()
        };
        let one = build("s", "d", &[step(vec![a.clone(), b.clone()])], &names());
        let two = build("s", "d", &[step(vec![b, a])], &names());
        let devices = |t: &Transcript| {
            t.steps[0]
                .pushes
                .as_ref()
                .unwrap()
                .iter()
                .map(|e| e.device.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(devices(&one), ["bob-ipad.voip", "bob-iphone.voip"]);
        assert_eq!(devices(&one), devices(&two));
        let first = &one.steps[0].pushes.as_ref().unwrap()[0];
        assert_eq!(first.connection, 1, "numbered in order of appearance");
        assert_eq!(first.path, "/3/device/[bob-ipad.voip]");
        assert_eq!(
            first.payload,
            json!({"call_id": "[call_id]", "to": "[bob-ipad.voip]"})
        );
        assert_eq!(first.auth.key_id.as_deref(), Some("HARNESSKEY"));
    }

    #[test]
    fn a_new_iat_is_a_new_jwt_number() {
        let raw = RawStep {
            records: Some(vec![
                record(1, "aa", "t", 1, 100),
                record(2, "aa", "t", 1, 4000),
            ]),
            ..RawStep::default()
        };
        let t = build("s", "d", &[raw], &names());
        let jwts: Vec<_> = t.steps[0]
            .pushes
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| e.auth.jwt)
            .collect();
        assert_eq!(jwts, [Some(1), Some(2)]);
    }

    #[test]
    fn a_refresh_in_the_same_second_is_a_new_jwt_number() {
        let mut a = record(1, "aa", "t", 1, 100);
        let mut b = record(2, "aa", "t", 2, 100);
        a.auth.token_sha256 = Some("0123456789abcdef".into());
        b.auth.token_sha256 = Some("fedcba9876543210".into());
        let raw = RawStep {
            records: Some(vec![a, b]),
            ..RawStep::default()
        };
        let t = build("s", "d", &[raw], &names());
        let jwts: Vec<_> = t.steps[0]
            .pushes
            .as_ref()
            .unwrap()
            .iter()
            .map(|e| e.auth.jwt)
            .collect();
        assert_eq!(jwts, [Some(1), Some(2)]);
    }

    #[test]
    fn fault_rule_ids_become_names() {
        assert_eq!(
            names().text("GOAWAY Shutdown (NO_ERROR): fault rule #3, not #31"),
            "GOAWAY Shutdown (NO_ERROR): fault rule [outage], not #31"
        );
    }

    #[test]
    fn long_strings_are_shortened() {
        let v = names().value(&json!("x".repeat(6000)));
        assert_eq!(v, json!(format!("{}… (6000 characters)", "x".repeat(40))));
    }
}
