//! The record: listing with filters, and the long-poll that waits for pushes.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde_json::json;

use super::plumbing::{error, ok, query_u64, reply, Reply};
use crate::state::Shared;
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
    let mut body = pushes_json(&found, &PushFilter::default());
    if !complete {
        body["error"] = json!(format!(
            "timed out after {} ms with {} of {count} pushes",
            timeout.as_millis(),
            found.len()
        ));
        return reply(StatusCode::REQUEST_TIMEOUT, body);
    }
    ok(body)
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

    fn matches(&self, n: &Notification) -> bool {
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

pub(super) fn pushes_json(all: &[Arc<Notification>], filter: &PushFilter) -> serde_json::Value {
    let pushes: Vec<_> = all
        .iter()
        .filter(|n| filter.matches(n))
        .map(|n| &**n)
        .collect();
    json!({ "pushes": pushes })
}

#[cfg(test)]
mod tests {
    use super::super::plumbing::parse_query;
    use super::*;

    #[test]
    fn unknown_filters_are_named() {
        let q = parse_query("colour=red");
        let err = PushFilter::from_query(&q, &[]).unwrap_err();
        assert!(err.contains("\"colour\""), "{err}");
    }
}
