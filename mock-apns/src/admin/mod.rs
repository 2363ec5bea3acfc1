//! The admin API: HTTP/1.1 + JSON on its own port, for tests and tools in any language, and
//! [`Client`], its typed Rust client.
//!
//! | Route | Does |
//! |---|---|
//! | `GET /` | the web UI, a live push inbox (`ui/`) |
//! | `GET /api/v1/health` | liveness and where the APNs endpoint is |
//! | `GET /api/v1/pushes` | a page of the record (`after`, `limit`), filtered by `device_token`, `topic`, `push_type`, `status`, `reason`, `lint` (a rule id, or `any`), `phone`, `delivery`; `next_after` names the next page |
//! | `GET /api/v1/pushes/wait?count=N&timeout_ms=T` | long-poll: answers once N matching pushes exist (after `after`), `408` with what exists on timeout; a page too |
//! | `GET /api/v1/pushes/{id}` | one record |
//! | `GET /api/v1/inbox?limit=N&before=ID` | a page of the record, newest first, with `q` (payload text) and `outcome` besides the filters |
//! | `GET /api/v1/events` | every new push as a Server-Sent Event; `Last-Event-ID` or `?after=ID` resumes |
//! | `GET /api/v1/reasons`, `GET /api/v1/push_types` | Apple's reasons (status, explanation) and push types (topic suffix, payload limit) |
//! | `DELETE /api/v1/pushes` | forgets the record |
//! | `GET /api/v1/devices` | registered tokens |
//! | `PUT /api/v1/devices/{token}` | registers a token: `{"topic": "...", "environment": "development"}` |
//! | `DELETE /api/v1/devices/{token}?timestamp=MS` | marks a token unregistered: later pushes get 410 |
//! | `GET /api/v1/clock`, `POST /api/v1/clock` | reads or advances the mock's clock: `{"advance_ms": N}` |
//! | `GET /api/v1/connections` | every connection: peer, ALPN, SNI, first `:authority`, CONNECT target, auth, pushes, stream limit, how it closed |
//! | `POST /api/v1/faults` | mounts a fault rule (see the README's "Testing failure") |
//! | `GET /api/v1/faults`, `GET /api/v1/faults/{id}` | mounted rules with their hit counts |
//! | `DELETE /api/v1/faults/{id}`, `DELETE /api/v1/faults` | unmounts one rule, or all |
//! | `POST /api/v1/connections/{id}/goaway` | sends GOAWAY: `{"reason":"Shutdown","error_code":"NO_ERROR"}` |
//! | `GET /api/v1/pushes/{id}/apns` | the push as the iOS Simulator's `.apns` file (VoIP: `422`) |
//! | `GET /api/v1/phones` | every virtual phone with its calls and timeline |
//! | `PUT /api/v1/phones/{name}` | creates a phone or changes it: `{"tokens": [...], "online": true, "app_installed": true}` |
//! | `PATCH /api/v1/phones/{name}` | changes an existing phone (same body) |
//! | `GET /api/v1/phones/{name}`, `DELETE /api/v1/phones/{name}` | one phone and its timeline; forgets it |
//! | `GET /api/v1/phones/{name}/wait?ringing=true&call=ID&timeout_ms=T` | long-poll: once it rings (or, `ringing=false`, once nothing rings; or, `delivery=STATUS&reason=R`, once its latest push has that fate); `408` on timeout |
//! | `POST /api/v1/phones/{name}/answer`, `…/decline` | the user answers or declines: `{"call": "42"}` (default: the call ringing longest) |
//! | `POST /api/v1/phones/{name}/reset` | forgets PushKit violations; VoIP pushes are delivered again |
//! | `GET /api/v1/lint` | the lint mode, and each rule with its explanation, source and count |
//! | `GET /metrics` | Prometheus metrics (text format 0.0.4; the README lists them) |
//!
//! Every request first passes the guard (`guard.rs`): no other web site, and no DNS name
//! rebound to loopback, can drive or read the mock through a browser.

