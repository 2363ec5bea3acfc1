//! `/api/v1/clock`: moving the mock's clock through the admin API, which ages the provider
//! tokens in use, and refusing a malformed request.

use std::time::Duration;

use http::Method;
use mock_apns::{MockApns, Reason};
use serde_json::json;

use crate::support::admin::error_of;
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

/// `u64::MAX` ms once wrapped the clock to 0, and a debug build panicked: an advance the clock
/// cannot represent is refused, and no answer ever reads earlier than the one before.
#[tokio::test]
async fn an_absurd_advance_is_refused_and_the_clock_never_goes_back() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let before = admin.clock().await.unwrap();

    let mut readings = vec![before.now_ms];
    for advance_ms in [u64::MAX, u64::MAX / 2, i64::MAX as u64, 1 << 60] {
        let answer = admin
            .send(
                http::Method::POST,
                "/api/v1/clock",
                Some(json!({ "advance_ms": advance_ms })),
            )
            .await
            .unwrap();
        assert_eq!(answer.status, 400, "{advance_ms}: {:?}", answer.json());
        let error = error_of(&answer.json());
        assert!(error.contains("advance_ms"), "{error}");
        let after = admin.clock().await.unwrap();
        assert_eq!(after.offset_ms, 0, "{advance_ms} moved the clock");
        readings.push(after.now_ms);
    }
    // A century is fine, and the clock answers it; the Rust API saturates instead of refusing.
    let century = admin
        .advance_clock(Duration::from_secs(100 * 365 * 24 * 3600))
        .await
        .unwrap();
    readings.push(century.now_ms);
    apns.advance_clock(Duration::MAX);
    readings.push(admin.clock().await.unwrap().now_ms);
    apns.advance_clock(Duration::MAX);
    readings.push(admin.clock().await.unwrap().now_ms);

    assert!(
        readings.windows(2).all(|w| w[0] <= w[1]),
        "the clock went back: {readings:?}"
    );
    assert!(century.now_ms >= before.now_ms + 100 * 365 * 24 * 3_600_000);
}
