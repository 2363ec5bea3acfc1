//! Answers one HTTP/2 stream: read the body (bounded), run the checks, decide the answer, let
//! the phone side see the push, record, respond.

use std::sync::OnceLock;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::RecvStream;

use crate::apns::checks::{self, Ctx};
use crate::apns::ids;
use crate::apns::push_head::{Body, PushHead};
use crate::apns::rejection::Rejection;
use crate::faults::effect::{apply_fault, facts, Wire};
use crate::lint::{Known, LintFinding};
use crate::phones::incoming::Incoming;
use crate::phones::Delivery;
use crate::record::notification::{AppliedFault, AuthKind, AuthSummary, Notification, Payload};
use crate::server::connection_state::Connection;
use crate::shared::Shared;
use crate::telemetry::metrics::PushOutcome;
use crate::telemetry::push_log::{self, PushLine};
use crate::{Environment, ErrorCode, Reason};

/// Handles one request from arrival to answer. Never panics on input.
pub(crate) async fn handle(
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
    conn: &Connection,
    shared: &Shared,
) {
    let received_at = shared.clock.now_ms();
    // Real time, not the mock's clock (which tests move): for the duration histogram.
    let started = Instant::now();
    let stream_limit = conn.stream_limit();
    let stream_id = respond.stream_id().as_u32();
    let (parts, body) = request.into_parts();
    // h2 hands such a request over (a documented patch) with its fields cut at the limit.
    let too_large = parts
        .extensions
        .get::<h2::ext::HeaderListTooLarge>()
        .is_some();
    let head = PushHead::from_parts(parts);
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
        first_seen: &shared.first_seen,
        devices: &shared.devices,
        clock: &shared.clock,
        conn,
        environment: shared.config.environment,
        strict_devices: shared.config.strict_devices,
        token: OnceLock::new(),
    };
    // A cut header list cannot be checked: it gets its own answer below.
    let mut outcome = if too_large {
        Ok(())
    } else {
        checks::validate(&ctx)
    };
    // Lint reads only pushes APNs's own checks accepted (a rejection already says what is
    // wrong; a cut header list was never checked).
    let checks_passed = !too_large && outcome.is_ok();
    // A stream beyond a GOAWAY's last-stream-id is not processed, so rules do not count it.
    // Decided once: a GOAWAY sent meanwhile must not leave a rule counting a refused stream.
    let refused = conn.beyond_goaway(stream_id);
    let fault = (!refused && !too_large)
        .then(|| shared.faults.evaluate(&facts(&ctx), shared.clock.now_ms()))
        .flatten();
    if let Some(fired) = &fault {
        shared.metrics.fault_applied(&fired.rule.spec.action);
    }
    let wire = match &fault {
        _ if refused => Wire::Reset(ErrorCode::RefusedStream),
        None => Wire::Answer,
        Some(fired) => apply_fault(&fired.rule, &mut outcome, conn, stream_id, shared).await,
    };

    let apns_id: Box<str> = head
        .header("apns-id")
        .filter(|id| checks::is_canonical_uuid(id))
        .map(Box::from)
        .unwrap_or_else(ids::upper_case);
    let answered = matches!(wire, Wire::Answer);
    let apns_unique_id = (answered
        && !too_large
        && outcome.is_ok()
        && shared.config.environment == Environment::Development)
        .then(ids::lower_case);

    let payload = Payload::from_bytes(&body.bytes);
    let (status, reason, timestamp, detail) = match (&wire, &outcome) {
        (Wire::Answer, _) if too_large => (431, None, None, Some(TOO_LARGE_DETAIL.into())),
        (Wire::Answer, Ok(())) => (200, None, None, acceptance_note(&payload, &ctx)),
        (
            Wire::Answer,
            Err(Rejection {
                reason,
                timestamp,
                detail,
            }),
        ) => (
            reason.status(),
            Some(*reason),
            *timestamp,
            Some(detail.as_str().into()),
        ),
        // No HTTP answer at all: status 0, and the record says what happened instead.
        (other, _) => (0, None, None, Some(other.describe().into())),
    };
    let log_line = push_log::enabled();
    let auth = auth_summary(&ctx);
    let id = shared.recorder.next_id();
    let (lint, delivery) = phone_side(
        shared,
        &ctx,
        id,
        received_at,
        checks_passed,
        answered && status == 200,
    );
    let reached_phone = delivery.is_some();
    let mut record = Notification {
        id,
        received_at,
        connection_id: conn.id,
        stream_id,
        method: head.method.as_str().into(),
        path: head.path.as_str().into(),
        device_token: head.device_token().map(Box::from),
        headers: head.apns_headers(),
        auth,
        sni: conn.sni(),
        authority: head.authority().map(|a| conn.authority_of(a)),
        connect_target: conn.connect_target(),
        environment: shared.config.environment,
        stream_limit,
        payload,
        payload_size: body.bytes.len(),
        status,
        reason,
        apns_id,
        apns_unique_id,
        timestamp,
        detail,
        fault: fault.map(|f| AppliedFault {
            rule_id: f.rule.id,
            name: f.rule.spec.name.clone(),
            action: f.rule.spec.action.clone(),
        }),
        lint,
        delivery,
    };
    // Record before answering: a push is acknowledged only once its record is written.
    if let Err(why) = shared.recorder.write(&record) {
        tracing::error!(connection = conn.id, stream_id, "{why}");
        not_written(&mut record, answered, &why);
    }
    if answered {
        adjust_stream_limit(conn, shared, record.status);
    }
    // Recorded and decided: the metrics and the log line now say what the record says.
    shared.metrics.push(&PushOutcome {
        push_type: head.header("apns-push-type"),
        status: record.status,
        reason: record.reason,
        payload_size: body.bytes.len(),
        elapsed: started.elapsed(),
    });
    if log_line {
        let lint = (!record.lint.is_empty()).then(|| {
            let rules: Vec<&str> = record.lint.iter().map(|f| f.rule.as_str()).collect();
            rules.join(",")
        });
        let delivery = record.delivery.as_ref().map(|d| d.describe());
        PushLine {
            connection: conn.id,
            stream: stream_id,
            status: record.status,
            reason: record.reason,
            push_type: head.header("apns-push-type"),
            topic: head.header("apns-topic"),
            device_token: head.device_token(),
            apns_id: &record.apns_id,
            detail: record.detail.as_deref(),
            lint: lint.as_deref(),
            phone: record.delivery.as_ref().map(|d| d.phone.as_str()),
            delivery: delivery.as_deref(),
        }
        .emit();
    }
    let json = match record.reason {
        Some(reason) => Some(reason.body(record.timestamp)),
        None if record.status == 431 => Some(TOO_LARGE_BODY.to_owned()),
        None => None,
    };
    let answer = Answer {
        status: record.status,
        apns_id: record.apns_id.clone(),
        apns_unique_id: record.apns_unique_id.clone(),
        json,
        head_only: head.method == http::Method::HEAD,
    };
    shared.recorder.keep(record);
    if reached_phone {
        // After keeping: whoever waits on the phone finds the push in the record too.
        shared.phones.changed();
    }
    deliver(wire, respond, conn, shared, answer).await;
}

