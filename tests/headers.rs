//! The `apns-*` request headers: ids, expiration, priority, push type, topic, collapse id, and
//! headers sent twice.

use mock_apns::{MockApns, Reason};

use crate::support::assertions::record_of;
use crate::support::{assert_accepted, assert_rejected, ApnsClient, Push, BUNDLE, VOIP_TOPIC};

/// A background push as Apple describes it: bare bundle topic, content-available, priority 5.
fn background(apns: &MockApns) -> Push {
    Push::voip(apns)
        .header("apns-push-type", "background")
        .header("apns-topic", BUNDLE)
        .header("apns-priority", "5")
        .body(r#"{"aps":{"content-available":1}}"#)
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[tokio::test]
async fn an_apns_id_that_is_not_a_canonical_uuid_is_bad_message_id() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for id in ["call-42", "123e4567e89b12d3a456426614174000", ""] {
        let reply = client
            .send(&Push::voip(&apns).header("apns-id", id))
            .await
            .unwrap();

        let record = assert_rejected(&apns, &reply, Reason::BadMessageId);
        assert_eq!(record.header("apns-id"), Some(id));
        assert!(
            is_uuid(reply.apns_id()),
            "an invalid id is replaced, not echoed: {}",
            reply.apns_id()
        );
    }
}

#[tokio::test]
async fn the_clients_apns_id_is_echoed_verbatim() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for id in [
        "123e4567-e89b-12d3-a456-426614174000",
        "ACDFB3EB-105B-D33C-7F29-8D09A01CC4EF",
    ] {
        let reply = client
            .send(&Push::voip(&apns).header("apns-id", id))
            .await
            .unwrap();

        assert_eq!(reply.apns_id(), id);
        let record = assert_accepted(&apns, &reply);
        assert_eq!(&*record.apns_id, id);
    }
}

/// Real APNs answers with upper-case ids (`ACDFB3EB-105B-…`), and a fresh one per push.
#[tokio::test]
async fn a_generated_apns_id_is_a_fresh_upper_case_uuid() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let first = client.send(&Push::voip(&apns)).await.unwrap();
    let second = client.send(&Push::voip(&apns)).await.unwrap();

    for reply in [&first, &second] {
        let id = reply.apns_id();
        assert!(is_uuid(id), "{id}");
        assert_eq!(id, id.to_uppercase(), "{id}");
        assert_accepted(&apns, reply);
    }
    assert_ne!(first.apns_id(), second.apns_id());
}

#[tokio::test]
async fn an_expiration_that_is_not_epoch_seconds_is_bad_expiration_date() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for value in ["tomorrow", "-1", "1700000000.5", ""] {
        let reply = client
            .send(&Push::voip(&apns).header("apns-expiration", value))
            .await
            .unwrap();

        assert_rejected(&apns, &reply, Reason::BadExpirationDate);
    }
    let reply = client
        .send(&Push::voip(&apns).header("apns-expiration", "1700000000"))
        .await
        .unwrap();
    assert_accepted(&apns, &reply);
}

#[tokio::test]
async fn a_priority_other_than_10_5_or_1_is_bad_priority() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for value in ["7", "high", "010"] {
        let reply = client
            .send(&Push::voip(&apns).header("apns-priority", value))
            .await
            .unwrap();

        assert_rejected(&apns, &reply, Reason::BadPriority);
    }
    for value in ["10", "5", "1"] {
        let reply = client
            .send(&Push::voip(&apns).header("apns-priority", value))
            .await
            .unwrap();
        assert_accepted(&apns, &reply);
    }
}

/// Apple: a background push must use priority 5, "using priority 10 is an error"; 10 is also
/// the default when the header is left out.
#[tokio::test]
async fn a_background_push_at_priority_10_is_bad_priority() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let explicit = client
        .send(&background(&apns).header("apns-priority", "10"))
        .await
        .unwrap();
    let defaulted = client
        .send(&background(&apns).without("apns-priority"))
        .await
        .unwrap();
    let right = client.send(&background(&apns)).await.unwrap();

    assert_rejected(&apns, &explicit, Reason::BadPriority);
    assert_rejected(&apns, &defaulted, Reason::BadPriority);
    assert_accepted(&apns, &right);
}

#[tokio::test]
async fn an_unknown_push_type_is_invalid_push_type() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for value in ["call", "VOIP", ""] {
        let reply = client
            .send(&Push::voip(&apns).header("apns-push-type", value))
            .await
            .unwrap();

        let record = assert_rejected(&apns, &reply, Reason::InvalidPushType);
        assert_eq!(record.header("apns-push-type"), Some(value));
    }
}

