//! curl, exactly as Apple documents it ("Sending push notifications using command-line
//! tools"): the URL stays `https://api.sandbox.push.apple.com/3/device/<token>`, and
//! `--connect-to` sends the connection to the mock, which `--cacert` trusts. The certificate
//! names Apple's hosts, so hostname verification stays on.
//!
//! Three ways in: `--http2` (ALPN `h2`, what Apple shows); `--http2-prior-knowledge`, which
//! over TLS still negotiates ALPN in curl; and `--http2-prior-knowledge --no-alpn`, HTTP/2
//! with no ALPN at all, as aioapns and Pushy speak it.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use super::cases::{self, as_string, as_u64, Client, Sent};
use super::support::{Mock, Push};

/// Bounds a hung curl; a passing run takes milliseconds.
const CURL_TIMEOUT: Duration = Duration::from_secs(30);

/// curl with one set of HTTP/2 flags.
struct Curl {
    name: &'static str,
    flags: &'static [&'static str],
}

const APPLE_DOCUMENTED: Curl = Curl {
    name: "curl --http2",
    flags: &["--http2"],
};
const PRIOR_KNOWLEDGE: Curl = Curl {
    name: "curl --http2-prior-knowledge",
    flags: &["--http2-prior-knowledge"],
};
const NO_ALPN: Curl = Curl {
    name: "curl --http2-prior-knowledge --no-alpn",
    flags: &["--http2-prior-knowledge", "--no-alpn"],
};

/// The payload as curl sends it (`--data`): compact JSON, padded to `pad_to` if asked.
pub(crate) fn body(push: &Push) -> String {
    let mut payload = push.payload.clone();
    let Some(size) = push.pad_to else {
        return payload.to_string();
    };
    payload["pad"] = Value::from("");
    let missing = size - payload.to_string().len();
    payload["pad"] = Value::from("x".repeat(missing));
    payload.to_string()
}

/// Runs curl with `args`, `env` and the push's headers and body, to `origin` (`https://host`
/// or `https://host:port`); reads the `-i` output into [`Sent`].
pub(crate) async fn send_with(
    args: Vec<String>,
    env: Vec<(String, String)>,
    origin: &str,
    mock: &Mock,
    push: &Push,
) -> Sent {
    let body = body(push);
    let mut command = tokio::process::Command::new("curl");
    command
        // -i prints the response head; a proxy's "200 Connection established" is left out.
        .args(["-sS", "-i", "--suppress-connect-headers"])
        .args(args)
        .args(["--header", &format!("apns-topic: {}", push.topic)])
        .args(["--header", &format!("apns-push-type: {}", push.push_type)])
        .args(["--header", &format!("apns-priority: {}", push.priority)])
        .args(["--header", "apns-expiration: 0"])
        .args([
            "--header",
            &format!("authorization: bearer {}", mock.apns.provider_token()),
        ])
        .args(["--data", &body])
        .arg(format!("{origin}/3/device/{}", push.token))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    super::support::scrub(&mut command);
    command.envs(env);
    let output = tokio::time::timeout(CURL_TIMEOUT, command.output())
        .await
        .expect("curl finished in time")
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "curl failed ({}): {}\n{text}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    sent_from_response(&text, body.len())
}

/// Reads curl's `-i` output: `HTTP/2 <status>`, headers, a blank line, APNs' JSON body.
fn sent_from_response(text: &str, body_bytes: usize) -> Sent {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("curl printed no response head: {text}"));
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    assert!(
        status_line.starts_with("HTTP/2 "),
        "curl did not speak HTTP/2: {text}"
    );
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {status_line:?}"));
    let apns_id = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("apns-id")
            .then(|| value.trim().to_owned())
    });
    let json: Value = if body.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
    };
    Sent {
        status,
        reason: as_string(&json["reason"]),
        timestamp: as_u64(&json["timestamp"]),
        apns_id,
        body_bytes: body_bytes as u64,
        raw: Value::from(text),
    }
}

impl Client for Curl {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn send(&self, mock: &Mock, push: &Push) -> Sent {
        let mut args: Vec<String> = self.flags.iter().map(|f| f.to_string()).collect();
        args.extend([
            "--cacert".into(),
            mock.ca_file.display().to_string(),
            "--connect-to".into(),
            format!(
                "api.sandbox.push.apple.com:443:127.0.0.1:{}",
                mock.apns.address().port()
            ),
        ]);
        send_with(
            args,
            Vec::new(),
            "https://api.sandbox.push.apple.com",
            mock,
            push,
        )
        .await
    }
}

#[tokio::test]
async fn voip_push_is_accepted() {
    cases::voip_push_is_accepted(&APPLE_DOCUMENTED, &Mock::start().await).await;
}

#[tokio::test]
async fn voip_push_to_the_bundle_topic_is_disallowed() {
    cases::voip_push_to_the_bundle_topic_is_disallowed(&APPLE_DOCUMENTED, &Mock::start().await)
        .await;
}

#[tokio::test]
async fn unregistered_token_is_gone_with_its_timestamp() {
    cases::unregistered_token_is_gone_with_its_timestamp(&APPLE_DOCUMENTED, &Mock::start().await)
        .await;
}

#[tokio::test]
async fn oversized_voip_payload_is_too_large() {
    cases::oversized_voip_payload_is_too_large(&APPLE_DOCUMENTED, &Mock::start().await).await;
}

#[tokio::test]
async fn prior_knowledge_voip_push_is_accepted() {
    cases::voip_push_is_accepted(&PRIOR_KNOWLEDGE, &Mock::start().await).await;
}

#[tokio::test]
async fn without_alpn_voip_push_is_accepted() {
    cases::voip_push_is_accepted(&NO_ALPN, &Mock::start().await).await;
}

#[tokio::test]
async fn without_alpn_unregistered_token_is_gone_with_its_timestamp() {
    cases::unregistered_token_is_gone_with_its_timestamp(&NO_ALPN, &Mock::start().await).await;
}

#[tokio::test]
async fn without_alpn_oversized_voip_payload_is_too_large() {
    cases::oversized_voip_payload_is_too_large(&NO_ALPN, &Mock::start().await).await;
}
