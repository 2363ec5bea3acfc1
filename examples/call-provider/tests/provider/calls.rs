//! The call flows as APNs sees them: ring, cancel, answer.

use serde_json::json;

use crate::support::{describe, token, World, BUNDLE};

/// Bob has an iPhone and an iPad (both tokens each) and a watch-like device with only a
/// regular token.
async fn bob(world: &World) {
    world
        .register("bob", "bob-iphone", Some(&token(0x11)), Some(&token(0x12)))
        .await;
    world
        .register("bob", "bob-ipad", Some(&token(0x21)), Some(&token(0x22)))
        .await;
    world
        .register("bob", "bob-mac", Some(&token(0x31)), None)
        .await;
}

async fn call_bob(world: &World) -> String {
    let (status, body) = world
        .provider
        .post("/calls", json!({"from": "alice", "to": "bob"}))
        .await;
    assert_eq!(status, 201, "{body}");
    body["call_id"].as_str().expect("call_id").to_owned()
}

#[tokio::test]
async fn a_call_rings_every_device_of_the_callee_with_a_voip_push() {
    // Arrange
    let world = World::start(&[]).await;
    bob(&world).await;

    // Act
    let (status, body) = world
        .provider
        .post("/calls", json!({"from": "alice", "to": "bob"}))
        .await;

    // Assert: the answer reports each device, the mock got one VoIP push per VoIP token.
    assert_eq!(status, 201, "{body}");
    let call_id = body["call_id"].as_str().expect("call_id");
    assert_eq!(
        body["deliveries"],
        json!([{"device": "bob-ipad", "status": 200}, {"device": "bob-iphone", "status": 200}])
    );
    let pushes = world.pushes(2).await;
    let mut tokens: Vec<_> = pushes
        .iter()
        .map(|p| p.device_token.as_deref().unwrap_or_default().to_owned())
        .collect();
    tokens.sort();
    assert_eq!(tokens, [token(0x12), token(0x22)], "{}", describe(&pushes));
    for push in &pushes {
        assert_eq!(push.status, 200, "{}", push.to_json());
        assert_eq!(push.header("apns-push-type"), Some("voip"));
        assert_eq!(push.topic(), Some("com.example.app.voip"));
        assert_eq!(push.header("apns-priority"), Some("10"));
        assert_eq!(push.header("apns-expiration"), Some("0"));
        assert_eq!(
            push.payload_json(),
            json!({"aps": {}, "call_id": call_id, "caller": "alice", "ring_timeout": 30})
        );
    }
}

#[tokio::test]
async fn calls_share_one_connection_and_one_provider_token() {
    // Arrange
    let world = World::start(&[]).await;
    bob(&world).await;

    // Act: two calls, four pushes.
    call_bob(&world).await;
    call_bob(&world).await;

    // Assert: Apple asks for a long-lived connection and a token reused for 20-60 minutes.
    let pushes = world.pushes(4).await;
    assert!(
        pushes
            .iter()
            .all(|p| p.status == 200 && p.connection_id == pushes[0].connection_id),
        "{}",
        describe(&pushes)
    );
    let iats: Vec<_> = pushes.iter().map(|p| p.auth.iat).collect();
    assert!(iats[0].is_some(), "token auth was used");
    assert!(iats.iter().all(|iat| *iat == iats[0]), "{iats:?}");
}

