//! `/api/v1/pushes`: the record of pushes through the admin API (HTTP/1.1 + JSON): listing with
//! filters, 400s that name an unknown filter, the long-poll wait, and clearing.

use std::time::{Duration, Instant};

use mock_apns::admin::PushQuery;
use mock_apns::{MockApns, Notification, Reason};
use serde_json::Value;

use crate::support::admin::{error_of, get};
use crate::support::{admin, ApnsClient, OrFail, Push, DEVICE, PATIENCE};

/// How long the long-polls below may wait: far longer than a passing test takes.
const LONG_POLL: Duration = Duration::from_secs(30);

/// The `apns_id`s of a `{"pushes": [...]}` answer, in order.
fn ids(body: &Value) -> Vec<String> {
    body["pushes"]
        .as_array()
        .unwrap_or_else(|| panic!("no pushes array in {body}"))
        .iter()
        .map(|p| p["apns_id"].as_str().expect("apns_id").to_owned())
        .collect()
}

/// The `apns_id`s of typed records, in order.
fn record_ids(pushes: &[Notification]) -> Vec<&str> {
    pushes.iter().map(|n| &*n.apns_id).collect()
}

#[tokio::test]
async fn pushes_can_be_filtered_by_token_topic_push_type_status_and_reason() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let other = "cd".repeat(32);
    let voip = client.send(&Push::voip(&apns)).await.unwrap();
    let voip_other = client.send(&Push::voip(&apns).to(&other)).await.unwrap();
    let alert = client.send(&Push::alert(&apns)).await.unwrap();
    let refused = client
        .send(&Push::voip(&apns).header("apns-priority", "7"))
        .await
        .unwrap();
    let [voip, voip_other, alert, refused] =
        [&voip, &voip_other, &alert, &refused].map(|r| r.apns_id().to_owned());

    let cases = [
        ("", vec![&voip, &voip_other, &alert, &refused]),
        (
            &*format!("device_token={}", DEVICE.to_uppercase()),
            vec![&voip, &alert, &refused],
        ),
        (&*format!("device_token={other}"), vec![&voip_other]),
        ("topic=com.example.app", vec![&alert]),
        (
            "topic=com.example.app.voip",
            vec![&voip, &voip_other, &refused],
        ),
        ("push_type=alert", vec![&alert]),
        ("status=200", vec![&voip, &voip_other, &alert]),
        ("status=400", vec![&refused]),
        ("reason=BadPriority", vec![&refused]),
        ("reason=BadTopic", vec![]),
        (
            &*format!("device_token={DEVICE}&status=200"),
            vec![&voip, &alert],
        ),
    ];
    for (query, expected) in cases {
        let (status, body) = get(&admin, &format!("/api/v1/pushes?{query}")).await;

        assert_eq!(status, 200, "{query}: {body}");
        let got = ids(&body);
        assert_eq!(got.iter().collect::<Vec<_>>(), expected, "?{query}");
    }
}

#[tokio::test]
async fn an_unknown_filter_or_value_is_a_400_that_names_it() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);

    for (query, named) in [
        ("colour=red", "colour"),
        ("reason=Gone", "Gone"),
        ("status=ok", "ok"),
    ] {
        let (status, body) = get(&admin, &format!("/api/v1/pushes?{query}")).await;

        assert_eq!(status, 400, "{query}");
        let error = error_of(&body);
        assert!(error.contains(&format!("\"{named}\"")), "{query}: {error}");
    }
}

/// The long-poll starts first and answers as soon as the pushes arrive, long before its
/// timeout: no test needs to sleep.
#[tokio::test]
async fn the_wait_started_before_the_pushes_answers_when_they_arrive() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let started = Instant::now();
    let wait = tokio::spawn({
        let admin = admin.clone();
        async move { admin.wait_for_pushes(2, LONG_POLL, &PushQuery::all()).await }
    });

    let first = client.send(&Push::voip(&apns)).await.unwrap();
    let second = client
        .send(&Push::voip(&apns).to(&"ef".repeat(32)))
        .await
        .unwrap();
    let pushes = tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("the wait answers once both pushes are in")
        .unwrap()
        .or_fail();

    assert_eq!(record_ids(&pushes), [first.apns_id(), second.apns_id()]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_wait_counts_only_pushes_that_match_its_filter() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let wait = tokio::spawn({
        let admin = admin.clone();
        async move {
            let bad_topic = PushQuery::all().reason(Reason::BadTopic);
            admin.wait_for_pushes(1, LONG_POLL, &bad_topic).await
        }
    });

    client.send(&Push::voip(&apns)).await.unwrap();
    let bad = client
        .send(&Push::voip(&apns).header("apns-topic", "com..voip"))
        .await
        .unwrap();
    let pushes = tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap()
        .unwrap()
        .or_fail();

    assert_eq!(record_ids(&pushes), [bad.apns_id()]);
}

#[tokio::test]
async fn a_wait_that_times_out_is_408_with_what_exists() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let only = client.send(&Push::voip(&apns)).await.unwrap();

    let (status, body) = get(&admin, "/api/v1/pushes/wait?count=3&timeout_ms=200").await;

    assert_eq!(status, 408, "{body}");
    assert_eq!(ids(&body), [only.apns_id()]);
    let error = error_of(&body);
    assert!(error.contains("1 of 3"), "{error}");
}

#[tokio::test]
async fn deleting_the_pushes_forgets_them() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    client.send(&Push::voip(&apns)).await.unwrap();
    client.send(&Push::voip(&apns)).await.unwrap();

    admin.clear_pushes().await.or_fail();
    let after_clear = admin.pushes(&PushQuery::all()).await.or_fail();
    let later = client.send(&Push::voip(&apns)).await.unwrap();
    let after_push = admin.pushes(&PushQuery::all()).await.or_fail();

    assert!(after_clear.is_empty(), "{after_clear:#?}");
    assert_eq!(record_ids(&after_push), [later.apns_id()]);
    assert_eq!(apns.received_notifications().len(), 1);
}
