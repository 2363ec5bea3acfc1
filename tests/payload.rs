//! Request bodies: empty, at and over Apple's limits (4096 bytes, 5120 for VoIP, inclusive),
//! sent whole or in many DATA frames, and a 100 MB body cut off at the limit with the mock's
//! memory flat.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mock_apns::admin::PushQuery;
use mock_apns::{MockApns, Reason};

use crate::support::apns_client::read_reply;
use crate::support::binary::MockProcess;
use crate::support::push::json_of_size;
use crate::support::{assert_accepted, assert_rejected, Alpn, ApnsClient, OrFail, Push, PATIENCE};

// The body a_100_mb_body_gets_413_in_seconds_with_flat_memory streams, and its chunks.
const BODY: u64 = 100 * 1024 * 1024;
const CHUNK: usize = 16 * 1024;

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
        .send(&Push::alert(&apns).payload_of_size(4096))
        .await
        .unwrap();
    let over = client
        .send(&Push::alert(&apns).payload_of_size(4097))
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

/// A client that streams a 100 MB body: the mock stops reading after the limit, answers 413
/// `PayloadTooLarge` at once, and its memory does not grow with the body. Measured on the
/// `mock-apns` binary, whose resident memory is its own.
#[tokio::test]
async fn a_100_mb_body_gets_413_in_seconds_with_flat_memory() {
    let state = tempfile::tempdir().unwrap();
    let mock = MockProcess::start(state.path(), &[]).await;
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let token = mock.token();
    let warm_up = client.send(&Push::voip_with_token(&token)).await.unwrap();
    assert_eq!(warm_up.status, 200, "{warm_up:?}");
    let rss_before = mock.rss_kib();

    // Act: stream 100 MB, as fast as flow control lets us, until the server stops us.
    let started = Instant::now();
    let open = client
        .open(&Push::voip_with_token(&token).body(""), false)
        .await
        .unwrap();
    let (response, mut body) = (open.response, open.body);
    let sent = Arc::new(AtomicU64::new(0));
    let streamer = tokio::spawn({
        let sent = sent.clone();
        async move {
            let chunk = Bytes::from(vec![b' '; CHUNK]);
            let mut total = 0u64;
            while total < BODY {
                body.reserve_capacity(CHUNK);
                let Some(Ok(n)) = std::future::poll_fn(|cx| body.poll_capacity(cx)).await else {
                    break; // the server reset the stream: it has stopped listening
                };
                let n = n.min(CHUNK).min((BODY - total) as usize);
                if body
                    .send_data(chunk.slice(..n), total + n as u64 == BODY)
                    .is_err()
                {
                    break;
                }
                total += n as u64;
                sent.store(total, Ordering::SeqCst);
            }
            total
        }
    });
    let reply = tokio::time::timeout(Duration::from_secs(5), read_reply(response))
        .await
        .expect("413 within 5 s")
        .unwrap();
    let answered_after = started.elapsed();
    let sent_when_answered = sent.load(Ordering::SeqCst);
    let sent_in_all = tokio::time::timeout(PATIENCE, streamer)
        .await
        .expect("the client learns that the stream is over")
        .unwrap();
    let rss_after = mock.rss_kib();

    // Assert
    assert_eq!(
        (reply.status, reply.reason().as_deref()),
        (413, Some(Reason::PayloadTooLarge.as_str()))
    );
    assert!(
        sent_when_answered < 1024 * 1024,
        "answered after {sent_when_answered} bytes; the limit is 5120"
    );
    assert!(
        sent_in_all < BODY,
        "the server let all {BODY} bytes through"
    );
    let growth_kib = rss_after.saturating_sub(rss_before);
    assert!(
        growth_kib < 20 * 1024,
        "VmRSS grew by {growth_kib} KiB ({rss_before} → {rss_after})"
    );
    let listed = mock
        .admin()
        .pushes(&PushQuery::all().status(413))
        .await
        .or_fail();
    assert_eq!(
        listed.first().map(|n| (n.reason, n.payload_size)),
        Some((Some(Reason::PayloadTooLarge), 5121)),
        "{listed:#?}"
    );
    eprintln!(
        "100 MB body: 413 after {answered_after:?} and {sent_when_answered} bytes sent; \
         client sent {sent_in_all} bytes in all; mock VmRSS {rss_before} → {rss_after} KiB"
    );
}
