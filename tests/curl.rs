//! curl, run exactly as Apple's "Sending push notifications using command-line tools" shows it
//! (`--http2`, `--header`, `--data`, `https://api.sandbox.push.apple.com/3/device/<token>`),
//! pointed at the mock with `--connect-to` and made to trust its CA with `--cacert`: full
//! hostname verification, nothing disabled.

use std::process::Stdio;

use mock_apns::{MockApns, Reason};
use tokio::process::Command;

use crate::support::assertions::record_of;
use crate::support::{Reply, DEVICE, PATIENCE, VOIP_TOPIC};

const APPLE_HOST: &str = "api.sandbox.push.apple.com";

/// Runs curl with Apple's arguments plus `extra`, printing the response head (`--include`),
/// and parses what it printed.
async fn curl(
    apns: &MockApns,
    ca_file: &std::path::Path,
    extra: &[&str],
    headers: &[String],
) -> Reply {
    let mut command = Command::new("curl");
    command
        .args(["--silent", "--show-error", "--include"])
        .arg("--cacert")
        .arg(ca_file)
        .arg("--connect-to")
        .arg(format!(
            "{APPLE_HOST}:443:127.0.0.1:{}",
            apns.address().port()
        ))
        .args(extra);
    for header in headers {
        command.arg("--header").arg(header);
    }
    command
        .arg("--data")
        .arg(r#"{"aps":{"alert":"test"}}"#)
        .arg(format!("https://{APPLE_HOST}/3/device/{DEVICE}"))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .expect("curl finishes in time")
        .expect("curl is installed (make test installs it when missing)");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "curl failed ({}): {}{stdout}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    parse_include(&stdout)
}

/// `HTTP/2 200 \r\napns-id: …\r\n\r\n<body>` → a [`Reply`].
fn parse_include(printed: &str) -> Reply {
    let (head, body) = printed
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {printed:?}"));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    assert!(
        status_line.starts_with("HTTP/2 "),
        "not HTTP/2: {status_line:?}"
    );
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"));
    let mut headers = http::HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header line");
        headers.append(
            http::HeaderName::from_bytes(name.trim().as_bytes()).expect("a header name"),
            http::HeaderValue::from_str(value.trim()).expect("a header value"),
        );
    }
    Reply {
        status,
        headers,
        body: body.to_owned().into(),
    }
}

fn apple_headers(apns: &MockApns, push_type: &str) -> Vec<String> {
    vec![
        format!("apns-topic: {VOIP_TOPIC}"),
        format!("apns-push-type: {push_type}"),
        format!("authorization: bearer {}", apns.provider_token()),
    ]
}

#[tokio::test]
async fn curl_http2_as_apple_documents_it_is_accepted() {
    let apns = MockApns::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, apns.ca_cert_pem()).unwrap();

    let reply = curl(&apns, &ca, &["--http2"], &apple_headers(&apns, "voip")).await;

    assert_eq!(reply.status, 200, "{reply:?}");
    let record = record_of(&apns, &reply);
    assert_eq!((record.status, record.reason), (200, None));
    assert_eq!(record.topic(), Some(VOIP_TOPIC));
    assert_eq!(record.payload_json()["aps"]["alert"], "test");
    assert!(reply.header("apns-unique-id").is_some(), "{reply:?}");
}

#[tokio::test]
async fn curl_http2_prior_knowledge_is_accepted() {
    let apns = MockApns::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, apns.ca_cert_pem()).unwrap();

    let reply = curl(
        &apns,
        &ca,
        &["--http2-prior-knowledge"],
        &apple_headers(&apns, "voip"),
    )
    .await;

    assert_eq!(reply.status, 200, "{reply:?}");
    let record = record_of(&apns, &reply);
    assert_eq!((record.status, record.reason), (200, None));
}

#[tokio::test]
async fn curl_sees_apples_error_body() {
    let apns = MockApns::start().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, apns.ca_cert_pem()).unwrap();

    // Apple's example is an alert; sent to a .voip topic it is refused.
    let reply = curl(&apns, &ca, &["--http2"], &apple_headers(&apns, "alert")).await;

    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(&reply.body[..], br#"{"reason":"InvalidPushType"}"#);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let record = record_of(&apns, &reply);
    assert_eq!(record.reason, Some(Reason::InvalidPushType));
}
