//! What Apple asks of a provider when things go wrong: prune dead tokens, refresh an expired
//! provider token, reconnect after a GOAWAY.

use std::time::Duration;

use mock_apns::{ErrorCode, GoAway, Reason};
use serde_json::json;

use crate::support::{describe, token, World};

#[tokio::test]
async fn a_voip_token_answered_410_is_pruned_and_never_pushed_again() {
    // Arrange: the iPad's VoIP token went stale.
    let world = World::start(&[]).await;
    world
        .register("bob", "bob-iphone", Some(&token(0x11)), Some(&token(0x12)))
        .await;
    world
        .register("bob", "bob-ipad", Some(&token(0x21)), Some(&token(0x22)))
        .await;
    world
        .apns
        .unregister_device(&token(0x22), world.apns.clock().now_ms());
    let call = json!({"from": "alice", "to": "bob"});

    // Act: two calls.
    let (first_status, first) = world.provider.post("/calls", call.clone()).await;
    let (second_status, second) = world.provider.post("/calls", call).await;

    // Assert: the first reports the prune; the second does not try the dead token.
    assert_eq!((first_status, second_status), (201, 201));
    assert_eq!(
        first["deliveries"],
        json!([
            {"device": "bob-ipad", "status": 410, "reason": "Unregistered", "pruned": true},
            {"device": "bob-iphone", "status": 200},
        ])
    );
    assert_eq!(
        second["deliveries"],
        json!([{"device": "bob-iphone", "status": 200}])
    );
    let pushes = world.pushes(3).await;
    let to_dead: Vec<_> = pushes
        .iter()
        .filter(|p| p.device_token.as_deref() == Some(token(0x22).as_str()))
        .collect();
    assert_eq!(to_dead.len(), 1, "{}", describe(&pushes));
    assert_eq!(to_dead[0].reason, Some(Reason::Unregistered));
}

#[tokio::test]
async fn a_provider_token_older_than_an_hour_is_replaced_and_the_push_still_succeeds() {
    // Arrange: the provider mints its tokens from the system clock, as in production.
    let world = World::start(&[]).await;
    world
        .register("bob", "bob-iphone", Some(&token(0x11)), Some(&token(0x12)))
        .await;
    let call = json!({"from": "alice", "to": "bob"});
    assert_eq!(world.provider.post("/calls", call.clone()).await.0, 201);
    world.pushes(1).await;

    // Act: an hour and a bit passes for APNs, then another call.
    world.apns.advance_clock(Duration::from_secs(3700));
    let (status, body) = world.provider.post("/calls", call).await;

    // Assert: APNs refused the old token once, the provider minted a new one and the call rang.
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["deliveries"],
        json!([{"device": "bob-iphone", "status": 200}])
    );
    let pushes = world.pushes(3).await;
    let (first, refused, resent) = (&pushes[0], &pushes[1], &pushes[2]);
    assert_eq!(
        refused.reason,
        Some(Reason::ExpiredProviderToken),
        "{}",
        describe(&pushes)
    );
    assert_eq!(resent.status, 200, "{}", describe(&pushes));
    // The old token is an hour old on the mock's clock, so the accepted re-send proves a new
    // one; minted from the system clock, its iat is not earlier than the first's.
    let (old, new) = (first.auth.iat.expect("iat"), resent.auth.iat.expect("iat"));
    assert!(new >= old, "new iat {new} is before {old}");
    assert_eq!(
        refused.auth.iat,
        Some(old),
        "the refused push carried the old token"
    );
    assert_eq!(
        resent.header("apns-id"),
        refused.header("apns-id"),
        "the same push, re-sent"
    );
    assert_eq!(
        refused.connection_id,
        first.connection_id,
        "{}",
        describe(&pushes)
    );
    assert_ne!(
        resent.connection_id,
        refused.connection_id,
        "re-sent on a fresh connection: {}",
        describe(&pushes)
    );
}

