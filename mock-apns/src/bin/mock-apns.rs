//! `mock-apns`: serve a local APNs on 127.0.0.1:2197 with its admin API on 127.0.0.1:2198.
//!
//! Parses flags (each with a `MOCK_APNS_…` environment twin), binds, prints the banner and
//! serves until Ctrl-C, then shuts down gracefully. Everything else lives in the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::Parser;
use std::time::Duration;

use mock_apns::tls::Pki;
use mock_apns::{keys, Bound, ClientCertRequest, ClientEnv, Environment, MockApnsBuilder, Shell};

/// A local stand-in for Apple's Push Notification service: real TLS + HTTP/2, Apple's
/// validation and reason strings, every push recorded.
#[derive(Debug, Parser)]
#[command(name = "mock-apns", version, about, long_about = None, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Args,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Client certificates for certificate (mTLS) authentication.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Print the environment that points unmodified clients at the mock (trust its CA, use
    /// the CONNECT front door), e.g. eval "$(mock-apns env)". Creates the CA if needed.
    Env(EnvArgs),
}

#[derive(Debug, clap::Subcommand)]
enum CertCommand {
    /// Issue a provider certificate signed by the mock's CA, shaped like Apple's: the bundle id
    /// as subject UID and the topics in extension 1.2.840.113635.100.6.3.6.
    Issue(CertIssue),
}

#[derive(Debug, clap::Args)]
struct CertIssue {
    /// The app's bundle id (the certificate's first topic).
    #[arg(long)]
    topic: String,
    /// Also allow `<bundle>.voip` (a VoIP Services certificate).
    #[arg(long)]
    voip: bool,
    /// Limit the certificate to one environment (default: both, like Apple's universal ones).
    #[arg(long, value_parser = ["development", "production"])]
    environment: Option<String>,
    /// Directory to write `<bundle>.pem` and `<bundle>-key.pem` into.
    #[arg(long)]
    out: PathBuf,
    /// The mock's state directory, whose CA signs the certificate.
    #[arg(long, env = "MOCK_APNS_STATE_DIR", default_value = "./.mock-apns")]
    state_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
struct Args {
    /// Address of the APNs endpoint (HTTP/2 over TLS). 127.0.0.1:443 serves clients that
    /// always use port 443 (needs root or CAP_NET_BIND_SERVICE).
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
    /// PEM; KEY_ID:TEAM_ID:ENVIRONMENT:PATH limits it to development or production.
    /// Repeatable; in the environment, separate several with commas.
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

    /// SETTINGS_MAX_CONCURRENT_STREAMS once a connection is trusted; token connections get 1
    /// until a push is accepted, as on APNs.
    #[arg(long, env = "MOCK_APNS_MAX_CONCURRENT_STREAMS", default_value_t = 1000)]
    max_concurrent_streams: u32,

    /// Drop the stream limit to 1 after a rejected push and restore it after an accepted one.
    #[arg(long, env = "MOCK_APNS_THROTTLE_ON_REJECT", default_value_t = true, action = clap::ArgAction::Set)]
    throttle_on_reject: bool,

    /// Close connections idle this many seconds (on the mock's clock) with GOAWAY IdleTimeout;
    /// 0 never does (Apple's own value is not documented).
    #[arg(long, env = "MOCK_APNS_IDLE_TIMEOUT", default_value_t = 0)]
    idle_timeout: u64,

    /// Mount the fault rules in this JSON file (an array of rules, as POST /api/v1/faults
    /// takes them) at start.
    #[arg(long, env = "MOCK_APNS_FAULTS")]
    faults: Option<PathBuf>,

    /// Also serve the CONNECT front door here (e.g. 127.0.0.1:2199): clients given
    /// HTTPS_PROXY=http://ADDR reach the mock while still asking for api.push.apple.com or
    /// api.sandbox.push.apple.com (443 or 2197). Other destinations are refused (403).
    #[arg(long, env = "MOCK_APNS_CONNECT_PROXY")]
    connect_proxy: Option<SocketAddr>,

    /// Log filter (tracing syntax), e.g. "info" or "mock_apns=debug".
    #[arg(long, env = "MOCK_APNS_LOG", default_value = "info")]
    log: String,
}

#[derive(Debug, clap::Args)]
struct EnvArgs {
    /// Syntax of the lines printed.
    #[arg(long, default_value = "sh", value_parser = ["sh", "fish", "powershell"])]
    shell: String,

    /// The mock's state directory (where its CA is).
    #[arg(long, env = "MOCK_APNS_STATE_DIR", default_value = "./.mock-apns")]
    state_dir: PathBuf,

