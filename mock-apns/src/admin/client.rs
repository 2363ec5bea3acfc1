//! A typed client for the admin API, for tests and tools written in Rust: the harness, the
//! end-to-end tests and any provider's own tests use it instead of hand-written HTTP.
//!
//! Every route has a method that returns the library's own types ([`Notification`],
//! [`ConnectionSummary`], [`RuleSummary`], …); [`Client::send`] is the raw escape hatch for
//! tests of the API itself (bad input, unknown routes), and, being a plain HTTP/1.1 JSON
//! exchange, serves any other JSON API on loopback too (a provider's own, in its tests). One
//! connection per request, as the API is on loopback and requests are rare; each has a
//! deadline that only bounds failure.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

use crate::api::phone::PhoneWaitTimeout;
use crate::apns::environment::Environment;
use crate::apns::push_type::PushType;
use crate::apns::reason::Reason;
use crate::faults::{RuleSpec, RuleSummary};
use crate::lint::{LintMode, LintReport};
use crate::phones::{Call, DeliveryStatus, PhoneCondition, PhoneSpec, PhoneView};
use crate::record::devices::Device;
use crate::record::notification::Notification;
use crate::server::connection_state::{ConnectionSummary, GoAway};

// The largest page the API gives: what `Client::pushes` asks for unless told otherwise.
use super::pushes::MAX_PAGE;

/// How long a request may take when the caller did not say ([`Client::with_timeout`]).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an admin request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The base URL is not `http://host:port`.
    #[error("{0:?} is not an admin API URL (expected http://host:port)")]
    BadUrl(String),
    /// Connecting, sending or reading failed.
    #[error("admin {method} {path}: {message}")]
    Transport {
        /// The method.
        method: Method,
        /// The path and query.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// No answer before the deadline.
    #[error("admin {method} {path}: no answer within {timeout:?}")]
    Timeout {
        /// The method.
        method: Method,
        /// The path and query.
        path: String,
        /// The deadline.
        timeout: Duration,
    },
    /// The API refused the request; `message` is its `error` text.
    #[error("admin {method} {path}: {status}: {message}")]
    Refused {
        /// The method.
        method: Method,
        /// The path and query.
        path: String,
        /// The HTTP status.
        status: u16,
        /// The API's explanation.
        message: String,
    },
    /// The answer was not the JSON the route promises.
    #[error("admin {method} {path}: unexpected answer ({message}): {body}")]
    Decode {
        /// The method.
        method: Method,
        /// The path and query.
        path: String,
        /// What did not parse.
        message: String,
        /// The answer, as text.
        body: String,
    },
    /// [`Client::wait_for_pushes`] timed out; holds what had arrived.
    #[error("expected {expected} pushes within {timeout:?}, got {}", received.len())]
    WaitTimeout {
        /// How many were asked for.
        expected: usize,
        /// How long the mock waited.
        timeout: Duration,
        /// The matching pushes that had arrived.
        received: Vec<Notification>,
    },
    /// [`Client::wait_for_phone`] timed out; holds the phone as it was then (the same error
    /// as the Rust handle's [`crate::Phone`] waits).
    #[error(transparent)]
    PhoneWaitTimeout(#[from] PhoneWaitTimeout),
}

/// An answer of [`Client::send`]: status and body as they came.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
}

impl Response {
    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// An answer read to its end.
    pub(super) async fn read(
        response: http::Response<hyper::body::Incoming>,
    ) -> Result<Self, String> {
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Response { status, body })
    }

    /// The body as JSON, else as text (`Null` when empty): for showing the answer of an API
    /// that is not always JSON (a provider's plain-text error page) without losing it, as
    /// [`Response::json`]'s `Null` would.
    pub fn json_or_text(&self) -> serde_json::Value {
        if self.body.is_empty() {
            return serde_json::Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&self.body).into_owned())
        })
    }
}

/// The filters of `GET /api/v1/pushes` and the long-poll; empty selects every push.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushQuery {
    /// The device token (case-insensitive).
    pub device_token: Option<String>,
    /// `apns-topic`.
    pub topic: Option<String>,
    /// `apns-push-type`.
    pub push_type: Option<PushType>,
    /// The status answered.
    pub status: Option<u16>,
    /// Apple's reason answered.
    pub reason: Option<Reason>,
    /// Pushes with a finding of this lint rule (`"any"`: with any finding).
    pub lint: Option<String>,
    /// Pushes that reached this virtual phone.
    pub phone: Option<String>,
    /// Pushes whose delivery (on a phone) had this status.
    pub delivery: Option<DeliveryStatus>,
}

