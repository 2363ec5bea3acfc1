//! The `mock-apns` binary as users run it: the banner's own curl command, the state directory
//! across restarts, the record file's durability under SIGKILL, and the SIGINT drain (start-up
//! errors are in `startup.rs`).

use std::collections::HashSet;
use std::path::Path;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::support::binary::{shell, MockProcess};
use crate::support::push::CALL_PAYLOAD;
use crate::support::{Alpn, ApnsClient, Push, PATIENCE};

/// The `apns_id`s in a JSON-lines record file; every complete line must parse.
fn recorded_ids(path: &Path) -> HashSet<String> {
    let text = std::fs::read_to_string(path).expect("the record file exists");
    text.split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .map(|line| {
            let record: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("record line is not JSON ({e}): {line:?}"));
            record["apns_id"].as_str().expect("apns_id").to_owned()
        })
        .collect()
}

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

/// Ctrl-C stops accepting but answers the stream already in flight before exiting 0.
#[tokio::test]
async fn sigint_answers_the_stream_in_flight_then_exits_cleanly() {
    let state = tempfile::tempdir().unwrap();
    let record = state.path().join("pushes.jsonl");
    let mut mock = MockProcess::start(state.path(), &["--record", record.to_str().unwrap()]).await;
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let push = Push::voip_with_token(&mock.token());
    client.unlock_streams(&push).await.unwrap();
    let (first_half, second_half) = CALL_PAYLOAD.split_at(CALL_PAYLOAD.len() / 2);
    let mut in_flight = client.open(&push, false).await.unwrap();
    in_flight
        .send_data(Bytes::from_static(first_half.as_bytes()), false)
        .unwrap();
    // Streams are accepted in order: once a later one is answered, the server holds ours.
    let later = client.send(&push).await.unwrap();
    assert_eq!(later.status, 200);

    mock.interrupt();
    mock.stderr_line("shutting down").await;
    in_flight
        .send_data(Bytes::from_static(second_half.as_bytes()), true)
        .unwrap();
    let reply = in_flight.finish().await.unwrap();
    let status = mock.wait_exit().await;

    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(status.success(), "exit status {status}");
    assert!(recorded_ids(&record).contains(reply.apns_id()));
}
