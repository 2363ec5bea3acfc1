//! `expect_no_push`: watch the mock for a span; no (matching) push may arrive.

use std::time::Duration;

use tokio::time::Instant;

use super::push_filter::{deserialize_with_filter, PushFilter};
use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::span::Span;

/// Watch the mock for a span: no matching push may arrive. This step does wait out its span
/// (that is what it asserts), so keep it short.
#[derive(Debug, Clone)]
pub struct ExpectNoPush {
    /// How long to watch (at most [`Self::MAX_SPAN`]), written `for`.
    pub span: Span,
    /// Only the pushes it matches count (written beside `for`: `"device": "bob-ipad.voip"`).
    pub filter: PushFilter,
}

deserialize_with_filter!(ExpectNoPush {
    #[serde(rename = "for")]
    span: Span,
    ..filter,
});

impl ExpectNoPush {
    /// The step's key in the file.
    pub const KIND: &'static str = "expect_no_push";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = true;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// Longest span: it is a real wait, so it is kept short.
    pub const MAX_SPAN: Duration = Duration::from_secs(10);

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("expect no push for {}{}", self.span, self.filter.describe())
    }

    /// The span is short, and the filter names a declared token.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        if self.span.duration() > Self::MAX_SPAN {
            return Err(Invalid::new(
                ".for",
                format!(
                    "{} is longer than {}s: this step really waits",
                    self.span,
                    Self::MAX_SPAN.as_secs()
                ),
            ));
        }
        self.filter.check(scope)
    }

    /// Watches the mock for the span, and records every push since the previous expectation.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let deadline = Instant::now() + self.span.duration();
        let mut records = player.mock.records().await?;
        loop {
            let arrived = player
                .new_records(&records)
                .iter()
                .any(|r| self.filter.matches(r, player));
            if arrived {
                let new = player.close(&records);
                return Err(Stop::Failed {
                    message: "a push arrived".into(),
                    pushes: player.summaries(&new),
                });
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                player.close(&records);
                return Ok(());
            }
            // Watching is the point of this step: the long-poll returns early only when a
            // push arrives.
            let (now, _) = player.mock.wait_total(records.len() + 1, remaining).await?;
            records = now;
        }
    }
}
