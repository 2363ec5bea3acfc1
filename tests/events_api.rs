//! `/api/v1/events`: the record as Server-Sent Events, read with the typed client: new pushes
//! as they are recorded, resumption with `Last-Event-ID` that misses nothing (even under load,
//! reconnecting mid-burst), filters, clearing, bad positions, and a graceful stop.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use http::Method;
use mock_apns::admin::{ClientError, Event, EventStream, PushQuery};
use mock_apns::{MockApns, Notification};

use crate::support::admin::error_of;
use crate::support::{admin, ApnsClient, Push, DEVICE, PATIENCE};

/// The next push event, within [`PATIENCE`].
async fn next_push(stream: &mut EventStream) -> Notification {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Ok(Some(Event::Push(n)))) => *n,
        other => panic!("expected a push event, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stream_resumed_with_last_event_id_gets_exactly_the_pushes_recorded_meanwhile() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let mut stream = admin.events(&PushQuery::all(), None).await.unwrap();
    let mut sent = Vec::new();
    for _ in 0..3 {
        sent.push(client.send(&Push::voip(&apns)).await.unwrap());
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.push(next_push(&mut stream).await);
    }
    let resume_at = stream.last_event_id();
    drop(stream);
    for _ in 0..2 {
        sent.push(client.send(&Push::voip(&apns)).await.unwrap());
    }
    let mut resumed = admin.events(&PushQuery::all(), resume_at).await.unwrap();
    for _ in 0..2 {
        seen.push(next_push(&mut resumed).await);
    }
    let mut replayed = admin.events(&PushQuery::all(), Some(0)).await.unwrap();
    let mut from_start_ids = Vec::new();
    for _ in 0..5 {
        from_start_ids.push(next_push(&mut replayed).await.id);
    }

    assert_eq!(resume_at, Some(3));
    let sent_ids: Vec<&str> = sent.iter().map(|r| r.apns_id()).collect();
    let seen_ids: Vec<&str> = seen.iter().map(|n| &*n.apns_id).collect();
    assert_eq!(
        seen_ids, sent_ids,
        "each push once, in order, across the gap"
    );
    assert_eq!(
        seen.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    assert_eq!(
        from_start_ids,
        vec![1, 2, 3, 4, 5],
        "after 0: every push held"
    );
}

/// 1200 pushes from 3 connections at once while a reader drops and resumes the stream every
/// few dozen events: the reader sees every record exactly once, in id order, although
/// concurrent pushes can be stored a moment out of id order. Resumes are counted only while
/// some push is still unanswered, so the test fails if none happened mid-burst.
#[tokio::test]
async fn a_stream_resumed_again_and_again_during_a_burst_misses_and_repeats_nothing() {
    const CONNECTIONS: usize = 3;
    const SENDERS_PER_CONNECTION: usize = 20;
    const PUSHES_PER_SENDER: usize = 20;
    const TOTAL: usize = CONNECTIONS * SENDERS_PER_CONNECTION * PUSHES_PER_SENDER;
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        let client = ApnsClient::connect(&apns).await;
        client.unlock_streams(&Push::voip(&apns)).await.unwrap();
        clients.push(client);
    }
    let before_burst = apns.received_notifications().last().map(|n| n.id);
    let answered = Arc::new(AtomicUsize::new(0));
    let mut senders = tokio::task::JoinSet::new();
    for client in &clients {
        for _ in 0..SENDERS_PER_CONNECTION {
            let (client, push) = (client.clone(), Push::voip(&apns));
            let answered = answered.clone();
            senders.spawn(async move {
                for _ in 0..PUSHES_PER_SENDER {
                    let reply = client.send(&push).await.expect("an answer");
                    assert_eq!(reply.status, 200, "{reply:?}");
                    answered.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    }

    let mut ids = Vec::new();
    let mut position = before_burst;
    let mut resumed = 0;
    let mut resumed_mid_burst = 0;
    while ids.len() < TOTAL {
        if resumed > 0 && answered.load(Ordering::SeqCst) < TOTAL {
            resumed_mid_burst += 1;
        }
        let mut stream = admin.events(&PushQuery::all(), position).await.unwrap();
        // 17, 18, 19, ... events, then drop the stream in the middle of the burst.
        for _ in 0..(17 + resumed % 13).min(TOTAL - ids.len()) {
            ids.push(next_push(&mut stream).await.id);
        }
        position = stream.last_event_id();
        resumed += 1;
    }
    while let Some(sender) = senders.join_next().await {
        sender.expect("a sender finished");
    }

    let burst: Vec<u64> = apns
        .received_notifications()
        .iter()
        .map(|n| n.id)
        .filter(|id| Some(*id) > before_burst)
        .collect();
    assert_eq!(burst.len(), TOTAL);
    assert!(
        resumed_mid_burst > 0,
        "none of the {} resumes happened while pushes were still arriving",
        resumed - 1
    );
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids in strictly increasing order, none repeated"
    );
    let seen: BTreeSet<u64> = ids.iter().copied().collect();
    let missing: Vec<u64> = burst
        .iter()
        .filter(|id| !seen.contains(id))
        .copied()
        .collect();
    assert!(missing.is_empty(), "missed {missing:?}");
}

#[tokio::test]
async fn filters_apply_to_the_stream_and_clearing_the_record_is_an_event() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let mut rejected = admin
        .events(&PushQuery::all().status(400), None)
        .await
        .unwrap();
    let accepted = client.send(&Push::voip(&apns)).await.unwrap();
    let refused = client
        .send(&Push::voip(&apns).header("apns-priority", "7"))
        .await
        .unwrap();
    let first = next_push(&mut rejected).await;
    admin.clear_pushes().await.unwrap();
    let cleared = tokio::time::timeout(PATIENCE, rejected.next()).await;

    assert_eq!(accepted.status, 200);
    assert_eq!(
        &*first.apns_id,
        refused.apns_id(),
        "the 200 was filtered out"
    );
    assert!(
        matches!(cleared, Ok(Ok(Some(Event::Cleared)))),
        "{cleared:?}"
    );
}

#[tokio::test]
async fn a_bad_position_or_filter_is_a_400_that_names_it() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);

    let after = admin
        .send(Method::GET, "/api/v1/events?after=yesterday", None)
        .await
        .unwrap();
    let filter = admin
        .send(Method::GET, "/api/v1/events?colour=red", None)
        .await
        .unwrap();

    assert_eq!(after.status, 400);
    assert!(
        error_of(&after.json()).contains("after"),
        "{:?}",
        after.json()
    );
    assert_eq!(filter.status, 400);
    assert!(
        error_of(&filter.json()).contains("colour"),
        "{:?}",
        filter.json()
    );
    // The typed client reports the refusal with the API's words.
    let refused = admin
        .events(&PushQuery::all().lint("no-such-rule"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, ClientError::Refused { status: 400, message, .. }
            if message.contains("\"no-such-rule\" is not a rule id")),
        "{refused}"
    );
}

#[tokio::test]
async fn stopping_the_mock_ends_open_streams_so_the_stop_is_not_held_open() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let mut stream = admin
        .events(&PushQuery::all().device_token(DEVICE), None)
        .await
        .unwrap();

    let stopped = tokio::time::timeout(PATIENCE, apns.shutdown()).await;
    let ended = tokio::time::timeout(PATIENCE, stream.next()).await;

    assert!(stopped.is_ok(), "the mock stopped with a stream open");
    assert!(matches!(ended, Ok(Ok(None))), "{ended:?}");
}
