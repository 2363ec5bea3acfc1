//! Answers one HTTP/2 stream: read the body (bounded), run the checks, decide the answer, let
//! the phone side see the push, record, respond.

use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use h2::server::SendResponse;
use h2::RecvStream;
use http::{HeaderName, HeaderValue};
use uuid::Uuid;

use crate::apns::checks::{self, Ctx};
use crate::apns::ids;
use crate::apns::push_head::{Body, PushHead};
use crate::apns::rejection::Rejection;
use crate::auth::provider_token::ProviderToken;
use crate::faults::effect::{apply_fault, facts, Wire};
use crate::faults::Fired;
use crate::lint::{Found, Known};
use crate::phones::incoming::Incoming;
use crate::phones::Delivery;
use crate::record::compact::{ApnsId, Extras, Parts, Record, RecordAuth};
use crate::record::json_syntax::{is_json, object_members};
use crate::record::notification::AppliedFault;
use crate::server::connection_state::Connection;
use crate::shared::Shared;
use crate::telemetry::metrics::PushOutcome;
use crate::telemetry::push_log::{self, PushLine};
use crate::{Environment, ErrorCode, Reason};

/// Handles one request from arrival (`received_at`, on the mock's clock) to answer, called by
/// the connection's task as h2 hands the request over; returns the task to spawn for what
/// waits. Never panics on input.
///
/// With `here`, a push that arrived whole (its DATA frame came in the same read as its
/// HEADERS: h2 reads every frame available before handing a request over, so this is the
/// usual case) is decided, recorded and answered right here, with no task of its own. The
/// connection's task asks for that when there are at least as many connections as the
/// runtime has worker threads: every thread then has a connection to serve, and a task per
/// stream only adds the spawn and the hand-over between threads (`make bench`, 16
/// connections: 10.2 against 11.5 µs of server CPU per push). With fewer connections a task
/// per stream lets the idle threads share the work, which is faster for one busy connection
/// (about 124 000 against 107 000 pushes a second at 1 × 100 on two cores). What has to wait (a body
/// still arriving, a fault rule that delays, stalls or closes, a stream held open) always gets
/// a task. The head is kept boxed: a task's state is moved as it is spawned, and the request as
/// h2 hands it over is ~1 KB (moving it showed up in profiles under load).
pub(crate) fn handle(
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
    conn: &Arc<Connection>,
    shared: &Arc<Shared>,
    received_at: u64,
    here: bool,
) -> Option<impl Future<Output = ()> + Send + 'static> {
    // Real time, not the mock's clock (which tests move): for the duration histogram.
    let started = Instant::now();
    let (parts, mut body) = request.into_parts();
    // h2 hands such a request over (a documented patch) with its fields cut at the limit.
    let too_large = parts
        .extensions
        .get::<h2::ext::HeaderListTooLarge>()
        .is_some();
    let mut arrived = Arrived {
        head: Box::new(PushHead::from_parts(parts)),
        body: Body::default(),
        received_at,
        started,
        stream_limit: conn.stream_limit(),
        stream_id: respond.stream_id().as_u32(),
        too_large,
    };
    let limit = arrived.head.payload_limit();
    let now = match here {
        true => body_now(&mut body, limit),
        false => BodyNow::Partly(Collected::new(limit)),
    };
    let later = match now {
        BodyNow::Whole(body) => {
            arrived.body = body;
            answer(arrived, respond, conn, shared).map(Later::Fault)
        }
        BodyNow::Partly(collected) => Some(Later::Body(arrived, body, collected, respond)),
        BodyNow::Reset => {
            reset_while_reading(conn, arrived.stream_id);
            None
        }
    };
    let Some(later) = later else {
        conn.stream_ended(shared.clock.now_ms());
        return None;
    };
    Some(finish(later, conn.clone(), shared.clone()))
}

