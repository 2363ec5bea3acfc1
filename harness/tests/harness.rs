//! Tests of the harness library and CLI against stand-in providers (a Rust closure and a
//! Python command). The committed scenarios against the reference provider are in
//! `scenarios.rs`.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure is a failed test"
)]

mod support {
    pub(crate) mod apns_client;
    pub(crate) mod standin;
}

use std::path::{Path, PathBuf};
use std::process::Command;

use harness::{CommandProvider, Error, Harness, MockTarget};
use mock_apns::{LintMode, MockApns};
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn env_provider() -> CommandProvider {
    CommandProvider::new(format!(
        "exec python3 {}",
        fixture("env_provider.py").display()
    ))
}

/// Writes `text` as `<dir>/<name>.json`.
fn scenario_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    std::fs::write(&path, text).unwrap();
    path
}

/// The stand-in scenario with its steps replaced.
fn standin_with_steps(steps: serde_json::Value) -> String {
    let mut scenario: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("standin_call.json")).unwrap())
            .unwrap();
    scenario["steps"] = steps;
    scenario.to_string()
}

#[tokio::test]
async fn a_closure_provider_s_transcript_names_tokens_and_orders_pushes() {
    // Arrange
    let harness = Harness::new(support::standin::provider());

    // Act
    let transcript = harness
        .run_file(fixture("standin_call.json"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // Assert: the VoIP pushes of step 4, one per device, in token-name order.
    let ring = transcript.steps[3].pushes.as_ref().unwrap();
    let devices: Vec<_> = ring.iter().map(|p| p.device.as_str()).collect();
    assert_eq!(devices, ["bob-ipad.voip", "bob-iphone.voip"]);
    assert_eq!(ring[0].headers["apns-topic"], "com.example.app.voip");
    assert_eq!(ring[0].path, "/3/device/[bob-ipad.voip]");
    assert_eq!(ring[0].payload["call_id"], json!("[call_id]"));
    assert_eq!(ring[0].auth.key_id.as_deref(), Some("HARNESSKEY"));
    assert_eq!(ring[0].auth.jwt, Some(1));
    assert_eq!(ring[0].connection, 1);
    assert_eq!(
        transcript.steps[2].response.as_ref().unwrap().body,
        json!({"call_id": "[call_id]"})
    );
    // The cancel: alerts to the regular tokens.
    let missed = transcript.steps[6].pushes.as_ref().unwrap();
    let devices: Vec<_> = missed.iter().map(|p| p.device.as_str()).collect();
    assert_eq!(devices, ["bob-ipad.apns", "bob-iphone.apns"]);
    assert_eq!(transcript.steps[4].action, "mark: alice hangs up");
    // The snapshot text: redacted, no raw token.
    let yaml = harness::snapshot::to_yaml(&transcript);
    assert!(yaml.contains("apns_id: \"[apns-id]\""), "{yaml}");
    assert!(yaml.contains("received_at: \"[time]\""), "{yaml}");
    assert!(yaml.contains("apns-expiration: \"0\""), "{yaml}");
    assert!(!yaml.contains("b1b1b1b1"), "raw tokens leak: {yaml}");
}

#[tokio::test]
async fn a_missing_push_fails_its_step_and_lists_what_arrived() {
    // Arrange: the call rings two devices, the scenario waits for three.
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "three",
        &standin_with_steps(json!([
            {"call": {"path": "/devices", "body": {"user": "bob", "apns_token": "{{bob-iphone.apns}}", "voip_token": "{{bob-iphone.voip}}"}}},
            {"call": {"path": "/devices", "body": {"user": "bob", "apns_token": "{{bob-ipad.apns}}", "voip_token": "{{bob-ipad.voip}}"}}},
            {"call": {"path": "/calls", "body": {"from": "alice", "to": "bob"}}},
            {"expect_pushes": {"count": 3, "timeout": "300ms"}}
        ])),
    );

    // Act
    let err = Harness::new(support::standin::provider())
        .run_file(&file)
        .await
        .unwrap_err();

    // Assert
    let Error::Step(failure) = &err else {
        panic!("expected a step failure, got {err}");
    };
    assert_eq!(failure.step, 4);
    assert!(
        failure.message.contains("expected 3 matching pushes"),
        "{err}"
    );
    assert_eq!(failure.pushes.len(), 2, "{err}");
    assert!(
        err.to_string()
            .contains("voip com.example.app.voip bob-ipad.voip → 200"),
        "{err}"
    );
    assert!(err.is_failure());
}

#[tokio::test]
async fn a_push_during_expect_no_push_fails_the_step() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "quiet",
        &standin_with_steps(json!([
            {"call": {"path": "/devices", "body": {"user": "bob", "apns_token": "{{bob-iphone.apns}}", "voip_token": "{{bob-iphone.voip}}"}}},
            {"call": {"path": "/calls", "body": {"from": "alice", "to": "bob"}}},
            {"expect_no_push": {"for": "5s", "push_type": "voip"}}
        ])),
    );

    let started = std::time::Instant::now();
    let err = Harness::new(support::standin::provider())
        .run_file(&file)
        .await
        .unwrap_err();

    assert!(
        err.to_string()
            .contains("step 3 (expect no push for 5s (push_type voip)) failed: a push arrived"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "fails as soon as the push arrives"
    );
}

