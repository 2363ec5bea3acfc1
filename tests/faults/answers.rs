//! Actions that change the HTTP answer: reject with any reason of Apple's table, delay, the
//! per-token rate limiter, and the service-wide `ServiceUnavailable` outage.

use std::time::{Duration, Instant};

use mock_apns::{MockApns, Reason};
use serde_json::json;

use super::{assert_fault, assert_no_fault, mount, OTHER};
use crate::support::{admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push, DEVICE};

/// A stale token: 410 `Unregistered` with the rule's timestamp, as a provider must see it to
/// prune the token; other tokens are untouched.
#[tokio::test]
async fn reject_unregistered_answers_410_with_the_rules_timestamp() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "reject": "Unregistered", "timestamp": 1_700_000_000_000u64 });
    let rule = mount(
        &admin,
        json!({ "match": { "device_token": DEVICE }, "action": action }),
    )
    .await;
    let client = ApnsClient::connect(&apns).await;

    let stale = client.send(&Push::voip(&apns)).await.unwrap();
    let fine = client.send(&Push::voip(&apns).to(OTHER)).await.unwrap();

    let record = assert_rejected(&apns, &stale, Reason::Unregistered);
    assert_eq!(stale.status, 410);
    assert_eq!(stale.timestamp(), Some(1_700_000_000_000), "{stale:?}");
    assert_eq!(record.timestamp, Some(1_700_000_000_000));
    assert_fault(&record, rule, &action);
    assert_no_fault(&assert_accepted(&apns, &fine));
}

/// Without a timestamp in the rule, a 410 carries "now" on the mock's clock, like a token
/// unregistered this instant.
#[tokio::test]
async fn reject_unregistered_without_a_timestamp_uses_the_mocks_clock() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let rule = mount(&admin, json!({ "action": { "reject": "Unregistered" } })).await;
    apns.advance_clock(Duration::from_secs(86_400));
    let client = ApnsClient::connect(&apns).await;

    let before = apns.clock().now_ms();
    let reply = client.send(&Push::voip(&apns)).await.unwrap();
    let after = apns.clock().now_ms();

    let record = assert_rejected(&apns, &reply, Reason::Unregistered);
    let timestamp = reply.timestamp().expect("a 410 has a timestamp");
    assert!(
        (before..=after).contains(&timestamp),
        "{timestamp} not in {before}..={after} (mock clock, a day ahead)"
    );
    assert_fault(&record, rule, &json!({ "reject": "Unregistered" }));
}

/// Any reason of the table can be injected; its status comes from the table and its body is
/// exactly `{"reason":"…"}` (no timestamp outside 410).
#[tokio::test]
async fn reject_answers_each_reason_with_its_status_from_the_table() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;

    for (reason, status) in [
        (Reason::BadDeviceToken, 400),
        (Reason::DeviceTokenNotForTopic, 400),
        (Reason::ExpiredProviderToken, 403),
        (Reason::BadPath, 404),
        (Reason::MethodNotAllowed, 405),
        (Reason::PayloadTooLarge, 413),
        (Reason::TooManyRequests, 429),
        (Reason::InternalServerError, 500),
        (Reason::ServiceUnavailable, 503),
    ] {
        admin.clear_faults().await.or_fail();
        let action = json!({ "reject": reason.as_str() });
        let rule = mount(&admin, json!({ "action": action })).await;

        let reply = client.send(&Push::voip(&apns)).await.unwrap();

        assert_eq!(reply.status, status, "{reason}: {reply:?}");
        let record = assert_rejected(&apns, &reply, reason);
        assert_eq!(record.timestamp, None, "{reason}: no timestamp outside 410");
        assert_fault(&record, rule, &action);
    }
}

