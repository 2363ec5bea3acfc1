//! `run`: a shell command, given the mock's `APNS_*` variables and a fresh provider token.

use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;

use crate::check::{Invalid, Scope};
use crate::error::{indent, Error};
use crate::player::{Player, Stop};
use crate::span::Span;

/// How long the command may run when the step does not say.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A shell command (`sh -c`), with the mock's `APNS_*` variables and `APNS_JWT`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunStep {
    /// The command, with `{{…}}` templates.
    pub command: String,
    /// The exit code it must end with (default 0).
    #[serde(default)]
    pub expect_exit: i32,
    /// How long it may run (default 30s).
    #[serde(default)]
    pub timeout: Option<Span>,
}

impl RunStep {
    /// The step's key in the file.
    pub const KIND: &'static str = "run";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("run {}", self.command)
    }

    /// The command uses only names defined before.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        scope
            .template(&self.command)
            .map_err(|m| Invalid::new(".command", m))
    }

    /// Runs the command, records its exit code and checks it.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let command = player.expand(&self.command)?;
        let jwt = player.mock.jwt();
        let timeout = self.timeout.map_or(TIMEOUT, |s| s.duration());
        let (code, output) = run_command(&command, &player.mock.env.vars(), &jwt, timeout)
            .await
            .map_err(Stop::Setup)?;
        player.current().exit = Some(code);
        if code != self.expect_exit {
            return Err(Stop::failed(format!(
                "the command exited with {code} (expected {}):\n{}",
                self.expect_exit,
                indent(&output)
            )));
        }
        Ok(())
    }
}

/// Runs the command: exit code and output.
async fn run_command(
    command: &str,
    vars: &[(&'static str, String)],
    jwt: &str,
    timeout: Duration,
) -> Result<(i32, String), Error> {
    let child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .env("APNS_JWT", jwt)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::setup(format!("cannot run {command:?}: {e}")))?;
    match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            Ok((out.status.code().unwrap_or(-1), text))
        }
        Ok(Err(e)) => Err(Error::setup(format!("running {command:?}: {e}"))),
        Err(_) => Ok((-1, format!("(killed after {timeout:?})"))),
    }
}
