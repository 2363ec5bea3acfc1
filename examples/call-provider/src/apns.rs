//! Sends one push to APNs and decides, from Apple's answer, whether to retry.
//!
//! Apple's rules ("Handling notification responses from APNs"), as applied here:
//! - 200: delivered.
//! - 410 `Unregistered` / `ExpiredToken`: the token is dead; the caller prunes it. Never retried.
//! - 403 `ExpiredProviderToken`: our JWT is stale; mint a new one, open a new connection (Pushy
//!   does: APNs may treat the old one as spent) and retry once. Not counted as an attempt.
//! - 429 and 5xx: retried with exponential back-off, up to the configured attempts.
//! - Any other 4xx: our request is wrong; retrying cannot help.
//! - No answer: a stream refused (`REFUSED_STREAM`, or beyond a GOAWAY's last-stream-id) was
//!   never processed, so it is re-sent at once on a fresh connection. A stream lost with its
//!   connection, reset otherwise, or unanswered within the timeout is re-sent after back-off;
//!   the device may then see it twice, which beats a call that never rings. Every attempt
//!   carries the same `apns-id`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;

use crate::config::{Endpoint, RetryPolicy};
use crate::connection::{Connector, Live};
use crate::jwt::TokenCache;

/// Largest error body read from APNs (they are a few dozen bytes).
const MAX_ERROR_BODY: usize = 8 * 1024;

/// One notification for one device token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Push {
    pub(crate) device_token: String,
    /// `apns-push-type`.
    pub(crate) push_type: &'static str,
    /// `apns-topic`.
    pub(crate) topic: String,
    /// `apns-priority`.
    pub(crate) priority: u8,
    /// `apns-expiration`; `None` leaves APNs' store-and-forward default.
    pub(crate) expiration: Option<u64>,
    pub(crate) payload: Vec<u8>,
}

/// What finally happened to a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Delivered,
    /// APNs' last answer was an error.
    Rejected {
        status: u16,
        reason: String,
    },
    /// No answer at all after every attempt (connection refused, lost, timed out).
    Failed {
        error: String,
    },
}

impl Outcome {
    /// APNs says the device token is no longer valid for the topic: stop using it.
    pub(crate) fn token_is_dead(&self) -> bool {
        matches!(self, Outcome::Rejected { status: 410, .. })
    }
}

/// An answer from APNs (status and reason), as opposed to no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    status: u16,
    reason: Option<String>,
}

/// Why an attempt got no answer.
#[derive(Debug)]
enum Unanswered {
    /// The server never processed the request: safe to re-send at once.
    Refused(String),
    /// The request may or may not have been processed.
    Lost(String),
}

/// What to do after an attempt.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    Done,
    RefreshToken,
    RetryNow,
    RetryLater,
}

