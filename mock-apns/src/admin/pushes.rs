//! The record: listing with filters, and the long-poll that waits for pushes.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use super::plumbing::{error, query_u64, reply_raw, Reply};
use crate::shared::Shared;
use crate::{Notification, Reason};

/// Longest long-poll accepted, so a forgotten waiter cannot hold a connection forever.
const MAX_WAIT: Duration = Duration::from_secs(300);
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

pub(super) async fn wait(query: &[(String, String)], shared: &Shared) -> Reply {
    let filter = match PushFilter::from_query(query, &["count", "timeout_ms"]) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let count = match query_u64(query, "count") {
        Ok(n) => n.unwrap_or(1) as usize,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let timeout = match query_u64(query, "timeout_ms") {
        Ok(ms) => ms.map_or(DEFAULT_WAIT, Duration::from_millis).min(MAX_WAIT),
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let (found, complete) = shared
        .recorder
        .wait_for(count, timeout, |n| filter.matches(n))
        .await;
    if complete {
        return reply_raw(
            StatusCode::OK,
            pushes_body(&found, &PushFilter::default(), None),
        );
    }
    let error = format!(
        "timed out after {} ms with {} of {count} pushes",
        timeout.as_millis(),
        found.len()
    );
    reply_raw(
        StatusCode::REQUEST_TIMEOUT,
        pushes_body(&found, &PushFilter::default(), Some(&error)),
    )
}

/// Filters for listing and waiting; every field must match when set.
#[derive(Debug, Default)]
pub(crate) struct PushFilter {
    device_token: Option<String>,
    topic: Option<String>,
    push_type: Option<String>,
    status: Option<u16>,
    reason: Option<Reason>,
}

impl PushFilter {
    pub(super) fn from_query(
        query: &[(String, String)],
        also_allowed: &[&str],
    ) -> Result<Self, String> {
        let mut f = PushFilter::default();
        for (k, v) in query {
            match k.as_str() {
                "device_token" => f.device_token = Some(v.to_ascii_lowercase()),
                "topic" => f.topic = Some(v.clone()),
                "push_type" => f.push_type = Some(v.clone()),
                "status" => {
                    f.status = Some(v.parse().map_err(|_| format!("status {v:?} is not a number"))?)
                }
                "reason" => f.reason = Some(v.parse().map_err(|e| format!("{e}"))?),
                k if also_allowed.contains(&k) => {}
                k => {
                    return Err(format!(
                        "unknown query parameter {k:?} (filters: device_token, topic, push_type, status, reason)"
                    ))
                }
            }
        }
        Ok(f)
    }

    pub(super) fn matches(&self, n: &Notification) -> bool {
        self.device_token.as_deref().is_none_or(|t| {
            n.device_token
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(t))
        }) && self.topic.as_deref().is_none_or(|t| n.topic() == Some(t))
            && self
                .push_type
                .as_deref()
                .is_none_or(|t| n.header("apns-push-type") == Some(t))
            && self.status.is_none_or(|s| n.status == s)
            && self.reason.is_none_or(|r| n.reason == Some(r))
    }
}

/// `{"pushes":[...]}`, with `"error"` first when given, written one record at a time.
///
/// The whole listing built as one `serde_json::Value` cost ~9 KB per record at its peak: a
/// 100 000-record listing took the process from 220 MB to 1.1 GB. Each record still passes
/// through a `Value` of its own, so the bytes are the same as before (keys sorted, payload
/// re-serialized).
pub(super) fn pushes_body(
    all: &[Arc<Notification>],
    filter: &PushFilter,
    error: Option<&str>,
) -> Vec<u8> {
    let mut out = b"{".to_vec();
    if let Some(error) = error {
        out.extend_from_slice(b"\"error\":");
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, error);
        out.push(b',');
    }
    out.extend_from_slice(b"\"pushes\":[");
    let mut first = true;
    for n in all.iter().filter(|n| filter.matches(n)) {
        // A Notification always serializes (its payload falls back to a string).
        let Ok(value) = serde_json::to_value(&**n) else {
            continue;
        };
        if !first {
            out.push(b',');
        }
        first = false;
        let _ = serde_json::to_writer(&mut out, &value);
    }
    out.extend_from_slice(b"]}");
    out
}

#[cfg(test)]
mod tests {
    use super::super::plumbing::parse_query;
    use super::*;

    use crate::Payload;
    use serde_json::json;

    fn record(id: u64, payload: Payload, status: u16) -> Arc<Notification> {
        Arc::new(Notification::sample(id, payload, status))
    }

    #[test]
    fn listings_written_record_by_record_match_the_single_value_bytes() {
        let all = [
            record(
                1,
                Payload::Json(r#"{"z":1,"a":{"y":2.50,"b":[3]}}"#.into()),
                200,
            ),
            record(2, Payload::Text("not json".into()), 400),
            record(3, Payload::Json("{}".into()), 200),
        ];
        let refs: Vec<&Notification> = all.iter().map(|n| &**n).collect();
        let mut expected = json!({ "pushes": refs });
        assert_eq!(
            String::from_utf8(pushes_body(&all, &PushFilter::default(), None)).unwrap(),
            expected.to_string()
        );
        expected["error"] = json!("timed out \"here\"");
        assert_eq!(
            String::from_utf8(pushes_body(
                &all,
                &PushFilter::default(),
                Some("timed out \"here\"")
            ))
            .unwrap(),
            expected.to_string()
        );
        let accepted = PushFilter {
            status: Some(200),
            ..PushFilter::default()
        };
        let refs: Vec<&Notification> = [&all[0], &all[2]].iter().map(|n| &***n).collect();
        assert_eq!(
            String::from_utf8(pushes_body(&all, &accepted, None)).unwrap(),
            json!({ "pushes": refs }).to_string()
        );
        assert_eq!(
            pushes_body(&[], &PushFilter::default(), None),
            br#"{"pushes":[]}"#
        );
    }

    #[test]
    fn unknown_filters_are_named() {
        let q = parse_query("colour=red");
        let err = PushFilter::from_query(&q, &[]).unwrap_err();
        assert!(err.contains("\"colour\""), "{err}");
    }
}