/// What is left of a stream that could not be answered as it arrived.
enum Later {
    /// Its body is still arriving (what came so far is collected).
    Body(Arrived, RecvStream, Collected, SendResponse<Bytes>),
    Fault(Faulted),
}

/// A push whose fate a fault rule changed: it may be delayed, stalled or closed.
struct Faulted(Arrived, Decision, SendResponse<Bytes>);

/// The task of a stream that could not be answered as it arrived.
async fn finish(later: Later, conn: Arc<Connection>, shared: Arc<Shared>) {
    let _ended = StreamEnded(&conn, &shared);
    let (conn, shared) = (&*conn, &*shared);
    let faulted = match later {
        Later::Fault(faulted) => faulted,
        Later::Body(mut arrived, body, collected, respond) => {
            match read_body(body, collected).await {
                Ok(body) => arrived.body = body,
                Err(_) => return reset_while_reading(conn, arrived.stream_id),
            }
            match answer(arrived, respond, conn, shared) {
                Some(faulted) => faulted,
                None => return,
            }
        }
    };
    // Boxed: the rare slow path's state stays out of the task's.
    Box::pin(with_fault(faulted, conn, shared)).await;
}

/// The client reset the stream before its body was read: no one to answer, and nothing was
/// acknowledged.
fn reset_while_reading(conn: &Connection, stream_id: u32) {
    tracing::debug!(
        connection = conn.id,
        stream_id,
        "stream reset while reading the body"
    );
}

/// Decides, records and answers a request whose body is read, unless a fault rule fired.
fn answer(
    arrived: Arrived,
    respond: SendResponse<Bytes>,
    conn: &Connection,
    shared: &Shared,
) -> Option<Faulted> {
    let decision = decide(&arrived, conn, shared);
    if decision.fault.is_some() {
        return Some(Faulted(arrived, decision, respond));
    }
    if decision.refused {
        let wire = Wire::Reset(ErrorCode::RefusedStream);
        record(&arrived, decision, &wire, conn, shared);
        reset(respond, shared, ErrorCode::RefusedStream);
    } else {
        let answer = record(&arrived, decision, &Wire::Answer, conn, shared);
        send(respond, conn, answer);
    }
    None
}

/// Tells the connection that a stream ended (its idle timer counts from the last one), however
/// the stream's task ends.
struct StreamEnded<'a>(&'a Connection, &'a Shared);

impl Drop for StreamEnded<'_> {
    fn drop(&mut self) {
        self.0.stream_ended(self.1.clock.now_ms());
    }
}

/// A request, read to its end once `body` is filled.
struct Arrived {
    head: Box<PushHead>,
    body: Body,
    received_at: u64,
    /// When it arrived in real time, for the duration histogram.
    started: Instant,
    stream_limit: u32,
    stream_id: u32,
    /// The header list was over the limit (cut): answered 431, unchecked.
    too_large: bool,
}

/// What the checks and the fault rules made of a request.
struct Decision {
    outcome: Result<(), Rejection>,
    /// APNs's own checks accepted it (lint reads only those: a rejection already says what is
    /// wrong; a cut header list was never checked).
    checks_passed: bool,
    /// The provider token whose signature verified, for the record.
    token: Option<Arc<ProviderToken>>,
    fault: Option<Fired>,
    /// Beyond a GOAWAY's last-stream-id: not processed.
    refused: bool,
}

