//! Actions below HTTP: RST_STREAM, GOAWAY (the current stream inside or beyond its
//! last-stream-id), a TCP close without GOAWAY, a stall, the `Shutdown` outage, and the
//! connection cap. The h2 client shows reset codes and time-outs; frames are read by hand where
//! it hides what APNs sends (GOAWAY debug data, a close without GOAWAY).

use std::time::{Duration, Instant};

use mock_apns::{MockApns, Reason};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{
    apns_id, assert_fault, assert_no_fault, closed_how, frames_until_closed, mount, record_with_id,
    OTHER,
};
use crate::support::apns_client::OpenStream;
use crate::support::push::CALL_PAYLOAD;
use crate::support::raw_h2::{
    device_path, raw_connection, voip_headers, Frame, GoAwayFrame, RawH2,
};
use crate::support::{
    admin, assert_accepted, assert_rejected, Alpn, ApnsClient, OrFail, Push, DEVICE, PATIENCE,
};

/// The GOAWAY frames among `frames`, in order.
fn goaways(frames: &[Frame]) -> Vec<&GoAwayFrame> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::GoAway(g) => Some(g),
            _ => None,
        })
        .collect()
}

/// The h2 error under an `ApnsClient` error.
fn h2_error(error: &anyhow::Error) -> &h2::Error {
    error
        .chain()
        .find_map(|cause| cause.downcast_ref::<h2::Error>())
        .unwrap_or_else(|| panic!("not an HTTP/2 error: {error:#}"))
}

/// Sends a push to [`DEVICE`] frame by frame on `stream` without reading the answer.
async fn post_without_reading<S>(raw: &mut RawH2<S>, apns: &MockApns, stream: u32)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    raw.send_head(stream, &device_path(), &voip_headers(apns), false)
        .await
        .expect("sending HEADERS");
    raw.send_data(stream, CALL_PAYLOAD.as_bytes(), true)
        .await
        .expect("sending DATA");
}

/// On a new connection read frame by frame: a first push on stream 1, answered 200; a second
/// on stream 3, the one the tests' `{"nth": 2}` rules act on; then every frame the server sends
/// until it closes the connection.
async fn second_push_frames(apns: &MockApns) -> Vec<Frame> {
    let mut raw = raw_connection(apns).await;
    let first = raw
        .post(
            1,
            &device_path(),
            &voip_headers(apns),
            CALL_PAYLOAD.as_bytes(),
        )
        .await
        .expect("an answer on stream 1");
    assert_eq!(first.status, Some(200), "the first push passes: {first:?}");
    post_without_reading(&mut raw, apns, 3).await;
    frames_until_closed(&mut raw).await
}

/// `reset`: the client sees RST_STREAM with the rule's code and no answer; the record shows
/// the push with status 0; the connection itself carries on.
async fn reset_resets_the_stream_with(code: &str, expected: h2::Reason) {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "reset": code });
    let rule = mount(
        &admin,
        json!({ "match": { "device_token": DEVICE }, "action": action }),
    )
    .await;
    let client = ApnsClient::connect(&apns).await;
    let id = apns_id(1);

    let reset = client
        .send(&Push::voip(&apns).header("apns-id", &id))
        .await
        .expect_err("a reset stream has no answer");
    let next = client
        .send(&Push::voip(&apns).to(OTHER))
        .await
        .expect("the connection still answers");

    let error = h2_error(&reset);
    assert!(error.is_reset() && error.is_remote(), "{reset:#}");
    assert_eq!(error.reason(), Some(expected), "{reset:#}");
    let record = record_with_id(&apns, &id);
    assert_eq!((record.status, record.reason), (0, None), "{record:#?}");
    let detail = record.detail.as_deref().unwrap_or_default();
    assert!(detail.contains(&format!("reset with {code}")), "{detail}");
    assert_fault(&record, rule, &action);
    let next = assert_accepted(&apns, &next);
    assert_eq!(
        next.connection_id, record.connection_id,
        "a stream reset leaves the connection open"
    );
}

#[tokio::test]
async fn reset_refused_stream_reaches_the_client() {
    reset_resets_the_stream_with("REFUSED_STREAM", h2::Reason::REFUSED_STREAM).await;
}

#[tokio::test]
async fn reset_cancel_reaches_the_client() {
    reset_resets_the_stream_with("CANCEL", h2::Reason::CANCEL).await;
}

