//! The `mock-apns` binary as users run it: the banner's own curl command, the state directory
//! across restarts, the phone and lint flags, the record file's durability under SIGKILL, the
//! SIGINT and SIGTERM drain (and a second signal), and the README's admin curl commands
//! (start-up errors are in `startup.rs`).

use mock_apns::phones::PhoneSpec;
use mock_apns::LintMode;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;

use crate::support::assertions::recorded_ids;
use crate::support::binary::{shell, MockProcess};
use crate::support::push::CALL_PAYLOAD;
use crate::support::raw_h2::{device_path, voip_headers_for, Frame, GoAwayFrame, RawH2};
use crate::support::{Alpn, ApnsClient, Push, DEVICE, PATIENCE};

#[tokio::test]
async fn the_banners_curl_commands_work_verbatim() {
    let state = tempfile::tempdir().unwrap();
    let mock = MockProcess::start(state.path(), &[]).await;

    let sent = shell(&mock.banner.curl).await;
    let see_it = mock
        .banner
        .text
        .lines()
        .find_map(|l| l.strip_prefix("Then see it: "))
        .expect("the banner says how to see the pushes");
    let listed = shell(see_it).await;

    let printed = String::from_utf8_lossy(&sent.stdout);
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    assert!(printed.starts_with("HTTP/2 200"), "{printed}");
    let apns_id = printed
        .lines()
        .find_map(|l| l.strip_prefix("apns-id: "))
        .unwrap_or_else(|| panic!("no apns-id in {printed}"))
        .trim();
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["pushes"][0]["apns_id"], apns_id, "{listed}");
    assert_eq!(listed["pushes"][0]["status"], 200, "{listed}");
}

#[tokio::test]
async fn a_restart_with_the_same_state_dir_reuses_the_ca_and_keys() {
    let state = tempfile::tempdir().unwrap();
    let mut first = MockProcess::start(state.path(), &[]).await;
    let ca_before = std::fs::read(&first.banner.ca_path).unwrap();
    let key_id_before = first.banner.key_id.clone();
    first.interrupt();
    assert!(first.wait_exit().await.success());

    let second = MockProcess::start(state.path(), &[]).await;
    // A client set up against the first run keeps working against the second.
    let client = ApnsClient::connect_with(
        second.banner.apns_addr(),
        &String::from_utf8(ca_before.clone()).unwrap(),
        Alpn::H2,
    )
    .await
    .expect("the first run's CA still verifies the server");
    let reply = client
        .send(&Push::voip_with_token(&second.token()))
        .await
        .unwrap();

    assert_eq!(std::fs::read(&second.banner.ca_path).unwrap(), ca_before);
    assert_eq!(second.banner.key_id, key_id_before, "same development key");
    assert_eq!(reply.status, 200, "{reply:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let p8 = format!("AuthKey_{key_id_before}.p8");
        for secret in ["ca-key.pem", "server-key.pem", p8.as_str()] {
            let mode = std::fs::metadata(state.path().join(secret))
                .unwrap_or_else(|e| panic!("{secret}: {e}"))
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{secret} is {:o}", mode & 0o777);
        }
    }
}

