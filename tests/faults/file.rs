//! `mock-apns --faults FILE`: the rules of a JSON file (an array, in the admin API's words)
//! are mounted before the first connection; a bad file stops the start with exit code 2 and a
//! message naming the rule's index and field.

use std::process::Stdio;

use mock_apns::admin::PushQuery;
use serde_json::json;

use super::OTHER;
use crate::support::binary::{binary, MockProcess};
use crate::support::{Alpn, ApnsClient, OrFail, Push, DEVICE, PATIENCE};

#[tokio::test]
async fn rules_from_the_file_apply_from_the_first_push() {
    let state = tempfile::tempdir().unwrap();
    let rules = state.path().join("rules.json");
    let action = json!({ "reject": "Unregistered", "timestamp": 1_700_000_000_000u64 });
    let file = json!([
        { "name": "stale token", "match": { "device_token": DEVICE }, "action": action },
        { "match": { "device_token": OTHER }, "schedule": { "after": 1 },
          "action": { "outage": "ServiceUnavailable" } },
    ]);
    std::fs::write(&rules, file.to_string()).unwrap();
    let mock = MockProcess::start(state.path(), &["--faults", rules.to_str().unwrap()]).await;
    let admin = mock.admin();
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let push = Push::voip_with_token(&mock.token());

    let first = client.send(&push).await.unwrap();
    let other = client.send(&push.clone().to(OTHER)).await.unwrap();
    let listed = admin.faults().await.or_fail();
    let pushes = admin.pushes(&PushQuery::all()).await.or_fail();

    assert_eq!(
        (first.status, first.reason().as_deref(), first.timestamp()),
        (410, Some("Unregistered"), Some(1_700_000_000_000)),
        "{first:?}"
    );
    assert_eq!(
        other.status, 200,
        "the second rule starts after one push: {other:?}"
    );
    let record = pushes.first().expect("the first push is recorded");
    assert_eq!(&*record.apns_id, first.apns_id(), "{pushes:#?}");
    assert_eq!(
        serde_json::to_value(&record.fault).expect("a fault serializes"),
        json!({ "rule_id": 1, "name": "stale token", "action": action }),
        "{record:#?}"
    );
    assert!(
        pushes.get(1).is_some_and(|other| other.fault.is_none()),
        "{pushes:#?}"
    );
    assert_eq!(listed.len(), 2, "both rules are mounted: {listed:?}");
    assert_eq!(
        (listed[0].spec.name.as_deref(), listed[0].hits),
        (Some("stale token"), 1)
    );
}

/// Runs the binary with `--faults` holding `contents`; returns its exit code, its stderr, and
/// whether it printed nothing on stdout.
async fn start_with_faults(contents: &str) -> (Option<i32>, String, bool) {
    let state = tempfile::tempdir().expect("a temporary directory");
    let rules = state.path().join("rules.json");
    std::fs::write(&rules, contents).expect("writing the rules file");
    let run = tokio::process::Command::new(binary())
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .arg("--state-dir")
        .arg(state.path())
        .arg("--faults")
        .arg(&rules)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PATIENCE, run)
        .await
        .expect("a refused file stops the start at once")
        .expect("running mock-apns");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.stdout.is_empty(),
    )
}

#[tokio::test]
async fn a_bad_faults_file_exits_2_naming_the_rule_and_field() {
    let unknown_field =
        r#"[{"action":{"close":true}},{"match":{"device":"ab"},"action":{"close":true}}]"#;
    let impossible =
        r#"[{"action":{"delay_ms":5}},{"action":{"stall":true}},{"action":{"stall":false}}]"#;
    let not_an_array = r#"{"action":{"close":true}}"#;

    for (contents, named) in [
        (unknown_field, &["[1].match", "device"][..]),
        (impossible, &["[2].action.stall"]),
        (not_an_array, &["sequence"]),
    ] {
        let (code, stderr, no_banner) = start_with_faults(contents).await;

        assert_eq!(code, Some(2), "{contents}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.starts_with("mock-apns: error: --faults "),
            "{stderr}"
        );
        for name in named {
            assert!(
                stderr.contains(name),
                "{contents}: {stderr:?} does not name {name:?}"
            );
        }
        assert!(no_banner, "no banner for a mock that did not start");
    }
}
