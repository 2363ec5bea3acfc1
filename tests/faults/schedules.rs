//! Schedules decide which of the pushes a rule matches it acts on: always, the first N, only
//! the Nth, after K, every k-th, a seeded probability, and expiry after N hits. Counting is
//! over matching pushes only, so every sequence here interleaves pushes the rule ignores.

use http::Method;
use mock_apns::{MockApns, Reason};
use serde_json::{json, Value};

use super::{assert_fault, assert_no_fault, mount, OTHER};
use crate::support::{admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push, DEVICE};

/// Which pushes a rule hit, as `X` (hit) and `-` (passed), e.g. `XX---`.
type Pattern = String;

/// On a fresh mock, mounts a 429 rule for [`DEVICE`] with `schedule` (`null`: none given),
/// sends `n` pushes to it one after another, each followed by one to
/// [`OTHER`] that must pass, and returns which were hit. Each push's answer and record must
/// agree, and the rule's counters must match the pattern.
async fn pattern_of(schedule: Value, n: usize) -> Pattern {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let action = json!({ "reject": "TooManyRequests" });
    let schedule_is_absent = schedule.is_null();
    let mut rule = json!({
        "match": { "device_token": DEVICE }, "schedule": schedule, "action": action });
    if schedule_is_absent {
        rule.as_object_mut().expect("an object").remove("schedule");
    }
    let id = mount(&admin, rule).await;
    let client = ApnsClient::connect(&apns).await;

    let mut pattern = Pattern::new();
    for _ in 0..n {
        let reply = client.send(&Push::voip(&apns)).await.expect("an answer");
        let unmatched = client
            .send(&Push::voip(&apns).to(OTHER))
            .await
            .expect("an answer");
        assert_no_fault(&assert_accepted(&apns, &unmatched));
        if reply.status == 200 {
            assert_no_fault(&assert_accepted(&apns, &reply));
            pattern.push('-');
        } else {
            assert_fault(
                &assert_rejected(&apns, &reply, Reason::TooManyRequests),
                id,
                &action,
            );
            pattern.push('X');
        }
    }
    let hits = pattern.matches('X').count();
    let listed = admin.fault(id).await.or_fail();
    assert_eq!(listed.matched, n as u64, "{listed:?}");
    assert_eq!(listed.hits, hits as u64, "{listed:?}");
    pattern
}

#[tokio::test]
async fn always_hits_every_matching_push() {
    assert_eq!(pattern_of(json!("always"), 5).await, "XXXXX");
}

#[tokio::test]
async fn a_rule_without_a_schedule_hits_always() {
    assert_eq!(pattern_of(Value::Null, 3).await, "XXX");
}

#[tokio::test]
async fn first_n_hits_the_first_n_matching_pushes_then_recovers() {
    assert_eq!(pattern_of(json!({ "first": 2 }), 5).await, "XX---");
}

#[tokio::test]
async fn nth_hits_only_the_nth_matching_push() {
    assert_eq!(pattern_of(json!({ "nth": 3 }), 5).await, "--X--");
}

#[tokio::test]
async fn after_k_hits_every_matching_push_after_the_first_k() {
    assert_eq!(pattern_of(json!({ "after": 3 }), 6).await, "---XXX");
}

#[tokio::test]
async fn every_k_hits_every_kth_matching_push() {
    assert_eq!(pattern_of(json!({ "every": 3 }), 7).await, "--X--X-");
}

/// The same seed gives the same hits on two fresh mocks; it is a real draw (neither all nor
/// nothing at 0.5), and another seed draws differently.
#[tokio::test]
async fn probability_with_a_seed_repeats_the_same_hits() {
    let seeded = |seed: u64| json!({ "probability": 0.5, "seed": seed });

    let first = pattern_of(seeded(7), 24).await;
    let second = pattern_of(seeded(7), 24).await;
    let other_seed = pattern_of(seeded(8), 24).await;

    assert_eq!(first, second, "seed 7 twice");
    assert!(
        first.contains('X') && first.contains('-'),
        "p = 0.5 over 24 pushes: {first}"
    );
    assert_ne!(first, other_seed, "seeds 7 and 8");
}

/// `expire_after` counts hits, not matches: `every 2` with `expire_after 2` hits the 2nd and
/// 4th matching pushes, then the rule is gone from the list and later pushes pass.
#[tokio::test]
async fn expire_after_removes_the_rule_after_n_hits() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let id = mount(
        &admin,
        json!({ "schedule": { "every": 2 }, "expire_after": 2,
                "action": { "reject": "ServiceUnavailable" } }),
    )
    .await;
    let client = ApnsClient::connect(&apns).await;

    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(client.send(&Push::voip(&apns)).await.unwrap().status);
    }
    let listed_before = admin.faults().await.or_fail();
    for _ in 0..4 {
        statuses.push(client.send(&Push::voip(&apns)).await.unwrap().status);
    }
    let listed_after = admin.faults().await.or_fail();
    let gone = admin
        .send(Method::GET, &format!("/api/v1/faults/{id}"), None)
        .await
        .or_fail();

    assert_eq!(statuses, [200, 503, 200, 503, 200, 200, 200]);
    assert_eq!(
        listed_before.first().map(|r| (r.id, r.hits)),
        Some((id, 1)),
        "{listed_before:?}"
    );
    assert!(listed_after.is_empty(), "{listed_after:?}");
    assert_eq!(gone.status, 404);
}
