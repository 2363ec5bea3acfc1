//! The call scenarios against call providers written with real APNs client libraries, run by
//! the CLI's command adapter exactly as `docs/testing-your-provider.md` shows a Node or Python
//! team: `tests/clients/node/call_provider.js` (`@parse/node-apn`) and
//! `tests/clients/python/call_provider.py` (`aioapns`), installed at pinned versions by
//! `make clients`.
//!
//! Both implement the reference provider's HTTP API and send its pushes. node-apn's traffic is
//! the reference's, so it is held to the reference's own snapshots. aioapns cannot send
//! `apns-expiration: 0`, so the Python provider has its own snapshots, and a test here pins
//! their difference from the reference's to that one header.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure is a failed test"
)]

mod provider;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use harness::{CommandProvider, Harness};
use provider::{scenarios_dir, workspace};

/// The reference scenarios whose traffic node-apn reproduces byte for byte: all but
/// `expired_provider_token_is_refreshed`, where node-apn sends the fresh token on the same
/// connection and the reference opens a new one.
const NODE_SCENARIOS: &[&str] = &[
    "incoming_call_rings_every_device",
    "unregistered_voip_token_is_pruned",
    "caller_cancels_missed_call_alert",
    "answered_on_one_device_stops_the_others",
    "voip_token_swapped_with_apns_token",
    "voip_push_with_bare_topic_rejected",
    "oversized_voip_payload_rejected",
    "apns_unavailable_then_recovers",
    "goaway_mid_call_reconnects",
];

/// The Node provider, as the docs run it from the workspace root.
const NODE_PROVIDER: &str = "node tests/clients/node/call_provider.js";
/// The Python provider, run by the virtual environment `make clients` creates.
const PYTHON_PROVIDER: &str =
    "tests/clients/python/.venv/bin/python tests/clients/python/call_provider.py";
/// The Python provider's scenarios (links to the reference's) and its own snapshots.
const PYTHON_SCENARIOS: &str = "tests/clients/python/scenarios";

/// The snapshot line the reference writes for its VoIP pushes, and aioapns's instead.
const EXPIRATION_ZERO: &str = "apns-expiration: \"0\"";
const EXPIRATION_REDACTED: &str = "apns-expiration: \"[expiration]\"";

/// Fails with the fix when `make clients` has not installed `what` at `path`.
fn installed(path: &str, what: &str) {
    let path = workspace().join(path);
    assert!(
        path.exists(),
        "{what} is not installed ({} is missing): run `make clients`",
        path.display()
    );
}

/// `apns-harness run <scenarios> --provider-cmd <provider>` from the workspace root; stdout,
/// after asserting exit 0 and "`expected` passed, 0 failed".
fn harness_run(scenarios: &[PathBuf], provider: &str, expected: usize) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .arg("run")
        .args(scenarios)
        .args(["--provider-cmd", provider])
        .current_dir(workspace())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "`{provider}` did not match its snapshots:\n{stdout}{stderr}"
    );
    assert!(
        stdout.contains(&format!("{expected} passed, 0 failed")),
        "{stdout}"
    );
    stdout
}

/// The scenario files in `dir` (relative to the workspace), sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// A `.snap` file without its header (whose `input_file` names the scenario's path).
fn snapshot_body(path: &Path) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut parts = text.splitn(3, "---\n");
    let (_, _, body) = (parts.next(), parts.next(), parts.next());
    body.unwrap_or_else(|| panic!("{} has no insta header", path.display()))
        .to_owned()
}

#[test]
fn the_node_apn_provider_matches_the_reference_snapshots() {
    // Arrange: node-apn installed; the reference's scenarios, with its committed snapshots.
    installed(
        "tests/clients/node/node_modules/@parse/node-apn",
        "@parse/node-apn",
    );
    let scenarios: Vec<PathBuf> = NODE_SCENARIOS
        .iter()
        .map(|name| scenarios_dir().join(format!("{name}.json")))
        .collect();

    // Act + Assert: every transcript is the reference provider's, byte for byte.
    harness_run(&scenarios, NODE_PROVIDER, NODE_SCENARIOS.len());
}

