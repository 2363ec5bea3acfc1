//! Virtual phones: what the pushes did on the device side, seen through the record, the admin
//! API and the Rust API while APNs's answers stay Apple's (200 for an offline phone, for a
//! PushKit violation, for a suspended app).

use std::time::Duration;

use http::Method;
use mock_apns::admin::PushQuery;
use mock_apns::phones::{
    CallEnd, DeliveryReason, Effect, PhoneCondition, PhoneEvent, PhoneSpec, Violation,
};
use mock_apns::{DeliveryStatus, MockApns};

use crate::support::admin::error_of;
use crate::support::{admin, assert_accepted, ApnsClient, OrFail, Push, PATIENCE};

/// Bob's iPhone: its PushKit token and its app token.
const VOIP: &str = "b0b1f10000000000000000000000000000000000000000000000000000000000";
const APNS: &str = "b0b1a10000000000000000000000000000000000000000000000000000000000";

/// The incoming-call push for `call`, as the reference provider sends it (expiration 0).
fn call(apns: &MockApns, call: &str) -> Push {
    Push::voip(apns).to(VOIP).body(format!(
        r#"{{"aps":{{}},"call_id":"{call}","caller":"alice"}}"#
    ))
}

/// The provider's "missed call" alert for `call`, to the app token.
fn missed_call(apns: &MockApns, call: &str) -> Push {
    Push::alert(apns)
        .to(APNS)
        .without("apns-expiration")
        .body(format!(
            r#"{{"aps":{{"alert":{{"title":"Missed call"}}}},"call_id":"{call}"}}"#
        ))
}

#[tokio::test]
async fn a_voip_push_for_call_42_rings_the_online_phone_it_was_sent_to() {
    let apns = MockApns::start().await;
    let bob = apns.phone("bob-iphone").tokens([VOIP, APNS]);
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&call(&apns, "42")).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    let delivery = record.delivery.expect("the token belongs to bob-iphone");
    assert_eq!(
        (delivery.phone.as_str(), delivery.status, delivery.effect),
        (
            "bob-iphone",
            DeliveryStatus::Delivered,
            Some(Effect::Ringing)
        )
    );
    assert_eq!(bob.ringing(), ["42"]);
    let seen = admin(&apns).phone("bob-iphone").await.or_fail();
    assert_eq!(seen.ringing, ["42"], "{seen:#?}");
}

#[tokio::test]
async fn a_second_voip_push_for_call_42_is_accepted_and_recorded_as_a_violation() {
    let apns = MockApns::start().await;
    let bob = apns.phone("bob-iphone").tokens([VOIP]);
    let client = ApnsClient::connect(&apns).await;
    client.send(&call(&apns, "42")).await.unwrap();

    let again = client.send(&call(&apns, "42")).await.unwrap();

    let record = assert_accepted(&apns, &again);
    let delivery = record.delivery.expect("a delivery");
    assert_eq!(
        (delivery.effect, delivery.violation),
        (Some(Effect::PolicyViolation), Some(Violation::RepeatedCall)),
        "{delivery:?}"
    );
    assert!(
        record.lint.iter().any(|f| f.rule == "voip-repeated-call"),
        "{:?}",
        record.lint
    );
    let phone = bob.view();
    assert_eq!(phone.violations, 1);
    assert!(
        phone.timeline.iter().any(|e| e.event
            == PhoneEvent::Violation {
                push_id: record.id,
                why: Violation::RepeatedCall,
                count: 1
            }),
        "{:#?}",
        phone.timeline
    );
    assert!(
        !bob.is_ringing(),
        "iOS terminated the app, and the call with it"
    );
    assert_eq!(phone.calls[0].end, Some(CallEnd::AppTerminated));
}

