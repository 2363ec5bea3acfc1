//! A minimal HTTP/1.1 client for the provider and the mock's admin API, both plain `http://`
//! on loopback: one connection per request, a deadline on the whole exchange.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpError {
    /// The URL is not `http://host:port/...`.
    #[error("{0}")]
    Url(String),
    /// Connecting, sending or reading failed.
    #[error("{method} {url}: {message}")]
    Io {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// No answer before the deadline.
    #[error("{method} {url}: no answer within {timeout:?}")]
    Timeout {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// The deadline.
        timeout: Duration,
    },
}

/// An HTTP answer: status and body bytes.
#[derive(Debug, Clone)]
pub(crate) struct HttpReply {
    /// The status.
    pub(crate) status: u16,
    /// The body.
    pub(crate) body: Bytes,
}

impl HttpReply {
    /// The body as JSON, if it is JSON.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// Joins a base URL (`http://127.0.0.1:8080`, maybe with a path) and a path (`/calls`).
pub(crate) fn join(base: &str, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), path)
}

/// Sends one request; `body` is sent as `application/json`.
pub(crate) async fn request(
    method: &str,
    url: &str,
    body: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<HttpReply, HttpError> {
    let io_error = |message: String| HttpError::Io {
        method: method.to_owned(),
        url: url.to_owned(),
        message,
    };
    let uri: http::Uri = url
        .parse()
        .map_err(|e| HttpError::Url(format!("{url:?} is not a URL: {e}")))?;
    if uri.scheme_str() != Some("http") {
        return Err(HttpError::Url(format!(
            "{url:?}: only http:// URLs are supported (providers and the admin API run on loopback)"
        )));
    }
    let host = uri
        .host()
        .ok_or_else(|| HttpError::Url(format!("{url:?} has no host")))?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let exchange = async {
        let tcp = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| io_error(format!("cannot connect: {e}")))?;
        let _ = tcp.set_nodelay(true);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| io_error(e.to_string()))?;
        let conn = tokio::spawn(conn);
        let mut builder = http::Request::builder()
            .method(method)
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(http::header::HOST, format!("{host}:{port}"));
        if body.is_some() {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| io_error(e.to_string()))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| io_error(e.to_string()))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| io_error(format!("reading the answer: {e}")))?
            .to_bytes();
        conn.abort();
        Ok(HttpReply { status, body })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(HttpError::Timeout {
            method: method.to_owned(),
            url: url.to_owned(),
            timeout,
        }),
    }
}