/// The answer to a request whose header list is over the 8000 bytes the mock advertises in
/// `SETTINGS_MAX_HEADER_LIST_SIZE` (as APNs does, `docs/apns.md` §6). Apple documents neither
/// the status nor a reason. 431 is the status RFC 9113 §10.5.1 names for it (RFC 6585 §5),
/// and the reason, written in Apple's style, names that status so that a client's error path
/// has a string to log; it is the mock's own, not one of Apple's, so the record's `reason`
/// stays empty and its `detail` says this.
const TOO_LARGE_BODY: &str = r#"{"reason":"RequestHeaderFieldsTooLarge"}"#;
const TOO_LARGE_DETAIL: &str = "header list over the 8000 bytes of SETTINGS_MAX_HEADER_LIST_SIZE \
(its fields are kept up to that limit): answered 431 {\"reason\":\"RequestHeaderFieldsTooLarge\"}, \
the mock's choice (RFC 9113 10.5.1); Apple documents no answer";

/// A record the file did not take. An answer becomes 500 `InternalServerError` (Apple's
/// reason for its own failures, `docs/apns.md` §4) whatever was decided, so that no push is
/// acknowledged, and no answer given, that the file lacks; the in-memory record says why. A
/// stream left without an answer (reset, closed, stalled) keeps its fate.
fn not_written(record: &mut Notification, answered: bool, why: &str) {
    if !answered {
        let detail = format!(
            "{}; not in the record file: {why}",
            record.detail.as_deref().unwrap_or("")
        );
        record.detail = Some(detail.into());
        return;
    }
    let decided = match record.reason {
        Some(reason) => format!("{} {reason}", record.status),
        None => record.status.to_string(),
    };
    let reason = Reason::InternalServerError;
    record.status = reason.status();
    record.reason = Some(reason);
    record.timestamp = None;
    record.apns_unique_id = None;
    record.detail = Some(
        format!(
            "{why}; answered {} {reason} instead of {decided}",
            reason.status()
        )
        .into(),
    );
}