#[tokio::test]
async fn after_three_violations_a_new_calls_voip_push_is_discarded_and_nothing_rings() {
    let apns = MockApns::start().await;
    let bob = apns.phone("bob-iphone").tokens([VOIP]);
    let client = ApnsClient::connect(&apns).await;
    for id in ["1", "2", "3"] {
        client.send(&call(&apns, id)).await.unwrap();
        client.send(&call(&apns, id)).await.unwrap();
    }

    let reply = client.send(&call(&apns, "4")).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    let delivery = record.delivery.expect("a delivery");
    assert_eq!(
        (delivery.status, delivery.reason),
        (
            DeliveryStatus::Discarded,
            Some(DeliveryReason::VoipSuspended)
        )
    );
    let phone = bob.view();
    assert!(phone.voip_suspended && phone.violations == 3, "{phone:#?}");
    assert!(!bob.is_ringing());

    let admin = admin(&apns);
    admin.reset_phone("bob-iphone").await.or_fail();
    client.send(&call(&apns, "5")).await.unwrap();
    assert_eq!(
        bob.ringing(),
        ["5"],
        "a reset phone takes VoIP pushes again"
    );
}

#[tokio::test]
async fn an_offline_phone_never_rings_for_an_expiration_0_call_but_rings_late_for_a_stored_one() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    admin
        .put_phone(
            "bob-iphone",
            &PhoneSpec::default().tokens([VOIP]).online(false),
        )
        .await
        .or_fail();
    let client = ApnsClient::connect(&apns).await;

    let now_reply = client.send(&call(&apns, "1")).await.unwrap();
    let in_a_minute = (apns.clock().now_secs() + 60).to_string();
    let later_reply = client
        .send(&call(&apns, "2").header("apns-expiration", &in_a_minute))
        .await
        .unwrap();
    admin
        .update_phone("bob-iphone", &PhoneSpec::default().online(true))
        .await
        .or_fail();

    let now_record = assert_accepted(&apns, &now_reply);
    let stored_record = assert_accepted(&apns, &later_reply);
    assert_eq!(
        now_record.delivery.map(|d| (d.status, d.reason)),
        Some((DeliveryStatus::Discarded, Some(DeliveryReason::Expired)))
    );
    assert_eq!(
        stored_record.delivery.map(|d| (d.status, d.reason)),
        Some((DeliveryStatus::Stored, Some(DeliveryReason::DeviceOffline)))
    );
    assert!(
        stored_record
            .lint
            .iter()
            .any(|f| f.rule == "voip-long-expiration"),
        "{:?}",
        stored_record.lint
    );
    let phone = admin.phone("bob-iphone").await.or_fail();
    assert_eq!(
        phone.ringing,
        ["2"],
        "only the stored call rings: {phone:#?}"
    );
    assert_eq!(
        phone.last_push().map(|f| f.reason),
        Some(Some(DeliveryReason::FromStorage))
    );
}

#[tokio::test]
async fn a_missed_call_alert_carrying_the_call_id_stops_the_ringing() {
    let apns = MockApns::start().await;
    let bob = apns.phone("bob-iphone").tokens([VOIP, APNS]);
    let client = ApnsClient::connect(&apns).await;
    client.send(&call(&apns, "42")).await.unwrap();

    let reply = client.send(&missed_call(&apns, "42")).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    assert_eq!(
        record.delivery.and_then(|d| d.effect),
        Some(Effect::EndedCall)
    );
    assert!(record.lint.is_empty(), "{:?}", record.lint);
    let phone = bob.view();
    assert!(!phone.is_ringing(None));
    assert_eq!(phone.calls[0].end, Some(CallEnd::StoppedByPush));
    assert_eq!(phone.calls[0].ended_by_push, Some(record.id));
}

