//! mock-apns and harness used the way a provider's repository uses them: as dev-dependencies.

use std::time::Duration;

use mock_apns::matchers::device_token;
use mock_apns::{Action, Mock, MockApns, Reason};
use provider_out_of_tree::send_voip_push;

const STALE: &str = "5a1e000000000000000000000000000000000000000000000000000000000000";
const FRESH: &str = "f2e5000000000000000000000000000000000000000000000000000000000000";

#[tokio::test]
async fn a_mounted_mock_answers_the_providers_push_and_the_rest_are_accepted() {
    let apns = MockApns::start().await;
    Mock::given(device_token(STALE))
        .respond_with(Action::reject(Reason::Unregistered))
        .expect(1)
        .named("stale token")
        .mount(&apns);
    let payload = r#"{"aps":{},"call_id":"42"}"#;

    let stale = send_voip_push(
        apns.address(),
        apns.ca_cert_pem(),
        &apns.provider_token(),
        STALE,
        payload,
    )
    .await
    .expect("the push reaches the mock");
    let fresh = send_voip_push(
        apns.address(),
        apns.ca_cert_pem(),
        &apns.provider_token(),
        FRESH,
        payload,
    )
    .await
    .expect("the push reaches the mock");

    assert_eq!(stale.status, 410, "{stale:?}");
    let body: serde_json::Value = serde_json::from_str(&stale.body).expect("a JSON body");
    assert_eq!(body["reason"], "Unregistered", "{stale:?}");
    assert_eq!(fresh.status, 200, "{fresh:?}");
    let pushes = apns
        .wait_for(2, Duration::from_secs(10))
        .await
        .expect("two records");
    assert_eq!(pushes[0].device_token.as_deref(), Some(STALE));
    assert_eq!(pushes[1].device_token.as_deref(), Some(FRESH));
    // Dropping `apns` verifies that "stale token" fired exactly once.
}

#[test]
fn the_harness_reads_a_scenario() {
    let text = r#"{
      "description": "Alice calls Bob",
      "bundle_id": "com.example.app",
      "devices": {"bob-iphone": {"user": "bob", "apns_token": "b0b1a1", "voip_token": "b0b1f1"}},
      "steps": [
        {"call": {"path": "/calls", "body": {"from": "alice", "to": "bob"}}},
        {"expect_no_push": {"for": "200ms"}}
      ]
    }"#;
    let scenario = harness::Scenario::parse("one_call", text).expect("a valid scenario");
    assert_eq!(scenario.token("bob-iphone.voip"), Some("b0b1f1"));
}
