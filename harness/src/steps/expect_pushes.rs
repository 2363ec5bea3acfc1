//! `expect_pushes`: wait until a number of (matching) pushes have reached the mock.

use std::time::Duration;

use tokio::time::Instant;

use super::push_filter::{deserialize_with_filter, PushFilter};
use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::span::Span;

/// The longest wait when the step does not say.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Wait until `count` pushes (matching the filter) have arrived since the previous
/// expectation. Waits on the mock; the timeout only bounds failure.
#[derive(Debug, Clone)]
pub struct ExpectPushes {
    /// Exactly this many matching pushes (at least 1; use `expect_no_push` for none).
    pub count: usize,
    /// Which pushes count (written beside `count`: `"push_type": "voip"`).
    pub filter: PushFilter,
    /// Longest wait (default 10s).
    pub timeout: Option<Span>,
}

deserialize_with_filter!(ExpectPushes {
    count: usize,
    ..filter,
    #[serde(default)]
    timeout: Option<Span>,
});

impl ExpectPushes {
    /// The step's key in the file.
    pub const KIND: &'static str = "expect_pushes";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = true;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!(
            "expect {} push{}{}",
            self.count,
            if self.count == 1 { "" } else { "es" },
            self.filter.describe()
        )
    }

    /// At least one push, and the filter names a declared token.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        if self.count == 0 {
            return Err(Invalid::new(
                ".count",
                "count must be at least 1; use expect_no_push for none",
            ));
        }
        self.filter.check(scope)
    }

    /// Waits on the mock until `count` matching pushes arrived (more is a failure too), and
    /// records every push since the previous expectation.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let (count, filter) = (self.count, &self.filter);
        let timeout = self.timeout.map_or(TIMEOUT, |s| s.duration());
        let deadline = Instant::now() + timeout;
        let mut records = player.mock.records().await?;
        loop {
            let matching = player
                .new_records(&records)
                .iter()
                .filter(|r| filter.matches(r, player))
                .count();
            if matching >= count {
                let new = player.close(&records);
                if matching > count {
                    return Err(Stop::Failed {
                        message: format!("expected {count} matching pushes, got {matching}"),
                        pushes: player.summaries(&new),
                    });
                }
                return Ok(());
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            let (now, complete) = player.mock.wait_total(records.len() + 1, remaining).await?;
            records = now;
            if !complete {
                let new = player.close(&records);
                let matching = new.iter().filter(|r| filter.matches(r, player)).count();
                return Err(Stop::Failed {
                    message: format!(
                        "expected {count} matching pushes within {timeout:?}, got {matching}"
                    ),
                    pushes: player.summaries(&new),
                });
            }
        }
    }
}
