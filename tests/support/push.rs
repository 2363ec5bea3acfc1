//! [`Push`]: one request to the APNs endpoint, built from a valid VoIP push and bent into
//! whatever shape a test needs (another method, a repeated header, a body sent in chunks).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use bytes::Bytes;
use http::Method;
use mock_apns::MockApns;

use super::{BUNDLE, DEVICE, VOIP_TOPIC};

/// The body of the default push: what a VoIP provider sends for an incoming call.
pub(crate) const CALL_PAYLOAD: &str = r#"{"aps":{},"call_id":"42","caller":"Alice"}"#;

/// The provider token of this mock's development key, minted on first use and then reused, as
/// Apple asks of providers: a connection that sees a new token within 20 minutes answers 429
/// `TooManyProviderTokenUpdates` (and ES256 signatures differ on every signing). Kept by the
/// key's random id, so mocks never share one.
pub(crate) fn provider_token(apns: &MockApns) -> String {
    static TOKENS: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    let mut tokens = TOKENS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    tokens
        .entry(apns.dev_key().key_id().to_owned())
        .or_insert_with(|| apns.provider_token())
        .clone()
}

/// A request as the client will put it on the wire. Headers keep their order and may repeat.
#[derive(Debug, Clone)]
pub(crate) struct Push {
    pub(crate) method: Method,
    pub(crate) path: String,
    /// `:authority`; `None` sends the client's own `localhost:<port>`.
    pub(crate) authority: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
    /// Send the body as DATA frames of this many bytes (default: one frame).
    pub(crate) chunk_size: Option<usize>,
}

impl Push {
    /// A valid VoIP push to [`DEVICE`], authenticated with the mock's [`provider_token`].
    pub(crate) fn voip(apns: &MockApns) -> Self {
        Self::voip_with_token(&provider_token(apns))
    }

    /// A valid alert push to the app's bundle topic: [`Self::voip`] with the push type and
    /// topic of a notification.
    pub(crate) fn alert(apns: &MockApns) -> Self {
        Self::voip(apns)
            .header("apns-push-type", "alert")
            .header("apns-topic", BUNDLE)
    }

    /// A valid VoIP push carrying this provider token.
    pub(crate) fn voip_with_token(jwt: &str) -> Self {
        Self {
            method: Method::POST,
            path: format!("/3/device/{DEVICE}"),
            authority: None,
            headers: vec![
                ("authorization".into(), format!("bearer {jwt}")),
                ("apns-push-type".into(), "voip".into()),
                ("apns-topic".into(), VOIP_TOPIC.into()),
                ("apns-priority".into(), "10".into()),
                ("apns-expiration".into(), "0".into()),
            ],
            body: Bytes::from_static(CALL_PAYLOAD.as_bytes()),
            chunk_size: None,
        }
    }

    /// Sends it to another device token.
    pub(crate) fn to(mut self, device_token: &str) -> Self {
        self.path = format!("/3/device/{device_token}");
        self
    }

    /// Replaces `:path` entirely.
    pub(crate) fn path(mut self, path: &str) -> Self {
        self.path = path.into();
        self
    }

    /// Replaces `:method`.
    pub(crate) fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Replaces `:authority`.
    pub(crate) fn authority(mut self, authority: &str) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// Sets a header, replacing every earlier value of it.
    pub(crate) fn header(self, name: &str, value: &str) -> Self {
        let mut push = self.without(name);
        push.headers.push((name.into(), value.into()));
        push
    }

    /// Adds one more value of a header, keeping the earlier ones (a repeated header).
    pub(crate) fn repeat_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Removes a header.
    pub(crate) fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    /// Replaces the body.
    pub(crate) fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// A JSON dictionary body of exactly `size` bytes.
    pub(crate) fn payload_of_size(self, size: usize) -> Self {
        self.body(json_of_size(size))
    }

    /// Sends the body in DATA frames of `size` bytes.
    pub(crate) fn in_chunks(mut self, size: usize) -> Self {
        self.chunk_size = Some(size);
        self
    }

    /// The first value of a header.
    pub(crate) fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `{"aps":{},"pad":"xxx…"}` padded to exactly `size` bytes (at least 20).
pub(crate) fn json_of_size(size: usize) -> Vec<u8> {
    const FRAME: usize = r#"{"aps":{},"pad":""}"#.len();
    assert!(size >= FRAME, "a JSON body needs at least {FRAME} bytes");
    let body = format!(r#"{{"aps":{{}},"pad":"{}"}}"#, "x".repeat(size - FRAME));
    assert_eq!(body.len(), size);
    body.into_bytes()
}
