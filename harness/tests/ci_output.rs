//! What `apns-harness run` leaves for CI: the JUnit XML (read back by an XML parser), the
//! `--format json` document, the `.snap.new` evidence of every failed scenario, and colour
//! only on a terminal. Against the Python stand-in provider, with scenarios written here.
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn provider_cmd() -> String {
    format!("exec python3 '{}'", fixture("env_provider.py").display())
}

/// A directory of three scenarios against the stand-in provider, the first two accepted:
/// `env_only` (its answer shows the provider's `EXTRA` variable, so `EXTRA=changed` makes it
/// differ), `quiet` (no call: always matches) and `wrong_status` (expects 201 where the
/// provider answers 200: fails at its first step).
fn scenarios() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("env_only.json"), dir.path().join("env_only.json")).unwrap();
    let scenario = |steps: Value| {
        json!({"description": "d", "bundle_id": "com.example.env", "devices": {}, "steps": steps})
            .to_string()
    };
    std::fs::write(
        dir.path().join("quiet.json"),
        scenario(json!([{"expect_no_push": {"for": "10ms"}}])),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("wrong_status.json"),
        scenario(json!([
            {"call": {"method": "GET", "path": "/env", "expect_status": 201}},
            {"expect_no_push": {"for": "10ms"}}
        ])),
    )
    .unwrap();
    let out = run(dir.path(), &["--accept"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "wrong_status fails: {}",
        text(&out)
    );
    assert!(dir.path().join("snapshots/env_only.snap").exists());
    assert!(dir.path().join("snapshots/quiet.snap").exists());
    dir
}

/// `apns-harness run <dir> --provider-cmd … <extra>`, piped.
fn run(dir: &Path, extra: &[&str]) -> Output {
    harness_command(dir, extra).output().unwrap()
}

