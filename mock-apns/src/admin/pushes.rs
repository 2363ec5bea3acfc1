//! The record through the admin API: pages of it (filters, `limit`, the `after` cursor),
//! streamed record by record, the long-poll that waits for pushes, and one push as the iOS
//! Simulator's `.apns` file.
//!
//! A listing's memory is its page's, never the record's: 50 concurrent listings of a
//! 100 000-record mock once took it from 0.3 to 4.8 GB, as each built its whole answer (~80 MB)
//! before sending a byte.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt as _;
use hyper::body::{Body, Frame};

use super::plumbing::{error, query_u64, reply_body, reply_raw, wait_timeout, Reply};
use crate::lint::RULES;
use crate::phones::DeliveryStatus;
use crate::record::compact::Record;
use crate::shared::Shared;
use crate::Reason;

/// Records per page when `limit` is not given.
pub(crate) const DEFAULT_PAGE: usize = 1000;
/// The largest `limit` accepted.
pub(crate) const MAX_PAGE: usize = 10_000;
/// A streamed listing is written in chunks of about this many bytes.
const CHUNK: usize = 16 * 1024;

/// `GET /api/v1/pushes`: one page of the matching records.
pub(super) fn list(query: &[(String, String)], shared: &Shared) -> Reply {
    let (filter, paging) = match PushFilter::from_query(query, &[]).and_then(|f| {
        let paging = Paging::from_query(query)?;
        Ok((f, paging))
    }) {
        Ok(parsed) => parsed,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let (page, more) = shared
        .recorder
        .page(paging.after, paging.limit, |n| filter.matches(n));
    reply_body(StatusCode::OK, Listing::new(page, more, None).boxed())
}

/// `GET /api/v1/pushes/wait`: once `count` matching records (after the cursor) exist, their
/// first page; `408` with the first page of what exists when `timeout_ms` passes first.
pub(super) async fn wait(query: &[(String, String)], shared: &Shared) -> Reply {
    let filter = match PushFilter::from_query(query, &["count", "timeout_ms"]) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let paging = match Paging::from_query(query) {
        Ok(p) => p,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let count = match query_u64(query, "count") {
        Ok(n) => usize::try_from(n.unwrap_or(1)).unwrap_or(usize::MAX),
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let timeout = match wait_timeout(query) {
        Ok(timeout) => timeout,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let matches = |n: &Record| filter.matches(n);
    let (found, complete) = shared
        .recorder
        .wait_for(count, timeout, paging.after, matches)
        .await;
    let (page, more) = shared.recorder.page(paging.after, paging.limit, matches);
    if complete {
        return reply_body(StatusCode::OK, Listing::new(page, more, None).boxed());
    }
    let error = format!(
        "timed out after {} ms with {found} of {count} pushes",
        timeout.as_millis()
    );
    reply_body(
        StatusCode::REQUEST_TIMEOUT,
        Listing::new(page, more, Some(&error)).boxed(),
    )
}

/// `GET /api/v1/pushes/{id}/apns`: the iOS Simulator's file for a push, as an attachment.
pub(super) fn simulator_file(id: &str, shared: &Shared) -> Reply {
    let Ok(n) = id.parse::<u64>() else {
        return error(StatusCode::BAD_REQUEST, format!("{id:?} is not a push id"));
    };
    let Some(push) = shared.recorder.get(n) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no push {n} in the record (cleared, or beyond --max-records)"),
        );
    };
    match push.to_notification().simulator_file() {
        Ok(file) => {
            let mut reply = reply_raw(StatusCode::OK, file.into_bytes());
            let disposition = format!("attachment; filename=\"push-{n}.apns\"");
            if let Ok(value) = http::HeaderValue::from_str(&disposition) {
                reply
                    .headers_mut()
                    .insert(http::header::CONTENT_DISPOSITION, value);
            }
            reply
        }
        Err(e) => error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
    }
}

/// Which page: records with ids above `after` (default 0), at most `limit` (default
/// [`DEFAULT_PAGE`], at most [`MAX_PAGE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Paging {
    after: u64,
    limit: usize,
}

impl Paging {
    fn from_query(query: &[(String, String)]) -> Result<Self, String> {
        let after = query_u64(query, "after")?.unwrap_or(0);
        let limit = match query_u64(query, "limit")? {
            None => DEFAULT_PAGE,
            Some(n) if (1..=MAX_PAGE as u64).contains(&n) => n as usize,
            Some(n) => return Err(format!("limit {n} is not between 1 and {MAX_PAGE}")),
        };
        Ok(Self { after, limit })
    }
}

/// Filters for listing and waiting; every field must match when set.
#[derive(Debug, Default)]
pub(crate) struct PushFilter {
    device_token: Option<String>,
    topic: Option<String>,
    push_type: Option<String>,
    status: Option<u16>,
    reason: Option<Reason>,
    /// A lint rule's id, or `any`.
    lint: Option<String>,
    phone: Option<String>,
    delivery: Option<DeliveryStatus>,
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
                    f.status = Some(
                        v.parse()
                            .map_err(|_| format!("status {v:?} is not a number"))?,
                    )
                }
                "reason" => f.reason = Some(v.parse().map_err(|e| format!("{e}"))?),
                "lint" => {
                    if v != "any" && !RULES.iter().any(|r| r.id == v) {
                        let ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
                        return Err(format!(
                            "lint {v:?} is not a rule id or \"any\" (rules: {})",
                            ids.join(", ")
                        ));
                    }
                    f.lint = Some(v.clone());
                }
                "phone" => f.phone = Some(v.clone()),
                "delivery" => f.delivery = Some(v.parse()?),
                "after" | "limit" => {}
                k if also_allowed.contains(&k) => {}
                k => {
                    return Err(format!(
                        "unknown query parameter {k:?} (filters: device_token, topic, push_type, \
                         status, reason, lint, phone, delivery; pages: after, limit)"
                    ))
                }
            }
        }
        Ok(f)
    }

    pub(super) fn matches(&self, n: &Record) -> bool {
        let extras = n.extras.as_deref();
        self.device_token
            .as_deref()
            .is_none_or(|t| n.device_token().is_some_and(|d| d.eq_ignore_ascii_case(t)))
            && self.topic.as_deref().is_none_or(|t| n.topic() == Some(t))
            && self
                .push_type
                .as_deref()
                .is_none_or(|t| n.header("apns-push-type") == Some(t))
            && self.status.is_none_or(|s| n.status == s)
            && self.reason.is_none_or(|r| n.reason == Some(r))
            && self.lint.as_deref().is_none_or(|rule| {
                extras.is_some_and(|e| e.lint.iter().any(|f| rule == "any" || f.rule.id == rule))
            })
            && self.phone.as_deref().is_none_or(|phone| {
                extras.is_some_and(|e| e.delivery.as_ref().is_some_and(|d| d.phone == phone))
            })
            && self.delivery.is_none_or(|status| {
                extras.is_some_and(|e| e.delivery.as_ref().is_some_and(|d| d.status == status))
            })
    }
}

