//! Which pushes a rule applies to: each field of `match` (through the Rust matchers, the
//! same `match` object as JSON), and which rule decides when several match: the lower
//! priority number, then the one mounted first.

use mock_apns::faults::Match;
use mock_apns::matchers::{
    any, connection_id, device_token, key_id, payload, priority, push_type, team_id, topic,
};
use mock_apns::{Action, Mock, MockApns, PushType, Reason, SigningKey};

use super::OTHER;
use crate::support::{
    admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push, DEVICE, VOIP_TOPIC,
};

/// What the rules in this file answer: nothing in validation produces it.
const INJECTED: Reason = Reason::InternalServerError;

/// Mounts a rule for `matcher` expected to fire exactly once, sends `hit` (which it must
/// reject with [`INJECTED`], naming the rule in the record) and each of `misses` (which must
/// pass untouched), each on its own client.
async fn only_the_matching_push_is_hit(
    apns: &MockApns,
    matcher: Match,
    hit: (&ApnsClient, Push),
    misses: &[(&ApnsClient, Push)],
) {
    let rule = Mock::given(matcher.clone())
        .respond_with(Action::reject(INJECTED))
        .expect(1)
        .named("under test")
        .mount(apns);

    let mut passed = Vec::new();
    for (client, push) in misses {
        passed.push(client.send(push).await.expect("an answer"));
    }
    let rejected = hit.0.send(&hit.1).await.expect("an answer");

    for reply in &passed {
        let record = assert_accepted(apns, reply);
        assert!(record.fault.is_none(), "{matcher:?} matched {record:#?}");
    }
    let record = assert_rejected(apns, &rejected, INJECTED);
    let fault = record.fault.expect("the record names the rule");
    assert_eq!(fault.rule_id, rule);
    assert_eq!(fault.action, Action::reject(INJECTED));
    apns.verify();
}

/// Device tokens compare case-insensitively, as APNs treats hex.
#[tokio::test]
async fn device_token_matches_that_token_in_any_case() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    only_the_matching_push_is_hit(
        &apns,
        device_token(DEVICE.to_uppercase()),
        (&client, Push::voip(&apns)),
        &[(&client, Push::voip(&apns).to(OTHER))],
    )
    .await;
}

#[tokio::test]
async fn topic_matches_that_topic_only() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let chat = "com.example.chat.voip";

    only_the_matching_push_is_hit(
        &apns,
        topic(chat),
        (&client, Push::voip(&apns).header("apns-topic", chat)),
        &[(&client, Push::voip(&apns))],
    )
    .await;
}

#[tokio::test]
async fn push_type_matches_that_push_type_only() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    only_the_matching_push_is_hit(
        &apns,
        push_type(PushType::Alert),
        (&client, Push::alert(&apns)),
        &[(&client, Push::voip(&apns))],
    )
    .await;
}

/// A push without `apns-priority` counts as priority 10, as APNs treats it.
#[tokio::test]
async fn priority_matches_that_priority_only() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    only_the_matching_push_is_hit(
        &apns,
        priority(5),
        (&client, Push::voip(&apns).header("apns-priority", "5")),
        &[
            (&client, Push::voip(&apns).header("apns-priority", "10")),
            (&client, Push::voip(&apns).without("apns-priority")),
        ],
    )
    .await;
}

/// One provider token per connection, as APNs pins a connection to its first team and key.
#[tokio::test]
async fn team_id_matches_pushes_signed_for_that_team() {
    let other_team = SigningKey::generate("OTHERTEAM1").unwrap();
    let apns = MockApns::builder()
        .token_key(other_team.verifying_key())
        .start()
        .await;
    let ours = ApnsClient::connect(&apns).await;
    let theirs = ApnsClient::connect(&apns).await;
    let their_push = Push::voip_with_token(&other_team.token(apns.clock().now_secs()));

    only_the_matching_push_is_hit(
        &apns,
        team_id("OTHERTEAM1"),
        (&theirs, their_push),
        &[(&ours, Push::voip(&apns))],
    )
    .await;
}

