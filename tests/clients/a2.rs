//! `a2` 0.10 (crates.io), the most used Rust APNs client, with its default features (OpenSSL
//! signs its provider tokens), patched by `tests/clients/a2/mock-apns.patch` to reach the mock:
//! unpatched it hard-codes Apple's hosts on port 443 and trusts only its compiled-in roots.
//! The patch reads `A2_ENDPOINT` (`localhost:<port>`) and `A2_CA_FILE` (the mock's CA); with
//! neither set, a2 is as published.
//!
//! The program in `tests/clients/a2/` is built once per test run the way a provider's crate
//! would build it: a2's published source, fetched by cargo, with the patch applied, used
//! through `[patch.crates-io]`, at the versions of the Cargo.lock kept beside it. a2 writes
//! its tokens in standard base64 with `=` padding and a DER signature: each push here is a
//! fresh process with a fresh token, so every case also checks that the mock accepts them.

use std::path::{Path, PathBuf};

use mock_apns::AuthKind;
use serde_json::Value;
use tokio::sync::OnceCell;

use super::cases::{self, as_string, as_u64, Client, Sent};
use super::support::{clients_dir, run_binary, var, Mock, Push, DEVICE};
use crate::support::cargo::{cargo, copy_dir, run_ok, set_modified};

/// The a2 version the patch is written for.
const A2_VERSION: &str = "0.10.0";

/// The built client program, and the folder it lives in (kept while the tests run).
static PROGRAM: OnceCell<(PathBuf, tempfile::TempDir)> = OnceCell::const_new();

/// Builds the patched a2 client once: fetch a2's source with cargo, apply the patch, build.
async fn program() -> &'static Path {
    let (binary, _) = PROGRAM.get_or_init(build).await;
    binary
}

async fn build() -> (PathBuf, tempfile::TempDir) {
    let template = clients_dir("a2");
    let dir = tempfile::tempdir().expect("a temporary folder");
    // The patched a2 inside the provider's folder: cargo names the artifacts of path packages
    // after their path relative to the workspace, so each run replaces the last one's instead
    // of adding its own to the shared build directory.
    let (fetch, push, out) = (
        dir.path().join("fetch"),
        dir.path().join("push"),
        dir.path().join("out"),
    );
    let patched = push.join("a2");

    // a2's published source, as cargo downloads it.
    std::fs::create_dir_all(fetch.join("src")).expect("fetch/src");
    std::fs::write(
        fetch.join("Cargo.toml"),
        format!(
            "[package]\nname = \"fetch-a2\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [workspace]\n\n[dependencies]\na2 = \"={A2_VERSION}\"\n"
        ),
    )
    .expect("fetch/Cargo.toml");
    std::fs::write(fetch.join("src/lib.rs"), "").expect("fetch/src/lib.rs");
    std::fs::copy(template.join("Cargo.lock"), fetch.join("Cargo.lock")).expect("Cargo.lock");
    let mut metadata = cargo(&fetch, &out);
    metadata.args(["metadata", "--format-version", "1"]);
    let metadata = run_ok(metadata, "cargo metadata (fetching a2)").await;
    let metadata: Value = serde_json::from_slice(&metadata.stdout).expect("cargo metadata JSON");
    let manifest = metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == "a2" && p["version"] == A2_VERSION)
        .and_then(|p| p["manifest_path"].as_str())
        .unwrap_or_else(|| panic!("cargo metadata lists no a2 {A2_VERSION}"));
    copy_dir(Path::new(manifest).parent().expect("a2's folder"), &patched);

    // The patch, applied as a user would: git apply, outside any repository.
    let mut apply = tokio::process::Command::new("git");
    apply
        .args(["apply", "-p1"])
        .arg(template.join("mock-apns.patch"))
        .current_dir(&patched)
        .env("GIT_CEILING_DIRECTORIES", dir.path());
    run_ok(apply, "git apply mock-apns.patch to a2's source").await;
    // The patched file dated like the patch, not now: a later run's copy is then no newer
    // than this run's build, and cargo reuses it.
    let patch_time = std::fs::metadata(template.join("mock-apns.patch"))
        .and_then(|m| m.modified())
        .expect("the patch's modification time");
    set_modified(&patched.join("src/client.rs"), patch_time);

    // The provider's crate, with [patch.crates-io] pointing at the patched copy.
    copy_dir(&template.join("src"), &push.join("src"));
    std::fs::copy(template.join("Cargo.toml.in"), push.join("Cargo.toml")).expect("Cargo.toml");
    std::fs::copy(template.join("Cargo.lock"), push.join("Cargo.lock")).expect("Cargo.lock");
    let mut build = cargo(&push, &out);
    build.args(["build", "--locked", "--quiet"]);
    run_ok(build, "cargo build of the a2 client").await;

    let binary = out.join("debug").join("a2-push");
    assert!(binary.is_file(), "{} was not built", binary.display());
    (binary, dir)
}