fn decide(arrived: &Arrived, conn: &Connection, shared: &Shared) -> Decision {
    let ctx = Ctx {
        head: &arrived.head,
        body: &arrived.body,
        keys: &shared.keys,
        verified_tokens: &shared.verified_tokens,
        devices: &shared.devices,
        clock: &shared.clock,
        conn,
        environment: shared.config.environment,
        strict_devices: shared.config.strict_devices,
        token: OnceLock::new(),
    };
    // A cut header list cannot be checked: it gets its own answer.
    let outcome = if arrived.too_large {
        Ok(())
    } else {
        checks::validate(&ctx)
    };
    // A stream beyond a GOAWAY's last-stream-id is not processed, so rules do not count it.
    // Decided once: a GOAWAY sent meanwhile must not leave a rule counting a refused stream.
    let refused = conn.beyond_goaway(arrived.stream_id);
    let fault = (!refused && !arrived.too_large && shared.faults.any())
        .then(|| shared.faults.evaluate(&facts(&ctx), shared.clock.now_ms()))
        .flatten();
    if let Some(fired) = &fault {
        shared.metrics.fault_applied(&fired.rule.spec.action);
    }
    Decision {
        checks_passed: !arrived.too_large && outcome.is_ok(),
        outcome,
        token: ctx.token.into_inner(),
        fault,
        refused,
    }
}

/// The path of a push whose fate a fault rule changed.
async fn with_fault(faulted: Faulted, conn: &Connection, shared: &Shared) {
    let Faulted(arrived, mut decision, respond) = faulted;
    let wire = match &decision.fault {
        Some(fired) => {
            let outcome = &mut decision.outcome;
            apply_fault(&fired.rule, outcome, conn, arrived.stream_id, shared).await
        }
        None => Wire::Answer,
    };
    let answer = record(&arrived, decision, &wire, conn, shared);
    match wire {
        Wire::Answer => send(respond, conn, answer),
        Wire::Reset(code) => reset(respond, shared, code),
        Wire::Close(why) => close(why, respond, conn).await,
        Wire::Stall => stall(respond, conn, shared).await,
    }
}

/// Builds the record, writes it to the record file, keeps it, and returns the answer to send.
/// The stream limit follows the answer (for answered streams).
fn record(
    arrived: &Arrived,
    decision: Decision,
    wire: &Wire,
    conn: &Connection,
    shared: &Shared,
) -> Answer {
    let Arrived {
        head,
        body,
        too_large,
        ..
    } = arrived;
    let too_large = *too_large;
    let answered = matches!(wire, Wire::Answer);
    let outcome = &decision.outcome;
    let (apns_id, mixed_id) = head
        .header("apns-id")
        .and_then(ApnsId::from_client)
        .unwrap_or_else(|| (ApnsId::Upper(ids::new_v4()), None));
    let apns_unique_id = (answered
        && !too_large
        && outcome.is_ok()
        && shared.config.environment == Environment::Development)
        .then(ids::new_v4);
    // A payload that is a JSON object is checked by reading its members, which the phone side
    // and lint then use: one scan of the payload, not two (the second was a measurable part
    // of a VoIP push's cost).
    // (`from_utf8` first: `from_utf8_lossy` has no fast path for ASCII.)
    let (utf8, payload) = match std::str::from_utf8(&body.bytes) {
        Ok(text) => (true, Cow::Borrowed(text)),
        Err(_) => (false, String::from_utf8_lossy(&body.bytes)),
    };
    let members = (utf8 && payload.trim_start().starts_with('{'))
        .then(|| object_members(&payload))
        .flatten();
    let payload_json = members.is_some() || (utf8 && is_json(&payload));
    let (status, reason, timestamp, detail) = match (wire, outcome) {
        (Wire::Answer, _) if too_large => (431, None, None, Some(TOO_LARGE_DETAIL.into())),
        (Wire::Answer, Ok(())) => (
            200,
            None,
            None,
            acceptance_note(payload_json, &payload, decision.token.as_deref()),
        ),
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
    let fault = decision.fault.map(|f| AppliedFault {
        rule_id: f.rule.id,
        name: f.rule.spec.name.clone(),
        action: f.rule.spec.action.clone(),
    });
    let id = shared.recorder.next_id();
    let (lint, delivery) = phone_side(
        shared,
        conn,
        head,
        body,
        members,
        id,
        arrived.received_at,
        decision.checks_passed,
        answered && status == 200,
    );
    let reached_phone = delivery.is_some();
    let rare = detail.is_some()
        || fault.is_some()
        || mixed_id.is_some()
        || !lint.is_empty()
        || delivery.is_some();
    let extras = rare.then_some(Extras {
        detail,
        fault,
        apns_id: mixed_id,
        lint,
        delivery,
    });
    let auth = match (&conn.cert, decision.token) {
        (Some(cert), _) => RecordAuth::Certificate(cert.clone()),
        (None, Some(token)) => RecordAuth::Token(token),
        (None, None) => RecordAuth::None,
    };
    let parts = Parts {
        id,
        received_at: arrived.received_at,
        connection_id: conn.id,
        stream_id: arrived.stream_id,
        stream_limit: arrived.stream_limit,
        environment: shared.config.environment,
        method: head.method.as_str(),
        path: head.path(),
        payload_json,
        payload: &payload,
        payload_size: body.bytes.len(),
        status,
        reason,
        timestamp,
        apns_id,
        apns_unique_id,
        auth,
        origin: conn.origin_of(head.authority()),
        extras,
    };
    let mut record = Record::new(parts, head.apns_headers());
    // Record before answering: a push is acknowledged only once its record is written.
    if let Err(why) = shared.recorder.write(&record) {
        tracing::error!(connection = conn.id, stream_id = arrived.stream_id, "{why}");
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
        elapsed: arrived.started.elapsed(),
    });
    let mut id = [0; 45];
    if push_log::enabled() {
        log_line(&record, head, conn.id, arrived.stream_id, &mut id);
    }
    let json = match record.reason {
        Some(reason) => Some(reason.body(record.timestamp)),
        None if record.status == 431 => Some(TOO_LARGE_BODY.to_owned()),
        None => None,
    };
    let answer = Answer {
        status: record.status,
        apns_id: unique_value(record.apns_id(&mut id)),
        apns_unique_id: record
            .apns_unique_id
            .and_then(|id| unique_value(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()))),
        json,
        head_only: head.method == http::Method::HEAD,
    };
    shared.recorder.keep(record);
    if reached_phone {
        // After keeping: whoever waits on the phone finds the push in the record too.
        shared.phones.changed();
    }
    answer
}

