//! `GET /api/v1/connections`: what the admin API shows of each connection, from its opening to
//! how it closed.

use http::Method;
use mock_apns::{Environment, MockApns, Reason};
use serde_json::json;

use crate::support::{admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push};

/// Where each client meant to go, so a user can check that redirection worked: the TLS server
/// name, the `:authority` and (through the front door, see `clients::front_door`) the CONNECT
/// target, in the connection list and in every record.
#[tokio::test]
async fn the_connection_list_and_records_show_the_sni_and_authority_the_client_used() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let apple = ApnsClient::connect_to_name(&apns, "api.sandbox.push.apple.com").await;
    let by_ip = ApnsClient::connect_to_name(&apns, "127.0.0.1").await;

    let via_apple = apple.send(&Push::voip(&apns)).await.unwrap();
    let via_ip = by_ip.send(&Push::voip(&apns)).await.unwrap();

    let port = apns.address().port();
    let record = assert_accepted(&apns, &via_apple);
    assert_eq!(record.sni.as_deref(), Some("api.sandbox.push.apple.com"));
    let sandbox = format!("api.sandbox.push.apple.com:{port}");
    assert_eq!(record.authority.as_deref(), Some(sandbox.as_str()));
    assert_eq!(record.connect_target, None);
    let record = assert_accepted(&apns, &via_ip);
    assert_eq!(record.sni, None, "clients send no SNI for an IP address");
    let ip = format!("127.0.0.1:{port}");
    assert_eq!(record.authority.as_deref(), Some(ip.as_str()));
    let listed = admin.connections().await.expect("the connection list");
    let origins: Vec<_> = listed
        .iter()
        .map(|c| {
            (
                c.sni.as_deref(),
                c.authority.as_deref(),
                c.connect_target.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        origins,
        [
            (
                Some("api.sandbox.push.apple.com"),
                Some(sandbox.as_str()),
                None
            ),
            (None, Some(ip.as_str()), None),
        ]
    );
}

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