#[tokio::test]
async fn key_id_matches_pushes_signed_with_that_key() {
    let second = SigningKey::generate(mock_apns::DEV_TEAM_ID).unwrap();
    let apns = MockApns::builder()
        .token_key(second.verifying_key())
        .start()
        .await;
    let first_key = ApnsClient::connect(&apns).await;
    let second_key = ApnsClient::connect(&apns).await;
    let second_push = Push::voip_with_token(&second.token(apns.clock().now_secs()));

    only_the_matching_push_is_hit(
        &apns,
        key_id(second.key_id()),
        (&second_key, second_push),
        &[(&first_key, Push::voip(&apns))],
    )
    .await;
}

/// The connection id is the one `GET /api/v1/connections` and the record show.
#[tokio::test]
async fn connection_id_matches_pushes_on_that_connection_only() {
    let apns = MockApns::start().await;
    let one = ApnsClient::connect(&apns).await;
    let two = ApnsClient::connect(&apns).await;
    let on_one = one.send(&Push::voip(&apns)).await.unwrap();
    let on_two = two.send(&Push::voip(&apns)).await.unwrap();
    let (one_id, two_id) = (
        assert_accepted(&apns, &on_one).connection_id,
        assert_accepted(&apns, &on_two).connection_id,
    );
    assert_ne!(one_id, two_id);

    only_the_matching_push_is_hit(
        &apns,
        connection_id(two_id),
        (&two, Push::voip(&apns)),
        &[(&one, Push::voip(&apns))],
    )
    .await;
}

/// The value at the JSON pointer must equal the rule's, type included: `"42"` is not `42`.
#[tokio::test]
async fn payload_matches_the_value_at_a_json_pointer() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    only_the_matching_push_is_hit(
        &apns,
        payload("/call_id", "42"),
        (
            &client,
            Push::voip(&apns).body(r#"{"aps":{},"call_id":"42"}"#),
        ),
        &[
            (
                &client,
                Push::voip(&apns).body(r#"{"aps":{},"call_id":"43"}"#),
            ),
            (
                &client,
                Push::voip(&apns).body(r#"{"aps":{},"call_id":42}"#),
            ),
            (&client, Push::voip(&apns).body(r#"{"aps":{}}"#)),
        ],
    )
    .await;
}

/// Conditions combined with `and` must all hold.
#[tokio::test]
async fn combined_conditions_must_all_hold() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    only_the_matching_push_is_hit(
        &apns,
        device_token(DEVICE).and(topic(VOIP_TOPIC)).and(priority(5)),
        (&client, Push::voip(&apns).header("apns-priority", "5")),
        &[
            (&client, Push::voip(&apns)),
            (
                &client,
                Push::voip(&apns).to(OTHER).header("apns-priority", "5"),
            ),
        ],
    )
    .await;
}

/// The lower priority number is evaluated first even when mounted later; among equal
/// priorities the rule mounted first decides; a rule whose schedule no longer fires lets the
/// next one decide.
#[tokio::test]
async fn priority_order_beats_insertion_order() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let mounted_first = Mock::given(any())
        .respond_with(Action::reject(Reason::InternalServerError))
        .named("mounted first")
        .expect(1)
        .mount(&apns);
    let urgent = Mock::given(any())
        .respond_with(Action::reject(Reason::TooManyRequests))
        .with_priority(-1)
        .up_to_n_times(1)
        .named("urgent")
        .expect(1)
        .mount(&apns);
    let tie = Mock::given(any())
        .respond_with(Action::reject(Reason::ServiceUnavailable))
        .named("same priority, mounted later")
        .expect(0)
        .mount(&apns);
    let listed = admin.faults().await.or_fail();
    let client = ApnsClient::connect(&apns).await;

    let first = client.send(&Push::voip(&apns)).await.unwrap();
    let second = client.send(&Push::voip(&apns)).await.unwrap();

    let order: Vec<u64> = listed.iter().map(|r| r.id).collect();
    assert_eq!(order, [urgent, mounted_first, tie], "{listed:#?}");
    let first = assert_rejected(&apns, &first, Reason::TooManyRequests);
    assert_eq!(first.fault.map(|f| f.rule_id), Some(urgent));
    let second = assert_rejected(&apns, &second, Reason::InternalServerError);
    assert_eq!(second.fault.map(|f| f.rule_id), Some(mounted_first));
}
