//! Starting the `mock-apns` binary as a newcomer does: `localhost` in listen addresses, a
//! banner whose paths work from any directory, and each usual mistake (the port is taken, the
//! state directory is not writable, two listeners on one port) answered on stderr with the
//! setting (flag and environment twin), the value, the OS error once and the fix; exit code 2.

use std::path::{Path, PathBuf};
use std::process::Output;

use tokio::process::Command;

use crate::support::binary::{binary, command, command_of, MockProcess};
use crate::support::{Alpn, ApnsClient, Push, PATIENCE};

/// Runs a start that must fail; returns its stderr after checking the exit code and that no
/// banner was printed.
async fn fails_to_start(mut command: Command) -> String {
    let output: Output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .expect("a failed start exits at once")
        .expect("running mock-apns");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        output.stdout.is_empty(),
        "a banner for a mock that did not start"
    );
    assert!(stderr.starts_with("mock-apns: error: "), "{stderr}");
    stderr
}

/// How many times the OS's error text appears.
fn os_errors(stderr: &str) -> usize {
    stderr.matches("(os error ").count()
}

#[tokio::test]
async fn a_taken_port_names_the_listener_its_flag_and_env_twin_and_how_to_free_it() {
    let state = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();

    // The APNs port from the flag, the admin port from the environment.
    let mut apns = command();
    apns.args([
        "--listen",
        &addr,
        "--admin-listen",
        "127.0.0.1:0",
        "--state-dir",
    ])
    .arg(state.path());
    let mut admin = command();
    admin
        .env("MOCK_APNS_ADMIN_LISTEN", &addr)
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(state.path());
    let cases = [
        (apns, "the APNs endpoint", "--listen or MOCK_APNS_LISTEN"),
        (
            admin,
            "the admin API",
            "--admin-listen or MOCK_APNS_ADMIN_LISTEN",
        ),
    ];
    for (command, listener, setting) in cases {
        let stderr = fails_to_start(command).await;

        let first = stderr.lines().next().unwrap();
        assert_eq!(
            first,
            format!(
                "mock-apns: error: cannot listen on {addr} for {listener} ({setting}): \
                 Address already in use (os error 98)"
            ),
            "{stderr}"
        );
        assert_eq!(os_errors(&stderr), 1, "the OS error once: {stderr}");
        assert!(
            stderr.contains("another mock-apns (or another program) is already listening there")
                && stderr.contains(&format!("choose another port with {setting}")),
            "{stderr}"
        );
    }
    drop(taken);
}

#[tokio::test]
async fn two_listeners_on_one_port_are_refused_naming_both_flags() {
    let state = tempfile::tempdir().unwrap();
    let mut same = command();
    same.args([
        "--listen",
        "127.0.0.1:2301",
        "--admin-listen",
        "localhost:2301",
    ])
    .arg("--state-dir")
    .arg(state.path());

    let stderr = fails_to_start(same).await;

    assert!(
        stderr.starts_with(
            "mock-apns: error: --listen 127.0.0.1:2301 and --admin-listen localhost:2301 \
             (127.0.0.1:2301) are the same address"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("each listener needs its own port"),
        "{stderr}"
    );
}

/// `binary()` as a user without write access can run it: the binary itself when every folder
/// above it lets others in, else a copy in `dir` (which must let others in).
#[cfg(unix)]
fn binary_for_others(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let bin = binary();
    let open_to_others = |p: &Path, bits: u32| {
        std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & bits == bits)
    };
    let reachable =
        bin.ancestors().skip(1).all(|d| open_to_others(d, 0o001)) && open_to_others(&bin, 0o005);
    if reachable {
        return bin;
    }
    let copy = dir.join("mock-apns");
    std::fs::copy(&bin, &copy).expect("copying the binary");
    copy
}

#[cfg(unix)]
#[tokio::test]
async fn a_state_directory_it_cannot_write_names_state_dir_and_the_fix() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let read_only = home.path().join("ro");
    std::fs::create_dir(&read_only).unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
    let mut start = command_of(&binary_for_others(home.path()));
    start
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .arg("--state-dir")
        .arg(&read_only);
    // Root (CI runs as root) writes anywhere: then the mock runs as nobody, as a user without
    // write access would.
    if std::fs::write(read_only.join("probe"), b"").is_ok() {
        std::fs::remove_file(read_only.join("probe")).unwrap();
        start.uid(65534).gid(65534);
    }

    let stderr = fails_to_start(start).await;

    let dir = read_only.display();
    assert!(
        stderr.starts_with(&format!(
            "mock-apns: error: the state directory {dir} (--state-dir or MOCK_APNS_STATE_DIR) \
             is not writable: {dir}/"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("Permission denied (os error 13)"),
        "{stderr}"
    );
    assert_eq!(os_errors(&stderr), 1, "the OS error once: {stderr}");
    assert!(
        stderr.contains(
            "make it writable, or choose another directory with --state-dir or \
             MOCK_APNS_STATE_DIR"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn localhost_in_listen_addresses_is_the_loopback_address() {
    let state = tempfile::tempdir().unwrap();
    let mut start = command();
    start
        .env("MOCK_APNS_ADMIN_LISTEN", "localhost:0")
        .args(["--listen", "localhost:0", "--state-dir"])
        .arg(state.path());

    let mock = MockProcess::spawn(start).await;
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .expect("the APNs endpoint is on 127.0.0.1");
    let reply = client
        .send(&Push::voip_with_token(&mock.token()))
        .await
        .unwrap();
    let health = mock.admin().health().await.unwrap();

    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        mock.banner.admin_url.starts_with("http://127.0.0.1:"),
        "{:?}",
        mock.banner
    );
    assert_eq!(health.status, "ok");
}

#[tokio::test]
async fn the_banner_names_absolute_paths_so_its_curl_works_from_any_directory() {
    let workdir = tempfile::tempdir().unwrap();
    let mut start = command();
    start
        .current_dir(workdir.path())
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .args(["--state-dir", "relative-state", "--record", "pushes.jsonl"]);

    let mock = MockProcess::spawn(start).await;
    let elsewhere = Command::new("sh")
        .arg("-c")
        .arg(&mock.banner.curl)
        .current_dir("/")
        .kill_on_drop(true)
        .output();
    let sent = tokio::time::timeout(PATIENCE, elsewhere)
        .await
        .expect("curl finishes")
        .unwrap();

    let state = workdir.path().join("relative-state");
    assert_eq!(
        mock.banner.ca_path,
        state.join("ca.pem"),
        "{}",
        mock.banner.text
    );
    assert!(
        mock.banner.key_path.starts_with(&state),
        "{}",
        mock.banner.text
    );
    let record_line = format!(
        "record file    {}",
        workdir.path().join("pushes.jsonl").display()
    );
    assert!(
        mock.banner.text.contains(&record_line),
        "{}",
        mock.banner.text
    );
    let printed = String::from_utf8_lossy(&sent.stdout);
    assert!(
        printed.starts_with("HTTP/2 200"),
        "{printed}{}",
        String::from_utf8_lossy(&sent.stderr)
    );
}