/// A page as the body `{"error":…,"next_after":…,"pushes":[…]}` ("error" only when given),
/// written a chunk at a time as the client reads: the page's records are held (their text
/// shared, not copied) until written, their JSON never all at once.
///
/// Each record passes through a `serde_json::Value` of its own, so the bytes are those of the
/// whole answer serialized as one value (keys sorted, payload re-serialized).
#[derive(Debug)]
struct Listing {
    /// The opening, until it is sent.
    head: Option<Vec<u8>>,
    records: std::vec::IntoIter<Record>,
    first: bool,
    done: bool,
}

impl Listing {
    fn new(page: Vec<Record>, more: bool, error: Option<&str>) -> Self {
        let next_after = page.last().filter(|_| more).map(|n| n.id);
        let mut head = b"{".to_vec();
        if let Some(error) = error {
            head.extend_from_slice(b"\"error\":");
            // Writing a string into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut head, error);
            head.push(b',');
        }
        head.extend_from_slice(b"\"next_after\":");
        let _ = serde_json::to_writer(&mut head, &next_after);
        head.extend_from_slice(b",\"pushes\":[");
        Self {
            head: Some(head),
            records: page.into_iter(),
            first: true,
            done: false,
        }
    }

    /// The next chunk: at least [`CHUNK`] bytes unless it is the last.
    fn next_chunk(&mut self) -> Vec<u8> {
        let mut out = self.head.take().unwrap_or_default();
        while out.len() < CHUNK {
            let Some(n) = self.records.next() else {
                out.extend_from_slice(b"]}");
                self.done = true;
                break;
            };
            // A Notification always serializes (its payload falls back to a string).
            let Ok(value) = serde_json::to_value(n.to_notification()) else {
                continue;
            };
            if !self.first {
                out.push(b',');
            }
            self.first = false;
            let _ = serde_json::to_writer(&mut out, &value);
        }
        out
    }
}