/// `register_device` with a device's name registers both of that device's tokens and no
/// other's: on a strict mock that starts with none registered, only that device is pushed to.
#[tokio::test]
async fn register_device_registers_the_named_device_s_tokens_only() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let mut scenario: serde_json::Value = serde_json::from_str(&standin_with_steps(json!([
        {"register_device": "bob-ipad"},
        {"call": {"path": "/devices", "body": {"user": "bob", "apns_token": "{{bob-iphone.apns}}", "voip_token": "{{bob-iphone.voip}}"}}},
        {"call": {"path": "/devices", "body": {"user": "bob", "apns_token": "{{bob-ipad.apns}}", "voip_token": "{{bob-ipad.voip}}"}}},
        {"call": {"path": "/calls", "body": {"from": "alice", "to": "bob"}, "capture": {"call_id": "/call_id"}}},
        {"expect_pushes": {"count": 2, "push_type": "voip", "timeout": "5s"}},
        {"call": {"path": "/calls/{{call_id}}/cancel"}},
        {"expect_pushes": {"count": 2, "topic": "com.example.app", "timeout": "5s"}}
    ])))
    .unwrap();
    scenario["mock"] = json!({"strict_devices": true, "register_devices": false});
    let file = scenario_file(dir.path(), "register", &scenario.to_string());

    // Act
    let transcript = Harness::new(support::standin::provider())
        .run_file(&file)
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // Assert: each device's VoIP push, then its alert; the unregistered device's refused.
    let answers = |step: usize| -> Vec<(String, u16, Option<mock_apns::Reason>)> {
        let pushes = transcript.steps[step].pushes.as_ref().unwrap();
        pushes
            .iter()
            .map(|p| (p.device.clone(), p.status, p.reason))
            .collect()
    };
    let bad = Some(mock_apns::Reason::BadDeviceToken);
    assert_eq!(
        answers(4),
        [
            ("bob-ipad.voip".to_owned(), 200, None),
            ("bob-iphone.voip".to_owned(), 400, bad)
        ]
    );
    assert_eq!(
        answers(6),
        [
            ("bob-ipad.apns".to_owned(), 200, None),
            ("bob-iphone.apns".to_owned(), 400, bad)
        ]
    );
}

#[tokio::test]
async fn an_unexpected_provider_status_fails_with_the_answer() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "status",
        &standin_with_steps(json!([
            {"call": {"path": "/nowhere", "expect_status": 200}},
            {"expect_no_push": {"for": "10ms"}}
        ])),
    );
    let err = Harness::new(support::standin::provider())
        .run_file(&file)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the provider answered 404 (expected 200)"),
        "{err}"
    );
    assert!(err.to_string().contains("no route"), "{err}");
}

