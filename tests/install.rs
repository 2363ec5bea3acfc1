//! `cargo install --locked --path mock-apns` and `--path harness`, as the README tells users:
//! the installed binaries run from another folder, with nothing read from the source tree.
//! Built with `--debug`, in this workspace's build directory, so the check reuses the build.

use std::path::Path;

use crate::support::binary::{shell, MockProcess};
use crate::support::cargo::{cargo, repo_root, run_ok};

/// `cargo install --locked --debug --path <repo>/<package> --root <root>`.
async fn install(package: &str, root: &Path) {
    let repo = repo_root();
    let mut install = cargo(&repo, &root.join("target"));
    install
        .args(["install", "--locked", "--debug", "--quiet", "--path"])
        .arg(repo.join(package))
        .arg("--root")
        .arg(root);
    run_ok(install, &format!("cargo install --path {package}")).await;
}

#[tokio::test]
async fn the_installed_binaries_serve_and_check_from_any_folder() {
    let root = tempfile::tempdir().expect("an install root");
    install("mock-apns", root.path()).await;
    install("harness", root.path()).await;
    let bin = root.path().join("bin");

    let elsewhere = tempfile::tempdir().expect("a folder outside the source tree");
    let mock = MockProcess::start_installed(&bin.join("mock-apns"), elsewhere.path(), &[]).await;
    let sent = shell(&mock.banner.curl).await;
    let answer = String::from_utf8_lossy(&sent.stdout);
    assert!(
        answer.starts_with("HTTP/2 200"),
        "the installed mock-apns did not accept its banner's push:\n{answer}"
    );

    let scenario = elsewhere.path().join("one_call.json");
    std::fs::copy(
        repo_root().join("fixtures/scenarios/incoming_call_rings_every_device.json"),
        &scenario,
    )
    .expect("copying a scenario");
    let check = shell(&format!(
        "cd '{}' && '{}' check one_call.json",
        elsewhere.path().display(),
        bin.join("apns-harness").display()
    ))
    .await;
    assert!(
        check.status.success(),
        "the installed apns-harness refused a valid scenario: {}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}
