//! Development (sandbox) versus production: `apns-unique-id` exists only in development, and a
//! token issued for one environment is a bad token in the other.

use mock_apns::{Device, Environment, MockApns, Reason};

use crate::support::{
    admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push, DEVICE, VOIP_TOPIC,
};

#[tokio::test]
async fn development_answers_a_lower_case_apns_unique_id() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    let unique = reply
        .header("apns-unique-id")
        .expect("apns-unique-id in development");
    assert_eq!(unique.len(), 36, "{unique}");
    assert_eq!(unique, unique.to_lowercase());
    assert_ne!(unique.to_uppercase(), reply.apns_id());
    assert_eq!(record.apns_unique_id.as_deref(), Some(unique));
}

#[tokio::test]
async fn production_answers_no_apns_unique_id() {
    let apns = MockApns::builder()
        .environment(Environment::Production)
        .start()
        .await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    assert_eq!(reply.header("apns-unique-id"), None);
    assert_eq!(record.apns_unique_id, None);
}

/// Apple answers `BadDeviceToken` for a sandbox token sent to production and vice versa.
#[tokio::test]
async fn a_token_of_the_other_environment_is_bad_device_token() {
    let apns = MockApns::builder()
        .environment(Environment::Production)
        .start()
        .await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let development = Device {
        topic: Some(VOIP_TOPIC.to_owned()),
        environment: Some(Environment::Development),
        ..Device::default()
    };
    admin.register_device(DEVICE, &development).await.or_fail();

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    assert_rejected(&apns, &reply, Reason::BadDeviceToken);
}
