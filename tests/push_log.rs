//! The line per push on the `mock-apns` binary's stderr: every outcome with its status, reason
//! and the record's `detail`; text without colour codes off a terminal (and with them on one,
//! unless `NO_COLOR`), or one JSON object per line; never the provider token.

use std::process::Stdio;

use mock_apns::admin::{Client, PushQuery};
use mock_apns::Notification;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::support::binary::{binary, MockProcess};
use crate::support::{Alpn, ApnsClient, Push, DEVICE, PATIENCE};

/// The record the admin API holds for this `apns-id`.
async fn record(admin: &Client, apns_id: &str) -> Notification {
    let all = admin.pushes(&PushQuery::all()).await.expect("the record");
    all.into_iter()
        .find(|n| &*n.apns_id == apns_id)
        .unwrap_or_else(|| panic!("no record with apns-id {apns_id}"))
}

/// The token as the log shows it: its first 8 and last 4 characters.
fn short(token: &str) -> String {
    format!("{}...{}", &token[..8], &token[token.len() - 4..])
}

#[tokio::test]
async fn each_push_is_logged_with_its_status_reason_and_the_records_detail() {
    let state = tempfile::tempdir().unwrap();
    let mut mock = MockProcess::start(state.path(), &[]).await;
    let admin = mock.admin();
    let jwt = mock.token();
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let stale = "ffeeddcc".repeat(8);
    admin
        .add_fault_json(
            &json!({"match": {"device_token": stale}, "action": {"reject": "Unregistered"}}),
        )
        .await
        .unwrap();
    let lost = "0badc0de".repeat(8);
    admin
        .add_fault_json(&json!({"match": {"device_token": lost}, "action": {"reset": "CANCEL"}}))
        .await
        .unwrap();

    // Accepted; refused by validation; refused by a fault rule; reset by a fault rule; and, on
    // a second connection, refused for its provider token.
    let accepted = client.send(&Push::voip_with_token(&jwt)).await.unwrap();
    let bad_header = client
        .send(&Push::voip_with_token(&jwt).header("apns-priority", "7"))
        .await
        .unwrap();
    let faulted = client
        .send(&Push::voip_with_token(&jwt).to(&stale))
        .await
        .unwrap();
    let reset = client.send(&Push::voip_with_token(&jwt).to(&lost)).await;
    let other = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let forged = format!("{}.forged-signature", &jwt[..jwt.rfind('.').unwrap()]);
    let bad_token = other.send(&Push::voip_with_token(&forged)).await.unwrap();

    assert!(reset.is_err(), "the stream was reset: {reset:?}");
    let unanswered = admin.pushes(&PushQuery::all().status(0)).await.unwrap();
    assert_eq!(unanswered.len(), 1, "{unanswered:?}");
    let cases = [
        (accepted.apns_id().to_owned(), 200, "accepted"),
        (bad_header.apns_id().to_owned(), 400, "rejected"),
        (faulted.apns_id().to_owned(), 410, "rejected"),
        (unanswered[0].apns_id.to_string(), 0, "not answered"),
        (bad_token.apns_id().to_owned(), 403, "rejected"),
    ];
    for (apns_id, status, outcome) in cases {
        let record = record(&admin, &apns_id).await;
        let line = mock.stderr_line(&format!("apns_id=\"{apns_id}\"")).await;

        assert_eq!(record.status, status, "{record:?}");
        assert!(line.contains(" INFO mock_apns::push: "), "{line}");
        assert!(line.contains(&format!(": {outcome} ")), "{line}");
        assert!(line.contains(&format!(" status={status} ")), "{line}");
        assert!(
            line.contains(&format!(" connection={} ", record.connection_id)),
            "{line}"
        );
        assert!(line.contains(" push_type=\"voip\" "), "{line}");
        assert!(line.contains(" topic=\"com.example.app.voip\" "), "{line}");
        let token = record.device_token.as_deref().unwrap();
        assert!(
            line.contains(&format!(" token=\"{}\" ", short(token))),
            "{line}"
        );
        assert!(
            !line.contains(token),
            "the whole device token is logged: {line}"
        );
        match record.reason {
            Some(reason) => assert!(line.contains(&format!(" reason=\"{reason}\" ")), "{line}"),
            None => assert!(!line.contains(" reason="), "{line}"),
        }
        match &record.detail {
            Some(detail) => assert!(line.contains(&format!(" detail={detail:?}")), "{line}"),
            None => assert!(!line.contains(" detail="), "{line}"),
        }
        assert!(status == 200 || record.detail.is_some(), "{record:?}");
        assert!(!line.contains('\x1b'), "colour codes in a pipe: {line:?}");
        let signature = &jwt[jwt.rfind('.').unwrap() + 1..];
        assert!(
            !line.contains(signature) && !line.contains("forged-signature"),
            "a token's signature is logged: {line}"
        );
    }
}

