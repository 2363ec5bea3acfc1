//! `apns-baseline`: the benchmark's yardstick, a bare HTTP/2 + TLS server that answers every
//! stream `200` with a random `apns-id` and does nothing else.
//!
//! It runs the same layers as mock-apns (tokio, rustls with the ring provider, h2, one task per
//! stream) with the same certificate and SETTINGS, but validates and records nothing. Whatever
//! the mock costs beyond it is the price of validation and recording.
//!
//! Run with: `apns-baseline --listen 127.0.0.1:0 --state-dir bench/out/state`; it prints its
//! bound address on stdout once it accepts connections.

mod server;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use clap::Parser;
use mock_apns::Pki;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A bare h2 + rustls server answering every stream 200 (the benchmark's baseline).
#[derive(Debug, Parser)]
#[command(name = "apns-baseline", about, long_about = None)]
struct Args {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// A mock-apns state directory: its server certificate is served, so both servers pay for
    /// the same TLS handshake. Generated there if missing.
    #[arg(long)]
    state_dir: PathBuf,
}

/// The same allocator as the mock-apns binary, so the comparison isolates the mock's own work.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let pki = Pki::load_or_generate(&args.state_dir)
        .with_context(|| format!("certificates in {}", args.state_dir.display()))?;
    let acceptor = TlsAcceptor::from(pki.server_config()?);
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    // The readiness signal the bench script waits for: the socket is bound and about to accept.
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}", listener.local_addr()?)?;
    stdout.flush()?;
    server::run(listener, acceptor).await
}
