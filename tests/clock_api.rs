//! `/api/v1/clock`: moving the mock's clock through the admin API, which ages the provider
//! tokens in use, and refusing a malformed request.

use std::time::Duration;

use http::StatusCode;
use mock_apns::{MockApns, Reason};
use serde_json::json;

use crate::support::{assert_accepted, assert_rejected, Admin, ApnsClient, Push};

/// Moving the clock through the admin API ages the provider tokens in use, for tests in any
/// language; a token minted afterwards is fresh.
#[tokio::test]
async fn advancing_the_clock_expires_provider_tokens() {
    let apns = MockApns::start().await;
    let admin = Admin::new(&apns.admin_uri());
    let client = ApnsClient::connect(&apns).await;
    let push = Push::voip(&apns);
    let before = client.send(&push).await.unwrap();

    let (status, clock) = admin
        .post("/api/v1/clock", json!({ "advance_ms": 3_601_000 }))
        .await;
    let after = client.send(&push).await.unwrap();
    let fresh = ApnsClient::connect(&apns)
        .await
        .send(&push.clone().header(
            "authorization",
            &format!("bearer {}", apns.provider_token()),
        ))
        .await
        .unwrap();

    assert_eq!(status, StatusCode::OK, "{clock}");
    assert_eq!(clock["offset_ms"], json!(3_601_000));
    assert_accepted(&apns, &before);
    assert_rejected(&apns, &after, Reason::ExpiredProviderToken);
    assert_accepted(&apns, &fresh);
    let (_, read_back) = admin.get("/api/v1/clock").await;
    assert_eq!(read_back["offset_ms"], json!(3_601_000));
}

#[tokio::test]
async fn a_malformed_clock_request_is_refused() {
    let apns = MockApns::start().await;
    let admin = Admin::new(&apns.admin_uri());

    let (status, body) = admin
        .post("/api/v1/clock", json!({ "advance_ms": -5 }))
        .await;

    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(apns.clock().offset(), Duration::ZERO);
}
