//! The fault rules of the admin API: create, list (evaluation order, hit counters), read,
//! delete one, delete all; and refusals (400) whose message names the offending field.

use http::Method;
use mock_apns::admin::Client;
use mock_apns::{MockApns, Reason};
use serde_json::{json, Value};

use super::{mount, OTHER};
use crate::support::admin::error_of;
use crate::support::{admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push, DEVICE};

/// The ids of `GET /api/v1/faults`, in evaluation order.
async fn listed_ids(admin: &Client) -> Vec<u64> {
    admin
        .faults()
        .await
        .or_fail()
        .iter()
        .map(|rule| rule.id)
        .collect()
}

/// The CRUD routes are the subject here, so their answers are read as JSON (`send`): the
/// shape of a rule, the counters and the 404s are what a client in any language sees.
#[tokio::test]
async fn rules_can_be_created_listed_read_and_deleted() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    let gone = json!({ "name": "gone", "match": { "device_token": DEVICE },
                       "action": { "reject": "Unregistered", "timestamp": 1_700_000_000_000u64 } });
    let slow = json!({ "priority": -1, "match": { "device_token": OTHER },
                       "schedule": { "first": 1 }, "action": { "delay_ms": 1 } });
    let faults = "/api/v1/faults";
    let rule_path = |id: u64| format!("{faults}/{id}");

    // Create: the answer is the rule with its id, counters, and every default spelt out.
    let created = admin.send(Method::POST, faults, Some(gone)).await.or_fail();
    let gone_rule = created.json();
    let slow_id = mount(&admin, slow).await;
    let gone_id = gone_rule["id"].as_u64().expect("id");
    // Counters move with pushes.
    let first = client.send(&Push::voip(&apns)).await.unwrap();
    let second = client.send(&Push::voip(&apns)).await.unwrap();
    let listed = admin.send(Method::GET, faults, None).await.or_fail().json();
    let read = admin
        .send(Method::GET, &rule_path(gone_id), None)
        .await
        .or_fail();
    // Delete one: the other stays, and the deleted one no longer applies.
    let deleted = admin
        .send(Method::DELETE, &rule_path(gone_id), None)
        .await
        .or_fail();
    let deleted_rule = deleted.json();
    let after_delete = listed_ids(&admin).await;
    let third = client.send(&Push::voip(&apns)).await.unwrap();
    // Delete all.
    let cleared = admin.send(Method::DELETE, faults, None).await.or_fail();
    let after_clear = listed_ids(&admin).await;
    let missing = admin
        .send(Method::GET, &rule_path(gone_id), None)
        .await
        .or_fail();
    let delete_missing = admin
        .send(Method::DELETE, &rule_path(slow_id), None)
        .await
        .or_fail();
    let not_an_id = admin
        .send(Method::GET, &format!("{faults}/first"), None)
        .await
        .or_fail();

    assert_eq!(created.status, 201, "{gone_rule}");
    assert_eq!(
        gone_rule,
        json!({ "id": gone_id, "name": "gone", "priority": 0,
                "match": { "device_token": DEVICE }, "schedule": "always",
                "action": { "reject": "Unregistered", "timestamp": 1_700_000_000_000u64 },
                "matched": 0, "hits": 0, "active": true })
    );
    assert_ne!(gone_id, slow_id);
    assert_rejected(&apns, &first, Reason::Unregistered);
    assert_rejected(&apns, &second, Reason::Unregistered);
    let rules = listed["faults"].as_array().expect("faults");
    let ids: Vec<_> = rules.iter().map(|r| r["id"].clone()).collect();
    assert_eq!(
        ids,
        [json!(slow_id), json!(gone_id)],
        "priority -1 first: {listed}"
    );
    let counters = |r: &Value| (r["matched"].clone(), r["hits"].clone());
    assert_eq!(counters(&rules[0]), (json!(0), json!(0)), "{listed}");
    assert_eq!(counters(&rules[1]), (json!(2), json!(2)), "{listed}");
    assert_eq!(read.status, 200);
    assert_eq!(read.json(), rules[1]);
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted_rule["id"], json!(gone_id));
    assert_eq!(deleted_rule["active"], json!(false), "{deleted_rule}");
    assert_eq!(after_delete, [slow_id]);
    assert_accepted(&apns, &third);
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.json(), json!({ "deleted": 1 }));
    assert!(after_clear.is_empty(), "{after_clear:?}");
    assert_eq!(missing.status, 404);
    assert_eq!(delete_missing.status, 404);
    assert_eq!(not_an_id.status, 404);
}

