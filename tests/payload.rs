//! Request bodies: empty, at and over Apple's limits (4096 bytes, 5120 for VoIP, inclusive),
//! sent whole or in many DATA frames.

use mock_apns::{MockApns, Reason};

use crate::support::push::json_of_size;
use crate::support::{assert_accepted, assert_rejected, ApnsClient, Push, BUNDLE};

fn alert(apns: &MockApns) -> Push {
    Push::voip(apns)
        .header("apns-push-type", "alert")
        .header("apns-topic", BUNDLE)
}

#[tokio::test]
async fn an_empty_body_is_payload_empty() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&Push::voip(&apns).body("")).await.unwrap();

    let record = assert_rejected(&apns, &reply, Reason::PayloadEmpty);
    assert_eq!(record.payload_size, 0);
}

#[tokio::test]
async fn a_non_voip_push_may_carry_4096_bytes_and_not_one_more() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let at_limit = client
        .send(&alert(&apns).payload_of_size(4096))
        .await
        .unwrap();
    let over = client
        .send(&alert(&apns).payload_of_size(4097))
        .await
        .unwrap();

    let record = assert_accepted(&apns, &at_limit);
    assert_eq!(record.payload_size, 4096);
    assert_eq!(over.status, 413);
    assert_rejected(&apns, &over, Reason::PayloadTooLarge);
}

#[tokio::test]
async fn a_voip_push_may_carry_5120_bytes_and_not_one_more() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let at_limit = client
        .send(&Push::voip(&apns).payload_of_size(5120))
        .await
        .unwrap();
    let over = client
        .send(&Push::voip(&apns).payload_of_size(5121))
        .await
        .unwrap();

    let record = assert_accepted(&apns, &at_limit);
    assert_eq!(record.payload_size, 5120);
    assert_eq!(
        record.payload_json()["pad"].as_str().map(str::len),
        Some(5101)
    );
    assert_rejected(&apns, &over, Reason::PayloadTooLarge);
}

/// A `.voip` topic makes a push VoIP even without `apns-push-type`, so it gets VoIP's limit.
#[tokio::test]
async fn a_voip_topic_without_push_type_still_gets_5120_bytes() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(
            &Push::voip(&apns)
                .without("apns-push-type")
                .payload_of_size(5120),
        )
        .await
        .unwrap();

    assert_accepted(&apns, &reply);
}

/// The limit counts the body's bytes however they are framed.
#[tokio::test]
async fn a_body_in_many_small_data_frames_is_reassembled_and_measured_whole() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let body = json_of_size(5120);

    let whole = client
        .send(&Push::voip(&apns).body(body.clone()).in_chunks(100))
        .await
        .unwrap();
    let over = client
        .send(&Push::voip(&apns).payload_of_size(5121).in_chunks(100))
        .await
        .unwrap();

    let record = assert_accepted(&apns, &whole);
    assert_eq!(record.payload.as_str().as_bytes(), &body[..]);
    assert_rejected(&apns, &over, Reason::PayloadTooLarge);
}

#[tokio::test]
async fn a_success_has_no_body_and_no_content_type() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    assert_accepted(&apns, &reply);
    assert_eq!(reply.header("content-type"), None);
}
