//! `apns-harness`: replay call scenarios against a push provider and compare what reached
//! the mock APNs with reviewed snapshots.
//!
//! ```text
//! apns-harness run scenarios/ --provider-cmd "node server.js"
//! apns-harness run scenarios/incoming_call.json --provider-url http://127.0.0.1:3000 --mock http://127.0.0.1:2198
//! apns-harness check scenarios/*.json
//! apns-harness run scenarios/ --provider-cmd "npm start" --junit report.xml   # in CI
//! ```
//!
//! Exit codes (ripgrep's convention): 0 every scenario matched its snapshot, 1 a snapshot
//! differed, an expectation failed or (with `--deny-lint`) a push had lint findings, 2 a usage
//! or set-up error.
//!
//! Modules: `outcome` (what a run found, the one record every report is written from),
//! `terminal` (the report for people), `junit` (`--junit FILE`); `--format json` is the
//! record itself, serialised.

mod junit;
mod outcome;
mod terminal;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use harness::snapshot::{self, Comparison};
use harness::{CommandProvider, Error, Harness, MockTarget, Provider, Scenario, ScenarioError};
use serde::Serialize;

use outcome::{Outcome, RunReport, ScenarioResult};
use terminal::Terminal;

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
    /// Validate scenario files without running them: everything that can be known before
    /// a run (names, reasons, push types, templates, durations, fault rules).
    Check {
        /// Scenario files or directories of them.
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,

        #[command(flatten)]
        output: OutputArgs,
    },
}

/// How the results are printed.
#[derive(Debug, Args)]
struct OutputArgs {
    /// `text` for people; `json`: one JSON document on stdout (the text goes to stderr).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,

    /// Colour the text: `auto` on a terminal only (and never with NO_COLOR set).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl OutputArgs {
    fn terminal(&self) -> Terminal {
        let color = match self.color {
            ColorWhen::Auto => anstream::ColorChoice::Auto,
            ColorWhen::Always => anstream::ColorChoice::Always,
            ColorWhen::Never => anstream::ColorChoice::Never,
        };
        Terminal::new(self.format == Format::Json, color)
    }

    /// Prints the machine-readable document, when one was asked for.
    fn json(&self, value: &impl Serialize) -> Result<()> {
        if self.format == Format::Json {
            let text = serde_json::to_string_pretty(value).context("serialising the report")?;
            println!("{text}");
        }
        Ok(())
    }
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

    /// Fail a scenario whose pushes have lint findings (VoIP pushes APNs accepts but a phone
    /// pays for: no expiration, a repeated call, …), even when its snapshot matches. A mock
    /// started with --lint deny does the same without this flag.
    #[arg(long)]
    deny_lint: bool,

    /// Also write the results as JUnit XML to FILE (one testcase per scenario, for CI
    /// dashboards).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,