/// The line per push (`--log-pushes`), saying what the record says.
fn log_line(record: &Record, head: &PushHead, connection: u64, stream: u32, id: &mut [u8; 45]) {
    let extras = record.extras.as_deref();
    let lint = extras.filter(|e| !e.lint.is_empty()).map(|e| {
        let rules: Vec<&str> = e.lint.iter().map(|f| f.rule.id).collect();
        rules.join(",")
    });
    let delivery = extras.and_then(|e| e.delivery.as_ref());
    let described = delivery.map(Delivery::describe);
    PushLine {
        connection,
        stream,
        status: record.status,
        reason: record.reason,
        push_type: head.header("apns-push-type"),
        topic: head.header("apns-topic"),
        device_token: head.device_token(),
        apns_id: record.apns_id(id),
        detail: record.detail(),
        lint: lint.as_deref(),
        phone: delivery.map(|d| d.phone.as_str()),
        delivery: described.as_deref(),
    }
    .emit();
}

/// The phone side of a push, once its answer is decided (`docs/phones.md`): what the phone
/// owning the token did with it (`accepted`: answered 200), and the lint findings on a push
/// APNs's checks let through. Neither changes the answer. (Should the record file then refuse
/// the record, the answer becomes 500 while the phone keeps the push, as a real device can
/// receive a push whose acknowledgement was lost.)
#[allow(clippy::too_many_arguments)]
fn phone_side(
    shared: &Shared,
    conn: &Connection,
    head: &PushHead,
    body: &Body,
    members: Option<Vec<(&str, &str)>>,
    id: u64,
    received_at: u64,
    checks_passed: bool,
    accepted: bool,
) -> (Vec<Found>, Option<Delivery>) {
    if !checks_passed {
        return (Vec::new(), None);
    }
    let push = Incoming::new(
        id,
        received_at,
        head,
        checks::topic_of(head, conn),
        &body.bytes,
        &shared.config.phones.call_id_pointers,
    )
    .with_members(members);
    let arrival = shared
        .phones
        .receive(head.device_token(), &push, accepted, &shared.clock);
    let known = Known {
        repeated_call: arrival.repeated_call,
    };
    (shared.lint.check(&push, known), arrival.delivery)
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
fn not_written(record: &mut Record, answered: bool, why: &str) {
    if !answered {
        let detail = format!(
            "{}; not in the record file: {why}",
            record.detail().unwrap_or("")
        );
        record.extras_mut().detail = Some(detail.into());
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
    record.extras_mut().detail = Some(
        format!(
            "{why}; answered {} {reason} instead of {decided}",
            reason.status()
        )
        .into(),
    );
}

/// The HTTP answer decided for a stream.
struct Answer {
    status: u16,
    apns_id: Option<HeaderValue>,
    apns_unique_id: Option<HeaderValue>,
    /// The JSON error body (`{"reason":…}`); `None` for a 200.
    json: Option<String>,
    /// An answer to HEAD: the same head, no body (RFC 9110 §9.3.2); a body makes an HTTP/2
    /// client reset the stream with PROTOCOL_ERROR.
    head_only: bool,
}

/// Resets the stream instead of answering it.
fn reset(mut respond: SendResponse<Bytes>, shared: &Shared, code: ErrorCode) {
    shared.metrics.stream_reset(code);
    respond.send_reset(code.to_h2());
}

/// Puts an answer on the wire.
fn send(mut respond: SendResponse<Bytes>, conn: &Connection, answer: Answer) {
    let Answer {
        status,
        apns_id,
        apns_unique_id,
        json,
        head_only,
    } = answer;
    let mut response = http::Response::new(());
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or_default();
    let headers = response.headers_mut();
    if let Some(id) = apns_id {
        headers.insert(APNS_ID, id);
    }
    if let Some(unique) = apns_unique_id {
        headers.insert(APNS_UNIQUE_ID, unique);
    }
    if json.is_some() {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let json = json.filter(|_| !head_only);
    let sent = match json {
        None => respond.send_response(response, true).map(drop),
        Some(json) => respond
            .send_response(response, false)
            .and_then(|mut stream| stream.send_data(Bytes::from(json), true)),
    };
    if let Err(e) = sent {
        let stream_id = respond.stream_id().as_u32();
        tracing::debug!(connection = conn.id, stream_id, "could not answer: {e}");
    }
}

/// Closes the connection without GOAWAY, the stream unanswered.
async fn close(why: String, respond: SendResponse<Bytes>, conn: &Connection) {
    conn.close(why);
    // Hold the stream until the connection is gone: dropping it sooner makes h2 send
    // RST_STREAM(CANCEL), which could reach the client ahead of the bare close.
    conn.ended().await;
    drop(respond);
}

/// Keeps the stream open, unanswered, until the connection or the server ends.
async fn stall(mut respond: SendResponse<Bytes>, conn: &Connection, shared: &Shared) {
    let mut stop = shared.stop_signal();
    let connection_gone = tokio::select! {
        () = conn.ended() => true,
        () = stop.stopped() => false,
    };
    if !connection_gone {
        shared.metrics.stream_reset(ErrorCode::RefusedStream);
    }
    respond.send_reset(ErrorCode::RefusedStream.to_h2());
}

/// A header value unique to one answer (an id), marked so HPACK sends it as a literal that is
/// never indexed (RFC 7541 §6.2.3). Indexing it would only evict useful entries from the
/// client's table and ours, and h2 searched every indexed id before adding each new one: a
/// measurable cost per push. A never-indexed name stays out of the table too, so that search
/// never starts. Clients read the same header either way.
fn unique_value(text: &str) -> Option<HeaderValue> {
    let mut value = HeaderValue::from_str(text).ok()?;
    value.set_sensitive(true);
    Some(value)
}

const APNS_ID: HeaderName = HeaderName::from_static("apns-id");
const APNS_UNIQUE_ID: HeaderName = HeaderName::from_static("apns-unique-id");

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

/// A body as read so far: at most `limit + 1` bytes are kept, so a 100 MB body costs 4 KB of
/// memory, not 100 MB.
///
/// The usual push body arrives in one DATA frame; it is kept as it came, and bytes are copied
/// only once a second frame arrives.
struct Collected {
    single: Option<Bytes>,
    buf: BytesMut,
    limit: usize,
}

impl Collected {
    fn new(limit: usize) -> Self {
        Self {
            single: None,
            buf: BytesMut::new(),
            limit,
        }
    }

    /// Adds a chunk; `Some` once the body is over the limit (the rest is not read).
    fn add(&mut self, chunk: Bytes) -> Option<Body> {
        let limit = self.limit;
        if self.single.is_none() && self.buf.is_empty() && chunk.len() <= limit {
            self.single = Some(chunk);
            return None;
        }
        if let Some(first) = self.single.take() {
            self.buf.extend_from_slice(&first);
        }
        if self.buf.len() + chunk.len() > limit {
            let room = limit + 1 - self.buf.len();
            self.buf.extend_from_slice(&chunk[..room.min(chunk.len())]);
            return Some(Body {
                bytes: std::mem::take(&mut self.buf).freeze(),
                too_large: true,
            });
        }
        self.buf.extend_from_slice(&chunk);
        None
    }

    fn whole(self) -> Body {
        Body {
            bytes: self.single.unwrap_or_else(|| self.buf.freeze()),
            too_large: false,
        }
    }
}

/// What of a body h2 had already read when it handed the request over.
enum BodyNow {
    /// All of it (or all the mock reads: the limit was passed).
    Whole(Body),
    /// Some or none of it: the rest is still to come.
    Partly(Collected),
    /// The client reset the stream.
    Reset,
}

/// Takes what h2 already holds of a body, without waiting. The waker is a no-op: if the body
/// is not all here, the stream's task polls it again with its own.
fn body_now(body: &mut RecvStream, limit: usize) -> BodyNow {
    let mut collected = Collected::new(limit);
    let mut cx = Context::from_waker(Waker::noop());
    while !body.is_end_stream() {
        match body.poll_data(&mut cx) {
            Poll::Pending => return BodyNow::Partly(collected),
            Poll::Ready(None) => break,
            Poll::Ready(Some(Err(_))) => return BodyNow::Reset,
            Poll::Ready(Some(Ok(chunk))) => {
                let _ = body.flow_control().release_capacity(chunk.len());
                if let Some(over) = collected.add(chunk) {
                    return BodyNow::Whole(over);
                }
            }
        }
    }
    BodyNow::Whole(collected.whole())
}

/// Reads the rest of a body, releasing flow-control capacity as it goes, and stops as soon as
/// the limit is passed.
async fn read_body(mut body: RecvStream, mut collected: Collected) -> Result<Body, h2::Error> {
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        if let Some(over) = collected.add(chunk) {
            return Ok(over);
        }
    }
    Ok(collected.whole())
}

/// Notes on accepted pushes whose treatment by Apple is undocumented, so the record shows the
/// mock's choice (`docs/apns.md`, "Unconfirmed").
fn acceptance_note(json: bool, payload: &str, token: Option<&ProviderToken>) -> Option<Box<str>> {
    let payload_note = if !json {
        Some("accepted, but the payload is not JSON; Apple does not document its answer")
    } else if !payload.trim_start().starts_with('{') {
        Some("accepted, but the payload is not a JSON dictionary as Apple requires")
    } else {
        None
    };
    // JWT says unpadded base64url; APNs takes standard base64 and padding too (docs/apns.md §5).
    let token_note = token.filter(|t| !t.form.is_base64url()).map(|t| {
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
