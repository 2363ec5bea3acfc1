//! The command line: flags (each with a `MOCK_APNS_…` environment twin) and subcommands.

use std::path::PathBuf;

use clap::Parser;

use crate::listen_addr::{self, ListenAddr};
use crate::logging::LogFormat;

/// A local stand-in for Apple's Push Notification service: real TLS + HTTP/2, Apple's
/// validation and reason strings, every push recorded.
#[derive(Debug, Parser)]
#[command(name = "mock-apns", version, about, long_about = None, args_conflicts_with_subcommands = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub(crate) serve: Args,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Client certificates for certificate (mTLS) authentication.
    #[command(subcommand)]
    Cert(CertCommand),
    /// Print the environment that points unmodified clients at the mock (trust its CA, use
    /// the CONNECT front door), e.g. eval "$(mock-apns env)". Creates the CA if needed.
    Env(EnvArgs),
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum CertCommand {
    /// Issue a provider certificate signed by the mock's CA, shaped like Apple's: the bundle id
    /// as subject UID and the topics in extension 1.2.840.113635.100.6.3.6.
    Issue(CertIssue),
}

#[derive(Debug, clap::Args)]
pub(crate) struct CertIssue {
    /// The app's bundle id (the certificate's first topic).
    #[arg(long)]
    pub(crate) topic: String,
    /// Also allow `<bundle>.voip` (a VoIP Services certificate).
    #[arg(long)]
    pub(crate) voip: bool,
    /// Limit the certificate to one environment (default: both, like Apple's universal ones).
    #[arg(long, value_parser = ["development", "production"])]
    pub(crate) environment: Option<String>,
    /// Directory to write `<bundle>.pem` and `<bundle>-key.pem` into.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// The mock's state directory, whose CA signs the certificate.
    #[arg(long, env = "MOCK_APNS_STATE_DIR", default_value = "./.mock-apns")]
    pub(crate) state_dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address of the APNs endpoint (HTTP/2 over TLS): IP:PORT or HOST:PORT (localhost is
    /// 127.0.0.1; port 0 picks a free one). 127.0.0.1:443 serves clients that always use port
    /// 443 (needs root or CAP_NET_BIND_SERVICE).
    #[arg(long, env = "MOCK_APNS_LISTEN", default_value = "127.0.0.1:2197", value_parser = listen_addr::parse)]
    pub(crate) listen: ListenAddr,

    /// Address of the admin API (HTTP/1.1 + JSON, no authentication, and Prometheus metrics at
    /// /metrics), as for --listen. Keep it on loopback unless you mean it: any other address
    /// prints a warning at start.
    #[arg(long, env = "MOCK_APNS_ADMIN_LISTEN", default_value = "127.0.0.1:2198", value_parser = listen_addr::parse)]
    pub(crate) admin_listen: ListenAddr,

    /// Let the admin API answer to this host name too (besides localhost, loopback addresses
    /// and the --admin-listen address): the name a container or proxy reaches it by. Any
    /// other Host is refused, which stops DNS-rebinding attacks from web pages. Repeatable;
    /// in the environment, separate several with commas.
    #[arg(
        long = "admin-allow-host",
        env = "MOCK_APNS_ADMIN_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    pub(crate) admin_allow_hosts: Vec<String>,

    /// Where the CA, server certificate and development key are kept between starts.
    #[arg(long, env = "MOCK_APNS_STATE_DIR", default_value = "./.mock-apns")]
    pub(crate) state_dir: PathBuf,

    /// Serve this certificate chain (PEM) instead of the generated one; needs --tls-key.
    #[arg(long, env = "MOCK_APNS_TLS_CERT", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,

    /// Private key (PEM) for --tls-cert.
    #[arg(long, env = "MOCK_APNS_TLS_KEY", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,

    /// Which APNs to stand in for; only development returns apns-unique-id.
    #[arg(long, env = "MOCK_APNS_ENVIRONMENT", default_value = "development", value_parser = ["development", "production"])]
    pub(crate) environment: String,

    /// Register a provider-token key: KEY_ID:TEAM_ID:PATH, PATH being a .p8 or a PUBLIC KEY
    /// PEM; KEY_ID:TEAM_ID:ENVIRONMENT:PATH limits it to development or production.
    /// Repeatable; in the environment, separate several with commas.
    #[arg(
        long = "token-key",
        env = "MOCK_APNS_TOKEN_KEYS",
        value_delimiter = ','
    )]
    pub(crate) token_keys: Vec<String>,

    /// Refuse device tokens that were not registered through the admin API (BadDeviceToken).
    #[arg(long, env = "MOCK_APNS_STRICT_DEVICES")]
    pub(crate) strict_devices: bool,

    /// Records kept in memory; the oldest are dropped (and counted) beyond it.
    #[arg(long, env = "MOCK_APNS_MAX_RECORDS", default_value_t = 100_000)]
    pub(crate) max_records: usize,

    /// Append every record to this JSON-lines file before answering.
    #[arg(long, env = "MOCK_APNS_RECORD")]
    pub(crate) record: Option<PathBuf>,

    /// SETTINGS_MAX_CONCURRENT_STREAMS once a connection is trusted; token connections get 1
    /// until a push is accepted, as on APNs.
    #[arg(long, env = "MOCK_APNS_MAX_CONCURRENT_STREAMS", default_value_t = 1000)]
    pub(crate) max_concurrent_streams: u32,

    /// Drop the stream limit to 1 after a rejected push and restore it after an accepted one.
    #[arg(long, env = "MOCK_APNS_THROTTLE_ON_REJECT", default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) throttle_on_reject: bool,

    /// Close connections idle this many seconds (on the mock's clock) with GOAWAY IdleTimeout;
    /// 0 never does (Apple's own value is not documented).
    #[arg(long, env = "MOCK_APNS_IDLE_TIMEOUT", default_value_t = 0)]
    pub(crate) idle_timeout: u64,

    /// Close a connection that has not started HTTP/2 (first byte, TLS handshake, preface)
    /// this many seconds after it was accepted.
    #[arg(long, env = "MOCK_APNS_HANDSHAKE_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) handshake_timeout: u64,

    /// Connections open at once on the APNs endpoint (and on the CONNECT front door); more are
    /// closed as soon as they are accepted. Lowered at start if the open-file limit is too low
    /// for it (a warning says so).
    #[arg(long, env = "MOCK_APNS_MAX_CONNECTIONS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_connections: u64,

    /// On Ctrl-C or SIGTERM, wait at most this many seconds for streams in flight to be
    /// answered, then close what is left and exit. A second signal exits at once.
    #[arg(long, env = "MOCK_APNS_SHUTDOWN_TIMEOUT", default_value_t = 5)]
    pub(crate) shutdown_timeout: u64,

    /// Mount the fault rules in this JSON file (an array of rules, as POST /api/v1/faults
    /// takes them) at start.
    #[arg(long, env = "MOCK_APNS_FAULTS")]
    pub(crate) faults: Option<PathBuf>,

    /// Also serve the CONNECT front door here (e.g. 127.0.0.1:2199): clients given
    /// HTTPS_PROXY=http://ADDR reach the mock while still asking for api.push.apple.com or
    /// api.sandbox.push.apple.com (443 or 2197). Other destinations are refused (403).
    #[arg(long, env = "MOCK_APNS_CONNECT_PROXY", value_parser = listen_addr::parse)]
    pub(crate) connect_proxy: Option<ListenAddr>,

    /// What lint findings (mistakes APNs accepts but a phone pays for) do: off, warn (recorded
    /// and counted) or deny (also fail the harness run); never a different APNs answer.
    #[arg(long, env = "MOCK_APNS_LINT", default_value = "warn", value_parser = ["off", "warn", "deny"])]
    pub(crate) lint: String,

    /// Seconds an unanswered call rings on a virtual phone (mock clock); 0: until something
    /// ends it. CallKit has no timeout of its own.
    #[arg(long, env = "MOCK_APNS_RING_TIMEOUT", default_value_t = 60)]
    pub(crate) ring_timeout: u64,

    /// PushKit violations after which a virtual phone gets no more VoIP pushes until reset
    /// (Apple says "repeatedly"); 0: never.
    #[arg(long, env = "MOCK_APNS_VOIP_VIOLATION_LIMIT", default_value_t = 3)]
    pub(crate) voip_violation_limit: u32,

    /// Where a payload's call id is, as a JSON pointer; repeatable, tried in order (default
    /// /call_id, /callId, /callUUID, /uuid). In the environment, separate several with commas.
    #[arg(
        long = "call-id-pointer",
        env = "MOCK_APNS_CALL_ID_POINTERS",
        value_delimiter = ',',
        value_parser = json_pointer
    )]
    pub(crate) call_id_pointers: Vec<String>,

    /// Log filter (tracing syntax), e.g. "info", "mock_apns=debug", or "info,mock_apns::push=off"
    /// without the line per push.
    #[arg(long, env = "MOCK_APNS_LOG", default_value = "info")]
    pub(crate) log: String,

    /// Log lines on stderr as text (coloured on a terminal unless NO_COLOR is set) or as one
    /// JSON object per line.
    #[arg(long, env = "MOCK_APNS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

/// A JSON pointer to a value inside the payload: it starts with '/'.
fn json_pointer(s: &str) -> Result<String, String> {
    if s.starts_with('/') {
        Ok(s.to_owned())
    } else {
        Err(format!("{s:?} is not a JSON pointer (like /call_id)"))
    }
}

#[derive(Debug, clap::Args)]
pub(crate) struct EnvArgs {
    /// Syntax of the lines printed.
    #[arg(long, default_value = "sh", value_parser = ["sh", "fish", "powershell"])]
    pub(crate) shell: String,

    /// The mock's state directory (where its CA is).
    #[arg(long, env = "MOCK_APNS_STATE_DIR", default_value = "./.mock-apns")]
    pub(crate) state_dir: PathBuf,

    /// The certificate the mock serves instead of its own CA's (its --tls-cert).
    #[arg(long, env = "MOCK_APNS_TLS_CERT")]
    pub(crate) tls_cert: Option<PathBuf>,

    /// The CONNECT front door's address (the mock's --connect-proxy), for HTTPS_PROXY.
    #[arg(long, env = "MOCK_APNS_CONNECT_PROXY", value_parser = listen_addr::parse)]
    pub(crate) connect_proxy: Option<ListenAddr>,
}