/// Observed at Apple (AndrewBarba/apns2#23): push type `alert` on a `.voip` topic.
#[tokio::test]
async fn an_alert_on_a_voip_topic_is_invalid_push_type() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(&Push::voip(&apns).header("apns-push-type", "alert"))
        .await
        .unwrap();

    assert_rejected(&apns, &reply, Reason::InvalidPushType);
}

#[tokio::test]
async fn no_topic_on_a_token_connection_is_missing_topic() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(&Push::voip(&apns).without("apns-topic"))
        .await
        .unwrap();

    let record = assert_rejected(&apns, &reply, Reason::MissingTopic);
    assert_eq!(record.topic(), None);
}

#[tokio::test]
async fn a_topic_that_is_not_a_bundle_id_is_bad_topic() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for topic in ["com.example..app.voip", "com/example/app.voip", ".voip", ""] {
        let reply = client
            .send(&Push::voip(&apns).header("apns-topic", topic))
            .await
            .unwrap();

        assert_rejected(&apns, &reply, Reason::BadTopic);
    }
}

/// Observed at Apple (node-apn#635): a VoIP push sent to the bare bundle id.
#[tokio::test]
async fn a_voip_push_on_the_bare_bundle_topic_is_topic_disallowed() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(&Push::voip(&apns).header("apns-topic", BUNDLE))
        .await
        .unwrap();

    let record = assert_rejected(&apns, &reply, Reason::TopicDisallowed);
    assert_eq!(record.topic(), Some(BUNDLE));
}

#[tokio::test]
async fn a_collapse_id_over_64_bytes_is_bad_collapse_id() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let too_long = client
        .send(&Push::voip(&apns).header("apns-collapse-id", &"c".repeat(65)))
        .await
        .unwrap();
    let at_limit = client
        .send(&Push::voip(&apns).header("apns-collapse-id", &"c".repeat(64)))
        .await
        .unwrap();

    assert_rejected(&apns, &too_long, Reason::BadCollapseId);
    let record = assert_accepted(&apns, &at_limit);
    assert_eq!(record.header("apns-collapse-id").map(str::len), Some(64));
}

#[tokio::test]
async fn a_header_sent_twice_is_duplicate_headers() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    for (name, second) in [
        ("apns-topic", VOIP_TOPIC),
        ("apns-priority", "5"),
        ("apns-push-type", "voip"),
    ] {
        let push = Push::voip(&apns);
        let first = push.header_value(name).unwrap().to_owned();

        let reply = client
            .send(&push.repeat_header(name, second))
            .await
            .unwrap();

        let record = assert_rejected(&apns, &reply, Reason::DuplicateHeaders);
        let sent: Vec<&str> = record
            .headers
            .iter()
            .filter(|(n, _)| &**n == name)
            .map(|(_, v)| &**v)
            .collect();
        assert_eq!(sent, [first.as_str(), second], "both values are recorded");
    }
}

/// A header list over the 8000 bytes advertised in SETTINGS_MAX_HEADER_LIST_SIZE gets 431, and
/// like every refusal an `apns-id` (the client's, when it came before the limit) and a JSON
/// reason; h2 alone used to answer a bare 431 the mock never saw. The record says what was cut.
#[tokio::test]
async fn a_header_list_over_8000_bytes_gets_431_with_an_apns_id_and_a_json_reason() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let id = "0f3c2a4e-8b1d-4c6e-9a7f-2b5d8e1c4a90";
    let push = Push::voip(&apns)
        .header("apns-id", id)
        .header("x-padding", &"a".repeat(9000));

    let reply = client.send(&push).await.unwrap();

    assert_eq!(reply.status, 431, "{reply:?}");
    assert_eq!(reply.header("apns-id"), Some(id));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        Some(serde_json::json!({"reason": "RequestHeaderFieldsTooLarge"}))
    );
    let record = record_of(&apns, &reply);
    assert_eq!(record.status, 431);
    assert_eq!(record.reason, None, "not one of Apple's reasons");
    assert_eq!(
        record.topic(),
        Some(VOIP_TOPIC),
        "fields before the limit are kept"
    );
    let detail = record.detail.as_deref().unwrap_or_default();
    assert!(detail.contains("8000"), "{detail}");
    // The connection goes on.
    assert_accepted(&apns, &client.send(&Push::voip(&apns)).await.unwrap());
}
