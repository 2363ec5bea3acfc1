//! The report for people: one line per scenario with its wall time, the evidence under a
//! failure, and the counts. Coloured (status words, `-`/`+` diff lines) only where colour
//! works: anstream strips the styles unless the stream is a terminal, and honours `NO_COLOR`,
//! `CLICOLOR` and `CLICOLOR_FORCE`; `--color always|never` decides instead.

use std::io::Write;
use std::time::Duration;

use anstream::{AutoStream, ColorChoice};
use anstyle::{AnsiColor, Style};

use crate::outcome::{Outcome, RunReport, ScenarioResult};

const OK: Style = AnsiColor::Green.on_default();
const BAD: Style = AnsiColor::Red.on_default().bold();
const NEW: Style = AnsiColor::Yellow.on_default().bold();
const ACCEPTED: Style = AnsiColor::Cyan.on_default();
const REMOVED: Style = AnsiColor::Red.on_default();
const ADDED: Style = AnsiColor::Green.on_default();
const HUNK: Style = AnsiColor::Cyan.on_default();
const DIM: Style = Style::new().dimmed();

/// Where the report goes.
pub(crate) struct Terminal {
    out: Box<dyn Write>,
}

impl std::fmt::Debug for Terminal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Terminal(..)")
    }
}

impl Terminal {
    /// Stdout, or stderr when stdout carries a machine-readable report.
    pub(crate) fn new(to_stderr: bool, color: ColorChoice) -> Self {
        let out: Box<dyn Write> = if to_stderr {
            Box::new(AutoStream::new(std::io::stderr(), color))
        } else {
            Box::new(AutoStream::new(std::io::stdout(), color))
        };
        Self { out }
    }

    /// A line as it is.
    pub(crate) fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    /// One scenario's outcome, with its evidence when it did not pass.
    pub(crate) fn result(&mut self, r: &ScenarioResult) {
        let time = format!("{DIM}({}){DIM:#}", seconds(r.seconds));
        let wrote = r
            .wrote
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let out = &mut self.out;
        let _ = match r.outcome {
            Outcome::Ok => writeln!(out, "{OK}ok{OK:#}    {} {time}", r.name),
            Outcome::Accepted => {
                writeln!(
                    out,
                    "{ACCEPTED}accepted{ACCEPTED:#} {} {time}: {}",
                    r.name, r.message
                )
            }
            Outcome::New => writeln!(
                out,
                "{NEW}NEW{NEW:#}   {} {time}: no snapshot yet; wrote {wrote}\n      review it \
                 (cargo insta review, or read it) and rerun with --accept\n",
                r.name
            ),
            Outcome::Diff => {
                let _ = writeln!(out, "{BAD}DIFF{BAD:#}  {} {time}: {}", r.name, r.message);
                for line in r.details.lines() {
                    let style = diff_style(line);
                    let _ = writeln!(out, "      {style}{line}{style:#}");
                }
                writeln!(
                    out,
                    "      wrote {wrote} (cargo insta review, or rerun with --accept)\n"
                )
            }
            Outcome::Fail => {
                let _ = writeln!(out, "{BAD}FAIL{BAD:#}  {} {time}", r.name);
                for line in r.details.lines() {
                    let _ = writeln!(out, "      {line}");
                }
                writeln!(
                    out,
                    "      wrote {wrote} (the transcript up to the failed step)\n"
                )
            }
            Outcome::Lint => {
                let _ = writeln!(out, "{BAD}LINT{BAD:#}  {} {time}: {}", r.name, r.message);
                for line in r.details.lines() {
                    let style = diff_style(line);
                    let _ = writeln!(out, "      {style}{line}{style:#}");
                }
                if r.wrote.is_some() {
                    let _ = writeln!(out, "      wrote {wrote}");
                }
                writeln!(out)
            }
            // The run stops on a set-up error; `main` says why, on stderr.
            Outcome::Error | Outcome::Skipped => Ok(()),
        };
    }

    /// The counts; the last line is `N passed, N failed` alone, as CI log readers expect.
    pub(crate) fn summary(&mut self, report: &RunReport) {
        let failed: Vec<String> = report
            .scenarios
            .iter()
            .filter(|r| r.outcome.failed())
            .map(|r| format!("{} ({})", r.name, label(r.outcome)))
            .collect();
        if !failed.is_empty() {
            let _ = writeln!(self.out, "{BAD}failed{BAD:#}: {}", failed.join(", "));
        }
        let _ = writeln!(
            self.out,
            "{} passed, {} failed",
            report.passed, report.failed
        );
    }
}

/// `-` lines red, `+` lines green, hunk headers cyan.
fn diff_style(line: &str) -> Style {
    if line.starts_with("---") || line.starts_with("+++") {
        Style::new().bold()
    } else if line.starts_with('-') {
        REMOVED
    } else if line.starts_with('+') {
        ADDED
    } else if line.starts_with("@@") {
        HUNK
    } else {
        Style::new()
    }
}

fn label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::New => "NEW",
        Outcome::Diff => "DIFF",
        Outcome::Lint => "LINT",
        _ => "FAIL",
    }
}

/// `1.52s`.
pub(crate) fn seconds(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}
