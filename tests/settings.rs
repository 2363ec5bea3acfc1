//! The HTTP/2 SETTINGS the mock advertises and changes as APNs does, and the concurrent-stream
//! limit they carry: Apple's first values, one stream until a valid provider token then 1000,
//! the drop to one after a rejection (and `--throttle-on-reject false`), and REFUSED_STREAM
//! for a stream beyond the limit.

use mock_apns::{MockApns, Reason};

use crate::support::push::CALL_PAYLOAD;
use crate::support::raw_h2::{
    device_path, raw_connection, voip_headers, Frame, SETTINGS_MAX_CONCURRENT_STREAMS,
};
use crate::support::{assert_accepted, assert_rejected, ApnsClient, Push};

const HEADER_TABLE_SIZE: u16 = 0x1;
const MAX_HEADER_LIST_SIZE: u16 = 0x6;
const REFUSED_STREAM: u32 = 0x7;

/// The values APNs was observed to send (pushy#356, pushy#878): a 4096-byte HPACK table, one
/// stream until a provider token is accepted, header lists up to 8000 bytes.
#[tokio::test]
async fn the_first_settings_are_apples() {
    let apns = MockApns::start().await;
    let mut raw = raw_connection(&apns).await;

    raw.ping().await.unwrap();

    let first = &raw.settings()[0];
    assert!(first.contains(&(HEADER_TABLE_SIZE, 4096)), "{first:?}");
    assert!(
        first.contains(&(SETTINGS_MAX_CONCURRENT_STREAMS, 1)),
        "{first:?}"
    );
    assert!(first.contains(&(MAX_HEADER_LIST_SIZE, 8000)), "{first:?}");
}

/// APNs allows one stream on a token connection until a push with a valid token is accepted,
/// then advertises its full limit (1000, as observed in 2021) in a new SETTINGS frame.
#[tokio::test]
async fn the_stream_limit_is_1_until_a_valid_token_then_1000() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let unauthenticated = client
        .send(&Push::voip(&apns).without("authorization"))
        .await
        .unwrap();
    let limit_before = client.stream_limit();
    let limit_after = client.unlock_streams(&Push::voip(&apns)).await.unwrap();

    let record = assert_rejected(&apns, &unauthenticated, Reason::MissingProviderToken);
    assert_eq!(
        record.stream_limit, 1,
        "the record shows the limit in force"
    );
    assert_eq!(limit_before, 1);
    assert_eq!(limit_after, 1000);
    let connections = apns.connections();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].stream_limit, 1000);
}

/// After a rejected push APNs drops the limit to 1, and restores it after an accepted one
/// (openradar 27870881, pushy#732); each record shows the limit in force when it arrived.
#[tokio::test]
async fn a_rejection_throttles_to_one_stream_and_an_acceptance_restores_the_limit() {
    let apns = MockApns::start().await;
    let mut raw = raw_connection(&apns).await;
    let good = voip_headers(&apns);
    let mut bad = good.clone();
    bad.retain(|(name, _)| *name != "apns-topic");
    bad.push(("apns-topic", "com.example.app".into())); // VoIP on the bare bundle id

    let first = raw
        .post(1, &device_path(), &good, CALL_PAYLOAD.as_bytes())
        .await
        .unwrap();
    let opened = raw.next_stream_limit().await.unwrap();
    raw.post(3, &device_path(), &bad, CALL_PAYLOAD.as_bytes())
        .await
        .unwrap();
    let throttled = raw.next_stream_limit().await.unwrap();
    raw.post(5, &device_path(), &good, CALL_PAYLOAD.as_bytes())
        .await
        .unwrap();
    let restored = raw.next_stream_limit().await.unwrap();

    assert_eq!(first.status, Some(200));
    assert_eq!((opened, throttled, restored), (1000, 1, 1000));
    let records = apns.received_notifications();
    let limits: Vec<u32> = records.iter().map(|n| n.stream_limit).collect();
    assert_eq!(
        limits,
        [1, 1000, 1],
        "the limit in force when each push arrived"
    );
    assert_eq!(records[1].reason, Some(Reason::TopicDisallowed));
}

/// With `--throttle-on-reject false` a rejection leaves the limit alone.
#[tokio::test]
async fn without_throttling_a_rejection_keeps_the_limit() {
    let apns = MockApns::builder().throttle_on_reject(false).start().await;
    let client = ApnsClient::connect(&apns).await;
    let push = Push::voip(&apns);
    client.unlock_streams(&push).await.unwrap();

    let rejected = client
        .send(&push.clone().header("apns-priority", "7"))
        .await
        .unwrap();
    let accepted = client.send(&push).await.unwrap();

    assert_rejected(&apns, &rejected, Reason::BadPriority);
    let record = assert_accepted(&apns, &accepted);
    assert_eq!(
        record.stream_limit, 1000,
        "no drop to 1 after the rejection"
    );
    assert_eq!(client.stream_limit(), 1000);
}

/// A stream opened beyond the advertised limit is refused with RST_STREAM(REFUSED_STREAM),
/// which a client may retry; the stream within the limit is still answered.
#[tokio::test]
async fn a_stream_beyond_the_limit_is_refused() {
    let apns = MockApns::start().await;
    let mut raw = raw_connection(&apns).await;
    let headers = voip_headers(&apns);

    raw.send_head(1, &device_path(), &headers, false)
        .await
        .unwrap();
    raw.send_head(3, &device_path(), &headers, false)
        .await
        .unwrap();
    let refused = raw.next().await.unwrap();
    raw.send_data(1, CALL_PAYLOAD.as_bytes(), true)
        .await
        .unwrap();
    let answered = raw.reply(1).await.unwrap();

    assert_eq!(
        refused,
        Frame::Reset {
            stream: 3,
            code: REFUSED_STREAM
        }
    );
    assert_eq!(answered.status, Some(200));
    assert_eq!(
        apns.received_notifications().len(),
        1,
        "the refused stream was not processed"
    );
}
