//! mock-apns and harness as dependencies of a crate outside this workspace, the way a provider's
//! repository uses them: the template in `tests/out_of_tree/` is copied to a temporary folder
//! (with this workspace's Cargo.lock, so the same versions are reused) and tested with cargo.

use crate::support::cargo::{cargo, copy_dir, repo_root, run_ok};

#[tokio::test]
async fn a_crate_outside_the_workspace_tests_its_provider_against_mock_apns() {
    let repo = repo_root();
    let template = repo.join("tests/out_of_tree");
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_dir(&template, dir.path());
    let manifest = std::fs::read_to_string(template.join("Cargo.toml.in"))
        .expect("the template's manifest")
        .replace(
            "@MOCK_APNS_REPO@",
            repo.to_str().expect("a UTF-8 repository path"),
        );
    std::fs::write(dir.path().join("Cargo.toml"), manifest).expect("writing Cargo.toml");
    std::fs::remove_file(dir.path().join("Cargo.toml.in")).expect("removing the template");
    std::fs::copy(repo.join("Cargo.lock"), dir.path().join("Cargo.lock"))
        .expect("copying Cargo.lock");

    let out = tempfile::tempdir().expect("a target directory");
    let mut test = cargo(dir.path(), out.path());
    test.args(["test", "--quiet", "--", "--test-threads=1"]);
    let output = run_ok(test, "cargo test in the out-of-tree crate").await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("test result: ok. 2 passed"),
        "the out-of-tree crate's two tests did not both run:\n{stdout}"
    );
    let lock = std::fs::read_to_string(dir.path().join("Cargo.lock")).expect("its Cargo.lock");
    assert!(
        lock.contains("name = \"mock-apns-h2\""),
        "mock-apns did not bring its patched h2:\n{lock}"
    );
    assert!(
        lock.contains("name = \"h2\""),
        "the provider's own crates.io h2 is missing beside it:\n{lock}"
    );
}