    #[command(flatten)]
    output: OutputArgs,
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
        Command::Check { scenarios, output } => check(&scenarios, &output),
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

/// One file's verdict, for `check --format json`.
#[derive(Debug, Serialize)]
struct Checked {
    file: PathBuf,
    /// Its number of steps, when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<usize>,
    /// What is wrong, when invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Invalid>,
}

/// A [`ScenarioError`] as data: the JSON path and the message (which names the fix).
#[derive(Debug, Serialize)]
struct Invalid {
    path: Option<String>,
    message: String,
}

#[derive(Debug, Serialize)]
struct CheckReport {
    valid: usize,
    invalid: usize,
    files: Vec<Checked>,
}

fn check(paths: &[PathBuf], output: &OutputArgs) -> Result<ExitCode> {
    let mut terminal = output.terminal();
    let files = scenario_files(paths)?;
    let mut report = CheckReport {
        valid: 0,
        invalid: 0,
        files: Vec::new(),
    };
    for file in &files {
        let checked = match Scenario::load(file) {
            Ok(s) => {
                report.valid += 1;
                terminal.line(&format!(
                    "ok    {} ({} steps)",
                    file.display(),
                    s.steps.len()
                ));
                Checked {
                    file: file.clone(),
                    steps: Some(s.steps.len()),
                    error: None,
                }
            }
            Err(e) => {
                report.invalid += 1;
                terminal.line(&format!("error {e}"));
                Checked {
                    file: file.clone(),
                    steps: None,
                    error: Some(Invalid {
                        path: e.path,
                        message: e.message,
                    }),
                }
            }
        };
        report.files.push(checked);
    }
    terminal.line(&format!(
        "{} valid, {} invalid",
        report.valid, report.invalid
    ));
    output.json(&report)?;
    Ok(ExitCode::from(if report.invalid == 0 { 0 } else { 2 }))
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
    let started = Instant::now();
    let mut terminal = args.output.terminal();
    let mut report = RunReport::default();
    let files = scenario_files(&args.scenarios)?;
    // Every file is checked before anything runs: a typo in the last one is a usage error,
    // every invalid file is named at once (an `error` in the reports), and nothing runs.
    let loaded: Vec<(PathBuf, Result<Scenario, ScenarioError>)> = files
        .iter()
        .map(|f| (f.clone(), Scenario::load(f)))
        .collect();
    if loaded.iter().any(|(_, s)| s.is_err()) {
        for (file, scenario) in loaded {
            let name = snapshot::snapshot_name(&file);
            report.push(match scenario {
                Ok(_) => ScenarioResult::skipped(name, file),
                Err(e) => {
                    eprintln!("apns-harness: error: {e}");
                    ScenarioResult::invalid(name, file, &e)
                }
            });
        }
        return finish(&args, report, started);
    }
    let scenarios: Vec<(PathBuf, Scenario)> = loaded
        .into_iter()
        .filter_map(|(file, s)| s.ok().map(|s| (file, s)))
        .collect();
    let mut harness = Harness::new(provider(&args)?).deny_lint(args.deny_lint);
    if let Some(admin_url) = &args.mock {
        harness = harness.mock(MockTarget::Remote {
            admin_url: admin_url.clone(),
            state_dir: args.mock_state_dir.clone(),
        });
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    let mut stopped = false;
    for (file, scenario) in &scenarios {
        if stopped {
            report.push(ScenarioResult::skipped(scenario.name.clone(), file.clone()));
            continue;
        }
        let begun = Instant::now();
        let outcome = runtime.block_on(harness.run(scenario));
        let result = judge(file, &scenario.name, outcome, args.accept, begun)?;
        if result.outcome == Outcome::Error {
            eprintln!("apns-harness: error: {}: {}", result.name, result.details);
            stopped = true;
        }
        terminal.result(&result);
        report.push(result);
    }
    terminal.summary(&report);
    finish(&args, report, started)
}

/// Writes the machine-readable reports asked for; answers the exit code.
fn finish(args: &RunArgs, mut report: RunReport, started: Instant) -> Result<ExitCode> {
    report.seconds = started.elapsed();
    if let Some(path) = &args.junit {
        std::fs::write(path, junit::render(&report))
            .with_context(|| format!("writing the JUnit report {}", path.display()))?;
    }
    args.output.json(&report)?;
    Ok(ExitCode::from(report.exit_code()))
}

/// Compares (or accepts) one scenario's transcript, or records why there is none; writes
/// the snapshot files that go with it.
fn judge(
    file: &Path,
    name: &str,
    outcome: Result<harness::Transcript, Error>,
    accept: bool,
    begun: Instant,
) -> Result<ScenarioResult> {
    let Verdict {
        outcome,
        message,
        details,
        wrote,
    } = match outcome {
        Ok(transcript) => compare(file, name, &transcript, accept)?,
        Err(Error::Lint(lint)) => {
            // The snapshot is compared (and accepted) as for any run; the findings fail the
            // scenario either way.
            let snapshot = compare(file, name, &lint.transcript, accept)?;
            // The terminal and the reports name the file written apart from the message.
            let said = match snapshot.outcome {
                Outcome::Ok => "the traffic matches its snapshot",
                Outcome::Accepted => "the traffic is accepted as the snapshot",
                Outcome::New => "no snapshot yet",
                _ => "the traffic also differs from the snapshot",
            };
            let findings = lint.findings.join("\n");
            Verdict {
                outcome: Outcome::Lint,
                message: format!("{}; {said}", lint.summary()),
                details: if snapshot.details.is_empty() {
                    findings
                } else {
                    format!("{findings}\n{}", snapshot.details)
                },
                wrote: snapshot.wrote,
            }
        }
        Err(Error::Step(failure)) => {
            let message = failure.summary();
            let path = written(
                name,
                snapshot::write_failed(file, &failure.transcript, &message),
            )?;
            Verdict {
                outcome: Outcome::Fail,
                message,
                details: failure.to_string(),
                wrote: Some(path),
            }
        }
        Err(e) => {
            let details = e.to_string();
            Verdict {
                outcome: Outcome::Error,
                message: details.lines().next().unwrap_or_default().to_owned(),
                details,
                wrote: None,
            }
        }
    };
    Ok(ScenarioResult {
        name: name.to_owned(),
        file: file.to_owned(),
        outcome,
        seconds: begun.elapsed(),
        message,
        details,
        wrote,
    })
}

/// What a scenario's run came to, before its timing.
struct Verdict {
    outcome: Outcome,
    message: String,
    details: String,
    wrote: Option<PathBuf>,
}

/// Compares a transcript with its snapshot, or accepts it, and writes the files that go with
/// that: one place, so a run whose lint is denied treats its snapshot as any other run does.
fn compare(
    file: &Path,
    name: &str,
    transcript: &harness::Transcript,
    accept: bool,
) -> Result<Verdict> {
    let verdict = |outcome, message, details, wrote| Verdict {
        outcome,
        message,
        details,
        wrote,
    };
    Ok(match snapshot::compare(file, transcript) {
        Comparison::Matches => {
            snapshot::remove_pending(file);
            verdict(Outcome::Ok, String::new(), String::new(), None)
        }
        Comparison::Missing if accept => {
            let path = written(name, snapshot::write(file, transcript, true))?;
            let message = format!("new snapshot; wrote {}", path.display());
            verdict(Outcome::Accepted, message, String::new(), Some(path))
        }
        Comparison::Differs { .. } if accept => {
            let path = written(name, snapshot::write(file, transcript, true))?;
            let message = format!("wrote {}", path.display());
            verdict(Outcome::Accepted, message, String::new(), Some(path))
        }
        Comparison::Missing => {
            let path = written(name, snapshot::write(file, transcript, false))?;
            let message = "no snapshot yet: review the pending one, then --accept".to_owned();
            verdict(Outcome::New, message, String::new(), Some(path))
        }
        Comparison::Differs { diff } => {
            let path = written(name, snapshot::write(file, transcript, false))?;
            let message = "the traffic differs from the snapshot".to_owned();
            verdict(Outcome::Diff, message, diff, Some(path))
        }
    })
}

/// A snapshot write's path, or its failure said of the scenario.
fn written(name: &str, path: std::io::Result<PathBuf>) -> Result<PathBuf> {
    path.with_context(|| format!("writing the snapshot of {name}"))
}
