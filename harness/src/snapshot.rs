//! Snapshots of transcripts in insta's file format, so `cargo insta review` works on them.
//!
//! A scenario `dir/NAME.json` has its snapshot at `dir/snapshots/NAME.snap`, the same file
//! for the library (`insta::assert_yaml_snapshot!` under [`snapshot_settings`]) and for the
//! CLI (which compares and writes it itself, with the same serializer and redactions, so the
//! two never disagree on a byte).

use std::path::{Path, PathBuf};

use insta::internals::Content;
use insta::Settings;
use serde::Serialize;

use crate::transcript::Transcript;

/// The snapshot name of a scenario file: its stem.
pub fn snapshot_name(scenario_file: &Path) -> String {
    scenario_file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Where a scenario's snapshot lives: `<dir>/snapshots/<stem>.snap`.
pub fn snapshot_path(scenario_file: &Path) -> PathBuf {
    snapshot_dir(scenario_file).join(format!("{}.snap", snapshot_name(scenario_file)))
}

fn snapshot_dir(scenario_file: &Path) -> PathBuf {
    let dir = scenario_file.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
    dir.join("snapshots")
}

/// The redactions every transcript snapshot needs: values that differ on every run.
pub fn redactions(settings: &mut Settings) {
    let push = ".steps[].pushes[]";
    settings.add_redaction(&format!("{push}.apns_id"), "[apns-id]");
    settings.add_redaction(&format!("{push}.apns_unique_id"), "[apns-unique-id]");
    settings.add_redaction(&format!("{push}.received_at"), "[time]");
    settings.add_redaction(&format!("{push}.timestamp"), "[timestamp]");
    settings.add_redaction(&format!("{push}.headers[\"apns-id\"]"), "[apns-id]");
    // `0` (deliver now or never, as VoIP pushes should) is stable and worth seeing; any
    // other expiration is a time.
    settings.add_dynamic_redaction(
        &format!("{push}.headers[\"apns-expiration\"]"),
        |value, _| match value.as_str() {
            Some("0") => value,
            _ => Content::from("[expiration]"),
        },
    );
}

/// insta settings for asserting a scenario's transcript: its snapshot file
/// (`<dir>/snapshots/<stem>.snap`, no module prefix, no glob suffix), input file and
/// redactions. Use with the snapshot name from [`snapshot_name`]:
///
/// ```no_run
/// # fn demo(path: &std::path::Path, transcript: harness::Transcript) {
/// harness::snapshot_settings(path).bind(|| {
///     insta::assert_yaml_snapshot!(harness::snapshot_name(path), transcript);
/// });
/// # }
/// ```
pub fn snapshot_settings(scenario_file: &Path) -> Settings {
    let mut settings = Settings::clone_current();
    settings.set_snapshot_path(snapshot_dir(scenario_file));
    settings.set_prepend_module_to_snapshot(false);
    settings.remove_snapshot_suffix();
    settings.set_input_file(scenario_file);
    settings.set_omit_expression(true);
    redactions(&mut settings);
    settings
}

/// The transcript as the snapshot's YAML body, redacted: exactly what
/// `insta::assert_yaml_snapshot!` writes under [`snapshot_settings`].
pub fn to_yaml(transcript: &Transcript) -> String {
    let mut settings = Settings::new();
    redactions(&mut settings);
    settings.bind(|| yaml(transcript))
}

fn yaml<T: Serialize>(value: &T) -> String {
    // insta's own serializer (the one its macros call), so the CLI writes the bytes the
    // library test compares.
    insta::_macro_support::serialize_value(value, insta::_macro_support::SerializationFormat::Yaml)
}

/// How a transcript compares with its stored snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// Same contents.
    Matches,
    /// There is no snapshot yet.
    Missing,
    /// The contents differ; `diff` is readable (`-` stored, `+` new).
    Differs {
        /// A unified diff.
        diff: String,
    },
}

/// Compares a transcript with the scenario's stored snapshot.
pub fn compare(scenario_file: &Path, transcript: &Transcript) -> Comparison {
    let new = to_yaml(transcript);
    match read_contents(&snapshot_path(scenario_file)) {
        None => Comparison::Missing,
        Some(old) if normalize(&old) == normalize(&new) => Comparison::Matches,
        Some(old) => Comparison::Differs {
            diff: diff(&normalize(&old), &normalize(&new)),
        },
    }
}

/// Where a scenario's pending snapshot goes: the snapshot's path plus `.new`, as insta names
/// them (`cargo insta review` finds it there).
pub fn pending_path(scenario_file: &Path) -> PathBuf {
    snapshot_path(scenario_file).with_extension("snap.new")
}

/// Writes the snapshot (`accept`) or the pending `.snap.new` for `cargo insta review`;
/// returns the path written.
pub fn write(
    scenario_file: &Path,
    transcript: &Transcript,
    accept: bool,
) -> std::io::Result<PathBuf> {
    let path = if accept {
        snapshot_path(scenario_file)
    } else {
        pending_path(scenario_file)
    };
    if accept {
        remove_pending(scenario_file);
    }
    write_file(&path, scenario_file, transcript, None)
}