fn harness_command(dir: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_apns-harness"));
    command
        .arg("run")
        .arg(dir)
        .args(["--provider-cmd", &provider_cmd()])
        .args(extra)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    command
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The JUnit file as Python's `xml.etree` (expat) reads it: the root's attributes and, per
/// testcase, its attributes and those and text of its `failure`, `error` or `skipped`.
fn parse_junit(path: &Path) -> Value {
    const READER: &str = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = []
for case in root.iter("testcase"):
    verdicts = [{"tag": v.tag, "attrs": v.attrib, "text": v.text or ""} for v in case]
    cases.append({"attrs": case.attrib, "verdicts": verdicts})
print(json.dumps({"tag": root.tag, "attrs": root.attrib, "suites": len(root.findall("testsuite")), "cases": cases}))
"#;
    let out = Command::new("python3")
        .args(["-c", READER])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "not valid XML: {}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn junit_has_a_testcase_per_scenario_with_its_time_and_the_diff_or_failure_as_its_failure() {
    // Arrange
    let dir = scenarios();
    let report = dir.path().join("report.xml");

    // Act: env_only now differs, quiet matches, wrong_status fails.
    let out = run(
        dir.path(),
        &[
            "--provider-env",
            "EXTRA=changed",
            "--junit",
            report.to_str().unwrap(),
        ],
    );

    // Assert
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let junit = parse_junit(&report);
    assert_eq!(junit["tag"], "testsuites");
    assert_eq!(junit["suites"], 1);
    let root = &junit["attrs"];
    assert_eq!(
        (
            &root["tests"],
            &root["failures"],
            &root["errors"],
            &root["skipped"]
        ),
        (&json!("3"), &json!("2"), &json!("0"), &json!("0"))
    );
    let cases = junit["cases"].as_array().unwrap();
    let names: Vec<&str> = cases
        .iter()
        .map(|c| c["attrs"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["env_only", "quiet", "wrong_status"]);
    for case in cases {
        let time: f64 = case["attrs"]["time"].as_str().unwrap().parse().unwrap();
        assert!(time > 0.0 && time < 120.0, "{case}");
        assert_eq!(
            case["attrs"]["classname"],
            dir.path().display().to_string(),
            "{case}"
        );
    }

    let diff = &cases[0]["verdicts"][0];
    assert_eq!(diff["tag"], "failure");
    assert_eq!(diff["attrs"]["type"], "diff");
    assert_eq!(
        diff["attrs"]["message"],
        "the traffic differs from the snapshot"
    );
    let evidence = diff["text"].as_str().unwrap();
    assert!(evidence.contains("--- stored snapshot"), "{evidence}");
    assert!(evidence.contains("-        extra: ~"), "{evidence}");
    assert!(evidence.contains("+        extra: changed"), "{evidence}");
    assert!(evidence.contains("env_only.snap.new"), "{evidence}");

    assert_eq!(cases[1]["verdicts"], json!([]), "quiet passed");

    let failure = &cases[2]["verdicts"][0];
    assert_eq!(failure["tag"], "failure");
    assert_eq!(failure["attrs"]["type"], "fail");
    let message = failure["attrs"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "step 1 (call GET /env) failed: the provider answered 200 (expected 201): {"
        ),
        "one line: {message}"
    );
    let evidence = failure["text"].as_str().unwrap();
    assert!(
        evidence.contains("pushes since the previous expectation: none"),
        "{evidence}"
    );
    assert!(
        evidence.contains("| listening on http://127.0.0.1:"),
        "the provider's output: {evidence}"
    );
}

#[test]
fn a_failed_scenario_leaves_its_transcript_as_snap_new_saying_it_failed() {
    // Arrange
    let dir = scenarios();
    let pending = dir.path().join("snapshots/wrong_status.snap.new");
    std::fs::remove_file(&pending).unwrap();

    // Act
    let out = run(dir.path(), &[]);

    // Assert: FAIL names the file, which holds the transcript up to the failed step.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "wrote {} (the transcript up to the failed step)",
            pending.display()
        )),
        "{stdout}"
    );
    let evidence = std::fs::read_to_string(&pending).unwrap();
    assert!(
        evidence.contains(
            "info: \"this run FAILED, so the transcript ends at the failed step: step 1 (call GET /env) failed: the provider answered 200 (expected 201)"
        ),
        "{evidence}"
    );
    assert!(evidence.contains("action: call GET /env"), "{evidence}");
    assert!(evidence.contains("status: 200"), "{evidence}");
    assert!(
        !dir.path().join("snapshots/quiet.snap.new").exists(),
        "a passing scenario leaves no pending file"
    );
}

#[test]
fn format_json_prints_one_document_on_stdout_and_the_text_on_stderr() {
    // Arrange
    let dir = scenarios();

    // Act
    let out = run(
        dir.path(),
        &["--provider-env", "EXTRA=changed", "--format", "json"],
    );

    // Assert: stdout is exactly one JSON document.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(
        (&report["passed"], &report["failed"], &report["errors"]),
        (&json!(1), &json!(2), &json!(0))
    );
    assert!(report["seconds"].as_f64().unwrap() > 0.0);
    let scenarios = report["scenarios"].as_array().unwrap();
    let outcomes: Vec<(&str, &str)> = scenarios
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("env_only", "diff"),
            ("quiet", "ok"),
            ("wrong_status", "fail")
        ]
    );
    assert!(scenarios[0]["details"]
        .as_str()
        .unwrap()
        .contains("+        extra: changed"));
    assert_eq!(
        scenarios[0]["wrote"],
        dir.path()
            .join("snapshots/env_only.snap.new")
            .display()
            .to_string()
    );
    assert!(scenarios[1]["seconds"].as_f64().unwrap() > 0.0);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("DIFF  env_only"), "{stderr}");
    assert!(stderr.contains("1 passed, 2 failed"), "{stderr}");
}

