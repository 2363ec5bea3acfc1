//! `apns-soak`: the load client and the checker of `make soak` (`bench/soak.sh`).
//!
//! - `apns-soak push`: pushes over a few HTTP/2 connections, each push with its own `apns-id`,
//!   until `--max` pushes were sent or the mock goes away (the soak kills it with SIGKILL).
//!   Every `apns-id` answered 200 is appended to the acknowledged file; `acked N` is printed
//!   every 10 000 acknowledgements and `done N` at the end.
//! - `apns-soak check`: reads the record file and the acknowledged files, and fails if an
//!   acknowledged push is not recorded with status 200.
//!
//! It talks only to the address it is given (the script gives it the mock on loopback).

mod check;
mod push;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
use clap::Parser as _;

#[derive(Debug, clap::Parser)]
#[command(name = "apns-soak", about = "make soak's load client and checker")]
enum Cli {
    /// Push until --max or until the mock goes away; append acknowledged apns-ids to --acked.
    Push(PushArgs),
    /// Check that every acknowledged apns-id is in the record file with status 200.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct PushArgs {
    /// The mock's APNs endpoint (loopback).
    #[arg(long)]
    addr: SocketAddr,
    /// The CA to trust (the mock's).
    #[arg(long)]
    ca: PathBuf,
    /// A file holding the provider token.
    #[arg(long)]
    token_file: PathBuf,
    /// Where to append the apns-id of every push answered 200.
    #[arg(long)]
    acked: PathBuf,
    /// Makes this run's apns-ids differ from other runs' (their first 8 hex digits).
    #[arg(long)]
    id_prefix: u32,
    /// HTTP/2 connections.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Pushes in flight per connection.
    #[arg(long, default_value_t = 50)]
    streams: usize,
    /// Stop after this many pushes (a bound, whatever happens to the mock).
    #[arg(long, default_value_t = 1_000_000)]
    max: u64,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The mock's JSON-lines record file.
    #[arg(long)]
    record: PathBuf,
    /// The acknowledged-id files written by `push`.
    #[arg(long, num_args = 1.., required = true)]
    acked: Vec<PathBuf>,
}

fn main() -> Result<()> {
    match Cli::parse() {
        Cli::Push(args) => push::run(args),
        Cli::Check(args) => check::run(&args),
    }
}
