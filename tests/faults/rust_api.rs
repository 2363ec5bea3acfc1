//! The Rust face of fault rules, in the style of wiremock-rs: `Mock::given(matcher)
//! .respond_with(action)`, with expectations verified when the mock (or a scoped guard) is
//! dropped, and a failure message that lists what was received.

use mock_apns::matchers::{any, device_token, push_type};
use mock_apns::{Action, Mock, MockApns, PushType, Reason, Schedule};

use super::OTHER;
use crate::support::{assert_accepted, assert_rejected, ApnsClient, Push, DEVICE};

#[tokio::test]
async fn an_expectation_that_holds_passes_when_the_mock_is_dropped() {
    let apns = MockApns::start().await;
    let id = Mock::given(device_token(DEVICE))
        .and(push_type(PushType::Voip))
        .respond_with(Action::reject_at(Reason::Unregistered, 1_700_000_000_000))
        .expect(1)
        .named("stale VoIP token")
        .mount(&apns);
    let client = ApnsClient::connect(&apns).await;

    let stale = client.send(&Push::voip(&apns)).await.unwrap();
    let fresh = client.send(&Push::voip(&apns).to(OTHER)).await.unwrap();

    let record = assert_rejected(&apns, &stale, Reason::Unregistered);
    assert_eq!(stale.timestamp(), Some(1_700_000_000_000));
    let fault = record.fault.expect("the record names the rule");
    assert_eq!(fault.rule_id, id);
    assert_eq!(fault.name.as_deref(), Some("stale VoIP token"));
    assert_eq!(
        fault.action,
        Action::reject_at(Reason::Unregistered, 1_700_000_000_000)
    );
    assert_accepted(&apns, &fresh);
    apns.verify();
} // Dropping `apns` verifies again: "stale VoIP token" fired exactly once.

/// The mock expected one push to DEVICE and got only one to OTHER: dropping it fails the
/// test, naming the mock, the expectation and what was received.
#[tokio::test]
#[should_panic(expected = "Verifications failed:
- mock #1 \"stale VoIP token\": expected exactly 1 hits, got 0
Received pushes (1):
  #1 POST /3/device/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd topic=com.example.app.voip push-type=voip -> 200")]
async fn an_expectation_that_fails_panics_when_the_mock_is_dropped() {
    let apns = MockApns::start().await;
    Mock::given(device_token(DEVICE))
        .respond_with(Action::reject(Reason::Unregistered))
        .expect(1)
        .named("stale VoIP token")
        .mount(&apns);
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&Push::voip(&apns).to(OTHER)).await.unwrap();

    assert_accepted(&apns, &reply);
} // Dropping `apns` panics here.

/// A scoped mock applies while its guard lives; dropping the guard checks its expectation and
/// unmounts it, so later pushes pass.
#[tokio::test]
async fn a_scoped_mock_is_unmounted_when_its_guard_drops() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let (during, hits) = {
        let guard = Mock::given(any())
            .respond_with(Action::reject(Reason::TooManyRequests))
            .expect(1..)
            .mount_as_scoped(&apns);
        let during = client.send(&Push::voip(&apns)).await.unwrap();
        (during, guard.hits())
    };
    let after = client.send(&Push::voip(&apns)).await.unwrap();

    assert_rejected(&apns, &during, Reason::TooManyRequests);
    assert_eq!(hits, 1);
    assert!(apns.faults().is_empty(), "{:?}", apns.faults());
    assert_accepted(&apns, &after);
}

/// A scoped guard verifies on drop, while the mock lives on.
#[tokio::test]
#[should_panic(expected = "- mock #1 \"at most once\": expected between 0 and 1 hits, got 2")]
async fn a_scoped_mock_whose_expectation_fails_panics_when_its_guard_drops() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let guard = Mock::given(any())
        .respond_with(Action::reject(Reason::TooManyRequests))
        .expect(..=1)
        .named("at most once")
        .mount_as_scoped(&apns);

    for _ in 0..2 {
        let reply = client.send(&Push::voip(&apns)).await.unwrap();
        assert_rejected(&apns, &reply, Reason::TooManyRequests);
    }

    drop(guard);
}

/// `up_to_n_times(n)`: "429 twice, then 200", the retry test every provider needs; the spent
/// rule leaves the list.
#[tokio::test]
async fn up_to_n_times_fires_n_times_then_lets_pushes_through() {
    let apns = MockApns::start().await;
    Mock::given(device_token(DEVICE))
        .respond_with(Action::reject(Reason::TooManyRequests))
        .up_to_n_times(2)
        .expect(2)
        .mount(&apns);
    let client = ApnsClient::connect(&apns).await;

    let mut replies = Vec::new();
    for _ in 0..3 {
        replies.push(client.send(&Push::voip(&apns)).await.unwrap());
    }

    assert_rejected(&apns, &replies[0], Reason::TooManyRequests);
    assert_rejected(&apns, &replies[1], Reason::TooManyRequests);
    assert_accepted(&apns, &replies[2]);
    assert!(apns.faults().is_empty(), "{:?}", apns.faults());
}

/// A schedule set in Rust is the same as in JSON: `Schedule::Nth(2)` hits only the second.
#[tokio::test]
async fn a_schedule_set_in_rust_applies() {
    let apns = MockApns::start().await;
    Mock::given(any())
        .respond_with(Action::reject(Reason::ServiceUnavailable))
        .schedule(Schedule::Nth(2))
        .expect(1)
        .mount(&apns);
    let client = ApnsClient::connect(&apns).await;

    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(client.send(&Push::voip(&apns)).await.unwrap().status);
    }

    assert_eq!(statuses, [200, 503, 200]);
}
