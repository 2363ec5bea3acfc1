//! The admin API: HTTP/1.1 + JSON on its own port, for tests and tools in any language.
//!
//! | Route | Does |
//! |---|---|
//! | `GET /api/v1/health` | liveness and where the APNs endpoint is |
//! | `GET /api/v1/pushes` | the record, filtered by `device_token`, `topic`, `push_type`, `status`, `reason` |
//! | `GET /api/v1/pushes/wait?count=N&timeout_ms=T` | long-poll: answers once N matching pushes exist, `408` with what exists on timeout |
//! | `DELETE /api/v1/pushes` | forgets the record |
//! | `GET /api/v1/devices` | registered tokens |
//! | `PUT /api/v1/devices/{token}` | registers a token: `{"topic": "...", "environment": "development"}` |
//! | `DELETE /api/v1/devices/{token}?timestamp=MS` | marks a token unregistered: later pushes get 410 |
//! | `GET /api/v1/clock`, `POST /api/v1/clock` | reads or advances the mock's clock: `{"advance_ms": N}` |
//! | `GET /api/v1/connections` | every connection: peer, ALPN, auth, pushes, stream limit, how it closed |
//! | `POST /api/v1/faults` | mounts a fault rule (see the README's "Testing failure") |
//! | `GET /api/v1/faults`, `GET /api/v1/faults/{id}` | mounted rules with their hit counts |
//! | `DELETE /api/v1/faults/{id}`, `DELETE /api/v1/faults` | unmounts one rule, or all |
//! | `POST /api/v1/connections/{id}/goaway` | sends GOAWAY: `{"reason":"Shutdown","error_code":"NO_ERROR"}` |

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::connections::{Connection, GoAway};
use crate::devices::Device;
use crate::state::Shared;
use crate::{Notification, Reason};

/// Longest long-poll accepted, so a forgotten waiter cannot hold a connection forever.
const MAX_WAIT: Duration = Duration::from_secs(300);
const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

type Reply = Response<Full<Bytes>>;

/// What the admin API needs besides the shared state.
#[derive(Debug, Clone)]
pub(crate) struct AdminCtx {
    pub(crate) shared: Arc<Shared>,
    /// The APNs endpoint's URL, for `health`.
    pub(crate) apns_url: String,
}

/// Serves the admin API until `shutdown` flips to true.
pub(crate) async fn run(listener: TcpListener, ctx: AdminCtx, shutdown: watch::Receiver<bool>) {
    let mut stop = shutdown.clone();
    let ctx = Arc::new(ctx);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let ctx = ctx.clone();
                let mut shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let ctx = ctx.clone();
                        async move { Ok::<_, Infallible>(route(req, &ctx).await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        () = crate::server::stopped(&mut shutdown) => conn.as_mut().graceful_shutdown(),
                    }
                });
            }
            () = crate::server::stopped(&mut stop) => break,
        }
    }
}

async fn route(req: Request<Incoming>, ctx: &AdminCtx) -> Reply {
    let path = req.uri().path().to_owned();
    let query = parse_query(req.uri().query().unwrap_or(""));
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let shared = &ctx.shared;
    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["api", "v1", "health"]) => ok(json!({
            "status": "ok",
            "apns_url": ctx.apns_url,
            "environment": shared.config.environment,
            "records_dropped": shared.recorder.dropped(),
        })),
        (Method::GET, ["api", "v1", "pushes"]) => match PushFilter::from_query(&query, &[]) {
            Ok(filter) => ok(pushes_json(&shared.recorder.all(), &filter)),
            Err(e) => error(StatusCode::BAD_REQUEST, e),
        },
        (Method::GET, ["api", "v1", "pushes", "wait"]) => wait(&query, shared).await,
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
            Ok(advance) => {
                shared
                    .clock
                    .advance(Duration::from_millis(advance.advance_ms));
                ok(clock_json(shared))
            }
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
            match read_json::<GoAway>(req).await {
                Ok(goaway) if conn.go_away(goaway.clone(), "requested through the admin API") => {
                    ok(json!({ "connection_id": conn.id, "goaway": goaway }))
                }
                Ok(_) => error(
                    StatusCode::CONFLICT,
                    format!("connection {} is closed", conn.id),
                ),
                Err(e) => error(StatusCode::BAD_REQUEST, e),
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
        _ => error(
            StatusCode::NOT_FOUND,
            format!("no route {path}; the admin API is under /api/v1/"),
        ),
    }
}

