//! Answers one HTTP/2 stream: read the body (bounded), run the checks, record, respond.

use std::sync::OnceLock;

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::RecvStream;

use crate::connections::Connection;
use crate::notification::{AuthKind, AuthSummary, Notification, Payload};
use crate::push::{Body, PushHead};
use crate::state::Shared;
use crate::validate::{self, Ctx, Rejection};
use crate::Environment;

/// Handles one request from arrival to answer. Never panics on input.
pub(crate) async fn handle(
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    conn: &Connection,
    shared: &Shared,
) {
    let received_at = shared.clock.now_ms();
    let stream_limit = conn.stream_limit();
    let stream_id = respond.stream_id().as_u32();
    let (parts, body) = request.into_parts();
    let head = PushHead::from_parts(&parts);
    let Ok(body) = read_body(body, head.payload_limit()).await else {
        // The client reset the stream: there is no one to answer, and nothing was acknowledged.
        tracing::debug!(
            connection = conn.id,
            stream_id,
            "stream reset while reading the body"
        );
        return;
    };

    let ctx = Ctx {
        head: &head,
        body: &body,
        keys: &shared.keys,
        devices: &shared.devices,
        clock: &shared.clock,
        conn,
        environment: shared.config.environment,
        strict_devices: shared.config.strict_devices,
        token: OnceLock::new(),
    };
    let outcome = validate::validate(&ctx);

    let apns_id: Box<str> = head
        .header("apns-id")
        .filter(|id| validate::is_canonical_uuid(id))
        .map(Box::from)
        .unwrap_or_else(|| {
            uuid::Uuid::new_v4()
                .hyphenated()
                .to_string()
                .to_uppercase()
                .into()
        });
    let apns_unique_id = (outcome.is_ok() && shared.config.environment == Environment::Development)
        .then(|| Box::from(uuid::Uuid::new_v4().hyphenated().to_string()));

    let payload = Payload::from_bytes(&body.bytes);
    let (status, reason, timestamp, detail) = match &outcome {
        Ok(()) => (200, None, None, acceptance_note(&payload)),
        Err(Rejection {
            reason,
            timestamp,
            detail,
        }) => (
            reason.status(),
            Some(*reason),
            *timestamp,
            Some(detail.as_str().into()),
        ),
    };
    let auth = auth_summary(&ctx);
    adjust_stream_limit(conn, shared, status);
    let record = Notification {
        id: shared.recorder.next_id(),
        received_at,
        connection_id: conn.id,
        stream_id,
        method: head.method.as_str().into(),
        path: head.path.as_str().into(),
        device_token: head.device_token().map(Box::from),
        headers: head.apns_headers(),
        auth,
        environment: shared.config.environment,
        stream_limit,
        payload,
        payload_size: body.bytes.len(),
        status,
        reason,
        apns_id: apns_id.clone(),
        apns_unique_id: apns_unique_id.clone(),
        timestamp,
        detail,
    };
    // Record before answering: an acknowledged push is always in the record.
    if let Err(e) = shared.recorder.record(record) {
        tracing::error!("writing the record file failed: {e}");
    }

    let mut response = http::Response::builder()
        .status(status)
        .header("apns-id", &*apns_id);
    if let Some(unique) = &apns_unique_id {
        response = response.header("apns-unique-id", &**unique);
    }
    let json = reason.map(|r| r.body(timestamp));
    if json.is_some() {
        response = response.header("content-type", "application/json");
    }
    let Ok(response) = response.body(()) else {
        return;
    };
    let sent = match json {
        None => respond.send_response(response, true).map(drop),
        Some(json) => respond
            .send_response(response, false)
            .and_then(|mut stream| stream.send_data(Bytes::from(json), true)),
    };
    if let Err(e) = sent {
        tracing::debug!(connection = conn.id, stream_id, "could not answer: {e}");
    }
}

fn auth_summary(ctx: &Ctx<'_>) -> AuthSummary {
    if let Some(cert) = &ctx.conn.cert {
        return AuthSummary {
            kind: AuthKind::Certificate,
            subject: Some(cert.subject.as_str().into()),
            topics: Some(cert.topics.clone()),
            ..AuthSummary::default()
        };
    }
    match ctx.token.get() {
        Some(t) => AuthSummary {
            kind: AuthKind::Token,
            key_id: Some(t.key_id.as_ref().into()),
            team_id: Some(t.team_id.as_ref().into()),
            iat: Some(t.iat),
            ..AuthSummary::default()
        },
        None => AuthSummary::default(),
    }
}

/// APNs's stream limit follows the provider's record (`shared/reference/apns.md` §6): full
/// after an accepted push, 1 after a rejected one when throttling is on. 410s are not counted
/// as errors by Apple, so they leave it alone.
fn adjust_stream_limit(conn: &Connection, shared: &Shared, status: u16) {
    conn.count(status == 200);
    if status == 200 {
        conn.set_stream_limit(shared.config.max_concurrent_streams);
    } else if status != 410 && shared.config.throttle_on_reject {
        conn.set_stream_limit(1);
    }
}

/// Reads at most `limit + 1` bytes, releasing flow-control capacity as it goes, and stops as
/// soon as the limit is passed: a 100 MB body costs 4 KB of memory, not 100 MB.
async fn read_body(mut body: RecvStream, limit: usize) -> Result<Body, h2::Error> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if buf.len() + chunk.len() > limit {
            let room = limit + 1 - buf.len();
            buf.extend_from_slice(&chunk[..room.min(chunk.len())]);
            return Ok(Body {
                bytes: buf.freeze(),
                too_large: true,
            });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(Body {
        bytes: buf.freeze(),
        too_large: false,
    })
}

/// Notes on accepted pushes whose treatment by Apple is undocumented, so the record shows the
/// mock's choice (`shared/reference/apns.md`, "Unconfirmed").
fn acceptance_note(payload: &Payload) -> Option<Box<str>> {
    match payload {
        Payload::Text(_) => {
            Some("accepted, but the payload is not JSON; Apple does not document its answer".into())
        }
        Payload::Json(raw) if !raw.trim_start().starts_with('{') => {
            Some("accepted, but the payload is not a JSON dictionary as Apple requires".into())
        }
        Payload::Json(_) => None,
    }
}