/// `delay_ms` holds the answer at least that long, then answers as usual; pushes the rule does
/// not match are not held.
#[tokio::test]
async fn delay_holds_the_answer_then_answers_normally() {
    const DELAY: Duration = Duration::from_millis(300);
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "delay_ms": 300 });
    let rule = mount(
        &admin,
        json!({ "match": { "device_token": DEVICE }, "action": action }),
    )
    .await;
    let client = ApnsClient::connect(&apns).await;

    let started = Instant::now();
    let undelayed = client.send(&Push::voip(&apns).to(OTHER)).await.unwrap();
    let undelayed_took = started.elapsed();
    let started = Instant::now();
    let delayed = client.send(&Push::voip(&apns)).await.unwrap();
    let delayed_took = started.elapsed();

    assert!(
        delayed_took >= DELAY,
        "answered after {delayed_took:?}, before the {DELAY:?} delay"
    );
    assert!(
        delayed_took < DELAY + Duration::from_secs(5),
        "answered after {delayed_took:?}, long past the {DELAY:?} delay"
    );
    assert!(
        undelayed_took < DELAY,
        "an unmatched push took {undelayed_took:?}"
    );
    assert_fault(&assert_accepted(&apns, &delayed), rule, &action);
    assert_no_fault(&assert_accepted(&apns, &undelayed));
}

/// A real limiter per device token: exactly `max` pushes per window pass, the next get 429
/// `TooManyRequests` (and are not counted), other tokens have their own budget, and once the
/// mock's clock has moved past the window the token may push again.
#[tokio::test]
async fn rate_limit_answers_429_after_exactly_max_pushes_per_token_and_window() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "rate_limit": { "max": 3, "window_ms": 60_000 } });
    let rule = mount(&admin, json!({ "action": action })).await;
    let client = ApnsClient::connect(&apns).await;
    let push = Push::voip(&apns);

    let mut within = Vec::new();
    for _ in 0..3 {
        within.push(client.send(&push).await.unwrap());
    }
    let fourth = client.send(&push).await.unwrap();
    let fifth = client.send(&push).await.unwrap();
    let other_token = client.send(&push.clone().to(OTHER)).await.unwrap();
    admin
        .advance_clock(Duration::from_millis(60_001))
        .await
        .or_fail();
    let next_window = client.send(&push).await.unwrap();

    for reply in &within {
        assert_no_fault(&assert_accepted(&apns, reply));
    }
    assert_fault(
        &assert_rejected(&apns, &fourth, Reason::TooManyRequests),
        rule,
        &action,
    );
    assert_fault(
        &assert_rejected(&apns, &fifth, Reason::TooManyRequests),
        rule,
        &action,
    );
    assert_accepted(&apns, &other_token);
    assert_accepted(&apns, &next_window);
    let listed = admin.fault(rule).await.or_fail();
    assert_eq!((listed.matched, listed.hits), (7, 2), "{listed:?}");
}

/// `ServiceUnavailable`: every push, on every connection and to every token, gets 503 until
/// the rule is removed.
#[tokio::test]
async fn outage_service_unavailable_answers_503_until_the_rule_is_removed() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "outage": "ServiceUnavailable" });
    let rule = mount(&admin, json!({ "action": action })).await;
    let first = ApnsClient::connect(&apns).await;
    let second = ApnsClient::connect(&apns).await;

    let during = [
        first.send(&Push::voip(&apns)).await.unwrap(),
        first.send(&Push::voip(&apns).to(OTHER)).await.unwrap(),
        second.send(&Push::voip(&apns)).await.unwrap(),
    ];
    admin.remove_fault(rule).await.or_fail();
    let after = [
        first.send(&Push::voip(&apns)).await.unwrap(),
        second.send(&Push::voip(&apns)).await.unwrap(),
    ];

    for reply in &during {
        assert_eq!(reply.status, 503);
        let record = assert_rejected(&apns, reply, Reason::ServiceUnavailable);
        assert_fault(&record, rule, &action);
    }
    for reply in &after {
        assert_no_fault(&assert_accepted(&apns, reply));
    }
}
