//! `mock-apns`: serve a local APNs on 127.0.0.1:2197 with its admin API on 127.0.0.1:2198.
//!
//! Parses flags (each with a `MOCK_APNS_…` environment twin), binds, prints the banner and
//! serves until Ctrl-C or SIGTERM, then shuts down gracefully; `cert issue` and `env` are the two
//! subcommands. Everything else lives in the library.

mod banner;
mod cert;
mod cli;
mod env;
mod listen_addr;
mod logging;
mod open_files;
mod serve;
mod startup_error;

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
            eprintln!("mock-apns: error: {}", error_text(&e));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, each said once. anyhow's `{:#}` appends every cause's text, but
/// the library's errors already end with their cause's (`cannot listen on …: Address already
/// in use (os error 98)`), which `{:#}` would print twice.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let cause = cause.to_string();
        if text.ends_with(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_the_message_already_ends_with_is_said_once() {
        let os = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let library = mock_apns::Error::Bind {
            addr: "127.0.0.1:2197".into(),
            source: os,
        };
        let e = anyhow::Error::from(library).context("starting");
        assert_eq!(
            error_text(&e),
            "starting: cannot listen on 127.0.0.1:2197: address in use"
        );
    }
}