#[tokio::test]
async fn a_command_provider_gets_the_mock_s_variables() {
    let harness = Harness::new(env_provider().env("EXTRA", "yes").into());

    let transcript = harness
        .run_file(fixture("env_only.json"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let body = &transcript.steps[0].response.as_ref().unwrap().body;
    assert_eq!(
        body,
        &json!({
            "url": "https://localhost:[port]",
            "topic": "com.example.env",
            "key_id": "ENVKEY0001",
            "team_id": "ENVTEAM001",
            "port_given": "0",
            "extra": "yes",
            "ca_is_pem": true,
            "key_is_p8": true,
            "ca_everywhere": true,
        })
    );
}

#[tokio::test]
async fn a_command_provider_is_stopped_after_its_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario_file(
        dir.path(),
        "pid",
        &json!({
            "description": "d", "bundle_id": "com.example.env", "devices": {},
            "steps": [{"call": {"method": "GET", "path": "/pid"}}, {"expect_no_push": {"for": "10ms"}}]
        })
        .to_string(),
    );

    let transcript = Harness::new(env_provider().into())
        .run_file(&file)
        .await
        .unwrap();

    let pid = transcript.steps[0].response.as_ref().unwrap().body["pid"]
        .as_i64()
        .unwrap();
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    let gone = rustix::process::test_kill_process(pid).is_err();
    assert!(gone, "the provider process {pid:?} is still running");
}

#[tokio::test]
async fn a_provider_that_never_gets_ready_is_a_setup_error_with_its_output() {
    let provider =
        CommandProvider::new("echo booting the provider; echo config missing >&2; exit 3");

    let err = Harness::new(provider.into())
        .run_file(fixture("env_only.json"))
        .await
        .unwrap_err();

    assert!(matches!(err, Error::Setup(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("exit status: 3"), "{text}");
    assert!(text.contains("| booting the provider"), "{text}");
    assert!(text.contains("| stderr| config missing"), "{text}");
}

#[tokio::test]
async fn a_provider_that_never_prints_its_ready_line_is_told_the_line_its_last_output_and_buffering(
) {
    // Arrange: 30 lines of start-up talk, then the wrong words, then it waits forever.
    let mut provider = CommandProvider::new(
        "for i in $(seq 1 30); do echo \"loading module $i\"; done; \
         echo 'server started on port 8080'; exec sleep 600",
    );
    // Bounds the wait the test is about; the output above is printed at once.
    provider.ready_timeout = std::time::Duration::from_secs(3);

    // Act
    let err = Harness::new(provider.into())
        .run_file(fixture("env_only.json"))
        .await
        .unwrap_err();

    // Assert
    assert!(matches!(err, Error::Setup(_)), "{err}");
    let text = err.to_string();
    for expected in [
        "did not print its ready line within 3s",
        r#"expected: a line containing "listening on" and the provider's http:// URL on stdout or stderr, e.g. "listening on http://127.0.0.1:PORT""#,
        "its last 20 output lines (11 before them):",
        "| loading module 30",
        "| server started on port 8080",
        "its output is buffered",
        "PYTHONUNBUFFERED=1",
        "--ready-line TEXT",
        "--ready-timeout",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("| loading module 11\n"),
        "only the last lines: {text}"
    );
}

#[tokio::test]
async fn a_running_mock_gives_the_same_transcript_as_an_own_one() {
    // Arrange: a mock-apns with a state directory, as the binary runs it.
    let state = tempfile::tempdir().unwrap();
    let running = MockApns::builder().state_dir(state.path()).start().await;
    let remote = Harness::new(support::standin::provider()).mock(MockTarget::Remote {
        admin_url: running.admin_uri(),
        state_dir: state.path().to_owned(),
    });
    let own = Harness::new(support::standin::provider());

    // Act: twice on the running mock (its record is reset in between), once on an own one.
    let first = remote
        .run_file(fixture("standin_call.json"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = remote
        .run_file(fixture("standin_call.json"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let reference = own.run_file(fixture("standin_call.json")).await.unwrap();

    // Assert
    let yaml = harness::snapshot::to_yaml;
    assert_eq!(yaml(&first), yaml(&reference));
    assert_eq!(yaml(&second), yaml(&reference));
}

#[tokio::test]
async fn a_running_mock_on_lint_deny_fails_a_run_whose_pushes_have_findings_and_an_own_mock_does_not(
) {
    // Arrange: a VoIP push sent by hand without apns-expiration (a lint finding), to a
    // running mock started with `--lint deny` and to the harness's own (lint on `warn`).
    let state = tempfile::tempdir().unwrap();
    let running = MockApns::builder()
        .state_dir(state.path())
        .lint(LintMode::Deny)
        .start()
        .await;
    let remote = Harness::new(support::standin::provider()).mock(MockTarget::Remote {
        admin_url: running.admin_uri(),
        state_dir: state.path().to_owned(),
    });
    let own = Harness::new(support::standin::provider());
    let dir = tempfile::tempdir().unwrap();
    let curl = "curl -sS --http2 --cacert \"$APNS_CA_FILE\" -o /dev/null \
                -H \"authorization: bearer $APNS_JWT\" -H 'apns-push-type: voip' \
                -H \"apns-topic: $APNS_TOPIC.voip\" -H 'apns-priority: 10' \
                -d '{\"aps\":{},\"call_id\":\"by-hand\"}' \
                \"$APNS_URL/3/device/{{bob-iphone.voip}}\"";
    let file = scenario_file(
        dir.path(),
        "no_expiration",
        &standin_with_steps(json!([
            {"run": {"command": curl}},
            {"expect_pushes": {"count": 1, "push_type": "voip"}}
        ])),
    );

    // Act
    let on_running = remote.run_file(&file).await;
    let on_own = own.run_file(&file).await;

    // Assert
    let Err(Error::Lint(lint)) = on_running else {
        panic!("the running mock's --lint deny did not fail the run: {on_running:?}");
    };
    assert_eq!(lint.findings.len(), 1, "{lint}");
    assert!(lint.findings[0].contains("voip-no-expiration"), "{lint}");
    on_own.unwrap_or_else(|e| panic!("an own mock only warns: {e}"));
    // The running mock would fail its own deny check when dropped: forget the push.
    mock_apns::admin::Client::new(&running.admin_uri())
        .unwrap()
        .clear_pushes()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_running_mock_that_is_not_there_is_a_setup_error_naming_its_url() {
    // Arrange: an address nothing listens on any more.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let admin_url = format!("http://{}", gone.local_addr().unwrap());
    drop(gone);
    let state = tempfile::tempdir().unwrap();
    let harness = Harness::new(support::standin::provider()).mock(MockTarget::Remote {
        admin_url: admin_url.clone(),
        state_dir: state.path().to_owned(),
    });

    // Act
    let err = harness
        .run_file(fixture("standin_call.json"))
        .await
        .unwrap_err();

    // Assert: the set-up's fault, saying what the harness asked of which mock.
    assert!(matches!(err, Error::Mock { .. }), "{err}");
    assert!(!err.is_failure());
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "asking the running mock at {admin_url} for its health: admin GET /api/v1/health:"
        )),
        "{text}"
    );
}

fn cli(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn cli_check_names_the_file_and_the_json_path() {
    let dir = tempfile::tempdir().unwrap();
    let bad = scenario_file(
        dir.path(),
        "bad",
        &standin_with_steps(json!([{"expect_pushes": {"count": 1, "within": "1s"}}])),
    );

    let (code, out) = cli(&[
        "check",
        fixture("standin_call.json").to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);

    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!(
            "error {} at steps[0].expect_pushes.within",
            bad.display()
        )),
        "{out}"
    );
    assert!(out.contains("1 valid, 1 invalid"), "{out}");
}

#[test]
fn cli_check_refuses_a_fault_rule_the_mock_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let bad = scenario_file(
        dir.path(),
        "bad_rule",
        &standin_with_steps(json!([
            {"add_fault": {"name": "gone", "rule": {"action": {"reject": "Unregisterd"}}}},
            {"expect_no_push": {"for": "10ms"}}
        ])),
    );

    let (code, out) = cli(&["check", bad.to_str().unwrap()]);

    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!(
            "error {} at steps[0].add_fault.rule.action.reject: unknown APNs reason \"Unregisterd\" (did you mean \"Unregistered\"?); one of ",
            bad.display()
        )),
        "{out}"
    );
    assert!(out.contains("0 valid, 1 invalid"), "{out}");
}

#[test]
fn cli_check_names_the_fix_for_each_newcomer_mistake() {
    // Arrange: one file per mistake, each with the start of the message that names the fix.
    let dir = tempfile::tempdir().unwrap();
    let mistakes = [
        (
            "two_actions",
            json!([{"call": {"path": "/calls"}, "expect_pushes": {"count": 1}}]),
            "steps[0]: one action per step: this step has `call` and `expect_pushes`; write \
             each as a step of its own",
        ),
        (
            "bare_token",
            json!([
                {"unregister_device": {"token": "bob-ipad.voip"}},
                {"expect_no_push": {"for": "10ms"}}
            ]),
            "steps[0].unregister_device.token: \"bob-ipad.voip\" is a bare name: a token is \
             written \"{{bob-ipad.voip}}\", as in call bodies",
        ),
        (
            "fault_reason",
            json!([
                {"add_fault": {"name": "f", "rule": {"action": {"outage": "ServiceUnavailabe"}}}},
                {"expect_no_push": {"for": "10ms"}}
            ]),
            "steps[0].add_fault.rule.action.outage: unknown APNs reason \"ServiceUnavailabe\" \
             (did you mean \"ServiceUnavailable\"?); one of ",
        ),
        (
            "push_type",
            json!([{"expect_no_push": {"for": "10ms", "push_type": "VoIP"}}]),
            "steps[0].expect_no_push.push_type: unknown apns-push-type \"VoIP\" (did you mean \
             \"voip\"?); one of \"alert\", \"background\", \"voip\"",
        ),
        (
            "duration",
            json!([{"expect_no_push": {"for": 200}}]),
            "steps[0].expect_no_push.for: 200 is a number: a duration is a string with its \
             unit, like \"200ms\" or \"200s\"",
        ),
        (
            "unknown_step",
            json!([{"expect_push": {"count": 1}}]),
            "steps[0].expect_push: unknown step \"expect_push\" (did you mean \"expect_pushes\"?); one of \
             \"call\"",
        ),
    ];
    for (name, steps, _) in &mistakes {
        scenario_file(dir.path(), name, &standin_with_steps(steps.clone()));
    }

    // Act
    let (code, out) = cli(&["check", dir.path().to_str().unwrap()]);

    // Assert
    assert_eq!(code, 2, "{out}");
    for (name, _, message) in &mistakes {
        let file = dir.path().join(format!("{name}.json"));
        assert!(
            out.contains(&format!("error {} at {message}", file.display())),
            "{name}: {out}"
        );
    }
    assert!(out.contains("0 valid, 6 invalid"), "{out}");
}

#[test]
fn cli_check_format_json_gives_each_file_s_path_and_message() {
    let dir = tempfile::tempdir().unwrap();
    let bad = scenario_file(
        dir.path(),
        "bad",
        &standin_with_steps(
            json!([{"expect_no_push": {"for": "10ms", "device": "bob-ipad.voip"}}]),
        ),
    );
    std::fs::copy(fixture("env_only.json"), dir.path().join("good.json")).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .args(["check", dir.path().to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();

    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&report["valid"], &report["invalid"]),
        (&json!(1), &json!(1))
    );
    let files = &report["files"];
    assert_eq!(files[0]["file"], bad.display().to_string());
    assert_eq!(files[0]["error"]["path"], "steps[0].expect_no_push.device");
    let message = files[0]["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            r#""bob-ipad.voip" is a bare name: a token is written "{{bob-ipad.voip}}""#
        ),
        "{message}"
    );
    assert_eq!(
        files[1],
        json!({"file": dir.path().join("good.json").display().to_string(), "steps": 2})
    );
}

#[test]
fn cli_usage_errors_exit_2() {
    let (code, out) = cli(&["run", fixture("env_only.json").to_str().unwrap()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--provider-cmd"), "{out}");

    let (code, out) = cli(&[
        "run",
        fixture("env_only.json").to_str().unwrap(),
        "--provider-url",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("needs --mock"), "{out}");
}

#[test]
fn cli_a_python_provider_that_prints_its_ready_line_without_flushing_gets_ready() {
    // Arrange: `print(...)` into a pipe, no flush, so the line arrives only because the
    // harness sets PYTHONUNBUFFERED (removed from the harness's own environment here).
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env_only.json");
    std::fs::copy(fixture("env_only.json"), &file).unwrap();
    let cmd = format!(
        "exec python3 {}",
        fixture("unflushed_provider.py").display()
    );

    // Act
    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .args(["run", file.to_str().unwrap(), "--provider-cmd", &cmd])
        .args(["--ready-timeout", "30", "--accept"])
        .env_remove("PYTHONUNBUFFERED")
        .output()
        .unwrap();

    // Assert
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let snapshot = std::fs::read_to_string(dir.path().join("snapshots/env_only.snap")).unwrap();
    assert!(snapshot.contains("unbuffered: \"1\""), "{snapshot}");
}

#[test]
fn cli_writes_a_pending_snapshot_then_accepts_then_matches() {
    // Arrange: a scenario in a fresh directory, no snapshot yet.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("env_only.json");
    std::fs::copy(fixture("env_only.json"), &file).unwrap();
    let cmd = format!("exec python3 {}", fixture("env_provider.py").display());
    let run = |extra: &[&str]| {
        let mut args = vec!["run", file.to_str().unwrap(), "--provider-cmd", &cmd];
        args.extend_from_slice(extra);
        cli(&args)
    };

    // Act + Assert: new → 1 and a .snap.new; --accept → 0 and a .snap; again → 0, "ok".
    let (code, out) = run(&[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("NEW   env_only"), "{out}");
    assert!(dir.path().join("snapshots/env_only.snap.new").exists());

    let (code, out) = run(&["--accept"]);
    assert_eq!(code, 0, "{out}");
    assert!(dir.path().join("snapshots/env_only.snap").exists());
    assert!(!dir.path().join("snapshots/env_only.snap.new").exists());

    let (code, out) = run(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok    env_only"), "{out}");
    assert!(out.contains("1 passed, 0 failed"), "{out}");

    // A changed answer is a diff, exit 1.
    let (code, out) = run(&["--provider-env", "EXTRA=changed"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("DIFF  env_only"), "{out}");
    assert!(out.contains("-        extra: ~"), "{out}");
    assert!(out.contains("+        extra: changed"), "{out}");
}