fn next_for(answer: &Answer) -> Next {
    match (answer.status, answer.reason.as_deref()) {
        (200, _) => Next::Done,
        (403, Some("ExpiredProviderToken")) => Next::RefreshToken,
        (429, _) | (500..=599, _) => Next::RetryLater,
        _ => Next::Done,
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    reason: Option<String>,
}

/// The APNs client: one connection, one token, Apple's retry rules.
#[derive(Debug)]
pub(crate) struct ApnsClient {
    authority: String,
    connector: Connector,
    tokens: TokenCache,
    retry: RetryPolicy,
    timeout: Duration,
}

impl ApnsClient {
    pub(crate) fn new(
        endpoint: &Endpoint,
        connector: Connector,
        tokens: TokenCache,
        retry: RetryPolicy,
        timeout: Duration,
    ) -> Self {
        Self {
            authority: endpoint.authority(),
            connector,
            tokens,
            retry,
            timeout,
        }
    }

    /// Sends `push`, retrying as Apple advises, and reports the final outcome.
    pub(crate) async fn send(&self, push: &Push) -> Outcome {
        let apns_id = uuid::Uuid::new_v4().hyphenated().to_string();
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self.attempt(push, &apns_id).await;
            let (outcome, next) = match result {
                Ok((answer, _, _)) if answer.status == 200 => return Outcome::Delivered,
                Ok((answer, token, conn)) => {
                    let next = next_for(&answer);
                    if next == Next::RefreshToken && !refreshed {
                        refreshed = true;
                        attempt -= 1;
                        tracing::info!(apns_id, "provider token expired; minting a new one");
                        if let Err(e) = self.tokens.replace(&token).await {
                            return Outcome::Failed {
                                error: format!("{e:#}"),
                            };
                        }
                        self.connector.discard(conn).await;
                        continue;
                    }
                    let outcome = Outcome::Rejected {
                        status: answer.status,
                        reason: answer.reason.unwrap_or_default(),
                    };
                    match next {
                        Next::RetryLater => (outcome, Next::RetryLater),
                        _ => return outcome,
                    }
                }
                Err(Unanswered::Refused(why)) => (Outcome::Failed { error: why }, Next::RetryNow),
                Err(Unanswered::Lost(why)) => (Outcome::Failed { error: why }, Next::RetryLater),
            };
            if attempt >= self.retry.attempts {
                tracing::warn!(apns_id, attempt, ?outcome, "giving up on the push");
                // The detail (addresses, OS errors) is in the log; the answer stays stable.
                return match outcome {
                    Outcome::Failed { .. } => Outcome::Failed {
                        error: format!("no answer from APNs after {attempt} attempts"),
                    },
                    other => other,
                };
            }
            tracing::info!(apns_id, attempt, ?outcome, "retrying the push");
            if next == Next::RetryLater {
                tokio::time::sleep(self.retry.backoff(attempt)).await;
            }
        }
    }

    /// One attempt: returns APNs' answer with the token and connection it used.
    async fn attempt(
        &self,
        push: &Push,
        apns_id: &str,
    ) -> Result<(Answer, Arc<str>, u64), Unanswered> {
        let token = self
            .tokens
            .token()
            .await
            .map_err(|e| Unanswered::Lost(format!("{e:#}")))?;
        // Connecting is bounded too: an unreachable host must not hold every push forever.
        let live = tokio::time::timeout(self.timeout, self.connector.get())
            .await
            .map_err(|_| Unanswered::Lost(format!("not connected within {:?}", self.timeout)))?
            .map_err(|e| Unanswered::Lost(format!("{e:#}")))?;
        let id = live.id;
        let exchange = self.exchange(live, push, apns_id, &token);
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Lost(
                format!("no answer within {:?}", self.timeout),
                true,
            )),
        };
        match result {
            Ok(answer) => Ok((answer, token, id)),
            Err(failure) => {
                let (unanswered, broken) = failure.split();
                if broken {
                    self.connector.discard(id).await;
                }
                Err(unanswered)
            }
        }
    }

    /// The HTTP/2 request and its answer on `live`.
    async fn exchange(
        &self,
        live: Live,
        push: &Push,
        apns_id: &str,
        token: &str,
    ) -> Result<Answer, Failure> {
        let mut request = http::Request::post(format!(
            "https://{}/3/device/{}",
            self.authority, push.device_token
        ))
        .header("authorization", format!("bearer {token}"))
        .header("apns-id", apns_id)
        .header("apns-push-type", push.push_type)
        .header("apns-topic", &push.topic)
        .header("apns-priority", push.priority.to_string());
        if let Some(expiration) = push.expiration {
            request = request.header("apns-expiration", expiration.to_string());
        }
        let request = request
            .body(())
            .map_err(|e| Failure::Refused(format!("building the request: {e}"), false))?;

        // Nothing has been sent until `send_request` succeeds: any error before is a refusal.
        let mut send = live
            .send
            .ready()
            .await
            .map_err(|e| Failure::Refused(format!("connection unusable: {e}"), true))?;
        let (response, mut body) = send
            .send_request(request, false)
            .map_err(|e| Failure::Refused(format!("opening a stream: {e}"), true))?;
        // A stream the server resets as soon as it sees the headers (REFUSED_STREAM, beyond
        // its stream limit) can be gone before the body is handed over: `send_data` then
        // fails with a bare "inactive stream" error that reads as a broken connection. The
        // stream's real fate, the reset's reason or an answer, is in `response`.
        let _ = body.send_data(Bytes::copy_from_slice(&push.payload), true);

        let response = response.await.map_err(classify)?;
        let status = response.status().as_u16();
        if status == 200 {
            return Ok(Answer {
                status,
                reason: None,
            });
        }
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(classify)?;
            let _ = body.flow_control().release_capacity(chunk.len());
            bytes.extend_from_slice(&chunk);
            if bytes.len() > MAX_ERROR_BODY {
                break;
            }
        }
        let reason = serde_json::from_slice::<ErrorBody>(&bytes)
            .ok()
            .and_then(|b| b.reason);
        Ok(Answer { status, reason })
    }
}