/// a2, with the patch's two variables and one way to authenticate.
struct A2 {
    auth: AuthKind,
}

impl Client for A2 {
    fn name(&self) -> &'static str {
        match self.auth {
            AuthKind::Certificate => "a2 (certificate)",
            _ => "a2",
        }
    }

    fn auth(&self) -> AuthKind {
        self.auth
    }

    async fn send(&self, mock: &Mock, push: &Push) -> Sent {
        let binary = program().await;
        let mut env = if self.auth == AuthKind::Certificate {
            mock.cert_env()
        } else {
            mock.key_env()
        };
        env.push(var(
            "A2_ENDPOINT",
            format!("localhost:{}", mock.apns.address().port()),
        ));
        env.push(var("A2_CA_FILE", mock.ca_file.display()));
        env.push(push.to_env());
        let out = run_binary(binary, env).await;
        Sent {
            status: as_u64(&out["status"]).unwrap_or_default() as u16,
            reason: as_string(&out["reason"]),
            timestamp: as_u64(&out["timestamp"]),
            apns_id: as_string(&out["apns_id"]),
            body_bytes: as_u64(&out["body_bytes"]).unwrap_or_default(),
            raw: out,
        }
    }
}

const TOKEN: A2 = A2 {
    auth: AuthKind::Token,
};

const CERTIFICATE: A2 = A2 {
    auth: AuthKind::Certificate,
};

#[tokio::test]
async fn voip_push_is_accepted() {
    cases::voip_push_is_accepted(&TOKEN, &Mock::start().await).await;
}

#[tokio::test]
async fn voip_push_to_the_bundle_topic_is_disallowed() {
    cases::voip_push_to_the_bundle_topic_is_disallowed(&TOKEN, &Mock::start().await).await;
}

#[tokio::test]
async fn unregistered_token_is_gone_with_its_timestamp() {
    cases::unregistered_token_is_gone_with_its_timestamp(&TOKEN, &Mock::start().await).await;
}

#[tokio::test]
async fn oversized_voip_payload_is_too_large() {
    cases::oversized_voip_payload_is_too_large(&TOKEN, &Mock::start().await).await;
}

#[tokio::test]
async fn with_a_certificate_voip_push_is_accepted() {
    cases::voip_push_is_accepted(&CERTIFICATE, &Mock::start().await).await;
}

/// What a2 looks like on the wire (docs/clients.md): its tokens in standard base64 with
/// padding and DER signatures, all accepted, `:authority` as `A2_ENDPOINT` says, and the
/// headers it sends for a push with every option set.
#[tokio::test]
async fn its_fresh_tokens_are_standard_base64_with_der_signatures_and_all_accepted() {
    let mock = Mock::start().await;

    for i in 0..5 {
        let sent = TOKEN.send(&mock, &Push::incoming_call()).await;
        assert_eq!(sent.status, 200, "push {i}: a2 reported {}", sent.raw);
    }

    let records = mock.apns.received_notifications();
    assert_eq!(records.len(), 5);
    let authority = format!("localhost:{}", mock.apns.address().port());
    let fingerprints: std::collections::HashSet<_> = records
        .iter()
        .map(|r| r.auth.token_sha256.clone())
        .collect();
    assert_eq!(fingerprints.len(), 5, "each process minted its own token");
    for record in &records {
        let form = record.auth.token_form.as_deref().unwrap_or_default();
        assert!(form.ends_with(", padded, DER signature"), "{form}");
        assert_eq!(record.authority.as_deref(), Some(authority.as_str()));
        assert_eq!(record.sni.as_deref(), Some("localhost"));
        assert_eq!(record.device_token.as_deref(), Some(DEVICE));
        let mut headers: Vec<&str> = record.headers.iter().map(|(n, _)| &**n).collect();
        headers.sort_unstable();
        assert_eq!(
            headers,
            [
                "apns-expiration",
                "apns-priority",
                "apns-push-type",
                "apns-topic"
            ],
            "a2 sends the options it was given, and no apns-id"
        );
    }
}
