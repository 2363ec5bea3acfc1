//! `/api/v1/clock`: moving the mock's clock through the admin API, which ages the provider
//! tokens in use, and refusing a malformed request.

use std::time::Duration;

use http::Method;
use mock_apns::{MockApns, Reason};
use serde_json::json;

use crate::support::{admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push};

/// Moving the clock through the admin API ages the provider tokens in use, for tests in any
/// language; a token minted afterwards is fresh.
#[tokio::test]
async fn advancing_the_clock_expires_provider_tokens() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let push = Push::voip(&apns);
    let before = client.send(&push).await.unwrap();

    let clock = admin
        .advance_clock(Duration::from_millis(3_601_000))
        .await
        .or_fail();
    let after = client.send(&push).await.unwrap();
    let fresh = ApnsClient::connect(&apns)
        .await
        .send(&push.clone().header(
            "authorization",
            &format!("bearer {}", apns.provider_token()),
        ))
        .await
        .unwrap();

    assert_eq!(clock.offset_ms, 3_601_000, "{clock:?}");
    assert_accepted(&apns, &before);
    assert_rejected(&apns, &after, Reason::ExpiredProviderToken);
    assert_accepted(&apns, &fresh);
    let read_back = admin.clock().await.or_fail();
    assert_eq!(read_back.offset_ms, 3_601_000, "{read_back:?}");
}

#[tokio::test]
async fn a_malformed_clock_request_is_refused() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);

    let answer = admin
        .send(
            Method::POST,
            "/api/v1/clock",
            Some(json!({ "advance_ms": -5 })),
        )
        .await
        .or_fail();

    assert_eq!(answer.status, 400, "{}", answer.json());
    assert_eq!(apns.clock().offset(), Duration::ZERO);
}
