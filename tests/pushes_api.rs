//! `/api/v1/pushes`: the record of pushes through the admin API (HTTP/1.1 + JSON): listing with
//! filters, 400s that name an unknown filter, the long-poll wait, and clearing.

use std::time::{Duration, Instant};

use http::StatusCode;
use mock_apns::MockApns;
use serde_json::{json, Value};

use crate::support::{Admin, ApnsClient, Push, BUNDLE, DEVICE, PATIENCE};

/// The `apns_id`s of a `{"pushes": [...]}` answer, in order.
fn ids(body: &Value) -> Vec<String> {
    body["pushes"]
        .as_array()
        .unwrap_or_else(|| panic!("no pushes array in {body}"))
        .iter()
        .map(|p| p["apns_id"].as_str().expect("apns_id").to_owned())
        .collect()
}

#[tokio::test]
async fn pushes_can_be_filtered_by_token_topic_push_type_status_and_reason() {
    let apns = MockApns::start().await;
    let admin = Admin::new(&apns.admin_uri());
    let client = ApnsClient::connect(&apns).await;
    let other = "cd".repeat(32);
    let voip = client.send(&Push::voip(&apns)).await.unwrap();
    let voip_other = client.send(&Push::voip(&apns).to(&other)).await.unwrap();
    let alert = client
        .send(
            &Push::voip(&apns)
                .header("apns-push-type", "alert")
                .header("apns-topic", BUNDLE),
        )
        .await
        .unwrap();
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
        let (status, body) = admin.get(&format!("/api/v1/pushes?{query}")).await;

        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        let got = ids(&body);
        assert_eq!(got.iter().collect::<Vec<_>>(), expected, "?{query}");
    }
}

#[tokio::test]
async fn an_unknown_filter_or_value_is_a_400_that_names_it() {
    let apns = MockApns::start().await;
    let admin = Admin::new(&apns.admin_uri());

    for (query, named) in [
        ("colour=red", "colour"),
        ("reason=Gone", "Gone"),
        ("status=ok", "ok"),
    ] {
        let (status, body) = admin.get(&format!("/api/v1/pushes?{query}")).await;

        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(&format!("\"{named}\"")), "{query}: {error}");
    }
}

/// The long-poll starts first and answers as soon as the pushes arrive, long before its
/// timeout: no test needs to sleep.
#[tokio::test]
async fn the_wait_started_before_the_pushes_answers_when_they_arrive() {
    let apns = MockApns::start().await;
    let admin = Admin::new(&apns.admin_uri());
    let client = ApnsClient::connect(&apns).await;
    let started = Instant::now();
    let wait = tokio::spawn({
        let admin = admin.clone();
        async move {
            admin
                .get_unbounded("/api/v1/pushes/wait?count=2&timeout_ms=30000")
                .await
        }
    });

    let first = client.send(&Push::voip(&apns)).await.unwrap();
    let second = client
        .send(&Push::voip(&apns).to(&"ef".repeat(32)))
        .await
        .unwrap();
    let (status, body) = tokio::time::timeout(PATIENCE, wait)
        .await
        .expect("the wait answers once both pushes are in")
        .unwrap();

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), [first.apns_id(), second.apns_id()]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_wait_counts_only_pushes_that_match_its_filter() {
    let apns = MockApns::start().await;
    let admin = Admin::new(&apns.admin_uri());
    let client = ApnsClient::connect(&apns).await;
    let wait = tokio::spawn({
        let admin = admin.clone();
        async move {
            admin
                .get_unbounded("/api/v1/pushes/wait?count=1&reason=BadTopic&timeout_ms=30000")
                .await
        }
    });

    client.send(&Push::voip(&apns)).await.unwrap();
    let bad = client
        .send(&Push::voip(&apns).header("apns-topic", "com..voip"))
        .await
        .unwrap();
    let (status, body) = tokio::time::timeout(PATIENCE, wait).await.unwrap().unwrap();

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), [bad.apns_id()]);
}

#[tokio::test]
async fn a_wait_that_times_out_is_408_with_what_exists() {
    let apns = MockApns::start().await;
    let admin = Admin::new(&apns.admin_uri());
    let client = ApnsClient::connect(&apns).await;
    let only = client.send(&Push::voip(&apns)).await.unwrap();

    let (status, body) = admin
        .get("/api/v1/pushes/wait?count=3&timeout_ms=200")
        .await;

    assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{body}");
    assert_eq!(ids(&body), [only.apns_id()]);
    let error = body["error"].as_str().unwrap_or_default();
    assert!(error.contains("1 of 3"), "{error}");
}

#[tokio::test]
async fn deleting_the_pushes_forgets_them() {
    let apns = MockApns::start().await;
    let admin = Admin::new(&apns.admin_uri());
    let client = ApnsClient::connect(&apns).await;
    client.send(&Push::voip(&apns)).await.unwrap();
    client.send(&Push::voip(&apns)).await.unwrap();

    let (status, _) = admin.delete("/api/v1/pushes").await;
    let (_, after_clear) = admin.get("/api/v1/pushes").await;
    let later = client.send(&Push::voip(&apns)).await.unwrap();
    let (_, after_push) = admin.get("/api/v1/pushes").await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(after_clear, json!({ "pushes": [], "next_after": null }));
    assert_eq!(ids(&after_push), [later.apns_id()]);
    assert_eq!(apns.received_notifications().len(), 1);
}