impl PushQuery {
    /// Every push.
    pub fn all() -> Self {
        Self::default()
    }

    /// Pushes to this device token.
    pub fn device_token(mut self, token: impl Into<String>) -> Self {
        self.device_token = Some(token.into());
        self
    }

    /// Pushes on this topic.
    pub fn topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    /// Pushes of this type.
    pub fn push_type(mut self, push_type: PushType) -> Self {
        self.push_type = Some(push_type);
        self
    }

    /// Pushes answered with this status.
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Pushes refused with this reason.
    pub fn reason(mut self, reason: Reason) -> Self {
        self.reason = Some(reason);
        self
    }

    /// Pushes with a finding of this lint rule, or `"any"`.
    pub fn lint(mut self, rule: impl Into<String>) -> Self {
        self.lint = Some(rule.into());
        self
    }

    /// Pushes that reached this phone.
    pub fn phone(mut self, name: impl Into<String>) -> Self {
        self.phone = Some(name.into());
        self
    }

    /// Pushes delivered, stored or discarded on a phone.
    pub fn delivery(mut self, status: DeliveryStatus) -> Self {
        self.delivery = Some(status);
        self
    }

    pub(super) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(v) = &self.device_token {
            pairs.push(("device_token", v.clone()));
        }
        if let Some(v) = &self.topic {
            pairs.push(("topic", v.clone()));
        }
        if let Some(v) = self.push_type {
            pairs.push(("push_type", v.to_string()));
        }
        if let Some(v) = self.status {
            pairs.push(("status", v.to_string()));
        }
        if let Some(v) = self.reason {
            pairs.push(("reason", v.to_string()));
        }
        if let Some(v) = &self.lint {
            pairs.push(("lint", v.clone()));
        }
        if let Some(v) = &self.phone {
            pairs.push(("phone", v.clone()));
        }
        if let Some(v) = self.delivery {
            pairs.push(("delivery", v.to_string()));
        }
        pairs
    }
}

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Health {
    /// `ok`.
    pub status: String,
    /// The APNs endpoint's URL.
    pub apns_url: String,
    /// The environment the mock stands in for.
    pub environment: Environment,
    /// Records dropped at the `--max-records` cap.
    pub records_dropped: u64,
    /// The `--lint` mode (`warn` from mocks that predate it).
    #[serde(default)]
    pub lint: LintMode,
    /// The CA file clients trust, when the mock keeps it on disk.
    #[serde(default)]
    pub ca_path: Option<std::path::PathBuf>,
    /// Where a VoIP payload's call id is looked for (`--call-id-pointer`), in order (empty
    /// from mocks that predate it).
    #[serde(default)]
    pub call_id_pointers: Vec<String>,
}

/// The mock's clock, as `GET`/`POST /api/v1/clock` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ClockReading {
    /// The mock's time, epoch ms.
    pub now_ms: u64,
    /// How far it has been advanced, ms.
    pub offset_ms: u64,
}

/// The answer to `POST /api/v1/connections/{id}/goaway`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct GoAwaySent {
    /// The connection.
    pub connection_id: u64,
    /// The frame as sent.
    pub goaway: GoAway,
    /// Its last-stream-id: streams above it were not processed.
    pub last_stream_id: u32,
}

/// An async client of one mock's admin API.
#[derive(Debug, Clone)]
pub struct Client {
    /// `host:port`.
    authority: String,
    timeout: Duration,
    /// Records per page when [`Client::pushes`] reads them all.
    page_size: usize,
}

impl Client {
    /// A client for the admin API at `base` (`http://host:port`; a trailing path is ignored).
    pub fn new(base: &str) -> Result<Self, ClientError> {
        let rest = base
            .strip_prefix("http://")
            .ok_or_else(|| ClientError::BadUrl(base.to_owned()))?;
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.is_empty() {
            return Err(ClientError::BadUrl(base.to_owned()));
        }
        Ok(Self {
            authority: authority.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            page_size: MAX_PAGE,
        })
    }

