//! [`Record`]: one exchange as the mock's admin API reports it (`GET /api/v1/pushes`).
//!
//! The harness reads the record through the admin API for both its own in-process mock and a
//! running one, so there is one code path. Unknown fields are ignored on purpose: a newer mock
//! may report more than this harness shows.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// One request the mock received, and its answer.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    /// Sequence number (arrival order of the answers).
    pub id: u64,
    /// Arrival time (epoch ms, mock clock).
    #[serde(default)]
    pub received_at: u64,
    /// The mock's connection number.
    #[serde(default)]
    pub connection_id: u64,
    /// `:method`.
    pub method: String,
    /// `:path`.
    pub path: String,
    /// The token from the path.
    #[serde(default)]
    pub device_token: Option<String>,
    /// The `apns-*` headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How the request authenticated.
    #[serde(default)]
    pub auth: RecordAuth,
    /// The body: JSON, or a string when it was not JSON.
    #[serde(default)]
    pub payload: Value,
    /// Body bytes read.
    #[serde(default)]
    pub payload_size: usize,
    /// Status answered.
    pub status: u16,
    /// Reason answered.
    #[serde(default)]
    pub reason: Option<String>,
    /// `apns-id` answered.
    #[serde(default)]
    pub apns_id: String,
    /// `apns-unique-id` answered.
    #[serde(default)]
    pub apns_unique_id: Option<String>,
    /// The 410 timestamp.
    #[serde(default)]
    pub timestamp: Option<u64>,
    /// The mock's own explanation (not in snapshots: it may hold ages and raw tokens).
    #[serde(default)]
    pub detail: Option<String>,
    /// The fault rule that decided the answer, when one did.
    #[serde(default)]
    pub fault: Option<Value>,
    /// Lint findings: mistakes APNs accepted but a phone pays for (mocks that report them).
    #[serde(default)]
    pub lint: Vec<RecordLint>,
}

/// One lint finding of a record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecordLint {
    /// The rule's id (`voip-repeated-call`).
    #[serde(default)]
    pub rule: String,
    /// `warning` or `error`.
    #[serde(default)]
    pub severity: String,
    /// What is wrong with this push.
    #[serde(default)]
    pub message: String,
    /// Apple's page the rule comes from.
    #[serde(default)]
    pub source: String,
}

/// The authentication part of a record.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecordAuth {
    /// `token` or `none`.
    #[serde(default)]
    pub kind: String,
    /// `kid`.
    #[serde(default)]
    pub key_id: Option<String>,
    /// `iss`.
    #[serde(default)]
    pub team_id: Option<String>,
    /// `iat`.
    #[serde(default)]
    pub iat: Option<u64>,
    /// A fingerprint of the token itself (mocks that report it).
    #[serde(default)]
    pub token_sha256: Option<String>,
}

impl Record {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// One line for failure messages.
    pub fn summary(&self, name_of: impl Fn(&str) -> String) -> String {
        format!(
            "{} {} {} → {}{}",
            self.header("apns-push-type").unwrap_or("-"),
            self.header("apns-topic").unwrap_or("-"),
            self.device_token
                .as_deref()
                .map_or_else(|| "-".to_owned(), name_of),
            self.status,
            self.reason
                .as_deref()
                .map(|r| format!(" {r}"))
                .unwrap_or_default()
        )
    }
}

/// `{"pushes": [...]}` from the admin API.
#[derive(Debug, Deserialize)]
pub(crate) struct Pushes {
    pub(crate) pushes: Vec<Record>,
}