/// GOAWAY with the current stream included: its last-stream-id is that stream, which is still
/// answered 200; the debug data is Apple's JSON; then the connection closes.
#[tokio::test]
async fn goaway_including_the_current_stream_answers_it_then_closes() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "goaway": {
        "reason": "Shutdown", "error_code": "NO_ERROR", "include_current": true } });
    let rule = mount(
        &admin,
        json!({ "schedule": { "nth": 2 }, "action": action }),
    )
    .await;

    let frames = second_push_frames(&apns).await;

    assert_eq!(
        goaways(&frames),
        [&GoAwayFrame {
            last_stream_id: 3,
            error_code: 0,
            debug_data: r#"{"reason":"Shutdown"}"#.into(),
        }],
        "exactly one GOAWAY: {frames:?}"
    );
    assert!(
        frames.contains(&Frame::Headers {
            stream: 3,
            status: Some(200),
            end_stream: true
        }),
        "stream 3 is within last-stream-id, so it is answered: {frames:?}"
    );
    assert!(
        !frames.iter().any(|f| matches!(f, Frame::Reset { .. })),
        "{frames:?}"
    );
    let records = apns.received_notifications();
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_no_fault(&records[0]);
    assert_eq!((records[1].stream_id, records[1].status), (3, 200));
    assert_fault(&records[1], rule, &action);
    let how = closed_how(&admin, records[1].connection_id).await;
    assert!(
        how.contains("GOAWAY Shutdown (NO_ERROR), last stream 3") && how.contains("fault rule #1"),
        "{how}"
    );
}

/// GOAWAY with the current stream excluded: last-stream-id stops below it, and the stream is
/// reset with REFUSED_STREAM, unprocessed, so the provider knows it may retry it elsewhere.
/// The reason and error code are the rule's.
#[tokio::test]
async fn goaway_excluding_the_current_stream_refuses_it_unprocessed() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "goaway": {
        "reason": "InternalServerError", "error_code": "INTERNAL_ERROR", "include_current": false } });
    let rule = mount(
        &admin,
        json!({ "schedule": { "nth": 2 }, "action": action }),
    )
    .await;

    let frames = second_push_frames(&apns).await;

    assert_eq!(
        goaways(&frames),
        [&GoAwayFrame {
            last_stream_id: 1,
            error_code: 2,
            debug_data: r#"{"reason":"InternalServerError"}"#.into(),
        }],
        "exactly one GOAWAY: {frames:?}"
    );
    assert!(
        frames.contains(&Frame::Reset { stream: 3, code: 7 }),
        "stream 3 is beyond last-stream-id: REFUSED_STREAM: {frames:?}"
    );
    assert!(
        !frames.iter().any(|f| matches!(
            f,
            Frame::Headers { stream: 3, .. } | Frame::Data { stream: 3, .. }
        )),
        "stream 3 must not be answered: {frames:?}"
    );
    let records = apns.received_notifications();
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!((records[1].stream_id, records[1].status), (3, 0));
    assert_fault(&records[1], rule, &action);
    let how = closed_how(&admin, records[1].connection_id).await;
    assert!(
        how.contains("GOAWAY InternalServerError (INTERNAL_ERROR), last stream 1")
            && how.contains("fault rule #1"),
        "{how}"
    );
}

/// `close`: the TCP connection ends without a GOAWAY frame and without an answer, as when a
/// load balancer drops it; the connection list says so.
#[tokio::test]
async fn close_drops_the_connection_without_goaway() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "close": true });
    let rule = mount(
        &admin,
        json!({ "schedule": { "nth": 2 }, "action": action }),
    )
    .await;

    let frames = second_push_frames(&apns).await;

    assert_eq!(
        frames,
        [Frame::Closed],
        "no GOAWAY, no answer, just the closed socket"
    );
    let records = apns.received_notifications();
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!((records[1].stream_id, records[1].status), (3, 0));
    assert_fault(&records[1], rule, &action);
    let how = closed_how(&admin, records[1].connection_id).await;
    assert!(
        how.contains("closed without GOAWAY") && how.contains("fault rule #1"),
        "{how}"
    );
}

/// `stall`: the stream is accepted and never answered, so the client's own timeout fires;
/// the record holds the push with status 0; other streams on the connection are answered.
#[tokio::test]
async fn stall_leaves_the_stream_unanswered_while_other_streams_work() {
    const CLIENT_TIMEOUT: Duration = Duration::from_millis(300);
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "stall": true });
    let rule = mount(
        &admin,
        json!({ "match": { "device_token": OTHER }, "action": action }),
    )
    .await;
    let client = ApnsClient::connect(&apns).await;
    // A stalled stream must not take the connection's only stream slot.
    client.unlock_streams(&Push::voip(&apns)).await.unwrap();
    let recorded_before = apns.received_notifications().len();
    let id = apns_id(1);
    let push = Push::voip(&apns).to(OTHER).header("apns-id", &id);

    let OpenStream {
        mut response,
        body: mut stalled_body,
    } = client.open(&push, false).await.unwrap();
    stalled_body.send_data(push.body.clone(), true).unwrap();
    let started = Instant::now();
    let timed_out = tokio::time::timeout(CLIENT_TIMEOUT, &mut response).await;
    let waited = started.elapsed();
    let other = client.send(&Push::voip(&apns)).await.unwrap();
    apns.wait_for(recorded_before + 2, PATIENCE).await.unwrap();
    let still_unanswered = tokio::time::timeout(Duration::ZERO, &mut response).await;

    assert!(
        timed_out.is_err(),
        "the stalled push was answered: {timed_out:?}"
    );
    assert!(waited >= CLIENT_TIMEOUT);
    assert!(
        still_unanswered.is_err(),
        "answered later: {still_unanswered:?}"
    );
    let record = record_with_id(&apns, &id);
    assert_eq!((record.status, record.reason), (0, None), "{record:#?}");
    let detail = record.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("stalled"), "{detail}");
    assert_fault(&record, rule, &action);
    let other = assert_accepted(&apns, &other);
    assert_eq!(other.connection_id, record.connection_id, "same connection");
}

