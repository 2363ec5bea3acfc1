//! The provider's own HTTP API: readiness, refusals, start-up errors.

use serde_json::json;

use crate::support::{provider_env, run_to_exit, token, World};

#[tokio::test]
async fn health_answers_once_the_readiness_line_is_printed() {
    let world = World::start(&[]).await;

    let (status, body) = world.provider.get("/health").await;

    assert_eq!(status, 200, "{body}");
    assert!(world.provider.url.starts_with("http://127.0.0.1:"));
}

#[tokio::test]
async fn bad_requests_are_refused_and_push_nothing() {
    // Arrange
    let world = World::start(&[]).await;
    world
        .register("bob", "bob-iphone", Some(&token(0x11)), Some(&token(0x12)))
        .await;
    let p = &world.provider;

    // Act + Assert: each refusal names the problem.
    let (status, body) = p
        .post("/devices", json!({"user": "bob", "device": "bob-ipad"}))
        .await;
    assert_eq!(status, 400, "a device without any token: {body}");
    let (status, body) = p
        .post(
            "/devices",
            json!({"user": "bob", "device": "x", "voip_token": "not hex"}),
        )
        .await;
    assert_eq!(status, 400, "a token that is not hex: {body}");
    let (status, body) = p
        .post("/calls", json!({"from": "alice", "to": "carol"}))
        .await;
    assert_eq!(status, 404, "calling a user with no device: {body}");
    assert!(body["error"].as_str().unwrap_or_default().contains("carol"));
    let (status, body) = p.post("/calls", json!({"from": "alice"})).await;
    assert_eq!(status, 400, "a call without a callee: {body}");
    let unknown = uuid::Uuid::new_v4();
    let (status, body) = p.post(&format!("/calls/{unknown}/cancel"), json!({})).await;
    assert_eq!(status, 404, "cancelling an unknown call: {body}");
    let (status, body) = p.get("/calls").await;
    assert_eq!(status, 405, "GET /calls: {body}");

    // Nothing reached APNs.
    assert!(world.apns.received_notifications().is_empty());
}

#[tokio::test]
async fn answering_from_a_device_the_callee_does_not_have_is_refused_and_the_call_keeps_ringing() {
    // Arrange
    let world = World::start(&[]).await;
    world
        .register("bob", "bob-iphone", Some(&token(0x11)), Some(&token(0x12)))
        .await;
    let (_, call) = world
        .provider
        .post("/calls", json!({"from": "alice", "to": "bob"}))
        .await;
    let call_id = call["call_id"].as_str().expect("call_id");

    // Act
    let (status, body) = world
        .provider
        .post(
            &format!("/calls/{call_id}/answer"),
            json!({"device": "eve-phone"}),
        )
        .await;

    // Assert: refused, and the call can still be cancelled (it was not ended).
    assert_eq!(status, 400, "{body}");
    let (status, body) = world
        .provider
        .post(&format!("/calls/{call_id}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_key_file_that_is_not_a_p8_stops_the_provider_at_start_naming_the_file() {
    // Arrange
    let state = tempfile::tempdir().expect("temp dir");
    let apns = mock_apns::MockApns::builder()
        .state_dir(state.path())
        .start()
        .await;
    let bad = state.path().join("AuthKey_BROKEN.p8");
    std::fs::write(&bad, "not a key").expect("write");
    let mut env = provider_env(&apns, state.path());
    for (k, v) in &mut env {
        if k == "APNS_KEY_FILE" {
            *v = bad.display().to_string();
        }
    }

    // Act
    let (status, stderr) = run_to_exit(env).await;

    // Assert
    assert!(!status.success());
    assert!(stderr.contains("AuthKey_BROKEN.p8"), "{stderr}");
}
