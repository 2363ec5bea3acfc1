//! `mock-apns` (no subcommand): bind, print the banner, serve until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, Result};
use mock_apns::{keys, Environment, LintMode, MockApnsBuilder};

use crate::banner::print_banner;
use crate::cli::Args;

#[tokio::main]
pub(crate) async fn run(args: Args) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&args.log).context("--log")?)
        .with_writer(std::io::stderr)
        .init();
    let environment: Environment = args.environment.parse()?;
    let mut builder = MockApnsBuilder::default()
        .listen(args.listen)
        .admin_listen(args.admin_listen)
        .state_dir(&args.state_dir)
        .environment(environment)
        .strict_devices(args.strict_devices)
        .max_records(args.max_records)
        .max_concurrent_streams(args.max_concurrent_streams)
        .throttle_on_reject(args.throttle_on_reject)
        .idle_timeout((args.idle_timeout > 0).then(|| Duration::from_secs(args.idle_timeout)))
        .lint(args.lint.parse::<LintMode>().map_err(anyhow::Error::msg)?)
        .ring_timeout((args.ring_timeout > 0).then(|| Duration::from_secs(args.ring_timeout)))
        .voip_violation_limit(args.voip_violation_limit);
    if !args.call_id_pointers.is_empty() {
        builder = builder.call_id_pointers(args.call_id_pointers.iter().cloned());
    }
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
    if let Some(addr) = args.connect_proxy {
        builder = builder.connect_proxy(addr);
    }
    let bound = builder.bind().map_err(privileged_port_hint)?;
    // Before the banner: whoever waits for it may press Ctrl-C right after.
    let interrupted = interrupt_handler()?;
    print_banner(&bound, environment, args.record.as_deref());
    bound
        .serve(async {
            interrupted.await;
            eprintln!("mock-apns: shutting down (answering streams in flight)");
        })
        .await?;
    Ok(())
}

/// Says how to get a port below 1024 (the port-443 mode) when binding one was refused.
fn privileged_port_hint(e: mock_apns::Error) -> anyhow::Error {
    match &e {
        mock_apns::Error::Bind { addr, source }
            if source.kind() == std::io::ErrorKind::PermissionDenied
                && addr.parse::<SocketAddr>().is_ok_and(|a| a.port() < 1024) =>
        {
            anyhow::anyhow!(
                "{e}\n  ports below 1024 need root, or once: \
                 sudo setcap cap_net_bind_service=+ep \"$(command -v mock-apns)\"\n  \
                 or use --connect-proxy for clients that honour HTTPS_PROXY"
            )
        }
        _ => e.into(),
    }
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