/// The phone side of a push, once its answer is decided (`docs/phones.md`): what the phone
/// owning the token did with it (`accepted`: answered 200), and the lint findings on a push
/// APNs's checks let through. Neither changes the answer. (Should the record file then refuse
/// the record, the answer becomes 500 while the phone keeps the push, as a real device can
/// receive a push whose acknowledgement was lost.)
fn phone_side(
    shared: &Shared,
    ctx: &Ctx<'_>,
    id: u64,
    received_at: u64,
    checks_passed: bool,
    accepted: bool,
) -> (Vec<LintFinding>, Option<Delivery>) {
    if !checks_passed {
        return (Vec::new(), None);
    }
    let push = Incoming::new(
        id,
        received_at,
        ctx.head,
        ctx.topic(),
        &ctx.body.bytes,
        &shared.config.phones.call_id_pointers,
    );
    let arrival = shared
        .phones
        .receive(ctx.head.device_token(), &push, accepted, &shared.clock);
    let known = Known {
        repeated_call: arrival.repeated_call,
    };
    (shared.lint.check(&push, known), arrival.delivery)
}

/// The HTTP answer decided for a stream.
struct Answer {
    status: u16,
    apns_id: Box<str>,
    apns_unique_id: Option<Box<str>>,
    /// The JSON error body (`{"reason":…}`); `None` for a 200.
    json: Option<String>,
    /// An answer to HEAD: the same head, no body (RFC 9110 §9.3.2); a body makes an HTTP/2
    /// client reset the stream with PROTOCOL_ERROR.
    head_only: bool,
}

/// Puts the stream's fate on the wire: the answer, or a reset, a closed connection, a stall.
async fn deliver(
    wire: Wire,
    mut respond: SendResponse<Bytes>,
    conn: &Connection,
    shared: &Shared,
    answer: Answer,
) {
    match wire {
        Wire::Answer => {}
        Wire::Reset(code) => {
            shared.metrics.stream_reset(code);
            return respond.send_reset(code.to_h2());
        }
        Wire::Close(why) => {
            conn.close(why);
            // Hold the stream until the connection is gone: dropping it sooner makes h2 send
            // RST_STREAM(CANCEL), which could reach the client ahead of the bare close.
            return conn.ended().await;
        }
        Wire::Stall => {
            // Keep the stream open, unanswered, until the connection or the server ends.
            let mut stop = shared.stop_signal();
            let connection_gone = tokio::select! {
                () = conn.ended() => true,
                () = stop.stopped() => false,
            };
            if !connection_gone {
                shared.metrics.stream_reset(ErrorCode::RefusedStream);
            }
            return respond.send_reset(ErrorCode::RefusedStream.to_h2());
        }
    }
    let Answer {
        status,
        apns_id,
        apns_unique_id,
        json,
        head_only,
    } = answer;
    let stream_id = respond.stream_id().as_u32();
    let mut response = http::Response::builder()
        .status(status)
        .header("apns-id", &*apns_id);
    if let Some(unique) = &apns_unique_id {
        response = response.header("apns-unique-id", &**unique);
    }
    if json.is_some() {
        response = response.header("content-type", "application/json");
    }
    let json = json.filter(|_| !head_only);
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
            token_sha256: Some(t.fingerprint.as_ref().into()),
            token_form: Some(t.form.describe().into()),
            ..AuthSummary::default()
        },
        None => AuthSummary::default(),
    }
}

/// APNs's stream limit follows the provider's record (`docs/apns.md` §6): full
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
///
/// The usual push body arrives in one DATA frame; it is kept as it came, and bytes are copied
/// only once a second frame arrives.
async fn read_body(mut body: RecvStream, limit: usize) -> Result<Body, h2::Error> {
    let mut single: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if single.is_none() && buf.is_empty() && chunk.len() <= limit {
            single = Some(chunk);
            continue;
        }
        if let Some(first) = single.take() {
            buf.extend_from_slice(&first);
        }
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
        bytes: single.unwrap_or_else(|| buf.freeze()),
        too_large: false,
    })
}

/// Notes on accepted pushes whose treatment by Apple is undocumented, so the record shows the
/// mock's choice (`docs/apns.md`, "Unconfirmed").
fn acceptance_note(payload: &Payload, ctx: &Ctx<'_>) -> Option<Box<str>> {
    let payload_note = match payload {
        Payload::Text(_) => {
            Some("accepted, but the payload is not JSON; Apple does not document its answer")
        }
        Payload::Json(raw) if !raw.trim_start().starts_with('{') => {
            Some("accepted, but the payload is not a JSON dictionary as Apple requires")
        }
        Payload::Json(_) => None,
    };
    // JWT says unpadded base64url; APNs takes standard base64 and padding too (docs/apns.md §5).
    let token_note = ctx.token.get().filter(|t| !t.form.is_base64url()).map(|t| {
        format!(
            "accepted a provider token in {}, not JWT's unpadded base64url, as APNs does \
                 (a2 sends such tokens)",
            t.form.describe()
        )
    });
    match (payload_note, token_note) {
        (None, None) => None,
        (Some(p), None) => Some(p.into()),
        (None, Some(t)) => Some(t.into()),
        (Some(p), Some(t)) => Some(format!("{p}; {t}").into()),
    }
}
