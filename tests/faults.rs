//! Fault injection: rules of match + schedule + action, each effect observed on the
//! wire by a real HTTP/2 client (the h2 crate, or frame by frame where the h2 client hides
//! what APNs sends: GOAWAY debug data, RST_STREAM codes, a socket closed without GOAWAY), and
//! the record checked for the rule's id and action.
//!
//! Most tests mount rules through the admin API, whose JSON is the vocabulary every interface
//! shares; `rust_api` and `file` cover the other two interfaces.

mod answers; // reject (410 + timestamp, every status), delay, rate_limit, outage ServiceUnavailable
mod file; // `--faults FILE` with the binary: applies from the first push; bad files exit 2
mod matching; // each match field, and priority before insertion order
mod mid_traffic; // a rule added while pushes flow: applies from the next push, none lost or doubled
mod rules_api; // the admin API's CRUD, hit counters, and 400s that name the field
mod rust_api; // Mock::given(..).respond_with(..): expectations verified on drop, scoped mocks
mod schedules; // always, first, nth, after, every, seeded probability, expire_after
mod transport; // reset, goaway, close, stall, outage Shutdown, max_connections

use mock_apns::admin::Client;
use mock_apns::{MockApns, Notification};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::support::raw_h2::{Frame, RawH2};
use crate::support::OrFail;

/// A device token that no rule in these tests names unless it says so.
const OTHER: &str = "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

/// Mounts `rule` through `POST /api/v1/faults`; returns the id the mock gave it.
async fn mount(admin: &Client, rule: Value) -> u64 {
    match admin.add_fault_json(&rule).await {
        Ok(mounted) => mounted.id,
        Err(e) => panic!("{e}; the rule: {rule}"),
    }
}

/// The `n`th canonical `apns-id` a test sets itself, so that a push which gets no answer (and
/// so no `apns-id` back) can still be found in the record.
fn apns_id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012X}")
}

/// The one record with this `apns-id`.
fn record_with_id(apns: &MockApns, id: &str) -> Notification {
    let all = apns.received_notifications();
    let found: Vec<_> = all.iter().filter(|n| &*n.apns_id == id).collect();
    assert_eq!(found.len(), 1, "records with apns-id {id}: {all:#?}");
    found[0].clone()
}

/// The record says rule `rule_id` decided this push with `action` (as JSON writes it).
fn assert_fault(record: &Notification, rule_id: u64, action: &Value) {
    let fault = record
        .fault
        .as_ref()
        .unwrap_or_else(|| panic!("no fault in the record: {record:#?}"));
    assert_eq!(fault.rule_id, rule_id, "record: {record:#?}");
    let recorded = serde_json::to_value(&fault.action).expect("an action serializes");
    assert_eq!(recorded, *action, "the record's action, {record:#?}");
}

/// The record says no rule touched this push.
fn assert_no_fault(record: &Notification) {
    assert!(record.fault.is_none(), "unexpected fault: {record:#?}");
}

/// Every frame the server sends until it closes the connection (each within the support's
/// patience; a hang fails the test).
async fn frames_until_closed<S: AsyncRead + AsyncWrite + Unpin>(raw: &mut RawH2<S>) -> Vec<Frame> {
    let mut frames = Vec::new();
    loop {
        let frame = match raw.next().await {
            Ok(frame) => frame,
            Err(e) => panic!("after {frames:?}: {e:#}"),
        };
        let closed = frame == Frame::Closed;
        frames.push(frame);
        if closed {
            return frames;
        }
    }
}

/// How connection `id` closed, as `GET /api/v1/connections` shows it.
async fn closed_how(admin: &Client, id: u64) -> String {
    let connection = admin.connection(id).await.or_fail();
    match connection.closed_how {
        Some(how) => how,
        None => panic!("connection {id} is not closed: {connection:?}"),
    }
}