#[tokio::test]
async fn after_apns_restarts_with_a_goaway_the_provider_reconnects_and_the_next_call_rings() {
    // Arrange: one call over the first connection, then APNs restarts (graceful GOAWAY).
    let world = World::start(&[]).await;
    world
        .register("bob", "bob-iphone", Some(&token(0x11)), Some(&token(0x12)))
        .await;
    let call = json!({"from": "alice", "to": "bob"});
    assert_eq!(world.provider.post("/calls", call.clone()).await.0, 201);
    world.pushes(1).await;
    let world = world.restart_apns().await;

    // Act
    let (status, body) = world.provider.post("/calls", call).await;

    // Assert: the new server got the push, on a connection the provider opened anew.
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["deliveries"],
        json!([{"device": "bob-iphone", "status": 200}])
    );
    let pushes = world.pushes(1).await;
    assert_eq!(pushes[0].status, 200, "{}", describe(&pushes));
    assert_eq!(
        pushes[0].device_token.as_deref(),
        Some(token(0x12).as_str())
    );
}

#[tokio::test]
async fn while_apns_is_unreachable_a_call_reports_the_failure_after_its_retries() {
    // Arrange: a device registered, then APNs goes away.
    let world = World::start(&[]).await;
    world
        .register("bob", "bob-iphone", Some(&token(0x11)), Some(&token(0x12)))
        .await;
    let call = json!({"from": "alice", "to": "bob"});
    let down = world.stop_apns().await;

    // Act
    let (status, body) = down.provider.post("/calls", call.clone()).await;

    // Assert: the call exists, and the answer says the push got no answer after 3 attempts.
    assert_eq!(status, 201, "{body}");
    let delivery = &body["deliveries"][0];
    assert_eq!(delivery["device"], "bob-iphone", "{body}");
    assert!(delivery.get("status").is_none(), "{body}");
    assert_eq!(
        delivery["error"], "no answer from APNs after 3 attempts",
        "{body}"
    );

    // And once APNs is back, the next call rings.
    let world = down.start_apns().await;
    let (status, body) = world.provider.post("/calls", call).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["deliveries"],
        json!([{"device": "bob-iphone", "status": 200}])
    );
    world.pushes(1).await;
}

#[tokio::test]
async fn across_a_goaway_no_push_is_lost_or_doubled_and_later_calls_use_a_new_connection() {
    // Arrange: one call, then APNs sends GOAWAY {"reason":"Shutdown"} on that connection (its
    // last-stream-id: the highest stream the mock has accepted when the frame goes out).
    let world = World::start(&[]).await;
    world
        .register("bob", "bob-iphone", Some(&token(0x11)), Some(&token(0x12)))
        .await;
    let call = json!({"from": "alice", "to": "bob"});
    assert_eq!(world.provider.post("/calls", call.clone()).await.0, 201);
    let first = world.pushes(1).await.remove(0);
    let sent = world.apns.go_away(
        first.connection_id,
        GoAway {
            reason: Reason::Shutdown,
            error_code: ErrorCode::NoError,
            last_stream_id: None,
        },
    );
    assert!(sent, "the connection was open");

    // Act: the next call may race the GOAWAY (its stream is then either covered by the
    // last-stream-id and answered, or refused and re-sent); the one after cannot.
    let (second_status, second) = world.provider.post("/calls", call.clone()).await;
    let (third_status, third) = world.provider.post("/calls", call).await;

    // Assert: each call rang exactly once; the last one on a new connection.
    let delivered = json!([{"device": "bob-iphone", "status": 200}]);
    assert_eq!(
        (second_status, &second["deliveries"]),
        (201, &delivered),
        "{second}"
    );
    assert_eq!(
        (third_status, &third["deliveries"]),
        (201, &delivered),
        "{third}"
    );
    let pushes = world.pushes(3).await;
    assert!(
        pushes.iter().all(|p| p.status == 200),
        "{}",
        describe(&pushes)
    );
    assert_ne!(
        pushes[2].connection_id,
        first.connection_id,
        "{}",
        describe(&pushes)
    );
}