#[tokio::test]
async fn the_test_answers_and_declines_through_the_admin_api() {
    let apns = MockApns::start().await;
    apns.phone("bob-iphone").tokens([VOIP]);
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    client.send(&call(&apns, "41")).await.unwrap();
    client.send(&call(&apns, "42")).await.unwrap();

    let declined = admin.decline("bob-iphone", Some("42")).await.or_fail();
    let answered = admin.answer("bob-iphone", None).await.or_fail();
    let silent = admin
        .send(
            Method::POST,
            "/api/v1/phones/bob-iphone/answer",
            Some(serde_json::json!({})),
        )
        .await
        .or_fail();

    assert_eq!(
        (declined.call.as_str(), declined.end),
        ("42", Some(CallEnd::Declined))
    );
    assert_eq!(answered.call, "41", "the call ringing longest");
    assert_eq!(silent.status, 409, "{}", silent.json());
    assert!(
        error_of(&silent.json()).contains("not ringing"),
        "{}",
        silent.json()
    );
}

#[tokio::test]
async fn an_unanswered_call_rings_out_when_the_mocks_clock_passes_the_ring_timeout() {
    let apns = MockApns::builder()
        .ring_timeout(Some(Duration::from_secs(30)))
        .start()
        .await;
    apns.phone("bob-iphone").tokens([VOIP]);
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    client.send(&call(&apns, "42")).await.unwrap();

    let waiting = admin.wait_for_phone("bob-iphone", &PhoneCondition::NotRinging, PATIENCE);
    let advance = async {
        admin.advance_clock(Duration::from_secs(31)).await.or_fail();
    };
    let (phone, ()) = tokio::join!(waiting, advance);

    let phone = phone.or_fail();
    assert_eq!(phone.calls[0].end, Some(CallEnd::RingTimeout), "{phone:#?}");
}

