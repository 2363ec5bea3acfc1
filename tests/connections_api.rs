//! `GET /api/v1/connections`: what the admin API shows of each connection, from its opening to
//! how it closed.

use http::Method;
use mock_apns::{Environment, MockApns, Reason};
use serde_json::json;

use crate::support::{admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push};

/// `GET /api/v1/connections`: id, peer, ALPN, auth, pushes accepted and rejected, the current
/// stream limit, opened/closed and how it closed. Read as JSON (`send`), as a client in any
/// language sees it.
#[tokio::test]
async fn the_connection_list_describes_each_connection() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let push = Push::voip(&apns);
    let accepted = client.send(&push).await.unwrap();
    let rejected = client
        .send(&push.clone().header("apns-collapse-id", &"x".repeat(65)))
        .await
        .unwrap();
    let record = assert_accepted(&apns, &accepted);
    assert_rejected(&apns, &rejected, Reason::BadCollapseId);

    let listed = admin
        .send(Method::GET, "/api/v1/connections", None)
        .await
        .or_fail()
        .json();
    let ordered = admin
        .send(
            Method::POST,
            "/api/v1/connections/1/goaway",
            Some(json!({"reason": "Shutdown"})),
        )
        .await
        .or_fail()
        .json();
    let after = admin
        .send(Method::GET, "/api/v1/connections/1", None)
        .await
        .or_fail()
        .json();

    let conn = &listed["connections"][0];
    assert_eq!(conn["id"], 1);
    assert_eq!(conn["alpn"], "h2");
    assert!(
        conn["peer"].as_str().unwrap().starts_with("127.0.0.1:"),
        "{conn}"
    );
    assert_eq!(conn["auth"]["kind"], "token");
    assert_eq!(conn["auth"]["team_id"], apns.dev_key().team_id());
    assert_eq!(conn["auth"]["key_id"], apns.dev_key().key_id());
    assert_eq!(
        (
            conn["pushes_accepted"].clone(),
            conn["pushes_rejected"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(conn["stream_limit"], 1, "throttled after the rejection");
    assert!(conn["opened_at"].as_u64().unwrap() <= record.received_at);
    assert!(conn["closed_at"].is_null());
    assert_eq!(ordered["goaway"]["reason"], "Shutdown");
    assert_eq!(ordered["last_stream_id"], 3, "both streams were processed");
    let how = after["closed_how"].as_str().unwrap();
    assert!(how.starts_with("GOAWAY Shutdown (NO_ERROR)"), "{how}");
    assert_eq!(
        record.auth.team_id.as_deref(),
        Some(apns.dev_key().team_id())
    );
    assert_eq!(record.environment, Environment::Development);
}