#[test]
fn the_aioapns_provider_matches_its_own_snapshots() {
    // Arrange: aioapns installed; the Python provider's scenario directory.
    installed("tests/clients/python/.venv/bin/python", "aioapns");
    let scenarios = json_files(Path::new(PYTHON_SCENARIOS));
    assert!(
        scenarios.len() >= 2,
        "{PYTHON_SCENARIOS} holds {scenarios:?}"
    );

    // Act + Assert.
    harness_run(
        &[PathBuf::from(PYTHON_SCENARIOS)],
        PYTHON_PROVIDER,
        scenarios.len(),
    );
}

#[test]
fn the_aioapns_snapshots_differ_from_the_reference_only_in_apns_expiration() {
    let dir = workspace().join(PYTHON_SCENARIOS);
    let scenarios = json_files(&dir);
    let names: Vec<String> = scenarios
        .iter()
        .map(|p| harness::snapshot_name(p))
        .collect();
    for required in [
        "incoming_call_rings_every_device",
        "unregistered_voip_token_is_pruned",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "{required} is not among {names:?}"
        );
    }
    for snap in std::fs::read_dir(dir.join("snapshots")).unwrap() {
        let snap = snap.unwrap().path();
        let stem = harness::snapshot_name(&snap);
        assert!(
            names.contains(&stem),
            "{} is an orphan snapshot",
            snap.display()
        );
    }

    for (scenario, name) in scenarios.iter().zip(&names) {
        // The same scenario as the reference's, not an edited copy.
        let reference_scenario = scenarios_dir().join(format!("{name}.json"));
        assert_eq!(
            std::fs::read_to_string(scenario).unwrap(),
            std::fs::read_to_string(&reference_scenario).unwrap(),
            "{} is not the reference's scenario",
            scenario.display()
        );

        // Line for line the reference's snapshot, except that the provider's VoIP pushes
        // carry a time where the reference's carry `apns-expiration: "0"` (a push the
        // scenario sends itself with curl keeps its 0).
        let reference = snapshot_body(&harness::snapshot_path(&reference_scenario));
        let aioapns = snapshot_body(&harness::snapshot_path(scenario));
        let (reference, aioapns): (Vec<&str>, Vec<&str>) =
            (reference.lines().collect(), aioapns.lines().collect());
        assert_eq!(
            reference.len(),
            aioapns.len(),
            "{name}: the aioapns snapshot has other lines than the reference's"
        );
        let mut expirations = 0;
        for (i, (want, got)) in reference.iter().zip(&aioapns).enumerate() {
            if got == want {
                continue;
            }
            assert!(
                want.trim_start() == EXPIRATION_ZERO && got.trim_start() == EXPIRATION_REDACTED,
                "{name}, line {}: the aioapns snapshot says {got:?} where the reference's says \
                 {want:?}; only apns-expiration may differ",
                i + 1
            );
            expirations += 1;
        }
        assert!(
            expirations > 0,
            "{name}: the provider sends no VoIP push here, so nothing tells the two apart"
        );
    }
}

#[tokio::test]
async fn aioapns_sends_the_current_time_for_a_time_to_live_of_0() {
    // Arrange: the snapshot redacts a non-zero expiration; the transcript keeps the value.
    installed("tests/clients/python/.venv/bin/python", "aioapns");
    let provider = CommandProvider::new(PYTHON_PROVIDER).current_dir(workspace());
    let scenario = scenarios_dir().join("incoming_call_rings_every_device.json");
    let now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };

    // Act
    let before = now();
    let transcript = Harness::new(provider.into())
        .run_file(&scenario)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let after = now();

    // Assert: every VoIP push expires at the second it was sent: not 0, not later.
    let expirations: Vec<u64> = transcript
        .steps
        .iter()
        .flat_map(|s| s.pushes.iter().flatten())
        .map(|p| {
            p.headers
                .get("apns-expiration")
                .unwrap_or_else(|| panic!("no apns-expiration: {:?}", p.headers))
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(expirations.len(), 2, "{expirations:?}");
    for expiration in expirations {
        assert!(
            (before..=after).contains(&expiration),
            "apns-expiration {expiration} is not the time of sending ({before}..={after})"
        );
    }
}