mod client;
mod devices;
mod event_stream;
mod events;
pub(crate) mod guard;
mod inbox;
mod metrics;
mod phones;
mod plumbing;
mod pushes;
mod ui;

/// The typed admin client: `mock_apns::admin::Client`.
pub use client::Client;
pub use client::{ClientError, ClockReading, GoAwaySent, Health, PushPage, PushQuery, Response};
pub use event_stream::{Event, EventStream};

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::shared::StopSignal;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use self::devices::{register, unregister};
use self::phones::{CallChoice, Gesture};
use self::plumbing::{error, ok, parse_query, read_body, read_json, reply, Reply};
use self::pushes::{list, simulator_file, wait};
use crate::lint::LintReport;
use crate::phones::PhoneSpec;
use crate::record::devices::Device;
use crate::server::connection_state::{Connection, GoAway};
use crate::server::listener::{Accepted, Listener};
use crate::shared::Shared;

/// How long a stopping mock lets an admin answer in flight finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What the admin API needs besides the shared state.
#[derive(Debug, Clone)]
pub(crate) struct AdminCtx {
    pub(crate) shared: Arc<Shared>,
    /// The APNs endpoint's URL, for `health`.
    pub(crate) apns_url: String,
    /// The request checks every route is behind.
    pub(crate) guard: guard::Guard,
    /// The CA file clients trust, if on disk, for `health` (the UI's replay command uses it).
    pub(crate) ca_path: Option<PathBuf>,
}

/// Admin API connections open at once; more are closed when accepted. Tools need a few; the
/// cap keeps a flood on this port from taking the file descriptors the APNs endpoint needs.
pub const MAX_CONNECTIONS: usize = 64;

/// Serves the admin API until `shutdown` flips to true, then lets the answers in flight
/// finish (each for at most [`SHUTDOWN_GRACE`]); every request passes the [`guard::Guard`]
/// first.
pub(crate) async fn run(listener: TcpListener, ctx: AdminCtx, shutdown: StopSignal) {
    let mut stop = shutdown.clone();
    let ctx = Arc::new(ctx);
    let mut listener = Listener::new(listener, MAX_CONNECTIONS, "admin API");
    let header_timeout = ctx.shared.config.handshake_timeout;
    // Kept, not detached: an event stream's last bytes must leave before the mock's runtime
    // ends, or the client reads a connection cut short instead of the stream's end.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            Accepted { tcp, permit, .. } = listener.accept() => {
                let ctx = ctx.clone();
                let mut shutdown = shutdown.clone();
                connections.spawn(async move {
                    let _permit = permit;
                    let service = hyper::service::service_fn(move |req| {
                        let ctx = ctx.clone();
                        async move { Ok::<_, Infallible>(dispatch(req, &ctx).await) }
                    });
                    // A connection that sends no request head in time (silent, or idle between
                    // requests) is closed, so idle sockets cannot hold the cap for ever.
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(header_timeout)
                        .serve_connection(TokioIo::new(tcp), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        () = shutdown.stopped() => {
                            // Let the answer in flight finish (event streams end on the same
                            // signal, cleanly), for a while: a long-poll does not watch it.
                            conn.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn).await;
                        }
                    }
                });
            }
            // Reaps finished connections, so the set holds only open ones.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            () = stop.stopped() => break,
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// The browser guard, then the route.
async fn dispatch(req: Request<Incoming>, ctx: &AdminCtx) -> Reply {
    if let Err(refused) = ctx.guard.check(req.method(), req.headers()) {
        return error(refused.status, refused.message);
    }
    route(req, ctx).await
}

