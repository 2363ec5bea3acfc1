//! `GET /api/v1/pushes/{id}/apns`: a recorded push as the iOS Simulator's `.apns` file, which
//! `xcrun simctl push` and drag-and-drop accept, and a clear refusal for VoIP pushes, which the
//! Simulator does not deliver.

use http::Method;
use mock_apns::MockApns;

use crate::support::admin::error_of;
use crate::support::{admin, assert_accepted, ApnsClient, OrFail, Push, BUNDLE};

#[tokio::test]
async fn an_alert_push_downloads_as_its_payload_with_the_simulator_target_bundle() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let reply = client
        .send(
            &Push::alert(&apns).body(r#"{"aps":{"alert":{"title":"Missed call"}},"call_id":"42"}"#),
        )
        .await
        .unwrap();
    let id = assert_accepted(&apns, &reply).id;
    let admin = admin(&apns);

    let file = admin.apns_file(id).await.or_fail();
    let raw = admin
        .send(Method::GET, &format!("/api/v1/pushes/{id}/apns"), None)
        .await
        .or_fail();

    let json: serde_json::Value = serde_json::from_str(&file).expect("the file is JSON");
    assert_eq!(json["Simulator Target Bundle"], BUNDLE);
    assert_eq!(json["aps"]["alert"]["title"], "Missed call");
    assert_eq!(json["call_id"], "42");
    assert_eq!(raw.status, 200);
    assert_eq!(String::from_utf8_lossy(&raw.body), file);
}

#[tokio::test]
async fn a_voip_push_is_refused_because_the_simulator_does_not_deliver_pushkit() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let reply = client.send(&Push::voip(&apns)).await.unwrap();
    let id = assert_accepted(&apns, &reply).id;

    let answer = admin(&apns)
        .send(Method::GET, &format!("/api/v1/pushes/{id}/apns"), None)
        .await
        .or_fail();

    assert_eq!(answer.status, 422);
    let error = error_of(&answer.json());
    assert!(
        error.contains("Simulator does not deliver voip pushes"),
        "{error}"
    );
}

#[tokio::test]
async fn a_push_that_is_not_in_the_record_is_404() {
    let apns = MockApns::start().await;

    let answer = admin(&apns)
        .send(Method::GET, "/api/v1/pushes/99/apns", None)
        .await
        .or_fail();

    assert_eq!(answer.status, 404, "{}", answer.json());
}