/// An attempt that got no answer, and whether its connection is broken (`true`: reconnect).
#[derive(Debug)]
enum Failure {
    Refused(String, bool),
    Lost(String, bool),
}

impl Failure {
    fn split(self) -> (Unanswered, bool) {
        match self {
            Failure::Refused(why, broken) => (Unanswered::Refused(why), broken),
            Failure::Lost(why, broken) => (Unanswered::Lost(why), broken),
        }
    }
}

/// Sorts an `h2` error on a stream: refused (never processed) or lost, and whether the
/// connection is still usable.
fn classify(e: h2::Error) -> Failure {
    let why = e.to_string();
    if e.is_go_away() {
        // A GOAWAY's error reaches only the streams above its last-stream-id: never processed.
        // The connection takes no new streams.
        return Failure::Refused(why, true);
    }
    if e.reason() == Some(h2::Reason::REFUSED_STREAM) {
        return Failure::Refused(why, false);
    }
    if e.is_reset() {
        // A stream reset (CANCEL, INTERNAL_ERROR…): the connection itself is fine.
        return Failure::Lost(why, false);
    }
    Failure::Lost(why, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, reason: &str) -> Answer {
        Answer {
            status,
            reason: Some(reason.into()),
        }
    }

    #[test]
    fn apples_answers_map_to_retry_decisions() {
        assert_eq!(next_for(&answer(410, "Unregistered")), Next::Done);
        assert_eq!(next_for(&answer(400, "BadDeviceToken")), Next::Done);
        assert_eq!(next_for(&answer(413, "PayloadTooLarge")), Next::Done);
        assert_eq!(
            next_for(&answer(403, "ExpiredProviderToken")),
            Next::RefreshToken
        );
        assert_eq!(next_for(&answer(403, "InvalidProviderToken")), Next::Done);
        assert_eq!(next_for(&answer(429, "TooManyRequests")), Next::RetryLater);
        assert_eq!(
            next_for(&answer(503, "ServiceUnavailable")),
            Next::RetryLater
        );
        assert_eq!(
            next_for(&answer(500, "InternalServerError")),
            Next::RetryLater
        );
    }

    #[test]
    fn only_410_marks_a_token_dead() {
        let rejected = |status: u16, reason: &str| Outcome::Rejected {
            status,
            reason: reason.into(),
        };
        assert!(rejected(410, "Unregistered").token_is_dead());
        assert!(rejected(410, "ExpiredToken").token_is_dead());
        assert!(!rejected(400, "BadDeviceToken").token_is_dead());
        assert!(!Outcome::Delivered.token_is_dead());
    }

    #[test]
    fn a_refused_stream_is_resent_on_the_same_connection_and_other_errors_reconnect() {
        let refused = h2::Error::from(h2::Reason::REFUSED_STREAM);
        assert!(matches!(classify(refused), Failure::Refused(_, false)));
        let other = h2::Error::from(h2::Reason::INTERNAL_ERROR);
        assert!(matches!(classify(other), Failure::Lost(_, true)));
    }
}
