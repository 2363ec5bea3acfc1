//! Where the reference call provider's binary is, for the scenario tests.
#![allow(dead_code, reason = "each test binary uses part of these helpers")]
#![allow(
    clippy::unwrap_used,
    reason = "helpers of tests: a failure is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use harness::CommandProvider;

pub(crate) fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

pub(crate) fn scenarios_dir() -> PathBuf {
    workspace().join("fixtures/scenarios")
}

/// The reference provider's binary: `CALL_PROVIDER_BIN` (`make test` sets it: `cargo test
/// --all-targets` has just built it, with the test build's features), or the workspace's own
/// build (rebuilt here if needed).
pub(crate) fn call_provider() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("CALL_PROVIDER_BIN") {
            return PathBuf::from(bin);
        }
        let exe = std::env::current_exe().unwrap();
        let bin = exe
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("call-provider");
        // Always (re)build: `cargo test -p harness` alone would otherwise use a stale binary.
        // Cargo has released its build lock by the time tests run. Built the way `make test`
        // builds it (`--workspace --bins`): `-p call-provider` alone unifies features
        // differently, so it rebuilt the binary (about a minute) after every workspace build.
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--workspace", "--bins"])
            .current_dir(workspace())
            .status()
            .unwrap();
        assert!(status.success(), "building call-provider failed");
        bin
    })
}

pub(crate) fn reference_provider() -> CommandProvider {
    CommandProvider::new(format!("exec '{}'", call_provider().display()))
}