async fn wait(query: &[(String, String)], shared: &Shared) -> Reply {
    let filter = match PushFilter::from_query(query, &["count", "timeout_ms"]) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let count = match query_u64(query, "count") {
        Ok(n) => n.unwrap_or(1) as usize,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let timeout = match query_u64(query, "timeout_ms") {
        Ok(ms) => ms.map_or(DEFAULT_WAIT, Duration::from_millis).min(MAX_WAIT),
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let (found, complete) = shared
        .recorder
        .wait_for(count, timeout, |n| filter.matches(n))
        .await;
    let mut body = pushes_json(&found, &PushFilter::default());
    if !complete {
        body["error"] = json!(format!(
            "timed out after {} ms with {} of {count} pushes",
            timeout.as_millis(),
            found.len()
        ));
        return reply(StatusCode::REQUEST_TIMEOUT, body);
    }
    ok(body)
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

fn register(token: &str, device: Device, shared: &Shared) -> Reply {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) || token.len() % 2 != 0 {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{token:?} is not a hex device token"),
        );
    }
    shared.devices.register(token, device.clone());
    ok(json!({ "device_token": token.to_ascii_lowercase(), "device": device }))
}

fn unregister(token: &str, query: &[(String, String)], shared: &Shared) -> Reply {
    if let Some((k, _)) = query.iter().find(|(k, _)| k != "timestamp") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown query parameter {k:?} (expected timestamp)"),
        );
    }
    let timestamp = match query_u64(query, "timestamp") {
        Ok(ts) => ts.unwrap_or_else(|| shared.clock.now_ms()),
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    shared.devices.unregister(token, timestamp);
    ok(json!({ "device_token": token.to_ascii_lowercase(), "unregistered_at": timestamp }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceClock {
    advance_ms: u64,
}

fn clock_json(shared: &Shared) -> serde_json::Value {
    json!({ "now_ms": shared.clock.now_ms(), "offset_ms": shared.clock.offset().as_millis() as u64 })
}

/// Filters for listing and waiting; every field must match when set.
#[derive(Debug, Default)]
pub(crate) struct PushFilter {
    device_token: Option<String>,
    topic: Option<String>,
    push_type: Option<String>,
    status: Option<u16>,
    reason: Option<Reason>,
}

impl PushFilter {
    fn from_query(query: &[(String, String)], also_allowed: &[&str]) -> Result<Self, String> {
        let mut f = PushFilter::default();
        for (k, v) in query {
            match k.as_str() {
                "device_token" => f.device_token = Some(v.to_ascii_lowercase()),
                "topic" => f.topic = Some(v.clone()),
                "push_type" => f.push_type = Some(v.clone()),
                "status" => {
                    f.status = Some(v.parse().map_err(|_| format!("status {v:?} is not a number"))?)
                }
                "reason" => f.reason = Some(v.parse().map_err(|e| format!("{e}"))?),
                k if also_allowed.contains(&k) => {}
                k => {
                    return Err(format!(
                        "unknown query parameter {k:?} (filters: device_token, topic, push_type, status, reason)"
                    ))
                }
            }
        }
        Ok(f)
    }

    fn matches(&self, n: &Notification) -> bool {
        self.device_token.as_deref().is_none_or(|t| {
            n.device_token
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(t))
        }) && self.topic.as_deref().is_none_or(|t| n.topic() == Some(t))
            && self
                .push_type
                .as_deref()
                .is_none_or(|t| n.header("apns-push-type") == Some(t))
            && self.status.is_none_or(|s| n.status == s)
            && self.reason.is_none_or(|r| n.reason == Some(r))
    }
}

fn pushes_json(all: &[Arc<Notification>], filter: &PushFilter) -> serde_json::Value {
    let pushes: Vec<_> = all
        .iter()
        .filter(|n| filter.matches(n))
        .map(|n| &**n)
        .collect();
    json!({ "pushes": pushes })
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, String> {
    Ok(Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes())
}

async fn read_json<T: serde::de::DeserializeOwned>(req: Request<Incoming>) -> Result<T, String> {
    let body = read_body(req).await?;
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    serde_json::from_slice(&body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn query_u64(query: &[(String, String)], name: &str) -> Result<Option<u64>, String> {
    match query.iter().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} {v:?} is not a whole number")),
    }
}

/// `a=1&b=x%20y` → pairs, percent-decoded (`+` is a space).
fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push(hi << 4 | lo);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn ok(body: serde_json::Value) -> Reply {
    reply(StatusCode::OK, body)
}

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    reply(status, json!({ "error": message.into() }))
}

fn reply(status: StatusCode, body: serde_json::Value) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_pairs_are_percent_decoded() {
        assert_eq!(
            parse_query("topic=com.a%2Evoip&x=a+b&bad=%zz&end=%4&u=%éé"),
            vec![
                ("topic".into(), "com.a.voip".into()),
                ("x".into(), "a b".into()),
                ("bad".into(), "%zz".into()),
                ("end".into(), "%4".into()),
                ("u".into(), "%éé".into()),
            ]
        );
    }

    #[test]
    fn unknown_filters_are_named() {
        let q = parse_query("colour=red");
        let err = PushFilter::from_query(&q, &[]).unwrap_err();
        assert!(err.contains("\"colour\""), "{err}");
    }
}