async fn route(req: Request<Incoming>, ctx: &AdminCtx) -> Reply {
    let path = req.uri().path().to_owned();
    let query = parse_query(req.uri().query().unwrap_or(""));
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let shared = &ctx.shared;
    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["metrics"]) => metrics::scrape(shared),
        (Method::GET, ["api", "v1", "health"]) => ok(json!({
            "status": "ok",
            "apns_url": ctx.apns_url,
            "ca_path": ctx.ca_path,
            "environment": shared.config.environment,
            "records_dropped": shared.recorder.dropped(),
            "lint": shared.config.lint,
            "call_id_pointers": shared.config.phones.call_id_pointers,
        })),
        (Method::GET, ["api", "v1", "pushes"]) => list(&query, shared),
        (Method::GET, ["api", "v1", "events"]) => events::stream(&query, req.headers(), shared),
        (Method::GET, ["api", "v1", "pushes", "wait"]) => wait(&query, shared).await,
        (Method::GET, ["api", "v1", "pushes", id, "apns"]) => simulator_file(id, shared),
        (Method::GET, ["api", "v1", "lint"]) => ok(json!(LintReport::of(&shared.lint))),
        (Method::GET, ["api", "v1", "phones"]) => phones::list(shared),
        (Method::GET, ["api", "v1", "phones", name]) => phones::get(name, shared),
        (method @ (Method::PUT | Method::PATCH), ["api", "v1", "phones", name]) => {
            let name = (*name).to_owned();
            match read_json::<PhoneSpec>(req).await {
                Ok(spec) => phones::put(&name, spec, method == Method::PUT, shared),
                Err(e) => error(StatusCode::BAD_REQUEST, e),
            }
        }
        (Method::DELETE, ["api", "v1", "phones", name]) => phones::remove(name, shared),
        (Method::GET, ["api", "v1", "phones", name, "wait"]) => {
            phones::wait(name, &query, shared).await
        }
        (Method::POST, ["api", "v1", "phones", name, action @ ("answer" | "decline")]) => {
            let name = (*name).to_owned();
            let gesture = match *action {
                "answer" => Gesture::Answer,
                _ => Gesture::Decline,
            };
            match read_json::<CallChoice>(req).await {
                Ok(choice) => phones::gesture(&name, gesture, choice, shared),
                Err(e) => error(StatusCode::BAD_REQUEST, e),
            }
        }
        (Method::POST, ["api", "v1", "phones", name, "reset"]) => {
            let name = (*name).to_owned();
            match read_json::<serde_json::Map<String, serde_json::Value>>(req).await {
                Ok(body) if body.is_empty() => phones::reset(&name, shared),
                Ok(_) => error(StatusCode::BAD_REQUEST, "reset takes an empty JSON object"),
                Err(e) => error(StatusCode::BAD_REQUEST, e),
            }
        }
        (Method::GET, ["api", "v1", "pushes", id]) => inbox::one(id, shared),
        (Method::GET, ["api", "v1", "inbox"]) => inbox::page(&query, shared),
        (Method::GET, ["api", "v1", "reasons"]) => inbox::reasons(),
        (Method::GET, ["api", "v1", "push_types"]) => inbox::push_types(),
        (Method::DELETE, ["api", "v1", "pushes"]) => {
            shared.recorder.clear();
            ok(json!({"cleared": true}))
        }
        (Method::GET, ["api", "v1", "devices"]) => {
            let devices: serde_json::Map<_, _> = shared
                .devices
                .list()
                .into_iter()
                .map(|(t, d)| (t, serde_json::to_value(d).unwrap_or_default()))
                .collect();
            ok(json!({ "devices": devices }))
        }
        (Method::PUT, ["api", "v1", "devices", token]) => {
            let token = (*token).to_owned();
            match read_json::<Device>(req).await {
                Ok(device) => register(&token, device, shared),
                Err(e) => error(StatusCode::BAD_REQUEST, e),
            }
        }
        (Method::DELETE, ["api", "v1", "devices", token]) => unregister(token, &query, shared),
        (Method::GET, ["api", "v1", "clock"]) => ok(clock_json(shared)),
        (Method::POST, ["api", "v1", "clock"]) => match read_json::<AdvanceClock>(req).await {
            Ok(advance) => match shared
                .clock
                .try_advance(Duration::from_millis(advance.advance_ms))
            {
                Ok(()) => ok(clock_json(shared)),
                Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
            },
            Err(e) => error(StatusCode::BAD_REQUEST, e),
        },
        (Method::GET, ["api", "v1", "connections"]) => {
            let all: Vec<_> = shared
                .connections
                .all()
                .iter()
                .map(|c| c.summary())
                .collect();
            ok(json!({ "connections": all }))
        }
        (Method::GET, ["api", "v1", "connections", id]) => match connection(shared, id) {
            Ok(conn) => ok(json!(conn.summary())),
            Err(reply) => *reply,
        },
        (Method::POST, ["api", "v1", "connections", id, "goaway"]) => {
            let conn = match connection(shared, id) {
                Ok(conn) => conn,
                Err(reply) => return *reply,
            };
            let goaway = match read_json::<GoAway>(req).await {
                Ok(goaway) => goaway,
                Err(e) => return error(StatusCode::BAD_REQUEST, e),
            };
            // Answer once the frame is queued, so the connection list already shows it.
            let why = "requested through the admin API";
            match conn.go_away_queued(goaway.clone(), why).await {
                Some(last) => ok(json!({
                    "connection_id": conn.id,
                    "goaway": goaway,
                    "last_stream_id": last,
                })),
                None => error(
                    StatusCode::CONFLICT,
                    format!("connection {} is closed", conn.id),
                ),
            }
        }
        (Method::POST, ["api", "v1", "faults"]) => {
            let body = match read_body(req).await {
                Ok(body) => body,
                Err(e) => return error(StatusCode::BAD_REQUEST, e),
            };
            match crate::faults::parse_rule(&body).and_then(|spec| shared.faults.add(spec)) {
                Ok(rule) => reply(StatusCode::CREATED, json!(rule.summary())),
                Err(e) => error(StatusCode::BAD_REQUEST, format!("fault rule: {e}")),
            }
        }
        (Method::GET, ["api", "v1", "faults"]) => {
            let rules: Vec<_> = shared.faults.list().iter().map(|r| r.summary()).collect();
            ok(json!({ "faults": rules }))
        }
        (Method::DELETE, ["api", "v1", "faults"]) => {
            let n = shared.faults.list().len();
            shared.faults.clear();
            ok(json!({ "deleted": n }))
        }
        (method @ (Method::GET | Method::DELETE), ["api", "v1", "faults", id]) => {
            let Some(rule) = id.parse().ok().and_then(|id| shared.faults.get(id)) else {
                return error(StatusCode::NOT_FOUND, format!("no fault rule {id}"));
            };
            if method == Method::DELETE {
                shared.faults.remove(rule.id);
            }
            ok(json!(rule.summary()))
        }
        (_, ["api", "v1", ..]) => error(
            StatusCode::NOT_FOUND,
            format!(
                "no route {} {path}; see the README's \"Admin API\" section",
                req.method()
            ),
        ),
        (Method::GET | Method::HEAD, _) => ui::asset(&path).unwrap_or_else(|| ui::not_found(&path)),
        _ => error(
            StatusCode::NOT_FOUND,
            format!("no route {path}; the admin API is under /api/v1/, metrics at /metrics"),
        ),
    }
}

/// The connection named in the path, or the error answer (boxed: responses are large).
fn connection(shared: &Shared, id: &str) -> Result<Arc<Connection>, Box<Reply>> {
    let Ok(n) = id.parse::<u64>() else {
        let message = format!("{id:?} is not a connection id");
        return Err(Box::new(error(StatusCode::BAD_REQUEST, message)));
    };
    let missing = || Box::new(error(StatusCode::NOT_FOUND, format!("no connection {n}")));
    shared.connections.get(n).ok_or_else(missing)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClock {
    advance_ms: u64,
}

fn clock_json(shared: &Shared) -> serde_json::Value {
    json!({ "now_ms": shared.clock.now_ms(), "offset_ms": shared.clock.offset().as_millis() as u64 })
}
