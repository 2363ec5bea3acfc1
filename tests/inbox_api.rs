//! What the web UI reads besides the event stream: `/api/v1/inbox` (pages newest first, text
//! search, outcome), `/api/v1/pushes/{id}`, and the reason and push-type tables it explains
//! pushes with, straight from the library's own tables.

use mock_apns::{MockApns, PushType, Reason};
use serde_json::Value;

use crate::support::admin::{error_of, get};
use crate::support::{admin, ApnsClient, Push};

fn ids(page: &Value) -> Vec<u64> {
    page["pushes"]
        .as_array()
        .unwrap_or_else(|| panic!("no pushes in {page}"))
        .iter()
        .map(|p| p["id"].as_u64().expect("an id"))
        .collect()
}

#[tokio::test]
async fn the_inbox_pages_newest_first_and_searches_payload_text() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    for caller in ["Alice", "Bob", "alice cooper", "Dave"] {
        let body = format!(r#"{{"aps":{{}},"caller":"{caller}"}}"#);
        client.send(&Push::voip(&apns).body(body)).await.unwrap();
    }
    client
        .send(&Push::voip(&apns).header("apns-priority", "7"))
        .await
        .unwrap();

    let (_, first) = get(&admin, "/api/v1/inbox?limit=2").await;
    let (_, second) = get(&admin, "/api/v1/inbox?limit=2&before=4").await;
    let (_, last) = get(&admin, "/api/v1/inbox?limit=2&before=2").await;
    let (_, alice) = get(&admin, "/api/v1/inbox?q=ALICE").await;
    let (_, rejected) = get(&admin, "/api/v1/inbox?outcome=rejected").await;
    let (status, bad) = get(&admin, "/api/v1/inbox?outcome=maybe").await;

    assert_eq!(ids(&first), vec![5, 4]);
    assert_eq!(
        (first["total"].as_u64(), first["more"].as_bool()),
        (Some(5), Some(true))
    );
    assert_eq!(first["latest_id"], 5, "a stream after 5 misses nothing");
    assert_eq!(ids(&second), vec![3, 2]);
    assert_eq!((ids(&last), last["more"].as_bool()), (vec![1], Some(false)));
    assert_eq!(
        ids(&alice),
        vec![5, 3, 1],
        "ASCII case is ignored (5 has the default caller)"
    );
    assert_eq!(ids(&rejected), vec![5]);
    assert_eq!(rejected["pushes"][0]["reason"], "BadPriority");
    assert_eq!(status, 400);
    assert!(error_of(&bad).contains("\"maybe\""), "{bad}");
}

#[tokio::test]
async fn one_push_can_be_read_by_id_while_it_is_held() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let reply = client.send(&Push::alert(&apns)).await.unwrap();

    let (found, record) = get(&admin, "/api/v1/pushes/1").await;
    let (missing, why) = get(&admin, "/api/v1/pushes/2").await;
    admin.clear_pushes().await.unwrap();
    let (cleared, _) = get(&admin, "/api/v1/pushes/1").await;

    assert_eq!(found, 200);
    assert_eq!(record["apns_id"], reply.apns_id());
    assert_eq!(record["headers"]["apns-push-type"], "alert");
    assert_eq!(missing, 404);
    assert!(error_of(&why).contains("no push 2"), "{why}");
    assert_eq!(cleared, 404);
}

#[tokio::test]
async fn reasons_and_push_types_come_from_the_librarys_tables() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);

    let (_, reasons) = get(&admin, "/api/v1/reasons").await;
    let (_, types) = get(&admin, "/api/v1/push_types").await;

    let reasons = reasons["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), Reason::ALL.len());
    for (row, reason) in reasons.iter().zip(Reason::ALL) {
        assert_eq!(row["reason"], reason.as_str());
        assert_eq!(row["status"], reason.status());
        assert_eq!(row["explanation"], reason.explanation());
    }
    let types = types["push_types"].as_array().unwrap();
    assert_eq!(types.len(), PushType::ALL.len());
    let voip = types.iter().find(|t| t["push_type"] == "voip").unwrap();
    assert_eq!(
        (voip["topic_suffix"].as_str(), voip["max_payload"].as_u64()),
        (Some(".voip"), Some(5120))
    );
    let alert = types.iter().find(|t| t["push_type"] == "alert").unwrap();
    assert_eq!(alert["max_payload"], 4096);
}