    /// The deadline of each request (default 10 s); long-polls add their own wait to it.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many records each page [`Client::pushes`] and [`Client::wait_for_pushes`] read
    /// holds (default and most: 10 000, the API's largest; at least 1).
    pub fn with_page_size(mut self, records: usize) -> Self {
        self.page_size = records.clamp(1, MAX_PAGE);
        self
    }

    /// The API's base URL, `http://host:port`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.authority)
    }

    /// The deadline of each request.
    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `GET /api/v1/health`.
    pub async fn health(&self) -> Result<Health, ClientError> {
        self.call(Method::GET, "/api/v1/health", None).await
    }

    /// `GET /api/v1/pushes`, every page: all the matching records, in arrival order.
    pub async fn pushes(&self, query: &PushQuery) -> Result<Vec<Notification>, ClientError> {
        let first = self.pushes_page(query, None, Some(self.page_size)).await?;
        self.rest_of(query, first).await
    }

    /// `GET /api/v1/pushes?after=&limit=`: one page of the matching records with ids above
    /// `after`, at most `limit` of them (`None`: the API's default of 1000). Its
    /// [`PushPage::next_after`] is the `after` of the next page, `None` on the last.
    pub async fn pushes_page(
        &self,
        query: &PushQuery,
        after: Option<u64>,
        limit: Option<usize>,
    ) -> Result<PushPage, ClientError> {
        let mut pairs = query.pairs();
        pairs.extend(after.map(|a| ("after", a.to_string())));
        pairs.extend(limit.map(|l| ("limit", l.to_string())));
        let path = with_query("/api/v1/pushes", &pairs);
        self.call(Method::GET, &path, None).await
    }

    /// `page`'s records and those of every page after it.
    async fn rest_of(
        &self,
        query: &PushQuery,
        mut page: PushPage,
    ) -> Result<Vec<Notification>, ClientError> {
        let mut all = std::mem::take(&mut page.pushes);
        while let Some(after) = page.next_after {
            page = self
                .pushes_page(query, Some(after), Some(self.page_size))
                .await?;
            all.append(&mut page.pushes);
        }
        Ok(all)
    }

    /// `GET /api/v1/pushes/wait`: answers once `count` matching pushes exist (all of them: the
    /// pages after the first are fetched too); the mock waits at most `timeout`, then this
    /// returns [`ClientError::WaitTimeout`] with the first page of what arrived.
    pub async fn wait_for_pushes(
        &self,
        count: usize,
        timeout: Duration,
        query: &PushQuery,
    ) -> Result<Vec<Notification>, ClientError> {
        let mut pairs = query.pairs();
        pairs.push(("count", count.to_string()));
        pairs.push(("timeout_ms", timeout.as_millis().to_string()));
        pairs.push(("limit", self.page_size.to_string()));
        let path = with_query("/api/v1/pushes/wait", &pairs);
        let answer = self
            .send_within(Method::GET, &path, None, self.timeout + timeout)
            .await?;
        if answer.status == 408 {
            let page: PushPage = decode(&Method::GET, &path, &answer)?;
            return Err(ClientError::WaitTimeout {
                expected: count,
                timeout,
                received: page.pushes,
            });
        }
        let page: PushPage = expect_ok(&Method::GET, &path, answer)?;
        self.rest_of(query, page).await
    }

    /// `DELETE /api/v1/pushes`: forgets the record.
    pub async fn clear_pushes(&self) -> Result<(), ClientError> {
        let _: serde_json::Value = self.call(Method::DELETE, "/api/v1/pushes", None).await?;
        Ok(())
    }

    /// `GET /api/v1/devices`: registered tokens (lower case) and what the mock knows of each.
    pub async fn devices(&self) -> Result<BTreeMap<String, Device>, ClientError> {
        let list: Devices = self.call(Method::GET, "/api/v1/devices", None).await?;
        Ok(list.devices)
    }

    /// `PUT /api/v1/devices/{token}`: registers a token's topic and environment.
    pub async fn register_device(&self, token: &str, device: &Device) -> Result<(), ClientError> {
        let body = to_json(device);
        let path = format!("/api/v1/devices/{token}");
        let _: serde_json::Value = self.call(Method::PUT, &path, Some(body)).await?;
        Ok(())
    }

    /// `DELETE /api/v1/devices/{token}`: later pushes get 410 `Unregistered` with this
    /// timestamp (epoch ms; `None`: the mock's now). Returns the timestamp used.
    pub async fn unregister_device(
        &self,
        token: &str,
        timestamp_ms: Option<u64>,
    ) -> Result<u64, ClientError> {
        let path = match timestamp_ms {
            Some(ts) => format!("/api/v1/devices/{token}?timestamp={ts}"),
            None => format!("/api/v1/devices/{token}"),
        };
        let answer: Unregistered = self.call(Method::DELETE, &path, None).await?;
        Ok(answer.unregistered_at)
    }

    /// `GET /api/v1/clock`.
    pub async fn clock(&self) -> Result<ClockReading, ClientError> {
        self.call(Method::GET, "/api/v1/clock", None).await
    }

    /// `POST /api/v1/clock`: moves the mock's clock forward.
    pub async fn advance_clock(&self, by: Duration) -> Result<ClockReading, ClientError> {
        let body =
            serde_json::json!({ "advance_ms": u64::try_from(by.as_millis()).unwrap_or(u64::MAX) });
        self.call(Method::POST, "/api/v1/clock", Some(body)).await
    }

    /// `GET /api/v1/connections`: every connection, open or closed, in accept order.
    pub async fn connections(&self) -> Result<Vec<ConnectionSummary>, ClientError> {
        let list: Connections = self.call(Method::GET, "/api/v1/connections", None).await?;
        Ok(list.connections)
    }

    /// `GET /api/v1/connections/{id}`.
    pub async fn connection(&self, id: u64) -> Result<ConnectionSummary, ClientError> {
        let path = format!("/api/v1/connections/{id}");
        self.call(Method::GET, &path, None).await
    }

    /// `POST /api/v1/connections/{id}/goaway`: answers once the frame is queued.
    pub async fn go_away(&self, id: u64, goaway: &GoAway) -> Result<GoAwaySent, ClientError> {
        let path = format!("/api/v1/connections/{id}/goaway");
        self.call(Method::POST, &path, Some(to_json(goaway))).await
    }

    /// `POST /api/v1/faults`: mounts a rule, returned with its id.
    pub async fn add_fault(&self, rule: &RuleSpec) -> Result<RuleSummary, ClientError> {
        self.add_fault_json(&to_json(rule)).await
    }

    /// `POST /api/v1/faults` with a rule written as JSON (a scenario file's, say): the mock
    /// parses it, so its error names the field.
    pub async fn add_fault_json(
        &self,
        rule: &serde_json::Value,
    ) -> Result<RuleSummary, ClientError> {
        self.call(Method::POST, "/api/v1/faults", Some(rule.clone()))
            .await
    }

    /// `GET /api/v1/faults`: mounted rules in evaluation order, with their counters.
    pub async fn faults(&self) -> Result<Vec<RuleSummary>, ClientError> {
        let list: Faults = self.call(Method::GET, "/api/v1/faults", None).await?;
        Ok(list.faults)
    }

    /// `GET /api/v1/faults/{id}`.
    pub async fn fault(&self, id: u64) -> Result<RuleSummary, ClientError> {
        let path = format!("/api/v1/faults/{id}");
        self.call(Method::GET, &path, None).await
    }

    /// `DELETE /api/v1/faults/{id}`: unmounts a rule, returned as it was last.
    pub async fn remove_fault(&self, id: u64) -> Result<RuleSummary, ClientError> {
        let path = format!("/api/v1/faults/{id}");
        self.call(Method::DELETE, &path, None).await
    }

    /// `DELETE /api/v1/faults`: unmounts every rule; returns how many there were.
    pub async fn clear_faults(&self) -> Result<u64, ClientError> {
        let answer: Deleted = self.call(Method::DELETE, "/api/v1/faults", None).await?;
        Ok(answer.deleted)
    }

    /// `GET /api/v1/pushes/{id}/apns`: the push as the iOS Simulator's `.apns` file (for
    /// `xcrun simctl push`); a VoIP push is refused (`Refused`, status 422), as the Simulator
    /// does not deliver PushKit pushes.
    pub async fn apns_file(&self, id: u64) -> Result<String, ClientError> {
        let path = format!("/api/v1/pushes/{id}/apns");
        let answer = self.send(Method::GET, &path, None).await?;
        if !(200..300).contains(&answer.status) {
            return Err(refusal(&Method::GET, &path, &answer));
        }
        Ok(String::from_utf8_lossy(&answer.body).into_owned())
    }

    /// `GET /api/v1/lint`: the lint mode, and each rule with its count so far.
    pub async fn lint(&self) -> Result<LintReport, ClientError> {
        self.call(Method::GET, "/api/v1/lint", None).await
    }

    /// `GET /api/v1/phones`: every virtual phone, by name.
    pub async fn phones(&self) -> Result<Vec<PhoneView>, ClientError> {
        let list: Phones = self.call(Method::GET, "/api/v1/phones", None).await?;
        Ok(list.phones)
    }

    /// `GET /api/v1/phones/{name}`: its state, calls, push fates and timeline.
    pub async fn phone(&self, name: &str) -> Result<PhoneView, ClientError> {
        let path = format!("/api/v1/phones/{}", percent_encode(name));
        self.call(Method::GET, &path, None).await
    }

    /// `PUT /api/v1/phones/{name}`: creates the phone or changes what `spec` sets.
    pub async fn put_phone(&self, name: &str, spec: &PhoneSpec) -> Result<PhoneView, ClientError> {
        let path = format!("/api/v1/phones/{}", percent_encode(name));
        self.call(Method::PUT, &path, Some(to_json(spec))).await
    }

    /// `PATCH /api/v1/phones/{name}`: changes what `spec` sets on an existing phone (going
    /// online delivers what APNs stored for it).
    pub async fn update_phone(
        &self,
        name: &str,
        spec: &PhoneSpec,
    ) -> Result<PhoneView, ClientError> {
        let path = format!("/api/v1/phones/{}", percent_encode(name));
        self.call(Method::PATCH, &path, Some(to_json(spec))).await
    }

    /// `DELETE /api/v1/phones/{name}`.
    pub async fn remove_phone(&self, name: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/phones/{}", percent_encode(name));
        let _: serde_json::Value = self.call(Method::DELETE, &path, None).await?;
        Ok(())
    }

    /// `POST /api/v1/phones/{name}/answer`: the user answers `call`, or the call ringing
    /// longest; refused (409) when nothing rings.
    pub async fn answer(&self, name: &str, call: Option<&str>) -> Result<Call, ClientError> {
        self.gesture(name, "answer", call).await
    }

    /// `POST /api/v1/phones/{name}/decline`: as [`Client::answer`], declining.
    pub async fn decline(&self, name: &str, call: Option<&str>) -> Result<Call, ClientError> {
        self.gesture(name, "decline", call).await
    }

    async fn gesture(
        &self,
        name: &str,
        gesture: &str,
        call: Option<&str>,
    ) -> Result<Call, ClientError> {
        let path = format!("/api/v1/phones/{}/{gesture}", percent_encode(name));
        let body = match call {
            Some(call) => serde_json::json!({ "call": call }),
            None => serde_json::json!({}),
        };
        self.call(Method::POST, &path, Some(body)).await
    }

    /// `POST /api/v1/phones/{name}/reset`: forgets PushKit violations.
    pub async fn reset_phone(&self, name: &str) -> Result<PhoneView, ClientError> {
        let path = format!("/api/v1/phones/{}/reset", percent_encode(name));
        self.call(Method::POST, &path, Some(serde_json::json!({})))
            .await
    }

    /// `GET /api/v1/phones/{name}/wait`: answers once the phone is in `condition`; the mock
    /// waits at most `timeout`, then this returns [`ClientError::PhoneWaitTimeout`].
    pub async fn wait_for_phone(
        &self,
        name: &str,
        condition: &PhoneCondition,
        timeout: Duration,
    ) -> Result<PhoneView, ClientError> {
        let mut pairs = vec![("timeout_ms", timeout.as_millis().to_string())];
        match condition {
            PhoneCondition::Ringing(call) => {
                pairs.push(("ringing", "true".into()));
                if let Some(call) = call {
                    pairs.push(("call", call.clone()));
                }
            }
            PhoneCondition::NotRinging => pairs.push(("ringing", "false".into())),
            PhoneCondition::LastPush(status, reason) => {
                pairs.push(("delivery", status.to_string()));
                if let Some(reason) = reason {
                    pairs.push(("reason", reason.as_str().to_owned()));
                }
            }
        }
        let path = with_query(
            &format!("/api/v1/phones/{}/wait", percent_encode(name)),
            &pairs,
        );
        let answer = self
            .send_within(Method::GET, &path, None, self.timeout + timeout)
            .await?;
        if answer.status == 408 {
            let late: LatePhone = decode(&Method::GET, &path, &answer)?;
            return Err(ClientError::PhoneWaitTimeout(PhoneWaitTimeout {
                condition: condition.clone(),
                timeout,
                phone: Box::new(late.phone),
            }));
        }
        expect_ok(&Method::GET, &path, answer)
    }

    /// Any request, answered as it comes (no status check): for tests of the API itself, or
    /// of any plain HTTP/1.1 JSON API on loopback (errors still name it `admin`). `body` is
    /// sent as `application/json`.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, ClientError> {
        self.send_within(method, path, body, self.timeout).await
    }

    /// Any request with headers of the caller's choice (a `host` given here replaces the
    /// client's own) and a raw body: for tests of the API's request checks (Host, Origin,
    /// content type). Answered as it comes, like [`Client::send`].
    pub async fn send_with_headers(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Response, ClientError> {
        let mut request = RawRequest::new(method.clone(), path, body.into());
        for (name, value) in headers {
            request
                .headers
                .push(((*name).to_owned(), (*value).to_owned()));
        }
        self.within(method, path, self.timeout, self.exchange(request))
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T, ClientError> {
        let answer = self.send(method.clone(), path, body).await?;
        expect_ok(&method, path, answer)
    }

    async fn send_within(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        let request = match body {
            Some(json) => RawRequest::new(method.clone(), path, Bytes::from(json.to_string()))
                .header("content-type", "application/json"),
            None => RawRequest::new(method.clone(), path, Bytes::new()),
        };
        self.within(method, path, timeout, self.exchange(request))
            .await
    }

    /// Runs `exchange` within `timeout`, naming the request in its errors.
    pub(super) async fn within<T>(
        &self,
        method: Method,
        path: &str,
        timeout: Duration,
        exchange: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, ClientError> {
        match tokio::time::timeout(timeout, exchange).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(message)) => Err(ClientError::Transport {
                method,
                path: path.to_owned(),
                message,
            }),
            Err(_) => Err(ClientError::Timeout {
                method,
                path: path.to_owned(),
                timeout,
            }),
        }
    }

    async fn exchange(&self, raw: RawRequest) -> Result<Response, String> {
        let response = self.open(raw).await?;
        Response::read(response).await
    }

    /// Sends a request on a connection of its own and returns the answer's head, its body
    /// still to read.
    pub(super) async fn open(
        &self,
        raw: RawRequest,
    ) -> Result<http::Response<hyper::body::Incoming>, String> {
        let tcp = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| format!("connecting to {}: {e}", self.authority))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(tcp))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let mut request = http::Request::builder().method(raw.method).uri(raw.path);
        if !raw
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("host"))
        {
            request = request.header(http::header::HOST, &self.authority);
        }
        for (name, value) in &raw.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Full::new(raw.body))
            .map_err(|e| e.to_string())?;
        sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())
    }
}

