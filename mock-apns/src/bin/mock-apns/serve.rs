//! `mock-apns` (no subcommand): bind, print the banner, serve until Ctrl-C.

use std::time::Duration;

use anyhow::{Context as _, Result};
use mock_apns::{keys, Environment, MockApnsBuilder};

use crate::banner::print_banner;
use crate::cli::Args;
use crate::logging;
use crate::startup_error;

#[tokio::main]
pub(crate) async fn run(args: Args) -> Result<()> {
    logging::init(&args.log, args.log_format)?;
    startup_error::check_distinct_listeners(&args)?;
    let environment: Environment = args.environment.parse()?;
    let mut builder = MockApnsBuilder::default()
        .listen(args.listen.addr)
        .admin_listen(args.admin_listen.addr)
        .state_dir(&args.state_dir)
        .environment(environment)
        .strict_devices(args.strict_devices)
        .max_records(args.max_records)
        .max_concurrent_streams(args.max_concurrent_streams)
        .throttle_on_reject(args.throttle_on_reject)
        .idle_timeout((args.idle_timeout > 0).then(|| Duration::from_secs(args.idle_timeout)));
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        builder = builder.tls_files(cert, key);
    }
    if let Some(record) = &args.record {
        builder = builder.record_file(record);
    }
    if let Some(path) = &args.faults {
        let json = std::fs::read(path).with_context(|| format!("--faults {}", path.display()))?;
        let rules = mock_apns::faults::parse_rules(&json)
            .map_err(|e| anyhow::anyhow!("--faults {}: {e}", path.display()))?;
        builder = builder.faults(rules);
    }
    for arg in &args.token_keys {
        builder = builder.token_key(keys::parse_token_key_arg(arg).context("--token-key")?);
    }
    if let Some(proxy) = &args.connect_proxy {
        builder = builder.connect_proxy(proxy.addr);
    }
    let bound = builder
        .bind()
        .map_err(|e| startup_error::explain(e, &args))?;
    // Before the banner: whoever waits for it may press Ctrl-C right after.
    let interrupted = interrupt_handler()?;
    print_banner(&bound, environment, args.record.as_deref());
    bound
        .serve(async {
            interrupted.await;
            // A log event, so that with --log-format json every stderr line is JSON.
            tracing::info!("shutting down (answering streams in flight)");
        })
        .await?;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C). The handler is installed when this is called, not when the
/// future is first polled: until then SIGINT would kill the process without a graceful
/// shutdown.
#[cfg(unix)]
fn interrupt_handler() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigint = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(async move {
        sigint.recv().await;
    })
}

#[cfg(not(unix))]
fn interrupt_handler() -> Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
