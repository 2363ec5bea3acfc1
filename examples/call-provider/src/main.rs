//! call-provider: the reference app backend of a calling app, sending pushes the way Apple asks.
//!
//! It registers users' devices (a regular APNs token and a PushKit VoIP token each), rings a
//! callee's devices with VoIP pushes, sends a missed-call alert when the caller hangs up, and
//! a stop-ringing push when one device answers. Toward APNs it keeps one HTTP/2 connection,
//! reuses its provider token for 50 minutes, prunes tokens answered 410, retries 429/5xx with
//! back-off and re-sends what a GOAWAY or a lost connection left unanswered.
//!
//! Configuration is environment only (see `config.rs`): `APNS_URL`, `APNS_CA_FILE`,
//! `APNS_KEY_FILE`, `APNS_KEY_ID`, `APNS_TEAM_ID`, `APNS_TOPIC`, `PORT`, and optionally
//! `APNS_RETRY_BASE_MS`, `APNS_RETRY_ATTEMPTS`, `APNS_TIMEOUT_MS`,
//! `CALL_PROVIDER_BUG`. When ready it prints `listening on http://127.0.0.1:<port>` on stdout;
//! logs go to stderr (`RUST_LOG`, default `info`).

mod apns;
mod calls;
mod config;
mod connection;
mod jwt;
mod pushes;
mod routes;
mod store;

use std::io::{IsTerminal as _, Write as _};
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::apns::ApnsClient;
use crate::calls::App;
use crate::config::Config;
use crate::connection::Connector;
use crate::jwt::{ProviderKey, TokenCache};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Plain text when a harness captures the log for its failure reports.
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let config = Config::from_env()?;
    let app = Arc::new(build(&config)?);
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], config.port)))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", config.port))?;
    let addr = listener.local_addr()?;

    // The readiness line the harness waits for: exactly one line, flushed.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on http://{addr}")?;
    stdout.flush()?;
    drop(stdout);
    tracing::info!(
        apns = %config.apns.authority(),
        topic = %config.topic,
        bug = ?config.bug,
        "call-provider ready"
    );

    tokio::select! {
        () = serve(listener, app) => {}
        () = shutdown_signal() => tracing::info!("shutting down"),
    }
    Ok(())
}

/// Loads the key and TLS roots: a bad file fails at start, not at the first call.
fn build(config: &Config) -> anyhow::Result<App> {
    let key = ProviderKey::from_file(&config.key_file, &config.key_id, &config.team_id)?;
    let apns = ApnsClient::new(
        &config.apns,
        Connector::new(config)?,
        TokenCache::new(key),
        config.retry,
        config.request_timeout,
    );
    Ok(App::new(apns, config.topic.clone(), config.bug))
}

async fn serve(listener: TcpListener, app: Arc<App>) {
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| routes::handle(app.clone(), req));
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), service)
                .await
            {
                tracing::debug!("HTTP connection ended: {e}");
            }
        });
    }
}

/// Ctrl-C or SIGTERM (what a harness sends when it stops us).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
