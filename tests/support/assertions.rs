//! Assertions that check an answer the way a provider sees it AND the mock's record of it: the
//! two must agree, or the record would mislead whoever debugs with it.

use mock_apns::{MockApns, Notification, Reason};

use super::Reply;

/// The record of the request answered with `reply` (matched by `apns-id`). The mock records
/// before it answers, so the record exists once the answer has arrived.
pub(crate) fn record_of(apns: &MockApns, reply: &Reply) -> Notification {
    let id = reply.apns_id();
    let all = apns.received_notifications();
    let mut matching = all.iter().filter(|n| &*n.apns_id == id);
    let record = matching
        .next()
        .unwrap_or_else(|| panic!("no record has apns-id {id}; records: {all:#?}"))
        .clone();
    assert!(
        matching.next().is_none(),
        "several records have apns-id {id}"
    );
    record
}

/// The push was accepted: 200, an `apns-id`, no body; recorded as 200 without a reason.
pub(crate) fn assert_accepted(apns: &MockApns, reply: &Reply) -> Notification {
    assert_eq!(
        reply.status,
        200,
        "expected 200, got {} {}",
        reply.status,
        String::from_utf8_lossy(&reply.body)
    );
    assert!(reply.body.is_empty(), "a 200 has no body: {reply:?}");
    let record = record_of(apns, reply);
    assert_eq!(record.status, 200, "record: {record:#?}");
    assert_eq!(record.reason, None, "record: {record:#?}");
    record
}

/// The push was refused for `reason`: Apple's status, `content-type: application/json`, a body
/// that is exactly `{"reason":"…"}` (plus `timestamp` for 410); recorded with the same status
/// and reason.
pub(crate) fn assert_rejected(apns: &MockApns, reply: &Reply, reason: Reason) -> Notification {
    let body = String::from_utf8_lossy(&reply.body);
    assert_eq!(
        (reply.status, reply.reason().as_deref()),
        (reason.status(), Some(reason.as_str())),
        "expected {} {reason}, got {} {body}",
        reason.status(),
        reply.status
    );
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "error answers are JSON: {reply:?}"
    );
    if reason.status() == 410 {
        let json = reply.json().expect("the error body is JSON");
        let keys: Vec<&str> = json
            .as_object()
            .expect("the error body is a JSON object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["reason", "timestamp"], "410 body {body}");
    } else {
        assert_eq!(
            body,
            format!(r#"{{"reason":"{reason}"}}"#),
            "exact error body"
        );
    }
    let record = record_of(apns, reply);
    assert_eq!(
        (record.status, record.reason),
        (reason.status(), Some(reason)),
        "the record disagrees with the answer: {record:#?}"
    );
    record
}

/// The `apns_id`s in a JSON-lines record file (`--record`). Every complete line must be a JSON
/// record; a last line without its newline (cut by a SIGKILL mid-write) is left out.
pub(crate) fn recorded_ids(path: &std::path::Path) -> std::collections::HashSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("record line is not JSON ({e}): {line:?}"));
            record["apns_id"].as_str().expect("apns_id").to_owned()
        })
        .collect()
}
