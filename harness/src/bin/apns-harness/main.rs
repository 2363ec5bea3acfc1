//! `apns-harness`: replay call scenarios against a push provider and compare what reached
//! the mock APNs with reviewed snapshots.
//!
//! ```text
//! apns-harness run scenarios/ --provider-cmd "node server.js"
//! apns-harness run scenarios/incoming_call.json --provider-url http://127.0.0.1:3000 --mock http://127.0.0.1:2198
//! apns-harness check scenarios/*.json
//! ```
//!
//! Exit codes (ripgrep's convention): 0 every scenario matched its snapshot, 1 a snapshot
//! differed or an expectation failed, 2 a usage or set-up error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Parser, Subcommand};
use harness::snapshot::{self, Comparison};
use harness::{CommandProvider, Harness, MockTarget, Provider, Scenario};

/// Replay call scenarios against a push provider; snapshot-test the APNs traffic.
#[derive(Debug, Parser)]
#[command(name = "apns-harness", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios and compare each transcript with its snapshot
    /// (`<scenario dir>/snapshots/<name>.snap`).
    Run(RunArgs),
    /// Validate scenario files without running them.
    Check {
        /// Scenario files or directories of them.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Scenario files, or directories whose *.json files are scenarios.
    #[arg(required = true)]
    scenarios: Vec<PathBuf>,

    /// Start the provider with this shell command for each scenario. It gets APNS_URL,
    /// APNS_CA_FILE, APNS_KEY_FILE, APNS_KEY_ID, APNS_TEAM_ID, APNS_TOPIC, PORT=0, … and is
    /// ready once it prints a line with --ready-line and its URL.
    #[arg(long, value_name = "CMD", required_unless_present = "provider_url")]
    provider_cmd: Option<String>,

    /// The provider's base URL. Alone: a provider already running (it must already use the
    /// mock given by --mock). With --provider-cmd: where the started command listens.
    #[arg(long, value_name = "URL")]
    provider_url: Option<String>,

    /// Use a running mock-apns (its admin API URL) instead of starting one per scenario.
    #[arg(long, value_name = "URL")]
    mock: Option<String>,

    /// The running mock's --state-dir, where its CA and development key are.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "./.mock-apns",
        requires = "mock"
    )]
    mock_state_dir: PathBuf,

    /// The text of the provider's ready line.
    #[arg(long, value_name = "TEXT", default_value = "listening on")]
    ready_line: String,

    /// How long the provider may take to become ready, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    ready_timeout: u64,

    /// An extra environment variable for the provider command (repeatable).
    #[arg(long = "provider-env", value_name = "KEY=VALUE", value_parser = parse_env)]
    provider_env: Vec<(String, String)>,

    /// Write the new transcripts as the snapshots instead of comparing.
    #[arg(long)]
    accept: bool,
}

fn parse_env(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let outcome = match cli.command {
        Command::Check { scenarios } => check(&scenarios),
        Command::Run(args) => run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("apns-harness: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Expands directories into their `*.json` files, sorted.
fn scenario_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            if found.is_empty() {
                bail!("{} holds no *.json scenario", path.display());
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn check(paths: &[PathBuf]) -> Result<ExitCode> {
    let mut bad = 0;
    let files = scenario_files(paths)?;
    for file in &files {
        match Scenario::load(file) {
            Ok(s) => println!("ok    {} ({} steps)", file.display(), s.steps.len()),
            Err(e) => {
                bad += 1;
                println!("error {e}");
            }
        }
    }
    println!("{} valid, {bad} invalid", files.len() - bad);
    Ok(ExitCode::from(if bad == 0 { 0 } else { 2 }))
}

fn provider(args: &RunArgs) -> Result<Provider> {
    match (&args.provider_cmd, &args.provider_url) {
        (Some(cmd), url) => {
            let mut c = CommandProvider::new(cmd.clone()).ready_line(args.ready_line.clone());
            c.ready_timeout = Duration::from_secs(args.ready_timeout);
            if let Some(url) = url {
                c = c.url(url.clone());
            }
            for (k, v) in &args.provider_env {
                c = c.env(k.clone(), v.clone());
            }
            Ok(c.into())
        }
        (None, Some(url)) => {
            if args.mock.is_none() {
                bail!(
                    "--provider-url without --provider-cmd needs --mock: a provider that is \
                     already running cannot learn the address of a mock started now"
                );
            }
            Ok(Provider::url(url.clone()))
        }
        (None, None) => bail!("give --provider-cmd or --provider-url"),
    }
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let files = scenario_files(&args.scenarios)?;
    // Every file is checked before anything runs: a typo in the last one is a usage error.
    let scenarios = files
        .iter()
        .map(|f| Scenario::load(f).map(|s| (f.clone(), s)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut harness = Harness::new(provider(&args)?);
    if let Some(admin_url) = &args.mock {
        harness = harness.mock(MockTarget::Remote {
            admin_url: admin_url.clone(),
            state_dir: args.mock_state_dir.clone(),
        });
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    let (mut passed, mut failed) = (0, 0);
    for (file, scenario) in &scenarios {
        let outcome = runtime.block_on(harness.run(scenario));
        match outcome {
            Ok(transcript) => {
                if report(file, &scenario.name, &transcript, args.accept)? {
                    passed += 1;
                } else {
                    failed += 1;
                }
            }
            Err(e) if e.is_failure() => {
                failed += 1;
                println!("FAIL  {}\n{}\n", scenario.name, indent(&e.to_string()));
            }
            Err(e) => return Err(anyhow::Error::new(e).context(scenario.name.clone())),
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(ExitCode::from(if failed == 0 { 0 } else { 1 }))
}

/// Compares (or accepts) one transcript; prints the outcome; answers whether it passed.
fn report(file: &Path, name: &str, transcript: &harness::Transcript, accept: bool) -> Result<bool> {
    let write = |accept| {
        snapshot::write(file, transcript, accept)
            .with_context(|| format!("writing the snapshot of {name}"))
    };
    match snapshot::compare(file, transcript) {
        Comparison::Matches => {
            println!("ok    {name}");
            Ok(true)
        }
        Comparison::Missing if accept => {
            println!("new   {name}: wrote {}", write(true)?.display());
            Ok(true)
        }
        Comparison::Differs { .. } if accept => {
            println!("accepted {name}: wrote {}", write(true)?.display());
            Ok(true)
        }
        Comparison::Missing => {
            let path = write(false)?;
            println!(
                "NEW   {name}: no snapshot yet; wrote {}\n      review it (cargo insta review, or read it) and rerun with --accept\n",
                path.display()
            );
            Ok(false)
        }
        Comparison::Differs { diff } => {
            let path = write(false)?;
            println!(
                "DIFF  {name}: the traffic differs from the snapshot\n{}\n      wrote {} (cargo insta review, or rerun with --accept)\n",
                indent(&diff),
                path.display()
            );
            Ok(false)
        }
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("      {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
