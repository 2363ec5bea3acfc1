//! The provider's own HTTP API (HTTP/1.1 + JSON), what the app and the harness talk to.
//!
//! | Route | Does |
//! |---|---|
//! | `GET /health` | 200 when serving |
//! | `POST /devices` `{"user","device","apns_token"?,"voip_token"?}` | 201: registers a device |
//! | `POST /calls` `{"from","to"}` | 201 `{"call_id","deliveries"}`: rings every device of `to` |
//! | `POST /calls/{id}/cancel` | 200 `{"call_id","deliveries"}`: missed-call alert |
//! | `POST /calls/{id}/answer` `{"device"}` | 200 `{"call_id","deliveries"}`: stop ringing elsewhere |
//!
//! Errors are `{"error": "…"}` with 400 (bad body), 404 (unknown user, call or route),
//! 405 (wrong method) or 409 (call no longer ringing).

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::calls::{App, Refusal, Report};

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024;

type Reply = Response<Full<Bytes>>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegisterDevice {
    user: String,
    device: String,
    apns_token: Option<String>,
    voip_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StartCall {
    from: String,
    to: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerCall {
    device: String,
}

/// An error answer: its status and message (sent as `{"error": …}`).
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(status, message.into())
    }
}

/// Answers one request; never fails (errors become JSON answers).
pub(crate) async fn handle(app: Arc<App>, req: Request<Incoming>) -> Result<Reply, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let reply = route(&app, req, &method, &path)
        .await
        .unwrap_or_else(|ApiError(status, message)| reply(status, json!({ "error": message })));
    tracing::info!(%method, path, status = reply.status().as_u16(), "answered");
    Ok(reply)
}

async fn route(
    app: &Arc<App>,
    req: Request<Incoming>,
    method: &Method,
    path: &str,
) -> Result<Reply, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        (&Method::GET, ["health"]) => Ok(reply(StatusCode::OK, json!({"status": "ok"}))),
        (&Method::POST, ["devices"]) => register(app, read_json(req).await?),
        (&Method::POST, ["calls"]) => {
            let body: StartCall = read_json(req).await?;
            answer(StatusCode::CREATED, app.call(&body.from, &body.to).await)
        }
        (&Method::POST, ["calls", id, "cancel"]) => {
            let id = parse_id(id)?;
            answer(StatusCode::OK, app.cancel(id).await)
        }
        (&Method::POST, ["calls", id, "answer"]) => {
            let id = parse_id(id)?;
            let body: AnswerCall = read_json(req).await?;
            answer(StatusCode::OK, app.answer(id, &body.device).await)
        }
        (_, ["health"] | ["devices"] | ["calls"] | ["calls", _, "cancel" | "answer"]) => {
            Err(ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed on {path}"),
            ))
        }
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no route {method} {path}"),
        )),
    }
}

fn register(app: &App, body: RegisterDevice) -> Result<Reply, ApiError> {
    let RegisterDevice {
        user,
        device,
        apns_token,
        voip_token,
    } = body;
    if user.is_empty() || device.is_empty() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "user and device must not be empty",
        ));
    }
    if apns_token.is_none() && voip_token.is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "a device needs an apns_token, a voip_token, or both",
        ));
    }
    // Apple: tokens are hex of variable length; do not assume a size.
    for token in apns_token.iter().chain(&voip_token) {
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("token {token:?} is not hexadecimal"),
            ));
        }
    }
    app.store
        .register(&user, &device, apns_token.clone(), voip_token.clone());
    Ok(reply(
        StatusCode::CREATED,
        json!({"user": user, "device": device, "apns_token": apns_token, "voip_token": voip_token}),
    ))
}

fn answer(ok: StatusCode, report: Result<Report, Refusal>) -> Result<Reply, ApiError> {
    let report = report.map_err(|refusal| match refusal {
        Refusal::UnknownUser(user) => ApiError::new(
            StatusCode::NOT_FOUND,
            format!("user {user:?} has no registered device"),
        ),
        Refusal::UnknownCall => ApiError::new(StatusCode::NOT_FOUND, "no such call"),
        Refusal::NotRinging(state) => ApiError::new(
            StatusCode::CONFLICT,
            format!("the call is no longer ringing ({state:?})"),
        ),
        Refusal::UnknownDevice(device) => ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("device {device:?} is not one of the callee's devices"),
        ),
    })?;
    Ok(reply(ok, json!(report)))
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "no such call"))
}

async fn read_json<T: DeserializeOwned>(req: Request<Incoming>) -> Result<T, ApiError> {
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("reading the body: {e}")))?
        .to_bytes();
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
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
