//! `mock-apns`: serve a local APNs on 127.0.0.1:2197 with its admin API on 127.0.0.1:2198.
//!
//! Parses flags (each with a `MOCK_APNS_…` environment twin), binds, prints the banner and
//! serves until Ctrl-C, then shuts down gracefully. Everything else lives in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;
use mock_apns::{keys, Bound, Environment, MockApnsBuilder};

/// A local stand-in for Apple's Push Notification service: real TLS + HTTP/2, Apple's
/// validation and reason strings, every push recorded.
#[derive(Debug, Parser)]
#[command(name = "mock-apns", version, about, long_about = None)]
struct Args {
    /// Address of the APNs endpoint (HTTP/2 over TLS).
    #[arg(long, env = "MOCK_APNS_LISTEN", default_value = "127.0.0.1:2197")]
    listen: SocketAddr,

    /// Address of the admin API (HTTP/1.1 + JSON). Keep it on loopback unless you mean it.
    #[arg(long, env = "MOCK_APNS_ADMIN_LISTEN", default_value = "127.0.0.1:2198")]
    admin_listen: SocketAddr,

    /// Where the CA, server certificate and development key are kept between starts.
    #[arg(long, env = "MOCK_APNS_STATE_DIR", default_value = "./.mock-apns")]
    state_dir: PathBuf,

    /// Serve this certificate chain (PEM) instead of the generated one; needs --tls-key.
    #[arg(long, env = "MOCK_APNS_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// Private key (PEM) for --tls-cert.
    #[arg(long, env = "MOCK_APNS_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Which APNs to stand in for; only development returns apns-unique-id.
    #[arg(long, env = "MOCK_APNS_ENVIRONMENT", default_value = "development", value_parser = ["development", "production"])]
    environment: String,

    /// Register a provider-token key: KEY_ID:TEAM_ID:PATH, PATH being a .p8 or a PUBLIC KEY
    /// PEM. Repeatable; in the environment, separate several with commas.
    #[arg(
        long = "token-key",
        env = "MOCK_APNS_TOKEN_KEYS",
        value_delimiter = ','
    )]
    token_keys: Vec<String>,

    /// Refuse device tokens that were not registered through the admin API (BadDeviceToken).
    #[arg(long, env = "MOCK_APNS_STRICT_DEVICES")]
    strict_devices: bool,

    /// Records kept in memory; the oldest are dropped (and counted) beyond it.
    #[arg(long, env = "MOCK_APNS_MAX_RECORDS", default_value_t = 100_000)]
    max_records: usize,

    /// Append every record to this JSON-lines file before answering.
    #[arg(long, env = "MOCK_APNS_RECORD")]
    record: Option<PathBuf>,

    /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients.
    #[arg(long, env = "MOCK_APNS_MAX_CONCURRENT_STREAMS", default_value_t = 1000)]
    max_concurrent_streams: u32,

    /// Log filter (tracing syntax), e.g. "info" or "mock_apns=debug".
    #[arg(long, env = "MOCK_APNS_LOG", default_value = "info")]
    log: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-apns: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[tokio::main]
async fn run(args: Args) -> Result<()> {
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
        .max_concurrent_streams(args.max_concurrent_streams);
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        builder = builder.tls_files(cert, key);
    }
    if let Some(record) = &args.record {
        builder = builder.record_file(record);
    }
    for arg in &args.token_keys {
        builder = builder.token_key(keys::parse_token_key_arg(arg).context("--token-key")?);
    }
    let bound = builder.bind()?;
    print_banner(&bound, environment, args.record.as_deref());
    bound
        .serve(async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("mock-apns: shutting down (answering streams in flight)");
        })
        .await?;
    Ok(())
}

fn print_banner(bound: &Bound, environment: Environment, record: Option<&std::path::Path>) {
    let ca = bound
        .ca_path
        .as_ref()
        .map_or("-".into(), |p| p.display().to_string());
    let key_path = bound
        .dev_key_path
        .as_ref()
        .map_or("-".into(), |p| p.display().to_string());
    let key = &bound.dev_key;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let token = key.token(now);
    let device = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    println!(
        "mock-apns {version} ({environment})\n\
         \x20 APNs endpoint  {apns}   (HTTP/2 over TLS)\n\
         \x20 admin API      {admin}/api/v1/\n\
         \x20 trust this CA  {ca}\n\
         \x20 dev key        {key_path}  key id {kid}  team id {team}\n\
         \x20 record file    {record}\n\
         \n\
         Send a VoIP push (the JWT below is valid for one hour):\n\
         \n\
         curl --http2 --cacert {ca} \\\n\
         \x20 -H 'authorization: bearer {token}' \\\n\
         \x20 -H 'apns-push-type: voip' -H 'apns-topic: com.example.app.voip' \\\n\
         \x20 -H 'apns-priority: 10' -H 'apns-expiration: 0' \\\n\
         \x20 -d '{{\"aps\":{{}},\"call_id\":\"42\",\"caller\":\"Alice\"}}' \\\n\
         \x20 -i {apns}/3/device/{device}\n\
         \n\
         Then see it: curl -s {admin}/api/v1/pushes\n",
        version = env!("CARGO_PKG_VERSION"),
        apns = bound.apns_url(),
        admin = bound.admin_url(),
        kid = key.key_id(),
        team = key.team_id(),
        record = record.map_or("-".into(), |p| p.display().to_string()),
    );
}
