//! The committed scenarios (`fixtures/scenarios/*.json`) against the reference call provider
//! (`examples/call-provider`): replayed once through the CLI, checked for orphans, the proof
//! that a wrong provider fails them with a readable diff, and `--deny-lint`, which fails the
//! scenarios that run the provider with a deliberate PushKit bug. The insta replay through the
//! library is `replay.rs`, a binary of its own (see there).

#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure is a failed test"
)]

mod provider;

use std::path::PathBuf;
use std::process::Command;

use harness::snapshot::{self, Comparison};
use harness::{Error, Harness, Provider, Scenario};
use provider::{call_provider, reference_provider, scenarios_dir, workspace};

#[test]
fn every_snapshot_has_a_scenario_and_there_are_at_least_eight() {
    let dir = scenarios_dir();
    let mut scenarios = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "json") {
            scenarios += 1;
            assert!(
                snapshot::snapshot_path(&path).exists(),
                "{} has no snapshot: run it and review the .snap.new",
                path.display()
            );
        }
    }
    for entry in std::fs::read_dir(dir.join("snapshots")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "snap") {
            let scenario = dir.join(path.file_stem().unwrap()).with_extension("json");
            assert!(
                scenario.exists(),
                "{} is an orphan snapshot",
                path.display()
            );
        }
    }
    assert!(scenarios >= 8, "only {scenarios} scenarios");
}

#[test]
fn the_cli_replays_every_scenario_with_provider_cmd() {
    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .args(["run", "fixtures/scenarios", "--provider-cmd"])
        .arg(format!("exec '{}'", call_provider().display()))
        .current_dir(workspace())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let scenarios = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "json")
        })
        .count();
    assert!(
        stdout.contains(&format!("{scenarios} passed, 0 failed")),
        "{stdout}"
    );
}

/// The missed-call scenario and its snapshot, copied to a scratch directory so pending
/// snapshots land there.
fn scratch_copy_of_the_cancel_scenario() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let name = "caller_cancels_missed_call_alert";
    let scenario = dir.path().join(format!("{name}.json"));
    std::fs::copy(scenarios_dir().join(format!("{name}.json")), &scenario).unwrap();
    std::fs::create_dir(dir.path().join("snapshots")).unwrap();
    std::fs::copy(
        snapshot::snapshot_path(&scenarios_dir().join(format!("{name}.json"))),
        snapshot::snapshot_path(&scenario),
    )
    .unwrap();
    (dir, scenario)
}

const BUG: (&str, &str) = ("CALL_PROVIDER_BUG", "cancel-as-voip");

#[tokio::test]
async fn a_provider_that_sends_the_cancel_as_voip_fails_the_snapshot_with_a_readable_diff() {
    // Arrange: the reference provider with its deliberate bug.
    let (_dir, scenario) = scratch_copy_of_the_cancel_scenario();
    let buggy = reference_provider().env(BUG.0, BUG.1);

    // Act: the expectations (two pushes) still hold; only the traffic differs.
    let transcript = Harness::new(buggy.into())
        .run_file(&scenario)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // Assert: the diff shows the alert on the regular token turned into a VoIP push.
    let Comparison::Differs { diff } = snapshot::compare(&scenario, &transcript) else {
        panic!("the buggy provider matched the snapshot");
    };
    assert!(diff.contains("--- stored snapshot"), "{diff}");
    assert!(diff.contains("-      - device: bob-ipad.apns"), "{diff}");
    assert!(diff.contains("+      - device: bob-ipad.voip"), "{diff}");
    assert!(diff.contains("-          apns-push-type: alert"), "{diff}");
    assert!(diff.contains("+          apns-push-type: voip"), "{diff}");

    // And insta's own assertion (what `cargo test` runs) fails on it too, unless the run was
    // told to accept everything.
    let forced = std::env::var("INSTA_UPDATE").is_ok_and(|v| v == "always")
        || std::env::var_os("INSTA_FORCE_PASS").is_some();
    if !forced {
        let settings = harness::snapshot_settings(&scenario);
        let name = harness::snapshot_name(&scenario);
        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            settings.bind(|| insta::assert_yaml_snapshot!(name, transcript));
        }));
        let message = failed.expect_err("insta accepted the buggy transcript");
        let message = message
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.contains("caller_cancels_missed_call_alert"),
            "{message}"
        );
    }
}

#[test]
fn the_cli_reports_the_buggy_provider_with_a_diff_and_exit_1() {
    let (dir, scenario) = scratch_copy_of_the_cancel_scenario();

    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .arg("run")
        .arg(&scenario)
        .arg("--provider-cmd")
        .arg(format!("exec '{}'", call_provider().display()))
        .args(["--provider-env", &format!("{}={}", BUG.0, BUG.1)])
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("DIFF  caller_cancels_missed_call_alert"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+          apns-push-type: voip"),
        "{stdout}"
    );
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
    assert!(dir
        .path()
        .join("snapshots/caller_cancels_missed_call_alert.snap.new")
        .exists());
}

/// The scenarios that start the reference provider with a deliberate bug (`provider_env`).
const BAD_PROVIDER_SCENARIOS: [&str; 3] = [
    "cancel_by_voip_push_violates_pushkit_policy",
    "offline_phone_rings_late_for_a_stored_call",
    "three_calls_cancelled_by_voip_suspend_voip_delivery",
];

