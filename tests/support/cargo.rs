//! Cargo run from a test, as a user runs it in their own crate: the `cargo` that runs this
//! suite, with this workspace's target directory as its build directory (`build.build-dir`,
//! cargo 1.91 and later), so that what is already built is reused, and a temporary target
//! directory for the final artifacts, so that it never replaces `target/debug/mock-apns` while
//! other tests start it.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

/// Bounds one cargo run: a build from nothing on a 2-core machine fits well within it.
const CARGO_PATIENCE: Duration = Duration::from_secs(900);

/// The repository's root (this crate lives in `tests/`).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The target directory this test binary was built in: `<target>/<profile>/deps/e2e-<hash>`.
pub(crate) fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    exe.ancestors()
        .nth(3)
        .expect("the test binary lives in <target>/<profile>/deps")
        .to_owned()
}

/// Variables the outer `cargo test` sets for this test binary, about this crate, and make's.
/// Left in, they leak into the builds below: cargo would see `CARGO_MANIFEST_DIR` "change"
/// for crates that read it (ring does) and rebuild them, and the workspace's next build too.
const OUTER_ENV: &[&str] = &[
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_CRATE_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "CARGO_MAKEFLAGS",
    "MAKEFLAGS",
    "MFLAGS",
];

/// A `cargo` command in `dir` that builds in this workspace's target directory and puts what it
/// makes in `out`, with nothing of the outer cargo or make run leaking in.
pub(crate) fn cargo(dir: &Path, out: &Path) -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("CARGO_PKG_") || OUTER_ENV.contains(&&*name_text) {
            command.env_remove(name);
        }
    }
    command
        .current_dir(dir)
        .env("CARGO_BUILD_BUILD_DIR", target_dir())
        .env("CARGO_TARGET_DIR", out)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Runs `command` to the end and panics, with everything it printed, unless it succeeded.
pub(crate) async fn run_ok(mut command: Command, what: &str) -> Output {
    let output = match tokio::time::timeout(CARGO_PATIENCE, command.output()).await {
        Ok(output) => output.unwrap_or_else(|e| panic!("{what}: could not run cargo: {e}")),
        Err(_) => panic!("{what}: cargo did not finish within {CARGO_PATIENCE:?}"),
    };
    assert!(
        output.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Copies the folder `from` into `to`, recursively, keeping each file's modification time:
/// cargo decides by those whether a copy made by an earlier run still needs building.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("creating the destination folder");
    for entry in std::fs::read_dir(from).expect("reading the template folder") {
        let entry = entry.expect("a folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copying a file");
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .expect("the file's modification time");
            set_modified(&target, modified);
        }
    }
}

/// Sets a file's modification time.
pub(crate) fn set_modified(path: &Path, time: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(time))
        .unwrap_or_else(|e| panic!("setting the time of {}: {e}", path.display()));
}