#[tokio::test]
async fn json_log_lines_are_one_object_each_with_the_documented_fields() {
    let state = tempfile::tempdir().unwrap();
    let mut mock = MockProcess::start(state.path(), &["--log-format", "json"]).await;
    let admin = mock.admin();
    let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
        .await
        .unwrap();
    let push = Push::voip_with_token(&mock.token());

    let accepted = client.send(&push).await.unwrap();
    let rejected = client.send(&push.clone().to("abc")).await.unwrap();

    for (reply, message) in [(&accepted, "accepted"), (&rejected, "rejected")] {
        let record = record(&admin, reply.apns_id()).await;
        let line = mock
            .stderr_line(&format!("\"apns_id\":\"{}\"", reply.apns_id()))
            .await;
        let logged: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}): {line}"));
        let object = logged.as_object().expect("a JSON object");
        let token = record.device_token.as_deref().unwrap();
        let expected_token = if token.len() > 15 {
            short(token)
        } else {
            token.into()
        };

        assert_eq!(logged["level"], "INFO", "{line}");
        assert_eq!(logged["target"], "mock_apns::push", "{line}");
        assert_eq!(logged["message"], message, "{line}");
        assert!(
            logged["timestamp"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{line}"
        );
        assert_eq!(logged["connection"], record.connection_id, "{line}");
        assert_eq!(logged["stream"], record.stream_id, "{line}");
        assert_eq!(logged["status"], record.status, "{line}");
        assert_eq!(logged["push_type"], "voip", "{line}");
        assert_eq!(logged["topic"], "com.example.app.voip", "{line}");
        assert_eq!(logged["token"], expected_token, "{line}");
        assert_eq!(
            logged.get("reason").cloned(),
            record.reason.map(|r| json!(r.as_str())),
            "{line}"
        );
        assert_eq!(
            logged.get("detail").cloned(),
            record.detail.as_deref().map(|d| json!(d)),
            "{line}"
        );
        let known = [
            "timestamp",
            "level",
            "target",
            "message",
            "connection",
            "stream",
            "status",
            "reason",
            "push_type",
            "topic",
            "token",
            "apns_id",
            "detail",
        ];
        for key in object.keys() {
            assert!(
                known.contains(&key.as_str()),
                "undocumented field {key}: {line}"
            );
        }
    }
    // The shutdown notice is a JSON line too.
    mock.interrupt();
    let line = mock.stderr_line("shutting down").await;
    let notice: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(notice["level"], "INFO", "{line}");
    assert!(mock.wait_exit().await.success());
}

/// Runs the mock on a terminal (`script` gives it a pseudo-terminal), sends one push and
/// returns the output up to its log line.
async fn output_on_a_terminal(no_color: bool) -> String {
    let state = tempfile::tempdir().expect("a temporary directory");
    let line = format!(
        "exec '{}' --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --state-dir '{}'",
        binary().display(),
        state.path().display()
    );
    let mut command = tokio::process::Command::new("script");
    command
        .args([
            "--quiet",
            "--flush",
            "--return",
            "--command",
            &line,
            "/dev/null",
        ])
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    if no_color {
        command.env("NO_COLOR", "1");
    }
    let mut script = command.spawn().expect("running script (util-linux)");
    let mut lines = BufReader::new(script.stdout.take().expect("stdout is piped")).lines();
    let mut seen = String::new();
    let read = async {
        let mut port = None;
        while let Some(line) = lines.next_line().await.expect("reading the terminal") {
            seen.push_str(&line);
            seen.push('\n');
            let line = line.trim_end_matches('\r');
            if let Some(url) = line.trim().strip_prefix("APNs endpoint") {
                let text = url
                    .split_whitespace()
                    .next()
                    .and_then(|u| u.rsplit(':').next());
                port = text.and_then(|p| p.parse::<u16>().ok());
            }
            if line.starts_with("Then see it:") {
                let port = port.expect("the banner names the APNs port");
                let ca = std::fs::read_to_string(state.path().join("ca.pem")).expect("the CA");
                let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
                let client = ApnsClient::connect_with(addr, &ca, Alpn::H2)
                    .await
                    .expect("connecting to the mock");
                let reply = client
                    .send(&Push::voip_with_token("not.a.jwt"))
                    .await
                    .expect("an answer");
                assert_eq!(reply.status, 403, "{reply:?}");
            }
            if line.contains("mock_apns::push") {
                return;
            }
        }
        panic!("the terminal closed before the push's log line");
    };
    tokio::time::timeout(PATIENCE, read)
        .await
        .unwrap_or_else(|_| {
            panic!("no push log line on the terminal within {PATIENCE:?}:\n{seen}")
        });
    seen
}

#[tokio::test]
async fn log_lines_are_coloured_on_a_terminal_unless_no_color_is_set() {
    let coloured = output_on_a_terminal(false).await;
    let plain = output_on_a_terminal(true).await;

    let line = |text: &str| {
        text.lines()
            .find(|l| l.contains("mock_apns::push"))
            .unwrap()
            .to_owned()
    };
    assert!(line(&coloured).contains("\x1b["), "{:?}", line(&coloured));
    assert!(!line(&plain).contains('\x1b'), "{:?}", line(&plain));
    assert!(
        line(&plain).contains(&format!("token=\"{}\"", short(DEVICE))),
        "{plain}"
    );
}