#[tokio::test]
async fn a_wait_for_ringing_answers_when_the_push_arrives_and_408s_with_the_phone_otherwise() {
    let apns = MockApns::start().await;
    apns.phone("bob-iphone").tokens([VOIP]);
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;

    let call_42 = PhoneCondition::Ringing(Some("42".into()));
    let waiting = admin.wait_for_phone("bob-iphone", &call_42, PATIENCE);
    let push = async { client.send(&call(&apns, "42")).await.unwrap() };
    let (phone, _) = tokio::join!(waiting, push);
    assert_eq!(phone.or_fail().ringing, ["42"]);

    let late = admin
        .wait_for_phone(
            "bob-iphone",
            &PhoneCondition::Ringing(Some("43".into())),
            Duration::from_millis(50),
        )
        .await;
    match late {
        Err(mock_apns::admin::ClientError::PhoneWaitTimeout(late)) => {
            assert_eq!(late.phone.ringing, ["42"])
        }
        other => panic!("expected a phone wait timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wait_on_the_latest_push_answers_once_it_has_that_fate() {
    let apns = MockApns::start().await;
    apns.phone("bob-iphone").tokens([VOIP]).online(false);
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let expired =
        PhoneCondition::LastPush(DeliveryStatus::Discarded, Some(DeliveryReason::Expired));

    let waiting = admin.wait_for_phone("bob-iphone", &expired, PATIENCE);
    let push = async { client.send(&call(&apns, "42")).await.unwrap() };
    let (phone, _) = tokio::join!(waiting, push);

    let phone = phone.or_fail();
    assert_eq!(phone.pushes.len(), 1, "{phone:#?}");
    let bad = admin
        .send(
            Method::GET,
            "/api/v1/phones/bob-iphone/wait?delivery=discarded&reason=lost",
            None,
        )
        .await
        .or_fail();
    assert_eq!(bad.status, 400);
    assert!(
        error_of(&bad.json()).contains("device_offline"),
        "the error lists the reasons: {}",
        bad.json()
    );
}

#[tokio::test]
async fn a_phone_without_the_app_discards_pushes_as_token_unregistered() {
    let apns = MockApns::start().await;
    let bob = apns.phone("bob-iphone").tokens([VOIP]).app_installed(false);
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&call(&apns, "42")).await.unwrap();

    let record = assert_accepted(&apns, &reply);
    assert_eq!(
        record.delivery.and_then(|d| d.reason),
        Some(DeliveryReason::TokenUnregistered)
    );
    assert!(!bob.is_ringing());
}

#[tokio::test]
async fn pushes_can_be_filtered_by_phone_and_delivery_status() {
    let apns = MockApns::start().await;
    apns.phone("bob-iphone").tokens([VOIP]).online(false);
    let client = ApnsClient::connect(&apns).await;
    let stored = client
        .send(&call(&apns, "1").without("apns-expiration"))
        .await
        .unwrap();
    client.send(&call(&apns, "2")).await.unwrap();
    client
        .send(&Push::voip(&apns).to(&"cd".repeat(32)))
        .await
        .unwrap();
    let admin = admin(&apns);

    let bobs = admin
        .pushes(&PushQuery::all().phone("bob-iphone"))
        .await
        .or_fail();
    let kept = admin
        .pushes(&PushQuery::all().delivery(DeliveryStatus::Stored))
        .await
        .or_fail();

    assert_eq!(bobs.len(), 2, "{bobs:#?}");
    assert_eq!(
        kept.iter().map(|n| &*n.apns_id).collect::<Vec<_>>(),
        [stored.apns_id()]
    );
}

#[tokio::test]
async fn a_push_to_a_token_no_phone_owns_has_no_delivery_key_in_its_record() {
    let apns = MockApns::start().await;
    apns.phone("bob-iphone").tokens([VOIP]);
    let client = ApnsClient::connect(&apns).await;

    client
        .send(&Push::voip(&apns).to(&"cd".repeat(32)))
        .await
        .unwrap();

    let listed = admin(&apns)
        .send(Method::GET, "/api/v1/pushes", None)
        .await
        .or_fail();
    let record = &listed.json()["pushes"][0];
    assert!(
        record.get("delivery").is_none() && record.get("lint").is_none(),
        "existing consumers see the record as before: {record}"
    );
}

#[tokio::test]
async fn phone_requests_that_cannot_be_done_are_refused_with_the_reason() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let cases = [
        (
            Method::GET,
            "/api/v1/phones/nobody",
            None,
            404,
            "no phone named",
        ),
        (
            Method::PATCH,
            "/api/v1/phones/nobody",
            Some(serde_json::json!({"online": false})),
            404,
            "no phone named",
        ),
        (
            Method::PUT,
            "/api/v1/phones/bob-iphone",
            Some(serde_json::json!({"tokens": ["xyz"]})),
            400,
            "not a hex device token",
        ),
        (
            Method::PUT,
            "/api/v1/phones/bob-iphone",
            Some(serde_json::json!({"airplane": true})),
            400,
            "airplane",
        ),
        (
            Method::PUT,
            "/api/v1/phones/bob.iphone",
            Some(serde_json::json!({})),
            400,
            "not a phone name",
        ),
        (
            Method::GET,
            "/api/v1/phones/nobody/wait?ringing=true&timeout_ms=1",
            None,
            404,
            "no phone named",
        ),
    ];
    for (method, path, body, status, words) in cases {
        let answer = admin.send(method.clone(), path, body).await.or_fail();
        let error = error_of(&answer.json());
        assert_eq!(answer.status, status, "{method} {path}: {error}");
        assert!(error.contains(words), "{method} {path}: {error}");
    }
    let created = admin
        .send(
            Method::PUT,
            "/api/v1/phones/bob-iphone",
            Some(serde_json::json!({})),
        )
        .await
        .or_fail();
    assert_eq!(created.status, 201, "{}", created.json());
    let bad_wait = admin
        .send(
            Method::GET,
            "/api/v1/phones/bob-iphone/wait?ringing=maybe",
            None,
        )
        .await
        .or_fail();
    assert_eq!(bad_wait.status, 400, "{}", bad_wait.json());
}
