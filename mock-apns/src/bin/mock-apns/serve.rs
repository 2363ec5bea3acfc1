//! `mock-apns` (no subcommand): bind, print the banner, serve until Ctrl-C or SIGTERM, then
//! shut down gracefully within `--shutdown-timeout`; a second signal exits at once.

use std::time::Duration;

use anyhow::{Context as _, Result};
use mock_apns::{keys, Environment, LintMode, MockApnsBuilder};

use crate::banner::print_banner;
use crate::cli::Args;
use crate::logging;
use crate::open_files::fit_max_connections;
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
        .idle_timeout((args.idle_timeout > 0).then(|| Duration::from_secs(args.idle_timeout)))
        .lint(args.lint.parse::<LintMode>().map_err(anyhow::Error::msg)?)
        .ring_timeout((args.ring_timeout > 0).then(|| Duration::from_secs(args.ring_timeout)))
        .voip_violation_limit(args.voip_violation_limit)
        .handshake_timeout(Duration::from_secs(args.handshake_timeout))
        .shutdown_timeout(Duration::from_secs(args.shutdown_timeout));
    if !args.call_id_pointers.is_empty() {
        builder = builder.call_id_pointers(args.call_id_pointers.iter().cloned());
    }
    let max_connections = fit_max_connections(args.max_connections, args.connect_proxy.is_some());
    builder = builder.max_connections(usize::try_from(max_connections).unwrap_or(usize::MAX));
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
    for host in &args.admin_allow_hosts {
        builder = builder.admin_allow_host(host);
    }
    if let Some(proxy) = &args.connect_proxy {
        builder = builder.connect_proxy(proxy.addr);
    }
    let bound = builder
        .bind()
        .map_err(|e| startup_error::explain(e, &args))?;
    // Before the banner: whoever waits for it may send a signal right after.
    let mut stop = stop_signals()?;
    // Before the banner, so it is the first thing anyone watching stderr sees.
    if let Some(warning) = bound.admin_exposure_warning() {
        eprintln!("mock-apns: {warning}");
    }
    print_banner(&bound, environment, args.record.as_deref());
    let grace = args.shutdown_timeout;
    bound
        .serve(async move {
            let signal = stop.first().await;
            // A log event, so that with --log-format json every stderr line is JSON.
            tracing::info!(
                "{signal}: shutting down (answering streams in flight, for at most {grace} s; \
                 a second Ctrl-C or SIGTERM exits at once)"
            );
            stop.exit_on_second();
        })
        .await?;
    Ok(())
}

/// SIGINT (Ctrl-C) and SIGTERM (how Docker, systemd and CI runners stop a program). Their
/// handlers are installed when this is called, not when a future is first polled: until then
/// a signal would kill the process without a graceful shutdown.
#[cfg(unix)]
struct StopSignals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
fn stop_signals() -> Result<StopSignals> {
    use tokio::signal::unix::{signal, SignalKind};
    Ok(StopSignals {
        interrupt: signal(SignalKind::interrupt()).context("installing the SIGINT handler")?,
        terminate: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
    })
}

#[cfg(unix)]
impl StopSignals {
    /// Resolves on the first SIGINT or SIGTERM; says which.
    async fn first(&mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        }
    }

    /// From now on, another SIGINT or SIGTERM ends the process at once, with the status a
    /// shell gives a process killed by that signal (128 + its number). Records already written
    /// stay: each was written with its own `write` before its answer.
    fn exit_on_second(mut self) {
        tokio::spawn(async move {
            let code = tokio::select! {
                _ = self.interrupt.recv() => 130,
                _ = self.terminate.recv() => 143,
            };
            eprintln!("mock-apns: second signal: exiting now");
            std::process::exit(code);
        });
    }
}

#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
fn stop_signals() -> Result<StopSignals> {
    Ok(StopSignals)
}

#[cfg(not(unix))]
impl StopSignals {
    async fn first(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }

    fn exit_on_second(self) {
        tokio::spawn(async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("mock-apns: second Ctrl-C: exiting now");
            std::process::exit(130);
        });
    }
}
