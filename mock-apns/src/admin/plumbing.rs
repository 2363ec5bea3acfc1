//! HTTP plumbing for the admin API: JSON answers, bounded bodies, query strings.

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use std::convert::Infallible;
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use serde_json::json;

/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

/// Every admin answer: most are one buffer, a listing of the record is streamed.
pub(super) type Reply = Response<BoxBody<Bytes, Infallible>>;

pub(super) async fn read_body(req: Request<Incoming>) -> Result<Bytes, String> {
    Ok(Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| format!("reading the body: {e}"))?
        .to_bytes())
}

pub(super) async fn read_json<T: serde::de::DeserializeOwned>(
    req: Request<Incoming>,
) -> Result<T, String> {
    let body = read_body(req).await?;
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    serde_json::from_slice(&body).map_err(|e| format!("invalid JSON body: {e}"))
}

pub(super) fn query_u64(query: &[(String, String)], name: &str) -> Result<Option<u64>, String> {
    match query.iter().find(|(k, _)| k == name) {
        None => Ok(None),
        Some((_, v)) => v
            .parse()
            .map(Some)
            .map_err(|_| format!("{name} {v:?} is not a whole number")),
    }
}

/// Longest long-poll accepted, so a forgotten waiter cannot hold a connection forever.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// A long-poll's wait when `timeout_ms` is not given.
const DEFAULT_WAIT: Duration = Duration::from_secs(10);

/// A long-poll's `timeout_ms`: [`DEFAULT_WAIT`] when missing, at most [`MAX_WAIT`].
pub(super) fn wait_timeout(query: &[(String, String)]) -> Result<Duration, String> {
    let ms = query_u64(query, "timeout_ms")?;
    Ok(ms.map_or(DEFAULT_WAIT, Duration::from_millis).min(MAX_WAIT))
}

/// `a=1&b=x%20y` → pairs, percent-decoded (`+` is a space).
pub(super) fn parse_query(q: &str) -> Vec<(String, String)> {
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

pub(super) fn ok(body: serde_json::Value) -> Reply {
    reply(StatusCode::OK, body)
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    reply(status, json!({ "error": message.into() }))
}

pub(super) fn reply(status: StatusCode, body: serde_json::Value) -> Reply {
    reply_raw(status, body.to_string().into_bytes())
}

/// A JSON answer already serialized.
pub(super) fn reply_raw(status: StatusCode, body: Vec<u8>) -> Reply {
    reply_body(status, Full::new(Bytes::from(body)).boxed())
}

/// A JSON answer from any body (a streamed one).
pub(super) fn reply_body(status: StatusCode, body: BoxBody<Bytes, Infallible>) -> Reply {
    let mut response = Response::new(body);
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
}