/// Writes the transcript of a run that failed (up to and including the failed step) as the
/// pending `.snap.new`: the evidence a CI job keeps. Its header's `info`, which
/// `cargo insta review` shows, says that the run failed and why, so nobody accepts it as a
/// complete transcript by mistake.
pub fn write_failed(
    scenario_file: &Path,
    transcript: &Transcript,
    failure: &str,
) -> std::io::Result<PathBuf> {
    let info = format!("this run FAILED, so the transcript ends at the failed step: {failure}");
    write_file(
        &pending_path(scenario_file),
        scenario_file,
        transcript,
        Some(info),
    )
}

/// Removes a pending `.snap.new` left by an earlier run (as insta does when an assertion
/// passes), so the pending files are this run's evidence only.
pub fn remove_pending(scenario_file: &Path) {
    let _ = std::fs::remove_file(pending_path(scenario_file));
}

fn write_file(
    path: &Path,
    scenario_file: &Path,
    transcript: &Transcript,
    info: Option<String>,
) -> std::io::Result<PathBuf> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, file_text(scenario_file, transcript, info))?;
    Ok(path.to_owned())
}

#[derive(Serialize)]
struct Header {
    source: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    info: Option<String>,
    input_file: String,
}

/// The whole `.snap` file: insta's YAML header, then the body.
fn file_text(scenario_file: &Path, transcript: &Transcript, info: Option<String>) -> String {
    let header = Settings::new().bind(|| {
        yaml(&Header {
            source: "apns-harness".into(),
            description: transcript.description.clone(),
            info,
            input_file: scenario_file.display().to_string(),
        })
    });
    format!(
        "---\n{}\n---\n{}\n",
        header.trim_end(),
        normalize(&to_yaml(transcript))
    )
}

/// The body of a `.snap` file (after its header), if the file exists.
fn read_contents(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Some(text);
    }
    for line in lines.by_ref() {
        if line.trim_end() == "---" {
            break;
        }
    }
    Some(lines.collect::<Vec<_>>().join("\n"))
}

/// insta's comparison: trailing whitespace and line endings do not count.
fn normalize(text: &str) -> String {
    text.trim_end().replace("\r\n", "\n")
}

fn diff(old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    diff.unified_diff()
        .context_radius(4)
        .header("stored snapshot", "this run")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript(action: &str) -> Transcript {
        Transcript {
            scenario: "s".into(),
            description: "d".into(),
            steps: vec![crate::transcript::StepRecord {
                step: 1,
                action: action.into(),
                request: None,
                response: None,
                exit: None,
                pushes: None,
                phone: None,
            }],
            connections: vec![],
            phones: None,
        }
    }

    #[test]
    fn written_snapshots_compare_equal_and_changes_show_as_a_diff() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.json");
        assert_eq!(compare(&file, &transcript("mark: a")), Comparison::Missing);

        let written = write(&file, &transcript("mark: a"), true).unwrap();
        assert_eq!(written, dir.path().join("snapshots/s.snap"));
        assert_eq!(compare(&file, &transcript("mark: a")), Comparison::Matches);

        let Comparison::Differs { diff } = compare(&file, &transcript("mark: b")) else {
            panic!("a changed action must differ");
        };
        assert!(diff.contains("-    action: \"mark: a\""), "{diff}");
        assert!(diff.contains("+    action: \"mark: b\""), "{diff}");
    }

    #[test]
    fn a_failed_run_s_pending_snapshot_says_so_in_insta_s_info() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.json");

        let written = write_failed(&file, &transcript("x"), "step 1 (x) failed: no").unwrap();

        assert_eq!(written, pending_path(&file));
        let snapshot = insta::Snapshot::from_file(&written).unwrap();
        assert_eq!(snapshot.metadata().description(), Some("d"));
        let text = std::fs::read_to_string(&written).unwrap();
        assert!(
            text.contains(
                "\ninfo: \"this run FAILED, so the transcript ends at the failed step: step 1 (x) failed: no\"\n"
            ),
            "{text}"
        );
        assert_eq!(compare(&file, &transcript("x")), Comparison::Missing);
        remove_pending(&file);
        assert!(!written.exists());
    }

    #[test]
    fn the_file_has_insta_s_header() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("s.json");
        let written = write(&file, &transcript("x"), false).unwrap();
        assert!(written.to_string_lossy().ends_with("s.snap.new"));
        let text = std::fs::read_to_string(written).unwrap();
        assert!(text.starts_with("---\nsource: apns-harness\n"), "{text}");
        let snapshot =
            insta::Snapshot::from_file(&dir.path().join("snapshots/s.snap.new")).unwrap();
        assert_eq!(
            snapshot.metadata().input_file(),
            Some(file.display().to_string().as_str())
        );
    }
}
