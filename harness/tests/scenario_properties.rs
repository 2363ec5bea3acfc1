//! Property tests of scenario files through the public `Scenario::parse` alone: any text, and
//! any of the committed scenarios with parts of it replaced or removed, is a scenario or an
//! error with a message (and a JSON path that names something), never a panic.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure is a failed test"
)]

use std::path::PathBuf;
use std::sync::OnceLock;

use harness::{Scenario, ScenarioError};
use proptest::prelude::*;
use serde_json::Value;

/// The committed scenarios, as JSON: the seeds every mutation starts from.
fn fixtures() -> &'static [Value] {
    static FIXTURES: OnceLock<Vec<Value>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
        let mut all: Vec<Value> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect();
        all.sort_by_key(Value::to_string);
        assert!(!all.is_empty(), "no scenarios in {}", dir.display());
        all
    })
}

/// A value to put somewhere: odd leaves, and small objects in the scenario's own words.
fn replacement() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::from)),
        "[ -~]{0,20}".prop_map(Value::from),
        proptest::sample::select(vec![
            "{{bob-iphone.voip}}",
            "{{nobody.apns}}",
            "{{",
            "}}",
            "voip",
            "alert",
            "1..",
            "0..2",
            "..",
            "Unregistered",
            "/calls",
            "",
        ])
        .prop_map(Value::from),
    ];
    let key = proptest::sample::select(vec![
        "description",
        "bundle_id",
        "devices",
        "steps",
        "mock",
        "call",
        "expect",
        "push",
        "count",
        "path",
        "body",
        "expect_status",
        "wait_ms",
        "advance_clock_ms",
        "fault",
        "faults",
        "user",
        "apns_token",
        "voip_token",
        "device_token",
        "topic",
        "push_type",
        "reason",
        "timeout_ms",
        "run",
        "command",
        "bogus",
    ]);
    leaf.prop_recursive(3, 16, 4, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            proptest::collection::btree_map(key.clone(), inner, 0..4).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// One change: the node reached by following `route` (each number picks a key or an element)
/// is replaced, or removed from its parent.
#[derive(Debug, Clone)]
struct Mutation {
    route: Vec<usize>,
    remove: bool,
    with: Value,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    (
        proptest::collection::vec(any::<usize>(), 0..6),
        proptest::bool::weighted(0.3),
        replacement(),
    )
        .prop_map(|(route, remove, with)| Mutation {
            route,
            remove,
            with,
        })
}

fn apply(value: &mut Value, m: &Mutation) {
    descend(value, &m.route, m);
}

fn descend(node: &mut Value, route: &[usize], m: &Mutation) {
    let Some((pick, rest)) = route.split_first() else {
        *node = m.with.clone();
        return;
    };
    match node {
        Value::Object(map) if !map.is_empty() => {
            let key = map.keys().nth(pick % map.len()).unwrap().clone();
            if rest.is_empty() && m.remove {
                map.remove(&key);
            } else {
                descend(map.get_mut(&key).unwrap(), rest, m);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = pick % items.len();
            if rest.is_empty() && m.remove {
                items.remove(i);
            } else {
                descend(&mut items[i], rest, m);
            }
        }
        _ => *node = m.with.clone(),
    }
}

/// The answer's shape: a scenario with a name and its tokens readable, or an error saying
/// something, at a path that is not blank.
fn well_formed(answer: Result<Scenario, ScenarioError>) -> Result<(), TestCaseError> {
    match answer {
        Ok(scenario) => {
            prop_assert_eq!(scenario.name.as_str(), "property");
            let _ = scenario.tokens();
        }
        Err(ScenarioError { path, message, .. }) => {
            prop_assert!(!message.trim().is_empty());
            if let Some(path) = path {
                prop_assert!(!path.trim().is_empty());
            }
        }
    }
    Ok(())
}

proptest! {
    #[test]
    fn any_text_is_a_scenario_or_an_error_with_a_message(text in "\\PC{0,200}") {
        well_formed(Scenario::parse("property", &text))?;
    }

    #[test]
    fn a_committed_scenario_with_parts_replaced_is_a_scenario_or_a_located_error(
        seed in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let mut scenario = fixtures()[seed % fixtures().len()].clone();
        for m in &mutations {
            apply(&mut scenario, m);
        }
        well_formed(Scenario::parse("property", &scenario.to_string()))?;
    }
}

/// The mutations' starting points are valid: each committed scenario, not a random pick.
#[test]
fn every_committed_scenario_parses_before_it_is_changed() {
    for scenario in fixtures() {
        let parsed = Scenario::parse("property", &scenario.to_string());
        assert!(
            parsed.is_ok(),
            "{}: {}",
            scenario["description"],
            parsed.err().map(|e| e.to_string()).unwrap_or_default()
        );
    }
}
