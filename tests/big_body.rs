//! A client that streams a 100 MB body: the mock stops reading after the limit, answers 413
//! `PayloadTooLarge` at once, and its memory does not grow with the body. Measured on the
//! `mock-apns` binary, whose resident memory is its own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mock_apns::Reason;
use serde_json::json;

use crate::support::apns_client::read_reply;
use crate::support::binary::MockProcess;
use crate::support::{Alpn, ApnsClient, Push, PATIENCE};

const BODY: u64 = 100 * 1024 * 1024;
const CHUNK: usize = 16 * 1024;

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
    let (_, listed) = mock.admin().get("/api/v1/pushes?status=413").await;
    let record = &listed["pushes"][0];
    assert_eq!(record["reason"], json!("PayloadTooLarge"), "{listed}");
    assert_eq!(record["payload_size"], json!(5121), "{listed}");
    eprintln!(
        "100 MB body: 413 after {answered_after:?} and {sent_when_answered} bytes sent; \
         client sent {sent_in_all} bytes in all; mock VmRSS {rss_before} → {rss_after} KiB"
    );
}