/// The phone-side flags reach the running binary: where the call id is, the violation limit,
/// no ring timeout, and `--lint deny` reported by the health check.
#[tokio::test]
async fn the_phone_and_lint_flags_shape_what_a_phone_does() {
    let state = tempfile::tempdir().unwrap();
    let flags = [
        "--lint",
        "deny",
        "--call-id-pointer",
        "/session/id",
        "--voip-violation-limit",
        "1",
        "--ring-timeout",
        "0",
    ];
    let mut mock = MockProcess::start(state.path(), &flags).await;
    let admin = mock.admin();
    admin
        .put_phone("bob-iphone", &PhoneSpec::default().tokens([DEVICE]))
        .await
        .expect("the phone is created");
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let push = Push::voip_with_token(&mock.token()).body(r#"{"aps":{},"session":{"id":"s-1"}}"#);

    client.send(&push).await.unwrap();
    let ringing = admin.phone("bob-iphone").await.expect("the phone");
    client.send(&push).await.unwrap();
    let after = admin.phone("bob-iphone").await.expect("the phone");
    let health = admin.health().await.expect("health");

    assert_eq!(ringing.ringing, ["s-1"], "{ringing:#?}");
    assert_eq!(ringing.calls[0].ring_deadline, None, "--ring-timeout 0");
    assert!(after.voip_suspended, "one violation suspends: {after:#?}");
    assert_eq!(health.lint, LintMode::Deny);
    // The line per push says what the phone did, and which lint rule the repeat broke.
    let line = mock.stderr_line("voip-repeated-call").await;
    for field in [
        "lint=\"voip-repeated-call\"",
        "phone=\"bob-iphone\"",
        "PushKit policy violation: repeated_call",
    ] {
        assert!(line.contains(field), "no {field} in {line}");
    }
}

/// Every push that was answered 200 is in the record file, even when the process is killed
/// with SIGKILL in the middle of a burst: 200 senders push back to back over one connection
/// until the connection dies, so the kill always lands with pushes in flight.
#[tokio::test]
async fn every_acknowledged_push_survives_sigkill_in_the_record_file() {
    const SENDERS: usize = 200;
    const KILL_AFTER: usize = 2 * SENDERS;
    let state = tempfile::tempdir().unwrap();
    let record = state.path().join("pushes.jsonl");
    let mut mock = MockProcess::start(state.path(), &["--record", record.to_str().unwrap()]).await;
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let push = Push::voip_with_token(&mock.token());
    // One stream until a push is accepted (as at Apple); extra streams would be refused.
    client.unlock_streams(&push).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    for _ in 0..SENDERS {
        let (client, push, tx) = (client.clone(), push.clone(), tx.clone());
        tokio::spawn(async move {
            loop {
                match client.send(&push).await {
                    Ok(reply) if reply.status == 200 => {
                        let _ = tx.send(Some(reply.apns_id().to_owned()));
                    }
                    _ => break,
                }
            }
            let _ = tx.send(None); // this sender's last push died with the process
        });
    }
    drop(tx);

    let mut acked = Vec::new();
    while acked.len() < KILL_AFTER {
        match rx.recv().await.expect("senders report") {
            Some(id) => acked.push(id),
            None => panic!("a push failed before the kill"),
        }
    }
    let status = mock.kill_9().await;
    let mut cut_off = 0;
    while let Some(outcome) = tokio::time::timeout(PATIENCE, rx.recv())
        .await
        .expect("every sender stops once the process is gone")
    {
        match outcome {
            Some(id) => acked.push(id),
            None => cut_off += 1,
        }
    }

    assert!(!status.success(), "killed, not exited: {status}");
    assert_eq!(
        cut_off, SENDERS,
        "every sender had a push in flight at the kill"
    );
    let recorded = recorded_ids(&record);
    let missing: Vec<_> = acked.iter().filter(|id| !recorded.contains(*id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged pushes are not in the record file: {missing:?}",
        missing.len(),
        acked.len()
    );
    eprintln!(
        "SIGKILL: {} pushes acknowledged, {} records on disk",
        acked.len(),
        recorded.len()
    );
}

/// A raw HTTP/2 connection to the binary's APNs endpoint with stream 1 open: its head sent,
/// its body not yet, and the server known to have read the head.
async fn stream_in_flight(mock: &MockProcess) -> RawH2<TlsStream<TcpStream>> {
    let mut raw = mock.raw_h2().await;
    raw.send_head(1, &device_path(), &voip_headers_for(&mock.token()), false)
        .await
        .expect("request head sent");
    raw.ping().await.expect("PING answered");
    raw
}

/// SIGINT (Ctrl-C) and SIGTERM (Docker, systemd, CI runners) both stop the mock gracefully:
/// GOAWAY `NO_ERROR` with `{"reason":"Shutdown"}` covering the stream in flight, which is then
/// answered and recorded, and exit status 0.
async fn a_signal_drains_the_stream_in_flight(signal: &str) {
    let state = tempfile::tempdir().expect("a temporary directory");
    let record = state.path().join("pushes.jsonl");
    let mut mock = MockProcess::start(
        state.path(),
        &["--record", record.to_str().expect("a UTF-8 path")],
    )
    .await;
    let mut raw = stream_in_flight(&mock).await;

    mock.signal(signal);
    let goaway = raw.next().await.expect("a frame after the signal");
    raw.send_data(1, CALL_PAYLOAD.as_bytes(), true)
        .await
        .expect("the rest of the body sent");
    let reply = raw.reply(1).await.expect("stream 1 answered");
    let status = mock.wait_exit().await;

    let expected = GoAwayFrame {
        last_stream_id: 1,
        error_code: 0,
        debug_data: r#"{"reason":"Shutdown"}"#.into(),
    };
    assert_eq!(goaway, Frame::GoAway(expected), "SIG{signal}");
    assert_eq!(reply.status, Some(200), "SIG{signal}: {reply:?}");
    assert_eq!(status.code(), Some(0), "SIG{signal}: exit status {status}");
    assert_eq!(recorded_ids(&record).len(), 1, "SIG{signal}");
}

#[tokio::test]
async fn sigint_sends_goaway_shutdown_answers_the_stream_in_flight_then_exits_0() {
    a_signal_drains_the_stream_in_flight("INT").await;
}

#[tokio::test]
async fn sigterm_sends_goaway_shutdown_answers_the_stream_in_flight_then_exits_0() {
    a_signal_drains_the_stream_in_flight("TERM").await;
}

/// While a graceful stop waits for a stream (here one a fault rule delays by an hour), a
/// second signal ends the process at once, with the shell's status for that signal.
#[tokio::test]
async fn a_second_signal_exits_at_once() {
    let state = tempfile::tempdir().unwrap();
    let rules = state.path().join("faults.json");
    std::fs::write(&rules, r#"[{"action":{"delay_ms":3600000}}]"#).unwrap();
    let mut mock = MockProcess::start(
        state.path(),
        &[
            "--faults",
            rules.to_str().unwrap(),
            "--shutdown-timeout",
            "3600",
        ],
    )
    .await;
    let mut raw = stream_in_flight(&mock).await;
    raw.send_data(1, CALL_PAYLOAD.as_bytes(), true)
        .await
        .unwrap();
    raw.ping().await.unwrap();

    mock.terminate();
    let goaway = raw.next().await.unwrap();
    mock.interrupt();
    let status = mock.wait_exit().await;

    assert!(matches!(goaway, Frame::GoAway(_)), "{goaway:?}");
    assert_eq!(status.code(), Some(130), "exit status {status}");
    mock.stderr_line("exiting now").await;
}

/// Every admin API curl command in the README, run as written against a running mock (its
/// port and a device token filled in): none may be refused, `-d` bodies included (curl sends
/// them as form data unless told otherwise).
#[tokio::test]
async fn the_readmes_admin_curl_commands_work_as_written() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let state = tempfile::tempdir().unwrap();
    let mock = MockProcess::start(state.path(), &[]).await;
    let admin = mock
        .banner
        .admin_url
        .trim_end_matches("/api/v1/")
        .to_owned();
    // Connection 1, for the GOAWAY command.
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let reply = client
        .send(&Push::voip_with_token(&mock.token()))
        .await
        .unwrap();
    assert_eq!(reply.status, 200);

    let mut prelude = Vec::new();
    let mut ran = 0;
    let mut in_sh = false;
    let mut command = String::new();
    for line in readme.lines() {
        if line.starts_with("```") {
            in_sh = line == "```sh";
            prelude.clear();
            continue;
        }
        if !in_sh {
            continue;
        }
        command.push_str(line.trim_end_matches('\\'));
        if line.ends_with('\\') {
            continue;
        }
        let full = std::mem::take(&mut command);
        // Drop a trailing comment (the README aligns them after two or more spaces).
        let full = full
            .split("  #")
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned();
        let full = full
            .replace("http://127.0.0.1:2198", &admin)
            .replace("<token>", &"ab".repeat(32));
        if full.starts_with("A=") || full.starts_with("J=") {
            prelude.push(full);
            continue;
        }
        let is_admin =
            full.starts_with("curl -s") && (full.contains(&admin) || full.contains("$A"));
        if !is_admin {
            continue;
        }
        let script = format!(
            "{}\n{full} -o /dev/null -w '%{{http_code}}'",
            prelude.join("\n")
        );
        let out = shell(&script).await;
        let code = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(code.starts_with('2'), "{full}\nanswered {code}");
        ran += 1;
    }
    assert!(
        ran >= 15,
        "only {ran} admin curl commands found in the README"
    );
}