/// Runs the command on a pseudo-terminal (util-linux `script`), as a person would.
fn on_a_terminal(dir: &Path, env: &[(&str, &str)]) -> String {
    let command = format!(
        "'{}' run '{}' --provider-cmd \"{}\" --provider-env EXTRA=changed",
        env!("CARGO_BIN_EXE_apns-harness"),
        dir.display(),
        provider_cmd()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    text(&out)
}

#[test]
fn the_diff_is_coloured_on_a_terminal_only_and_never_with_no_color() {
    // Arrange
    let dir = scenarios();
    let removed = "\u{1b}[31m-        extra: ~";
    let added = "\u{1b}[32m+        extra: changed";

    // Act + Assert: a terminal gets red and green lines.
    let terminal = on_a_terminal(dir.path(), &[]);
    assert!(terminal.contains(removed), "{terminal:?}");
    assert!(terminal.contains(added), "{terminal:?}");

    // NO_COLOR: none, on a terminal too.
    let no_color = on_a_terminal(dir.path(), &[("NO_COLOR", "1")]);
    assert!(no_color.contains("-        extra: ~"), "{no_color:?}");
    assert!(!no_color.contains('\u{1b}'), "{no_color:?}");

    // A pipe (a CI log, a file): none.
    let piped = text(&run(dir.path(), &["--provider-env", "EXTRA=changed"]));
    assert!(piped.contains("-        extra: ~"), "{piped}");
    assert!(!piped.contains('\u{1b}'), "{piped:?}");

    // --color always: for a CI log that shows colours.
    let forced = text(&run(
        dir.path(),
        &["--provider-env", "EXTRA=changed", "--color", "always"],
    ));
    assert!(forced.contains(removed), "{forced:?}");
}

#[test]
fn junit_records_a_set_up_error_and_the_scenarios_it_kept_from_running() {
    // Arrange: a provider that exits at once.
    let dir = scenarios();
    let report = dir.path().join("report.xml");

    // Act
    let out = Command::new(env!("CARGO_BIN_EXE_apns-harness"))
        .arg("run")
        .arg(dir.path())
        .args(["--provider-cmd", "echo no config >&2; exit 3"])
        .args(["--junit", report.to_str().unwrap()])
        .output()
        .unwrap();

    // Assert: exit 2; the first scenario is an error with the provider's words, the others
    // were not run.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let junit = parse_junit(&report);
    let root = &junit["attrs"];
    assert_eq!(
        (
            &root["tests"],
            &root["failures"],
            &root["errors"],
            &root["skipped"]
        ),
        (&json!("3"), &json!("0"), &json!("1"), &json!("2"))
    );
    let cases = junit["cases"].as_array().unwrap();
    let error = &cases[0]["verdicts"][0];
    assert_eq!(error["tag"], "error");
    let message = error["attrs"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("provider command \"echo no config >&2; exit 3\" ended"),
        "{message}"
    );
    assert!(
        error["text"]
            .as_str()
            .unwrap()
            .contains("| stderr| no config"),
        "{error}"
    );
    for skipped in &cases[1..] {
        assert_eq!(skipped["verdicts"][0]["tag"], "skipped", "{skipped}");
    }
}

#[test]
fn an_invalid_scenario_file_is_an_error_in_the_reports_and_nothing_runs() {
    // Arrange: the three scenarios, plus one whose step has two actions.
    let dir = scenarios();
    std::fs::write(
        dir.path().join("two_actions.json"),
        r#"{"description": "d", "bundle_id": "com.example.env", "devices": {},
            "steps": [{"mark": "a", "expect_no_push": {"for": "10ms"}}]}"#,
    )
    .unwrap();

    // Act
    let out = run(dir.path(), &["--format", "json"]);

    // Assert: exit 2, the file is an error with its path and the fix, the others not run.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcomes: Vec<(&str, &str)> = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("env_only", "skipped"),
            ("quiet", "skipped"),
            ("two_actions", "error"),
            ("wrong_status", "skipped")
        ]
    );
    let message = report["scenarios"][2]["message"].as_str().unwrap();
    assert!(
        message.starts_with(
            "invalid scenario at steps[0]: one action per step: this step has `mark` and \
             `expect_no_push`"
        ),
        "{message}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("two_actions.json at steps[0]: one action"),
        "{}",
        text(&out)
    );
}