#[test]
fn with_deny_lint_the_cli_fails_exactly_the_bad_provider_scenarios_and_names_each_finding() {
    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .args(["run", "fixtures/scenarios", "--deny-lint", "--provider-cmd"])
        .arg(format!("exec '{}'", call_provider().display()))
        .current_dir(workspace())
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let linted: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("LINT  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(linted, BAD_PROVIDER_SCENARIOS, "{stdout}");
    for finding in [
        "voip push to bob-iphone.voip: voip-repeated-call (error): call [call_1] already rang",
        "voip-visible-alert (warning)",
        "voip-long-expiration (warning): apns-expiration is",
        "source: https://developer.apple.com/documentation/pushkit/pkpushtype/voip",
    ] {
        assert!(stdout.contains(finding), "no {finding:?} in:\n{stdout}");
    }
    assert!(
        !stdout.contains("DIFF ") && !stdout.contains("FAIL "),
        "the snapshots match and every step passes; only lint fails:\n{stdout}"
    );
    let scenarios = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .filter(|e| {
            let path = e.as_ref().unwrap().path();
            path.extension().is_some_and(|x| x == "json")
        })
        .count();
    assert!(
        stdout.contains(&format!("{} passed, 3 failed", scenarios - 3)),
        "the reference provider's own scenarios pass every lint:\n{stdout}"
    );
}

/// `run <file> --deny-lint --accept --format json` against the reference provider: the
/// scenario's outcome and the file written, whether a `.snap.new` is left, and the snapshot.
fn accept_with_deny_lint(scenario: &std::path::Path) -> (String, String, bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .arg("run")
        .arg(scenario)
        .args([
            "--deny-lint",
            "--accept",
            "--format",
            "json",
            "--provider-cmd",
        ])
        .arg(format!("exec '{}'", call_provider().display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "lint fails the run: {stderr}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let result = &report["scenarios"][0];
    (
        result["outcome"].as_str().unwrap_or_default().to_owned(),
        result["wrote"].as_str().unwrap_or_default().to_owned(),
        snapshot::pending_path(scenario).exists(),
        std::fs::read_to_string(snapshot::snapshot_path(scenario)).unwrap(),
    )
}

#[test]
fn with_deny_lint_accept_writes_a_changed_snapshot_as_it_writes_a_missing_one() {
    // Arrange: a scenario with a lint finding, in a scratch directory without its snapshot.
    let dir = tempfile::tempdir().unwrap();
    let name = BAD_PROVIDER_SCENARIOS[1];
    let scenario = dir.path().join(format!("{name}.json"));
    std::fs::copy(scenarios_dir().join(format!("{name}.json")), &scenario).unwrap();
    let snap = snapshot::snapshot_path(&scenario);

    // Act: accept with no snapshot, then again once the snapshot has changed.
    let missing = accept_with_deny_lint(&scenario);
    let accepted = missing.3.clone();
    std::fs::write(&snap, accepted.replace("user: bob", "user: carol")).unwrap();
    let changed = accept_with_deny_lint(&scenario);

    // Assert: both fail on lint and write the transcript as the snapshot, no .snap.new.
    let expected = (
        "lint".to_owned(),
        snap.display().to_string(),
        false,
        accepted,
    );
    assert_eq!(missing, expected, "a missing snapshot");
    assert_eq!(changed, expected, "a changed snapshot");
}

/// The reference scenario for three cancelled calls, copied with a short ring wait at the end.
fn scratch_copy_of_three_cancelled_calls() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let name = "three_cancelled_calls_keep_voip_working";
    let text = std::fs::read_to_string(scenarios_dir().join(format!("{name}.json"))).unwrap();
    let mut scenario: serde_json::Value = serde_json::from_str(&text).unwrap();
    let steps = scenario["steps"].as_array_mut().unwrap();
    steps.last_mut().unwrap()["expect_ringing"]["timeout"] = "1s".into();
    let file = dir.path().join(format!("{name}.json"));
    std::fs::write(&file, scenario.to_string()).unwrap();
    (dir, file)
}

#[tokio::test]
async fn a_provider_that_cancels_by_voip_three_times_fails_with_a_phone_that_no_longer_rings() {
    // Arrange: the reference scenario (the fourth call rings), the provider with its bug.
    let (_dir, scenario) = scratch_copy_of_three_cancelled_calls();
    let buggy = reference_provider().env(BUG.0, BUG.1);

    // Act
    let err = Harness::new(buggy.into())
        .run_file(&scenario)
        .await
        .unwrap_err();

    // Assert: the last step fails, and says why with the phone's timeline.
    let Error::Step(failure) = &err else {
        panic!("expected a step failure, got {err}");
    };
    assert_eq!(failure.step, 16, "{err}");
    let message = err.to_string();
    assert!(
        message.contains("bob-iphone was not ringing for call [call_4]"),
        "{message}"
    );
    assert!(
        message.contains("VoIP delivery suspended after 3 violations"),
        "{message}"
    );
    assert!(
        message.contains("voip push discarded (voip_suspended)"),
        "{message}"
    );
}

#[tokio::test]
async fn a_scenario_with_provider_env_needs_a_provider_the_harness_starts() {
    let file = scenarios_dir().join(format!("{}.json", BAD_PROVIDER_SCENARIOS[0]));
    let scenario = Scenario::load(&file).unwrap();

    let err = Harness::new(Provider::url("http://127.0.0.1:9"))
        .run(&scenario)
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Setup(_)), "{err:?}");
    assert!(err.to_string().contains("provider_env"), "{err}");
}
