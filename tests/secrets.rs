//! No secret leaves the mock: whatever a client puts in `authorization` (no scheme, a tab
//! after it, another scheme, a tampered token), the provider token's signature is in no record,
//! no log line and no admin answer, while the record still says what was wrong.

use http::Method;
use mock_apns::Reason;

use crate::support::binary::MockProcess;
use crate::support::{Alpn, ApnsClient, Push};

/// Every way a provider has been seen to get the header wrong, each carrying a real token.
fn malformed_authorizations(jwt: &str) -> Vec<(String, &'static str)> {
    vec![
        (jwt.to_owned(), "the token without a scheme"),
        (format!("bearer\t{jwt}"), "a tab after the scheme"),
        (format!("Bearer\t\t{jwt}"), "two tabs after the scheme"),
        (format!("bearer:{jwt}"), "a colon after the scheme"),
        (format!("Basic {jwt}"), "another scheme"),
        (format!("{jwt} bearer"), "the scheme after the token"),
        (format!("bearer{jwt}"), "no separator at all"),
        (format!("bearer {jwt}x"), "a tampered signature"),
        (format!("bearer {jwt}.more"), "a fourth part"),
        (format!("bearer \t{jwt}"), "a space and a tab"),
    ]
}

#[tokio::test]
async fn a_tokens_signature_is_in_no_record_log_line_or_admin_answer() {
    let state = tempfile::tempdir().unwrap();
    let record = state.path().join("record.jsonl");
    let mut mock = MockProcess::start(
        state.path(),
        &[
            "--record",
            record.to_str().unwrap(),
            "--log",
            "mock_apns=trace,h2=debug,info",
        ],
    )
    .await;
    let jwt = mock.token();
    let signature = jwt.rsplit('.').next().unwrap().to_owned();
    let cases = malformed_authorizations(&jwt);

    let mut replies = Vec::new();
    for (authorization, what) in &cases {
        // A fresh connection each: a connection's first token decides what follows.
        let client = ApnsClient::connect_with(mock.banner.apns_addr(), &mock.ca_pem(), Alpn::H2)
            .await
            .unwrap();
        let reply = client
            .send(&Push::voip_with_token(&jwt).header("authorization", authorization))
            .await
            .unwrap();
        replies.push((reply, what));
    }
    let admin = mock.admin();
    let pushes = admin
        .send(Method::GET, "/api/v1/pushes", None)
        .await
        .unwrap();
    let connections = admin
        .send(Method::GET, "/api/v1/connections", None)
        .await
        .unwrap();
    let stderr = mock.stop_and_collect_stderr().await.join("\n");
    let file = std::fs::read_to_string(&record).unwrap();

    for (place, text) in [
        ("GET /api/v1/pushes", String::from_utf8_lossy(&pushes.body)),
        (
            "GET /api/v1/connections",
            String::from_utf8_lossy(&connections.body),
        ),
        ("the record file", file.as_str().into()),
        ("the log (stderr)", stderr.as_str().into()),
    ] {
        assert!(
            !text.contains(&signature),
            "{place} holds the token's signature:\n{text}"
        );
    }
    // Each is refused, and the record still tells the provider's developer what was wrong, case by case.
    let records: Vec<mock_apns::Notification> = file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), cases.len(), "{file}");
    for ((reply, what), record) in replies.iter().zip(&records) {
        assert_eq!(reply.status, 403, "{what}: {:?}", reply.reason());
        let reason = reply.reason().unwrap_or_default();
        assert!(
            reason == Reason::InvalidProviderToken.as_str()
                || reason == Reason::MissingProviderToken.as_str(),
            "{what}: {reason}"
        );
        let detail = record.detail.as_deref().unwrap_or_default();
        assert!(!detail.is_empty(), "{what}: no detail");
        assert!(
            detail.contains("bearer") || detail.contains("JWT") || detail.contains("signature"),
            "{what}: the detail does not say what is wrong: {detail}"
        );
    }
}
