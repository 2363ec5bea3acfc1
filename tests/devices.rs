//! Device tokens the mock has been told about through the admin API (or the library): gone
//! tokens (410 with a timestamp), tokens of another topic, and strict mode.

use http::Method;
use mock_apns::admin::PushQuery;
use mock_apns::{Device, MockApns, Reason};
use serde_json::json;

use crate::support::admin::error_of;
use crate::support::{
    admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push, DEVICE, VOIP_TOPIC,
};

/// A device bound to `topic`, as `PUT /api/v1/devices/{token}` takes it.
fn on_topic(topic: &str) -> Device {
    Device {
        topic: Some(topic.to_owned()),
        ..Device::default()
    }
}

#[tokio::test]
async fn a_token_unregistered_through_the_admin_api_gets_410_with_its_timestamp() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    admin
        .register_device(DEVICE, &on_topic(VOIP_TOPIC))
        .await
        .or_fail();
    admin
        .unregister_device(DEVICE, Some(1_700_000_000_000))
        .await
        .or_fail();

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    assert_eq!(reply.timestamp(), Some(1_700_000_000_000));
    let record = assert_rejected(&apns, &reply, Reason::Unregistered);
    assert_eq!(record.timestamp, Some(1_700_000_000_000));
    let listed = admin.pushes(&PushQuery::all()).await.or_fail();
    assert_eq!(
        listed.first().map(|n| (n.status, n.reason, n.timestamp)),
        Some((410, Some(Reason::Unregistered), Some(1_700_000_000_000))),
        "{listed:#?}"
    );
}

#[tokio::test]
async fn unregistering_without_a_timestamp_uses_the_mocks_clock() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let before = apns.clock().now_ms();
    admin.unregister_device(DEVICE, None).await.or_fail();
    let after = apns.clock().now_ms();

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    assert_rejected(&apns, &reply, Reason::Unregistered);
    let ts = reply.timestamp().expect("a 410 carries a timestamp");
    assert!(
        (before..=after).contains(&ts),
        "{before} <= {ts} <= {after}"
    );
}

#[tokio::test]
async fn a_token_registered_for_another_topic_is_device_token_not_for_topic() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    admin
        .register_device(DEVICE, &on_topic("com.example.other.voip"))
        .await
        .or_fail();

    let wrong = client.send(&Push::voip(&apns)).await.unwrap();
    let right = client
        .send(&Push::voip(&apns).header("apns-topic", "com.example.other.voip"))
        .await
        .unwrap();

    assert_rejected(&apns, &wrong, Reason::DeviceTokenNotForTopic);
    assert_accepted(&apns, &right);
}

#[tokio::test]
async fn the_admin_api_refuses_to_register_a_token_that_is_not_hex() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);

    let answer = admin
        .send(
            Method::PUT,
            "/api/v1/devices/not-hex",
            Some(json!({ "topic": VOIP_TOPIC })),
        )
        .await
        .or_fail();

    let body = answer.json();
    assert_eq!(answer.status, 400);
    assert!(error_of(&body).contains("not-hex"), "{body}");
    let devices = admin.devices().await.or_fail();
    assert!(devices.is_empty(), "{devices:?}");
}

/// `--strict-devices`: only registered tokens are accepted, as on a real device fleet.
#[tokio::test]
async fn strict_devices_refuses_unknown_tokens_as_bad_device_token() {
    let apns = MockApns::builder().strict_devices(true).start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let via_library = "aa".repeat(32);
    apns.register_device(&via_library, Device::default());
    admin
        .register_device(DEVICE, &on_topic(VOIP_TOPIC))
        .await
        .or_fail();

    let unknown = client
        .send(&Push::voip(&apns).to(&"bb".repeat(32)))
        .await
        .unwrap();
    let known_by_admin = client.send(&Push::voip(&apns)).await.unwrap();
    let known_by_library = client
        .send(&Push::voip(&apns).to(&via_library))
        .await
        .unwrap();

    let record = assert_rejected(&apns, &unknown, Reason::BadDeviceToken);
    assert!(
        record.detail.as_deref().unwrap_or("").contains("strict"),
        "{record:#?}"
    );
    assert_accepted(&apns, &known_by_admin);
    assert_accepted(&apns, &known_by_library);
}
