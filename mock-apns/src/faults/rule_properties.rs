//! Property tests of fault-rule parsing: any bytes, and any JSON built from the rule's own
//! words, give a rule (that reads back as itself and mounts or is refused with a message) or
//! an error with a message, never a panic.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::faults::{parse_rule, parse_rules, Faults};

/// A JSON value from the rule vocabulary, nested a little, with odd values mixed in.
fn rule_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-2.0f64..2.0).prop_map(Value::from),
        proptest::sample::select(vec![
            "Unregistered",
            "TooManyRequests",
            "Shutdown",
            "ServiceUnavailable",
            "BadTopic",
            "REFUSED_STREAM",
            "NO_ERROR",
            "CANCEL",
            "always",
            "voip",
            "/call_id",
            "",
            "x",
        ])
        .prop_map(Value::from),
    ];
    let key = proptest::sample::select(vec![
        "name",
        "priority",
        "match",
        "schedule",
        "expire_after",
        "action",
        "device_token",
        "topic",
        "push_type",
        "team_id",
        "key_id",
        "connection_id",
        "payload",
        "pointer",
        "equals",
        "first",
        "nth",
        "after",
        "every",
        "probability",
        "seed",
        "reject",
        "timestamp",
        "delay_ms",
        "reset",
        "goaway",
        "reason",
        "error_code",
        "include_current",
        "close",
        "stall",
        "rate_limit",
        "max",
        "window_ms",
        "outage",
        "max_connections",
        "bogus",
    ]);
    leaf.prop_recursive(4, 32, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            proptest::collection::btree_map(key.clone(), inner, 0..5).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #[test]
    fn any_bytes_are_a_rule_or_an_error_with_a_message(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Err(e) = parse_rule(&bytes) {
            prop_assert!(!e.to_string().is_empty());
        }
        if let Err(e) = parse_rules(&bytes) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn any_rule_shaped_json_is_a_rule_that_reads_back_or_an_error(value in rule_json(), action in rule_json()) {
        let mut rule = value;
        if let Value::Object(map) = &mut rule {
            map.entry("action").or_insert(action);
        }
        let bytes = rule.to_string().into_bytes();
        match parse_rule(&bytes) {
            Ok(spec) => {
                let again = parse_rule(serde_json::to_string(&spec).expect("a rule serializes").as_bytes());
                prop_assert_eq!(again.as_ref().ok(), Some(&spec), "{}", rule);
                let faults = Faults::default();
                if let Err(e) = faults.add(spec) {
                    prop_assert!(!e.to_string().is_empty());
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty(), "{}", rule),
        }
        let list = json!([rule]).to_string();
        if let Err(e) = parse_rules(list.as_bytes()) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}
