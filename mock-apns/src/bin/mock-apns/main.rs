//! `mock-apns`: serve a local APNs on 127.0.0.1:2197 with its admin API on 127.0.0.1:2198.
//!
//! Parses flags (each with a `MOCK_APNS_…` environment twin), binds, prints the banner and
//! serves until Ctrl-C or SIGTERM, then shuts down gracefully; `cert issue` and `env` are the two
//! subcommands. Everything else lives in the library.

mod banner;
mod cert;
mod cli;
mod env;
mod open_files;
mod serve;

use std::process::ExitCode;

use clap::Parser as _;

use cli::{CertCommand, Cli, Command};

/// mimalloc rather than the system allocator: each push allocates a few dozen small blocks
/// and the record keeps a dozen of them, so under load glibc's malloc/free took a fifth of the
/// CPU time and its chunk headers cost ~100 bytes per record (measured with `make bench`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Cert(CertCommand::Issue(issue))) => cert::issue(issue),
        Some(Command::Env(env)) => env::print(&env),
        None => serve::run(cli.serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-apns: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
