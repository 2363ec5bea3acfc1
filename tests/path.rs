//! `:method`, `:path` and the device token in it.

use bytes::Bytes;
use http::Method;
use mock_apns::{MockApns, Reason};

use crate::support::assertions::record_of;
use crate::support::{assert_accepted, assert_rejected, ApnsClient, Push};

#[tokio::test]
async fn only_post_is_allowed() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let reply = client
            .send(&Push::voip(&apns).method(method.clone()))
            .await
            .unwrap();

        let record = assert_rejected(&apns, &reply, Reason::MethodNotAllowed);
        assert_eq!(&*record.method, method.as_str());
    }
}

/// HEAD gets 405 like any other method, but without a body: an answer to HEAD has none (RFC
/// 9110 §9.3.2), and an HTTP/2 client resets the stream with PROTOCOL_ERROR when one comes.
#[tokio::test]
async fn head_gets_405_without_a_body() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(&Push::voip(&apns).method(Method::HEAD).body(Bytes::new()))
        .await
        .unwrap();

    assert_eq!(reply.status, 405, "{reply:?}");
    assert!(reply.body.is_empty(), "{reply:?}");
    assert!(reply.header("apns-id").is_some(), "{reply:?}");
    let record = record_of(&apns, &reply);
    assert_eq!(record.status, 405);
    assert_eq!(record.reason, Some(Reason::MethodNotAllowed));
    assert_eq!(&*record.method, "HEAD");
}

#[tokio::test]
async fn a_path_outside_the_device_api_is_bad_path() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for path in ["/", "/3/devices/abcd", "/2/device/abcd", "/3/device-abcd"] {
        let reply = client.send(&Push::voip(&apns).path(path)).await.unwrap();

        let record = assert_rejected(&apns, &reply, Reason::BadPath);
        assert_eq!(&*record.path, path);
    }
}

#[tokio::test]
async fn a_path_without_a_token_is_missing_device_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for path in ["/3/device/", "/3/device"] {
        let reply = client.send(&Push::voip(&apns).path(path)).await.unwrap();

        let record = assert_rejected(&apns, &reply, Reason::MissingDeviceToken);
        assert_eq!(record.device_token, None, "{path}");
    }
}

#[tokio::test]
async fn a_token_that_is_not_hex_is_bad_device_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let not_hex = "z1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    let reply = client.send(&Push::voip(&apns).to(not_hex)).await.unwrap();

    let record = assert_rejected(&apns, &reply, Reason::BadDeviceToken);
    assert_eq!(record.device_token.as_deref(), Some(not_hex));
}

#[tokio::test]
async fn a_token_with_an_odd_number_of_digits_is_bad_device_token() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&Push::voip(&apns).to("abc")).await.unwrap();

    assert_rejected(&apns, &reply, Reason::BadDeviceToken);
}

/// Apple: device tokens "are of variable length. Do not hard-code their size" (a Live Activity
/// token of 80 bytes is on record), so neither 8 nor 80 bytes may be refused.
#[tokio::test]
async fn tokens_of_any_even_length_are_accepted() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let long = "ab".repeat(80);

    for token in [long.as_str(), "0123456789abcdef", "A1B2C3D4E5F60718"] {
        let reply = client.send(&Push::voip(&apns).to(token)).await.unwrap();

        let record = assert_accepted(&apns, &reply);
        assert_eq!(record.device_token.as_deref(), Some(token));
    }
}
