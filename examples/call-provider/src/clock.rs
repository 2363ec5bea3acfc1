//! Where "now" comes from when a provider token is minted.
//!
//! In production that is the system clock. Tests against mock-apns may move the mock's clock
//! an hour ahead to age our token; a token minted on the system clock would then look an hour
//! old to the mock even when brand new. `APNS_CLOCK_URL` points at the mock's
//! `GET /api/v1/clock` (`{"now_ms": …}`) so freshly minted tokens are fresh on its clock too.
//! It is read only when a token is minted (about once an hour), never per push.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A source of the current time in seconds since the Unix epoch.
#[derive(Debug, Clone)]
pub(crate) enum Clock {
    /// The system clock.
    System,
    /// A clock served over HTTP/1.1 as JSON `{"now_ms": N}`.
    Remote(http::Uri),
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub(crate) async fn now_secs(&self) -> anyhow::Result<u64> {
        match self {
            Clock::System => Ok(SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .context("the system clock is before 1970")?
                .as_secs()),
            Clock::Remote(url) => Ok(fetch_now_ms(url)
                .await
                .with_context(|| format!("reading the clock at {url}"))?
                / 1000),
        }
    }
}

async fn fetch_now_ms(url: &http::Uri) -> anyhow::Result<u64> {
    let host = url.host().context("no host")?;
    let port = url.port_u16().unwrap_or(80);
    let tcp = TcpStream::connect((host, port)).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(conn);
    let request = http::Request::get(url.path_and_query().map_or("/", |p| p.as_str()))
        .header(http::header::HOST, format!("{host}:{port}"))
        .body(Empty::<Bytes>::new())?;
    let response = sender.send_request(request).await?;
    anyhow::ensure!(
        response.status().is_success(),
        "answered {}",
        response.status()
    );
    let body = response.into_body().collect().await?.to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    json.get("now_ms")
        .and_then(serde_json::Value::as_u64)
        .context("no numeric \"now_ms\" in the answer")
}