    /// The certificate the mock serves instead of its own CA's (its --tls-cert).
    #[arg(long, env = "MOCK_APNS_TLS_CERT")]
    tls_cert: Option<PathBuf>,

    /// The CONNECT front door's address (the mock's --connect-proxy), for HTTPS_PROXY.
    #[arg(long, env = "MOCK_APNS_CONNECT_PROXY")]
    connect_proxy: Option<SocketAddr>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Cert(CertCommand::Issue(issue))) => issue_cert(issue),
        Some(Command::Env(env)) => print_env(&env),
        None => run(cli.serve),
    };
    match result {
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

fn issue_cert(args: CertIssue) -> Result<()> {
    let pki = Pki::load_or_generate(&args.state_dir).context("loading the mock's CA")?;
    let environment = args
        .environment
        .as_deref()
        .map(str::parse::<Environment>)
        .transpose()?;
    let request = ClientCertRequest {
        bundle_id: args.topic.clone(),
        voip: args.voip,
        environment,
    };
    let cert = pki.issue_client_cert(&request)?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("{}", args.out.display()))?;
    let cert_path = args.out.join(format!("{}.pem", args.topic));
    let key_path = args.out.join(format!("{}-key.pem", args.topic));
    std::fs::write(&cert_path, &cert.cert_pem)
        .with_context(|| format!("{}", cert_path.display()))?;
    write_private(&key_path, cert.key_pem.as_bytes())?;
    let env = environment.map_or("development and production".into(), |e| e.to_string());
    println!("certificate  {}", cert_path.display());
    println!("private key  {}", key_path.display());
    println!("topics       {}", cert.topics.join(", "));
    println!("environment  {env}");
    println!(
        "\nUse it: curl --http2 --cacert {ca} --cert {cert} --key {key} -H 'apns-topic: {topic}' \\\n  -d '{{\"aps\":{{\"alert\":\"hi\"}}}}' https://localhost:2197/3/device/<token>",
        ca = Pki::ca_path(&args.state_dir).display(),
        cert = cert_path.display(),
        key = key_path.display(),
        topic = args.topic,
    );
    Ok(())
}

fn write_private(path: &std::path::Path, contents: &[u8]) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("{}", path.display()))?;
    file.write_all(contents)
        .with_context(|| format!("{}", path.display()))
}

/// `mock-apns env`: the CA file (created on first use, like the server does) and the front
/// door's address as shell lines.
fn print_env(args: &EnvArgs) -> Result<()> {
    print!("{}", env_lines(args)?);
    Ok(())
}

fn env_lines(args: &EnvArgs) -> Result<String> {
    let ca = match &args.tls_cert {
        Some(cert) => cert.clone(),
        None => {
            Pki::load_or_generate(&args.state_dir)?;
            Pki::ca_path(&args.state_dir)
        }
    };
    let ca = std::fs::canonicalize(&ca).with_context(|| format!("{}", ca.display()))?;
    let shell: Shell = args.shell.parse().map_err(anyhow::Error::msg)?;
    Ok(ClientEnv::new(&ca, args.connect_proxy).render(shell))
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
         {proxy}\
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
        proxy = bound.connect_proxy_addr.map_or(String::new(), |a| format!(
            "  CONNECT proxy  http://{a}   (HTTPS_PROXY for clients that keep Apple's host name)\n"
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_creates_the_ca_and_prints_its_absolute_path_and_the_front_door() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let cli = Cli::try_parse_from([
            "mock-apns",
            "env",
            "--shell",
            "fish",
            "--state-dir",
            state.to_str().unwrap(),
            "--connect-proxy",
            "127.0.0.1:2199",
        ])
        .unwrap();
        let Some(Command::Env(env)) = &cli.command else {
            panic!("parsed as {cli:?}");
        };

        let text = env_lines(env).unwrap();

        let ca = state
            .join("ca.pem")
            .canonicalize()
            .expect("the CA was created");
        for name in [
            "SSL_CERT_FILE",
            "NODE_EXTRA_CA_CERTS",
            "REQUESTS_CA_BUNDLE",
            "CURL_CA_BUNDLE",
        ] {
            let line = format!("set -gx {name} '{}'", ca.display());
            assert!(text.contains(&line), "no {line:?} in:\n{text}");
        }
        assert!(
            text.contains("set -gx HTTPS_PROXY 'http://127.0.0.1:2199'"),
            "{text}"
        );
    }

    #[test]
    fn serving_flags_still_parse_without_a_subcommand() {
        let cli = Cli::try_parse_from(["mock-apns", "--connect-proxy", "127.0.0.1:2199"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(
            cli.serve.connect_proxy,
            Some("127.0.0.1:2199".parse().unwrap())
        );
    }
}