/// `Shutdown`: the push gets 503 `Shutdown`, and the connection GOAWAY NO_ERROR with
/// `{"reason":"Shutdown"}`, last-stream-id the answered stream, as APNs does when it restarts.
/// The two frames leave on different tasks, so their order on the wire is not fixed (GOAWAY
/// first in about a third of runs); a client loses nothing either way, as the GOAWAY covers
/// the stream, so only their presence is asserted.
#[tokio::test]
async fn outage_shutdown_answers_503_shutdown_and_goaway_shutdown() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "outage": "Shutdown" });
    let rule = mount(&admin, json!({ "action": action })).await;
    let client = ApnsClient::connect(&apns).await;
    let mut raw = raw_connection(&apns).await;

    // The h2 client: the answer's status and body, and no second stream on that connection.
    let reply = client.send(&Push::voip(&apns)).await.unwrap();
    let after = client.send(&Push::voip(&apns)).await;
    // Frame by frame: what the GOAWAY says.
    post_without_reading(&mut raw, &apns, 1).await;
    let frames = frames_until_closed(&mut raw).await;

    assert_eq!(reply.status, 503);
    let record = assert_rejected(&apns, &reply, Reason::Shutdown);
    assert_fault(&record, rule, &action);
    assert!(after.is_err(), "a stream after GOAWAY Shutdown: {after:?}");
    assert!(
        frames.contains(&Frame::Data {
            stream: 1,
            body: br#"{"reason":"Shutdown"}"#.to_vec(),
            end_stream: true,
        }),
        "the stream within last-stream-id is answered: {frames:?}"
    );
    assert_eq!(
        goaways(&frames),
        [&GoAwayFrame {
            last_stream_id: 1,
            error_code: 0,
            debug_data: r#"{"reason":"Shutdown"}"#.into(),
        }],
        "exactly one GOAWAY: {frames:?}"
    );
    let raw_record = apns
        .received_notifications()
        .into_iter()
        .find(|n| n.connection_id != record.connection_id && n.status != 0)
        .expect("the raw connection's push is recorded");
    assert_eq!(
        (raw_record.status, raw_record.reason),
        (503, Some(Reason::Shutdown))
    );
    assert_fault(&raw_record, rule, &action);
    // Read for the connection seen closed: its GOAWAY was sent, so the list says so.
    let how = closed_how(&admin, raw_record.connection_id).await;
    assert!(
        how.contains("GOAWAY Shutdown (NO_ERROR), last stream 1") && how.contains("fault rule #1"),
        "{how}"
    );
}

/// `max_connections`: a connection beyond the cap is refused (dropped before TLS); the
/// connection list shows it refused, naming the rule; removing the rule lets new ones in.
#[tokio::test]
async fn max_connections_refuses_connections_beyond_the_cap() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let rule = mount(
        &admin,
        json!({ "name": "one connection", "action": { "max_connections": 1 } }),
    )
    .await;
    let first = ApnsClient::connect(&apns).await;
    let before = first.send(&Push::voip(&apns)).await.unwrap();

    let refused = ApnsClient::connect_with(apns.address(), apns.ca_cert_pem(), Alpn::H2).await;
    let during = first.send(&Push::voip(&apns)).await.unwrap();
    let connections = admin.connections().await.or_fail();
    let counted = admin.fault(rule).await.or_fail();
    admin.remove_fault(rule).await.or_fail();
    let later = ApnsClient::connect(&apns)
        .await
        .send(&Push::voip(&apns))
        .await
        .unwrap();

    assert!(refused.is_err(), "a second connection was let in");
    assert_accepted(&apns, &before);
    assert_accepted(&apns, &during);
    assert_eq!(connections.len(), 2, "{connections:#?}");
    assert_eq!(connections[0].closed_how, None, "{connections:#?}");
    let how = connections[1].closed_how.as_deref().unwrap_or_default();
    assert!(
        how.starts_with("refused") && how.contains(r#"fault rule #1 "one connection""#),
        "{how}"
    );
    assert_eq!(counted.hits, 1, "a refusal is a hit: {counted:?}");
    assert_ne!(
        assert_accepted(&apns, &later).connection_id,
        assert_accepted(&apns, &before).connection_id
    );
}
