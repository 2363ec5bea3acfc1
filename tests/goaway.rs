//! How the mock ends a connection with GOAWAY: after an idle timeout, on a graceful stop, and on
//! an order through the admin API; each time with Apple's debug data and a last-stream-id that
//! covers what was served.

use std::time::Duration;

use http::Method;
use mock_apns::{ErrorCode, GoAway, MockApns, Reason};
use serde_json::json;

use crate::support::apns_client::tls_connect;
use crate::support::push::{provider_token, CALL_PAYLOAD};
use crate::support::raw_h2::{
    device_path, raw_connection, voip_headers, Frame, GoAwayFrame, RawH2,
};
use crate::support::{admin, OrFail, DEVICE, VOIP_TOPIC};

/// With an idle timeout set, a connection left idle that long (on the mock's clock) gets
/// GOAWAY `NO_ERROR` with `{"reason":"IdleTimeout"}`, its last stream still counted as served.
#[tokio::test]
async fn an_idle_connection_gets_goaway_idle_timeout() {
    let apns = MockApns::builder()
        .idle_timeout(Some(Duration::from_secs(60)))
        .start()
        .await;
    let mut raw = raw_connection(&apns).await;
    let reply = raw
        .post(
            1,
            &device_path(),
            &voip_headers(&apns),
            CALL_PAYLOAD.as_bytes(),
        )
        .await
        .unwrap();
    assert_eq!(reply.status, Some(200), "{reply:?}");

    apns.advance_clock(Duration::from_secs(61));
    let goaway = raw.goaway().await.unwrap();

    assert_eq!(
        goaway,
        GoAwayFrame {
            last_stream_id: 1,
            error_code: 0,
            debug_data: r#"{"reason":"IdleTimeout"}"#.into(),
        }
    );
    let how = apns.connections()[0].closed_how.clone().unwrap_or_default();
    assert!(how.contains("IdleTimeout"), "{how}");
}

/// A graceful stop sends GOAWAY NO_ERROR with `{"reason":"Shutdown"}` (as APNs does,
/// aioapns#63) and a last-stream-id covering the stream in flight, which is then answered and
/// recorded before the server ends.
#[tokio::test]
async fn a_graceful_stop_sends_goaway_shutdown_and_answers_the_stream_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let record_file = dir.path().join("pushes.jsonl");
    let apns = MockApns::builder().record_file(&record_file).start().await;
    let mut raw = raw_connection(&apns).await;
    raw.send_head(1, &device_path(), &voip_headers(&apns), false)
        .await
        .unwrap();
    raw.ping().await.unwrap(); // the server has read stream 1's head

    let stopping = tokio::spawn(apns.shutdown());
    let goaway = raw.next().await.unwrap();
    raw.send_data(1, CALL_PAYLOAD.as_bytes(), true)
        .await
        .unwrap();
    let reply = raw.reply(1).await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap()
        .unwrap();

    let expected = GoAwayFrame {
        last_stream_id: 1,
        error_code: 0,
        debug_data: r#"{"reason":"Shutdown"}"#.into(),
    };
    assert_eq!(goaway, Frame::GoAway(expected));
    assert_eq!(reply.status, Some(200));
    let recorded = std::fs::read_to_string(&record_file).unwrap();
    let lines: Vec<serde_json::Value> = recorded
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{recorded}");
    assert_eq!(lines[0]["status"], 200);
}

/// `POST /api/v1/connections/{id}/goaway` makes the mock close a connection as APNs does
/// (GOAWAY `NO_ERROR` with `{"reason":"Shutdown"}`), so a provider's reconnect logic can be
/// tested. Read frame by frame: the h2 client does not show GOAWAY debug data.
#[tokio::test]
async fn a_goaway_ordered_through_the_admin_api_reaches_the_client() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let tls = tls_connect(apns.address(), apns.ca_cert_pem(), "localhost", &[b"h2"])
        .await
        .unwrap();
    let mut raw = RawH2::start(tls).await.unwrap();
    let headers = [
        ("authorization", format!("bearer {}", provider_token(&apns))),
        ("apns-push-type", "voip".to_owned()),
        ("apns-topic", VOIP_TOPIC.to_owned()),
    ];
    let reply = raw
        .post(1, &format!("/3/device/{DEVICE}"), &headers, b"{}")
        .await
        .unwrap();
    assert_eq!(reply.status, Some(200), "{reply:?}");
    let id = apns.received_notifications()[0].connection_id;

    let shutdown = GoAway {
        reason: Reason::Shutdown,
        error_code: ErrorCode::NoError,
        last_stream_id: None,
    };
    admin.go_away(id, &shutdown).await.or_fail();
    let goaway = raw.goaway().await.unwrap();
    let summary = admin.connection(id).await.or_fail();
    let again = admin
        .send(
            Method::POST,
            &format!("/api/v1/connections/{id}/goaway"),
            Some(json!({ "reason": "Shutdown" })),
        )
        .await
        .or_fail();

    assert_eq!(
        goaway,
        GoAwayFrame {
            last_stream_id: 1,
            error_code: 0,
            debug_data: r#"{"reason":"Shutdown"}"#.into(),
        }
    );
    let how = summary.closed_how.as_deref().unwrap_or_default();
    assert!(how.contains("GOAWAY Shutdown"), "{summary:?}");
    assert_eq!(again.status, 409, "the connection is already closed");
}
