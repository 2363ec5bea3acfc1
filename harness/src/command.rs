//! A command provider: how to start it ([`CommandProvider`]), and its process, started in its
//! own process group with the mock's variables, ready when it says so on its output, stopped
//! with its whole group, and its output kept for failure reports.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::error::{indent, Error};
use crate::mock::ApnsEnv;

/// Output lines kept for a failure report.
const KEPT_LINES: usize = 400;
/// Output lines shown when the provider does not get ready: its last words, not its log.
const START_LINES: usize = 20;
/// How long a provider gets to exit after SIGTERM before SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How to start a command provider.
#[derive(Debug, Clone)]
pub struct CommandProvider {
    /// The command line, run with `sh -c` in its own process group.
    pub command: String,
    /// Readiness: the first output line (stdout or stderr) containing this text. Its first
    /// `http://…` word is the provider's URL unless [`Self::url`] is set.
    pub ready_line: String,
    /// The provider's URL, when its ready line does not say it.
    pub url: Option<String>,
    /// How long it may take to become ready.
    pub ready_timeout: Duration,
    /// Extra environment variables (after the `APNS_*` ones, so they can override them).
    pub env: Vec<(String, String)>,
    /// Working directory (default: the harness's).
    pub current_dir: Option<PathBuf>,
}

impl CommandProvider {
    /// A command with the defaults: ready on `listening on <URL>`, within 60 s.
    pub fn new(command: impl Into<String>) -> Self {
        Self {
            command: command.into(),
            ready_line: "listening on".into(),
            url: None,
            ready_timeout: Duration::from_secs(60),
            env: Vec::new(),
            current_dir: None,
        }
    }

    /// Sets an extra environment variable.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets the readiness text.
    pub fn ready_line(mut self, text: impl Into<String>) -> Self {
        self.ready_line = text.into();
        self
    }

    /// Sets the provider's URL.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Sets the working directory.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }
}

/// A running command provider.
#[derive(Debug)]
pub(crate) struct ProviderProcess {
    child: Child,
    url: String,
    output: Arc<Mutex<VecDeque<String>>>,
}

impl ProviderProcess {
    /// Starts the command and waits for its ready line.
    pub(crate) async fn start(spec: &CommandProvider, env: &ApnsEnv) -> Result<Self, Error> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(&spec.command)
            // Python block-buffers stdout into a pipe, so a plain `print` of the ready line
            // would reach the harness only when the buffer fills; a provider may override it.
            .env("PYTHONUNBUFFERED", "1")
            .env("PORT", "0")
            .envs(env.vars())
            .envs(spec.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            // The scenario's own variables are the most specific, so they come last.
            .envs(
                env.provider_env
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        if let Some(dir) = &spec.current_dir {
            command.current_dir(dir);
        }
        let mut child = command.spawn().map_err(|e| {
            Error::setup(format!(
                "cannot start provider command {:?}: {e}",
                spec.command
            ))
        })?;
        let output = Arc::new(Mutex::new(VecDeque::new()));
        let (lines_tx, mut lines_rx) = mpsc::unbounded_channel();
        if let Some(out) = child.stdout.take() {
            tokio::spawn(collect(out, "", output.clone(), lines_tx.clone()));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(collect(err, "stderr| ", output.clone(), lines_tx));
        }
        let mut process = ProviderProcess {
            child,
            url: String::new(),
            output,
        };
        let ready = async {
            while let Some(line) = lines_rx.recv().await {
                if line.contains(&spec.ready_line) {
                    return Some(line);
                }
            }
            None // both streams closed: the process is gone
        };
        let line = match tokio::time::timeout(spec.ready_timeout, ready).await {
            Ok(Some(line)) => line,
            Ok(None) => {
                let status = process.child.wait().await.ok();
                return Err(Error::setup(format!(
                    "provider command {:?} ended ({}) before printing its ready line\n  \
                     expected: {}\n{}",
                    spec.command,
                    status.map_or("?".into(), |s| s.to_string()),
                    expected_line(spec),
                    last_lines(&process.output(), START_LINES)
                )));
            }
            Err(_) => {
                let output = process.stop().await;
                return Err(Error::setup(format!(
                    "provider command {:?} did not print its ready line within {:?}\n  \
                     expected: {}\n{}\n{}",
                    spec.command,
                    spec.ready_timeout,
                    expected_line(spec),
                    last_lines(&output, START_LINES),
                    NOT_READY_HINTS
                )));
            }
        };
        process.url = match &spec.url {
            Some(url) => url.clone(),
            None => match first_url(&line) {
                Some(url) => url,
                None => {
                    let output = process.stop().await;
                    return Err(Error::setup(format!(
                        "the provider's ready line {line:?} holds no http:// URL; pass the URL \
                         (--provider-url)\n{}",
                        indent(&output)
                    )));
                }
            },
        };
        Ok(process)
    }

    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Everything the process printed so far (the last lines).
    pub(crate) fn output(&self) -> String {
        let lines = self.output.lock().unwrap_or_else(|p| p.into_inner());
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    /// SIGTERM to the whole group, then SIGKILL if it lingers; answers the output.
    pub(crate) async fn stop(mut self) -> String {
        if let Some(pid) = self
            .child
            .id()
            .and_then(|id| rustix::process::Pid::from_raw(id as i32))
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::TERM);
            if tokio::time::timeout(STOP_GRACE, self.child.wait())
                .await
                .is_err()
            {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
                let _ = self.child.wait().await;
            }
        }
        self.output()
    }
}