/// `POST` the rule; it must be refused with 400, an error naming each of `named`, and nothing
/// mounted.
async fn assert_refused(admin: &Client, rule: Value, named: &[&str]) {
    let answer = admin
        .send(Method::POST, "/api/v1/faults", Some(rule.clone()))
        .await
        .or_fail();

    let body = answer.json();
    assert_eq!(answer.status, 400, "{rule}: {body}");
    let error = error_of(&body);
    for name in named {
        assert!(
            error.contains(name),
            "{rule}: {error:?} does not name {name:?}"
        );
    }
    assert!(listed_ids(admin).await.is_empty(), "{rule} was mounted");
}

#[tokio::test]
async fn an_unknown_field_is_a_400_naming_it() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);

    for (rule, named) in [
        (
            json!({ "action": { "close": true }, "colour": "red" }),
            &["colour"][..],
        ),
        (
            json!({ "match": { "tpoic": "x" }, "action": { "close": true } }),
            &["match", "tpoic"],
        ),
        (
            json!({ "match": { "payload": { "pointer": "/a", "equal": 1 } }, "action": { "stall": true } }),
            &["match.payload", "equal"],
        ),
        (
            json!({ "action": { "goaway": { "reason": "Shutdown", "eror_code": "CANCEL" } } }),
            &["action", "eror_code"],
        ),
        (
            json!({ "action": { "explode": true } }),
            &["action", "explode"],
        ),
        (
            json!({ "schedule": { "sometimes": 2 }, "action": { "close": true } }),
            &["schedule"],
        ),
        (
            json!({ "action": { "reject": "Gone" } }),
            &["action", "Gone"],
        ),
        (
            json!({ "action": { "reset": "OOPS" } }),
            &["action", "OOPS"],
        ),
        (json!({ "match": { "device_token": DEVICE } }), &["action"]),
    ] {
        assert_refused(&admin, rule, named).await;
    }
}

#[tokio::test]
async fn an_impossible_combination_is_a_400_naming_the_field() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);

    for (rule, named) in [
        (
            json!({ "match": { "topic": "a" }, "action": { "max_connections": 1 } }),
            "match",
        ),
        (
            json!({ "schedule": { "first": 2 }, "action": { "max_connections": 1 } }),
            "schedule",
        ),
        (
            json!({ "schedule": { "first": 1 }, "action": { "rate_limit": { "max": 1, "window_ms": 1 } } }),
            "schedule",
        ),
        (
            json!({ "action": { "rate_limit": { "max": 0, "window_ms": 1000 } } }),
            "action.rate_limit",
        ),
        (
            json!({ "action": { "delay_ms": 5, "timestamp": 1 } }),
            "timestamp",
        ),
        (json!({ "action": { "close": false } }), "action.close"),
        (json!({ "action": { "stall": false } }), "action.stall"),
        (
            json!({ "action": { "outage": "BadTopic" } }),
            "action.outage",
        ),
        (
            json!({ "schedule": { "nth": 0 }, "action": { "close": true } }),
            "schedule",
        ),
        (
            json!({ "schedule": { "probability": 1.5, "seed": 1 }, "action": { "close": true } }),
            "schedule.probability",
        ),
        (
            json!({ "expire_after": 0, "action": { "close": true } }),
            "expire_after",
        ),
    ] {
        assert_refused(&admin, rule, &[named]).await;
    }
}