#[tokio::test]
async fn cancel_sends_a_missed_call_alert_to_the_regular_tokens_not_a_voip_push() {
    // Arrange
    let world = World::start(&[]).await;
    bob(&world).await;
    let call_id = call_bob(&world).await;
    world.pushes(2).await;

    // Act
    let (status, body) = world
        .provider
        .post(&format!("/calls/{call_id}/cancel"), json!({}))
        .await;

    // Assert: three alerts (every regular token), no VoIP push.
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["deliveries"].as_array().map(Vec::len),
        Some(3),
        "{body}"
    );
    let pushes = world.pushes(5).await;
    let alerts = &pushes[2..];
    let mut tokens: Vec<_> = alerts
        .iter()
        .map(|p| p.device_token.as_deref().unwrap_or_default().to_owned())
        .collect();
    tokens.sort();
    assert_eq!(tokens, [token(0x11), token(0x21), token(0x31)]);
    for push in alerts {
        assert_eq!(push.status, 200, "{}", push.to_json());
        assert_eq!(push.header("apns-push-type"), Some("alert"));
        assert_eq!(push.topic(), Some(BUNDLE));
        assert_eq!(push.header("apns-priority"), Some("10"));
        assert_eq!(
            push.payload_json(),
            json!({
                "aps": {"alert": {"title": "Missed call", "body": "Missed call from alice"}},
                "call_id": call_id,
            })
        );
    }
}

#[tokio::test]
async fn a_call_ends_once_cancelling_it_again_is_a_conflict() {
    // Arrange
    let world = World::start(&[]).await;
    bob(&world).await;
    let call_id = call_bob(&world).await;
    let cancel = format!("/calls/{call_id}/cancel");
    assert_eq!(world.provider.post(&cancel, json!({})).await.0, 200);

    // Act
    let (status, body) = world.provider.post(&cancel, json!({})).await;

    // Assert: no second missed-call alert.
    assert_eq!(status, 409, "{body}");
    assert_eq!(world.apns.received_notifications().len(), 2 + 3);
}

#[tokio::test]
async fn answering_on_one_device_stops_the_others_with_a_background_push() {
    // Arrange
    let world = World::start(&[]).await;
    bob(&world).await;
    let call_id = call_bob(&world).await;
    world.pushes(2).await;

    // Act
    let (status, body) = world
        .provider
        .post(
            &format!("/calls/{call_id}/answer"),
            json!({"device": "bob-iphone"}),
        )
        .await;

    // Assert: the iPad and the Mac are told, the iPhone that answered is not.
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["deliveries"],
        json!([{"device": "bob-ipad", "status": 200}, {"device": "bob-mac", "status": 200}])
    );
    let pushes = world.pushes(4).await;
    let stops = &pushes[2..];
    let mut tokens: Vec<_> = stops
        .iter()
        .map(|p| p.device_token.as_deref().unwrap_or_default().to_owned())
        .collect();
    tokens.sort();
    assert_eq!(tokens, [token(0x21), token(0x31)]);
    for push in stops {
        assert_eq!(push.status, 200, "{}", push.to_json());
        assert_eq!(push.header("apns-push-type"), Some("background"));
        assert_eq!(push.topic(), Some(BUNDLE));
        assert_eq!(push.header("apns-priority"), Some("5"));
        assert_eq!(
            push.payload_json(),
            json!({"aps": {"content-available": 1}, "call_id": call_id, "event": "answered-elsewhere"})
        );
    }
}

#[tokio::test]
async fn the_cancel_as_voip_bug_switch_sends_the_missed_call_as_a_voip_push() {
    // Arrange: the deliberately wrong variant the harness's snapshot test must catch.
    let world = World::start(&[("CALL_PROVIDER_BUG", "cancel-as-voip")]).await;
    bob(&world).await;
    let call_id = call_bob(&world).await;
    world.pushes(2).await;

    // Act
    let (status, body) = world
        .provider
        .post(&format!("/calls/{call_id}/cancel"), json!({}))
        .await;

    // Assert: VoIP pushes to the VoIP tokens instead of alerts.
    assert_eq!(status, 200, "{body}");
    let pushes = world.pushes(4).await;
    for push in &pushes[2..] {
        assert_eq!(
            push.header("apns-push-type"),
            Some("voip"),
            "{}",
            push.to_json()
        );
        assert_eq!(push.topic(), Some("com.example.app.voip"));
        assert_eq!(push.payload_json()["aps"]["alert"]["title"], "Missed call");
        assert!(
            push.lint.iter().any(|f| f.rule == "voip-visible-alert"),
            "the mock's lint names the mistake: {:?}",
            push.lint
        );
    }
}