async fn collect(
    stream: impl AsyncRead + Unpin,
    prefix: &'static str,
    output: Arc<Mutex<VecDeque<String>>>,
    lines: mpsc::UnboundedSender<String>,
) {
    let mut reader = BufReader::new(stream).lines();
    while let Ok(Some(line)) = reader.next_line().await {
        {
            let mut kept = output.lock().unwrap_or_else(|p| p.into_inner());
            kept.push_back(format!("{prefix}{line}"));
            if kept.len() > KEPT_LINES {
                kept.pop_front();
            }
        }
        let _ = lines.send(line);
    }
}

/// What to do when the ready line did not come: buffering first, as it is the surprise.
const NOT_READY_HINTS: &str = "  \
  If the provider printed the line and it is not above, its output is buffered: a program
  writing into a pipe (not a terminal) often keeps its output until a buffer fills. Flush
  after printing the line: Python `print(..., flush=True)` (the harness already sets
  PYTHONUNBUFFERED=1), Ruby `$stdout.sync = true`, C `fflush(stdout)`, Java
  `System.out.flush()`. If it printed other words, pass them: --ready-line TEXT (and
  --provider-url URL when the line holds none). If it is only slow to start, raise
  --ready-timeout.";

/// The line the harness waits for, in words: `a line containing "listening on" and the
/// provider's http:// URL, e.g. "listening on http://127.0.0.1:PORT"`.
fn expected_line(spec: &CommandProvider) -> String {
    match &spec.url {
        Some(_) => format!(
            "a line containing {:?} on stdout or stderr",
            spec.ready_line
        ),
        None => format!(
            "a line containing {:?} and the provider's http:// URL on stdout or stderr, e.g. \
             \"{} http://127.0.0.1:PORT\"",
            spec.ready_line, spec.ready_line
        ),
    }
}

/// The last `n` lines of the output, indented, saying how many came before.
fn last_lines(output: &str, n: usize) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let shown = &lines[lines.len().saturating_sub(n)..];
    let heading = match lines.len() - shown.len() {
        0 => "  its output:".to_owned(),
        skipped => format!(
            "  its last {} output lines ({skipped} before them):",
            shown.len()
        ),
    };
    format!("{heading}\n{}", indent(&shown.join("\n")).trim_end())
}

/// The first `http://` or `https://` word of a line, without trailing punctuation.
fn first_url(line: &str) -> Option<String> {
    line.split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(|w| {
            w.trim_end_matches(['.', ',', ';', ')', '"', '\''])
                .to_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_is_the_first_http_word() {
        assert_eq!(
            first_url("call-provider listening on http://127.0.0.1:4242."),
            Some("http://127.0.0.1:4242".into())
        );
        assert_eq!(first_url("listening on port 4242"), None);
    }
}