impl Body for Listing {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(this.next_chunk())))))
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::super::plumbing::parse_query;
    use super::*;

    use crate::{Notification, Payload};
    use serde_json::json;

    fn record(id: u64, payload: Payload, status: u16) -> Record {
        Record::from_notification(&Notification::sample(id, payload, status))
    }

    async fn written(page: &[Record], more: bool, error: Option<&str>) -> String {
        let body = Listing::new(page.to_vec(), more, error).collect().await;
        String::from_utf8(body.unwrap().to_bytes().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn listings_streamed_record_by_record_match_the_single_value_bytes() {
        let notifications = [
            Notification::sample(
                1,
                Payload::Json(r#"{"z":1,"a":{"y":2.50,"b":[3]}}"#.into()),
                200,
            ),
            Notification::sample(2, Payload::Text("not json".into()), 400),
            Notification::sample(3, Payload::Json("{}".into()), 200),
        ];
        // Kept compact, listed as the Notifications they were made from.
        let all: Vec<Record> = notifications
            .iter()
            .map(Record::from_notification)
            .collect();
        let mut expected = json!({ "pushes": notifications, "next_after": null });
        assert_eq!(written(&all, false, None).await, expected.to_string());
        expected["error"] = json!("timed out \"here\"");
        expected["next_after"] = json!(3);
        assert_eq!(
            written(&all, true, Some("timed out \"here\"")).await,
            expected.to_string()
        );
        assert_eq!(
            written(&[], false, None).await,
            r#"{"next_after":null,"pushes":[]}"#
        );
    }

    #[tokio::test]
    async fn a_long_page_is_written_in_chunks() {
        let big = Payload::Json(format!(r#"{{"pad":"{}"}}"#, "x".repeat(4000)).into());
        let page: Vec<_> = (1..=40).map(|id| record(id, big.clone(), 200)).collect();
        let mut listing = Listing::new(page, false, None);
        let mut chunks = Vec::new();
        while !listing.done {
            chunks.push(listing.next_chunk());
        }
        assert!(chunks.len() >= 8, "{} chunks", chunks.len());
        assert!(chunks.iter().all(|c| c.len() < 2 * CHUNK));
        let whole: serde_json::Value = serde_json::from_slice(&chunks.concat()).unwrap();
        assert_eq!(whole["pushes"].as_array().map(Vec::len), Some(40));
    }

    #[test]
    fn limit_and_after_are_checked() {
        let paging = |q: &str| Paging::from_query(&parse_query(q));
        assert_eq!(
            paging(""),
            Ok(Paging {
                after: 0,
                limit: DEFAULT_PAGE
            })
        );
        assert_eq!(
            paging("after=7&limit=10000"),
            Ok(Paging {
                after: 7,
                limit: MAX_PAGE
            })
        );
        for bad in ["limit=0", "limit=10001", "limit=x", "after=-1"] {
            assert!(paging(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_filters_are_named() {
        let q = parse_query("colour=red");
        let err = PushFilter::from_query(&q, &[]).unwrap_err();
        assert!(err.contains("\"colour\""), "{err}");
    }
}