/// One request as it goes on the wire: the client adds `host` unless given.
pub(super) struct RawRequest {
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl RawRequest {
    pub(super) fn new(method: Method, path: &str, body: Bytes) -> Self {
        Self {
            method,
            path: path.to_owned(),
            headers: Vec::new(),
            body,
        }
    }

    pub(super) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// A 2xx answer decoded, or the API's refusal.
fn expect_ok<T: DeserializeOwned>(
    method: &Method,
    path: &str,
    answer: Response,
) -> Result<T, ClientError> {
    if !(200..300).contains(&answer.status) {
        return Err(refusal(method, path, &answer));
    }
    decode(method, path, &answer)
}

/// A refusal, with the API's `error` text.
pub(super) fn refusal(method: &Method, path: &str, answer: &Response) -> ClientError {
    let message = answer
        .json()
        .get("error")
        .and_then(|e| e.as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(&answer.body).into_owned());
    ClientError::Refused {
        method: method.clone(),
        path: path.to_owned(),
        status: answer.status,
        message,
    }
}

fn decode<T: DeserializeOwned>(
    method: &Method,
    path: &str,
    answer: &Response,
) -> Result<T, ClientError> {
    serde_json::from_slice(&answer.body).map_err(|e| ClientError::Decode {
        method: method.clone(),
        path: path.to_owned(),
        message: e.to_string(),
        body: String::from_utf8_lossy(&answer.body).into_owned(),
    })
}

fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    // The library's own types always serialize.
    serde_json::to_value(value).unwrap_or_default()
}

/// `path?k=v&…`, values percent-encoded.
pub(super) fn with_query(path: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_owned();
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One page of `GET /api/v1/pushes` (or of the long-poll).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct PushPage {
    /// The matching records, in arrival (id) order.
    pub pushes: Vec<Notification>,
    /// Pass it as `after` for the next page; `None` when this page is the last.
    #[serde(default)]
    pub next_after: Option<u64>,
}

#[derive(Deserialize)]
struct Devices {
    devices: BTreeMap<String, Device>,
}

#[derive(Deserialize)]
struct Unregistered {
    unregistered_at: u64,
}

#[derive(Deserialize)]
struct Connections {
    connections: Vec<ConnectionSummary>,
}

#[derive(Deserialize)]
struct Faults {
    faults: Vec<RuleSummary>,
}

#[derive(Deserialize)]
struct Deleted {
    deleted: u64,
}

#[derive(Deserialize)]
struct Phones {
    phones: Vec<PhoneView>,
}

#[derive(Deserialize)]
struct LatePhone {
    phone: PhoneView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_must_be_plain_http_with_an_authority() {
        assert!(Client::new("http://127.0.0.1:2198").is_ok());
        assert_eq!(
            Client::new("http://127.0.0.1:2198/api/v1/")
                .map(|c| c.base_url())
                .ok(),
            Some("http://127.0.0.1:2198".to_owned())
        );
        assert!(matches!(
            Client::new("https://127.0.0.1:2198"),
            Err(ClientError::BadUrl(_))
        ));
        assert!(matches!(
            Client::new("http://"),
            Err(ClientError::BadUrl(_))
        ));
    }

    #[test]
    fn an_answer_that_is_not_json_is_kept_as_text() {
        let answer = |body: &'static [u8]| Response {
            status: 200,
            body: Bytes::from_static(body),
        };
        assert_eq!(
            answer(br#"{"call_id": "c1"}"#).json_or_text(),
            serde_json::json!({"call_id": "c1"})
        );
        assert_eq!(
            answer(b"Bad Gateway").json_or_text(),
            serde_json::json!("Bad Gateway")
        );
        assert_eq!(answer(b"").json_or_text(), serde_json::Value::Null);
        assert_eq!(answer(b"Bad Gateway").json(), serde_json::Value::Null);
    }

    #[test]
    fn filters_become_an_encoded_query() {
        let q = PushQuery::all()
            .topic("com.example.app.voip")
            .push_type(PushType::Voip)
            .reason(Reason::BadDeviceToken)
            .status(400);
        assert_eq!(
            with_query("/api/v1/pushes", &q.pairs()),
            "/api/v1/pushes?topic=com.example.app.voip&push_type=voip&status=400&reason=BadDeviceToken"
        );
        assert_eq!(percent_encode("a b&c"), "a%20b%26c");
    }

    #[test]
    fn a_record_reads_back_as_it_was_written() {
        let n = Notification::sample(
            7,
            crate::record::notification::Payload::from_bytes(br#"{"aps":{}}"#),
            200,
        );
        let back: Notification = serde_json::from_str(&n.to_json()).expect("reads back");
        assert_eq!(back.to_json(), n.to_json());
        let text = Notification::sample(
            8,
            crate::record::notification::Payload::from_bytes(b"not json"),
            200,
        );
        let back: Notification = serde_json::from_str(&text.to_json()).expect("reads back");
        assert_eq!(back.payload.as_str(), "not json");
    }

    #[test]
    fn a_rule_listing_reads_back_with_its_counters_and_spec() {
        let json = serde_json::json!({
            "id": 3, "matched": 2, "hits": 1, "active": true,
            "name": "stale", "match": {"device_token": "ab"},
            "schedule": {"first": 1}, "action": {"reject": "Unregistered", "timestamp": 5}
        });
        let rule: RuleSummary = serde_json::from_value(json).expect("reads back");
        assert_eq!(
            (rule.id, rule.matched, rule.hits, rule.active),
            (3, 2, 1, true)
        );
        assert_eq!(rule.spec.name.as_deref(), Some("stale"));
        assert_eq!(rule.spec.schedule, crate::Schedule::First(1));
    }
}
