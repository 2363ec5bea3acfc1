//! `GET /api/v1/pushes` in pages: `limit` and the `after` cursor, `next_after` in every answer,
//! the typed client following the pages, and memory that stays flat when fifty readers list a
//! record of 100 000 pushes at once.

use std::time::Instant;

use http::Method;
use mock_apns::admin::PushQuery;
use mock_apns::MockApns;
use tokio::task::JoinSet;

use crate::support::admin::error_of;
use crate::support::binary::{proc_status_kib, MockProcess};
use crate::support::push::CALL_PAYLOAD;
use crate::support::raw_h2::{device_path, voip_headers_for};
use crate::support::{admin, ApnsClient, Push};

/// Sends accepted pushes over `connections` connections until the mock holds `total` records:
/// hand-written HTTP/2 frames, the request encoded once and hundreds of streams in flight, so
/// the test spends its time in the mock rather than in a client.
async fn fill(mock: &MockProcess, total: usize, connections: usize) {
    let headers = voip_headers_for(&mock.token());
    let path = device_path();
    let mut tasks = JoinSet::new();
    for c in 0..connections {
        let share = total / connections + usize::from(c < total % connections);
        let mut h2 = mock.raw_h2().await;
        let (headers, path) = (headers.clone(), path.clone());
        tasks.spawn(async move {
            // One stream until a push is accepted, as on APNs; then up to 1000.
            let first = h2.post(1, &path, &headers, CALL_PAYLOAD.as_bytes()).await;
            assert_eq!(first.expect("the first push").status, Some(200));
            let limit = h2
                .next_stream_limit()
                .await
                .expect("the stream limit lifted");
            let accepted = h2
                .post_many(
                    3,
                    share - 1,
                    limit as usize / 2,
                    &path,
                    &headers,
                    CALL_PAYLOAD.as_bytes(),
                )
                .await
                .expect("pushes answered");
            assert_eq!(accepted, share - 1, "every push accepted");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a connection task");
    }
}

/// What 50 concurrent listings may add to the peak resident memory of a mock holding 100 000
/// records (the README's "Admin API limits" states it). Before paging, each listing built its
/// whole answer: ~80 MB apiece, and 50 of them took the process past 4 GB.
const READERS_PEAK_MIB: u64 = 64;

#[tokio::test]
async fn fifty_readers_of_a_100_000_push_record_keep_memory_flat() {
    let state = tempfile::tempdir().unwrap();
    let mock = MockProcess::start(state.path(), &["--max-records", "100000"]).await;
    let started = Instant::now();
    fill(&mock, 100_000, 2).await;
    let filled = started.elapsed();
    let admin = mock.admin();
    assert_eq!(admin.health().await.unwrap().records_dropped, 0);
    // Peak memory from here on: writing 5 to clear_refs resets VmHWM to the current RSS.
    std::fs::write(format!("/proc/{}/clear_refs", mock.pid()), "5").unwrap();
    let baseline = proc_status_kib(mock.pid(), "VmHWM");

    // A safety valve, not a synchroniser: stop the mock as soon as it passes the bound, so
    // a regression fails fast instead of taking the machine's memory.
    let pid = mock.pid();
    let limit = baseline + READERS_PEAK_MIB * 1024;
    let valve = tokio::spawn(async move {
        loop {
            if proc_status_kib(pid, "VmRSS") > limit {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    });
    let mut readers = JoinSet::new();
    // Fifty listings of 100 000 records share two cores: a bound for failure only, long
    // enough for a loaded machine (the default 10 s was passed once under load).
    let listing = admin
        .clone()
        .with_timeout(std::time::Duration::from_secs(120));
    for _ in 0..50 {
        let admin = listing.clone();
        readers.spawn(async move { admin.send(Method::GET, "/api/v1/pushes", None).await });
    }
    let mut answers = Vec::new();
    while let Some(answer) = readers.join_next().await {
        answers.push(answer.unwrap());
    }
    assert!(
        !valve.is_finished(),
        "the mock passed {READERS_PEAK_MIB} MiB above its {} MiB baseline while 50 readers \
         listed the record, and was stopped",
        baseline / 1024
    );
    valve.abort();
    let peak = proc_status_kib(mock.pid(), "VmHWM");
    let mut bytes = 0;
    for answer in answers {
        let answer = answer.expect("the listing answers");
        assert_eq!(answer.status, 200);
        bytes += answer.body.len();
    }

    // Saturating: the kernel syncs its per-thread RSS counters lazily, so a reading right
    // after the reset may run ahead of a later one by a few pages.
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    eprintln!(
        "filled 100 000 records in {filled:?}; baseline {} MiB; 50 readers got {} MiB and \
         raised the peak by {growth_mib} MiB",
        baseline / 1024,
        bytes >> 20
    );
    assert!(
        growth_mib < READERS_PEAK_MIB,
        "50 readers raised the peak RSS by {growth_mib} MiB (bound {READERS_PEAK_MIB} MiB)"
    );
    // A default page, and every record still reachable through the pages.
    let first = admin
        .pushes_page(&PushQuery::all(), None, None)
        .await
        .unwrap();
    assert_eq!(first.pushes.len(), 1000);
    assert_eq!(first.next_after, first.pushes.last().map(|n| n.id));
    // The last page, found from the first id: 100 000 records, none lost.
    let last = admin
        .pushes_page(
            &PushQuery::all(),
            Some(first.pushes[0].id + 99_990),
            Some(10_000),
        )
        .await
        .unwrap();
    assert_eq!(last.pushes.len(), 9);
    assert_eq!(last.next_after, None);
}

#[tokio::test]
async fn pages_follow_the_after_cursor_and_keep_the_filters() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let push = Push::voip(&apns);
    client.unlock_streams(&push).await.unwrap();
    let unlocking = apns.received_notifications().len();
    for i in 0..24 {
        let push = if i % 3 == 0 {
            push.clone().header("apns-priority", "7")
        } else {
            push.clone()
        };
        client.send(&push).await.unwrap();
    }
    let admin = admin(&apns);
    let accepted = PushQuery::all().status(200);

    let mut pages = Vec::new();
    let mut after = None;
    loop {
        let page = admin.pushes_page(&accepted, after, Some(5)).await.unwrap();
        assert!(page.pushes.len() <= 5);
        pages.push(page.pushes.iter().map(|n| n.id).collect::<Vec<_>>());
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let all_accepted: Vec<u64> = apns
        .received_notifications()
        .iter()
        .filter(|n| n.status == 200)
        .map(|n| n.id)
        .collect();

    assert_eq!(pages.concat(), all_accepted);
    assert_eq!(
        all_accepted.len(),
        unlocking + 16,
        "16 of the 24 were accepted"
    );
    assert_eq!(pages.len(), all_accepted.len().div_ceil(5), "{pages:?}");
    // The typed client follows the pages, whatever their size.
    let followed = admin
        .clone()
        .with_page_size(3)
        .pushes(&accepted)
        .await
        .unwrap();
    let followed: Vec<u64> = followed.iter().map(|n| n.id).collect();
    assert_eq!(followed, all_accepted);
    for (query, named) in [
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("limit=ten", "limit"),
        ("after=-1", "after"),
    ] {
        let answer = admin
            .send(Method::GET, &format!("/api/v1/pushes?{query}"), None)
            .await
            .unwrap();
        assert_eq!(answer.status, 400, "{query}: {answer:?}");
        let error = error_of(&answer.json());
        assert!(error.contains(named), "{query}: {error}");
    }
}

/// The long-poll keeps its meaning (N matching pushes, then answer) and answers in pages too.
#[tokio::test]
async fn the_wait_answers_a_page_and_says_where_the_next_starts() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let push = Push::voip(&apns);
    for _ in 0..3 {
        client.send(&push).await.unwrap();
    }
    let admin = admin(&apns);

    let answer = admin
        .send(
            Method::GET,
            "/api/v1/pushes/wait?count=3&limit=2&timeout_ms=5000",
            None,
        )
        .await
        .unwrap();
    let body = answer.json();

    assert_eq!(answer.status, 200, "{body}");
    assert_eq!(body["pushes"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(body["next_after"], body["pushes"][1]["id"], "{body}");
    let absurd = admin
        .send(
            Method::GET,
            "/api/v1/pushes/wait?count=18446744073709551615&status=400&timeout_ms=1",
            None,
        )
        .await
        .unwrap();
    assert_eq!(absurd.status, 408, "{absurd:?}");
    let waited = admin
        .wait_for_pushes(3, std::time::Duration::from_secs(5), &PushQuery::all())
        .await
        .unwrap();
    assert_eq!(waited.len(), 3);
}
