//! The four pushes every client sends, and what the client and the mock must then agree on.
//!
//! A client module implements [`Client`] (send one push, read the client's own result
//! object) and calls each case from a one-line test, so every client is held to the same
//! expectations and a failure names both the client and the case.

use mock_apns::{AuthKind, PushType, Reason};
use serde_json::Value;

use super::support::{Mock, Push, BUNDLE_ID, DEVICE, OVER_VOIP_LIMIT, UNREGISTERED_AT, VOIP_TOPIC};

/// What a client reported for one push, read from the client's own result object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sent {
    /// The HTTP status the client saw.
    pub(crate) status: u16,
    /// The reason string, for a rejection.
    pub(crate) reason: Option<String>,
    /// The 410 timestamp (epoch ms), as the client exposes it.
    pub(crate) timestamp: Option<u64>,
    /// The `apns-id` the client reports, when it reports one.
    pub(crate) apns_id: Option<String>,
    /// How many bytes of payload the client was made to send.
    pub(crate) body_bytes: u64,
    /// The whole result, for failure messages.
    pub(crate) raw: Value,
}

/// A client under test.
pub(crate) trait Client {
    /// How failure messages name it.
    fn name(&self) -> &'static str;

    /// Sends `push` to `mock` with the real library and reads back what it reported.
    fn send(&self, mock: &Mock, push: &Push) -> impl std::future::Future<Output = Sent>;

    /// How it authenticates.
    fn auth(&self) -> AuthKind {
        AuthKind::Token
    }
}

/// A VoIP push on the `.voip` topic is accepted, and the record shows the push type, topic and
/// payload the client sent, authenticated with the development key (or with the client's
/// certificate, whose topics include the VoIP topic).
pub(crate) async fn voip_push_is_accepted(client: &impl Client, mock: &Mock) {
    let push = Push::incoming_call();

    let sent = client.send(mock, &push).await;

    let name = client.name();
    assert_eq!(sent.status, 200, "{name} reported: {}", sent.raw);
    assert_eq!(sent.reason, None, "{name} reported: {}", sent.raw);
    let record = mock.only_record().await;
    assert_eq!(record.status, 200, "{name}: the mock answered {record:#?}");
    assert_eq!(
        record.push_type(),
        Some(PushType::Voip),
        "{name}: {record:#?}"
    );
    assert_eq!(record.topic(), Some(VOIP_TOPIC), "{name}: {record:#?}");
    assert_eq!(record.device_token.as_deref(), Some(DEVICE), "{name}");
    assert_eq!(
        record.payload_json(),
        push.payload,
        "{name}: the mock did not record the payload as sent"
    );
    assert_eq!(record.auth.kind, client.auth(), "{name}: {:?}", record.auth);
    if client.auth() == AuthKind::Token {
        assert_eq!(
            record.auth.key_id.as_deref(),
            Some(mock.apns.dev_key().key_id()),
            "{name}: {:?}",
            record.auth
        );
    } else {
        let topics = record.auth.topics.clone().unwrap_or_default();
        assert!(
            topics.iter().any(|t| t == VOIP_TOPIC),
            "{name}: the certificate's topics were {topics:?}"
        );
    }
    if let Some(apns_id) = &sent.apns_id {
        assert!(
            apns_id.eq_ignore_ascii_case(&record.apns_id),
            "{name} reported apns-id {apns_id}, the mock answered {}",
            record.apns_id
        );
    }
}

/// A VoIP push to the bare bundle id is refused: 400 `TopicDisallowed` (node-apn#635).
pub(crate) async fn voip_push_to_the_bundle_topic_is_disallowed(client: &impl Client, mock: &Mock) {
    let push = Push::incoming_call().on_topic(BUNDLE_ID);

    let sent = client.send(mock, &push).await;

    let name = client.name();
    assert_eq!(
        (sent.status, sent.reason.as_deref()),
        (400, Some("TopicDisallowed")),
        "{name} reported: {}",
        sent.raw
    );
    let record = mock.only_record().await;
    assert_eq!(
        record.reason,
        Some(Reason::TopicDisallowed),
        "{name}: {record:#?}"
    );
    assert_eq!(record.topic(), Some(BUNDLE_ID), "{name}: {record:#?}");
    assert_eq!(
        record.push_type(),
        Some(PushType::Voip),
        "{name}: {record:#?}"
    );
}

/// A token unregistered through the admin API is answered 410 `Unregistered`, and the client
/// hands its user the timestamp.
pub(crate) async fn unregistered_token_is_gone_with_its_timestamp(
    client: &impl Client,
    mock: &Mock,
) {
    mock.unregister_through_admin_api(DEVICE, UNREGISTERED_AT)
        .await;

    let sent = client.send(mock, &Push::incoming_call()).await;

    let name = client.name();
    assert_eq!(
        (sent.status, sent.reason.as_deref(), sent.timestamp),
        (410, Some("Unregistered"), Some(UNREGISTERED_AT)),
        "{name} reported: {}",
        sent.raw
    );
    let record = mock.only_record().await;
    assert_eq!(
        (record.status, record.reason, record.timestamp),
        (410, Some(Reason::Unregistered), Some(UNREGISTERED_AT)),
        "{name}: {record:#?}"
    );
}

/// A VoIP payload one byte over 5120 is refused: 413 `PayloadTooLarge`.
pub(crate) async fn oversized_voip_payload_is_too_large(client: &impl Client, mock: &Mock) {
    let push = Push::incoming_call().padded_to(OVER_VOIP_LIMIT);

    let sent = client.send(mock, &push).await;

    let name = client.name();
    assert_eq!(
        sent.body_bytes, OVER_VOIP_LIMIT as u64,
        "{name}: the script did not pad the payload to {OVER_VOIP_LIMIT} bytes"
    );
    assert_eq!(
        (sent.status, sent.reason.as_deref()),
        (413, Some("PayloadTooLarge")),
        "{name} reported: {}",
        sent.raw
    );
    let record = mock.only_record().await;
    assert_eq!(
        record.reason,
        Some(Reason::PayloadTooLarge),
        "{name}: {record:#?}"
    );
    assert_eq!(
        record.payload_size, OVER_VOIP_LIMIT,
        "{name}: the mock read {} bytes of body",
        record.payload_size
    );
}

/// Reads a JSON number as `u64`, accepting the string form some clients use for statuses.
pub(crate) fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// Reads a JSON string.
pub(crate) fn as_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}
