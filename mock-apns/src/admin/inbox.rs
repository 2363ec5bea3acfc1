//! What the web UI's push inbox reads: the record a page at a time, newest first, with a text
//! search; one push by id; and the tables it explains pushes with (reasons, push types), served
//! from the library so no table is copied into JavaScript.

use http::StatusCode;
use serde::Serialize;
use serde_json::json;

use super::plumbing::{error, ok, query_u64, reply_raw, Reply};
use super::pushes::PushFilter;
use crate::record::compact::Record;
use crate::shared::Shared;
use crate::{Notification, PushType, Reason};

/// A page when the caller gives no `limit`, and the most it may ask for.
const DEFAULT_PAGE: u64 = 100;
const MAX_PAGE: u64 = 1000;

/// The filters of `/api/v1/pushes` plus `q` (text in the payload, ASCII case ignored) and
/// `outcome` (`accepted`: status 200; `rejected`: anything else).
#[derive(Debug)]
pub(super) struct InboxQuery {
    filter: PushFilter,
    text: Option<String>,
    accepted: Option<bool>,
}

impl InboxQuery {
    pub(super) fn from_query(
        query: &[(String, String)],
        also_allowed: &[&str],
    ) -> Result<Self, String> {
        let mut allowed = vec!["q", "outcome"];
        allowed.extend_from_slice(also_allowed);
        let filter = PushFilter::from_query(query, &allowed)?;
        let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v);
        let text = get("q").filter(|q| !q.is_empty()).cloned();
        let accepted = match get("outcome").map(String::as_str) {
            None => None,
            Some("accepted") => Some(true),
            Some("rejected") => Some(false),
            Some(other) => {
                return Err(format!(
                    "outcome {other:?} is neither \"accepted\" nor \"rejected\""
                ))
            }
        };
        Ok(Self {
            filter,
            text,
            accepted,
        })
    }

    pub(super) fn matches(&self, n: &Record) -> bool {
        self.filter.matches(n)
            && self.accepted.is_none_or(|a| (n.status == 200) == a)
            && self
                .text
                .as_deref()
                .is_none_or(|q| contains_ignoring_ascii_case(n.payload(), q))
    }
}

fn contains_ignoring_ascii_case(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// `GET /api/v1/inbox`.
#[derive(Debug, Serialize)]
struct Page {
    /// Matching records held.
    total: usize,
    /// Every record up to this id is either listed here (if it matches) or gone: an event
    /// stream started `after` it misses nothing.
    latest_id: u64,
    /// Whether older matching records remain beyond this page.
    more: bool,
    /// Newest first.
    pushes: Vec<Notification>,
}

/// `GET /api/v1/inbox?limit=N&before=ID&…filters`: a page of matching records, newest first,
/// older than `before`.
pub(super) fn page(query: &[(String, String)], shared: &Shared) -> Reply {
    let parsed = InboxQuery::from_query(query, &["before"]).and_then(|filter| {
        let limit = query_u64(query, "limit")?.unwrap_or(DEFAULT_PAGE);
        let before = query_u64(query, "before")?.unwrap_or(u64::MAX);
        Ok((filter, limit.clamp(1, MAX_PAGE) as usize, before))
    });
    let (filter, limit, before) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let newest = shared.recorder.newest(before, limit, |n| filter.matches(n));
    let page = Page {
        total: newest.total,
        latest_id: newest.complete_through,
        more: newest.more,
        pushes: newest.page.iter().map(Record::to_notification).collect(),
    };
    // A page of records always serializes (a payload falls back to a string).
    reply_raw(
        StatusCode::OK,
        serde_json::to_vec(&page).unwrap_or_default(),
    )
}

/// `GET /api/v1/pushes/{id}`: one record, while it is held.
pub(super) fn one(id: &str, shared: &Shared) -> Reply {
    let Ok(id) = id.parse::<u64>() else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no route for pushes/{id:?}; a push id is a number"),
        );
    };
    match shared.recorder.get(id) {
        Some(n) => reply_raw(StatusCode::OK, n.to_notification().to_json().into_bytes()),
        None => error(
            StatusCode::NOT_FOUND,
            format!("no push {id} (never recorded, cleared, or dropped beyond --max-records)"),
        ),
    }
}

/// `GET /api/v1/reasons`: Apple's reasons with their status and one-line explanation.
pub(super) fn reasons() -> Reply {
    let reasons: Vec<_> = Reason::ALL
        .iter()
        .map(|r| json!({"reason": r, "status": r.status(), "explanation": r.explanation()}))
        .collect();
    ok(json!({ "reasons": reasons }))
}

/// `GET /api/v1/push_types`: each push type's topic suffix and payload limit.
pub(super) fn push_types() -> Reply {
    let types: Vec<_> = PushType::ALL
        .iter()
        .map(|t| {
            json!({"push_type": t.as_str(), "topic_suffix": t.topic_suffix(), "max_payload": t.max_payload()})
        })
        .collect();
    ok(json!({ "push_types": types }))
}

#[cfg(test)]
mod tests {
    use super::super::plumbing::parse_query;
    use super::*;
    use crate::Payload;

    #[test]
    fn text_search_ignores_ascii_case_and_outcome_splits_on_200() {
        let q = InboxQuery::from_query(&parse_query("q=ALICE&outcome=accepted"), &[]).unwrap();
        let record = |id, payload: &str, status| {
            Record::from_notification(&Notification::sample(
                id,
                Payload::Json(payload.into()),
                status,
            ))
        };
        let alice = record(1, r#"{"caller":"Alice"}"#, 200);
        let refused = record(2, r#"{"caller":"alice"}"#, 400);
        let bob = record(3, r#"{"caller":"Bob"}"#, 200);
        assert!(q.matches(&alice));
        assert!(!q.matches(&refused));
        assert!(!q.matches(&bob));
        let err = InboxQuery::from_query(&parse_query("outcome=maybe"), &[]).unwrap_err();
        assert!(err.contains("\"maybe\""), "{err}");
    }
}
