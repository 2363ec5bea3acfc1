//! A tiny client for the admin API: hyper's HTTP/1.1 client, one connection per request, JSON in
//! and out.

use anyhow::{anyhow, Context as _};
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;

use super::PATIENCE;

/// The admin API of one mock, e.g. `http://127.0.0.1:40123`.
#[derive(Debug, Clone)]
pub(crate) struct Admin {
    /// `host:port`.
    authority: String,
}

impl Admin {
    /// A client for the admin API at `base` (`http://host:port`, any trailing path ignored).
    pub(crate) fn new(base: &str) -> Self {
        let authority = base
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        Self { authority }
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub(crate) async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }

    /// Like [`Self::get`] without the [`PATIENCE`] bound, for long-polls that set their own.
    pub(crate) async fn get_unbounded(&self, path: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, None)
            .await
            .unwrap_or_else(|e| panic!("admin GET {path}: {e:#}"))
    }

    /// One request; panics (failing the test) when the admin API cannot be reached in time
    /// or does not answer JSON.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let what = format!("admin {method} {path}");
        match tokio::time::timeout(PATIENCE, self.request(method, path, body)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => panic!("{what}: {e:#}"),
            Err(_) => panic!("{what}: no answer within {PATIENCE:?}"),
        }
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let tcp = TcpStream::connect(&self.authority)
            .await
            .with_context(|| format!("connecting to {}", self.authority))?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(tcp)).await?;
        tokio::spawn(connection);
        let mut request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, &self.authority);
        let body = match body {
            Some(json) => {
                request = request.header(http::header::CONTENT_TYPE, "application/json");
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        let response = sender.send_request(request.body(Full::new(body))?).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        let json = serde_json::from_slice(&bytes).map_err(|e| {
            anyhow!(
                "answer {status} is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        })?;
        Ok((status, json))
    }
}
