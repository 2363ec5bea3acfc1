//! Log output on stderr: text for people (coloured only on a terminal, never with `NO_COLOR`)
//! or one JSON object per line for machines (`--log-format json`).

use std::io::IsTerminal as _;

use anyhow::{Context as _, Result};
use tracing_subscriber::EnvFilter;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// `2025-01-01T12:00:00.000000Z  INFO mock_apns::push: rejected connection=1 …`
    Text,
    /// `{"timestamp":"…","level":"INFO","message":"rejected","connection":1,…}`
    Json,
}

/// Installs the global subscriber. `filter` is `--log` (tracing's `EnvFilter` syntax).
pub(crate) fn init(filter: &str, format: LogFormat) -> Result<()> {
    let filter = EnvFilter::try_new(filter)
        .with_context(|| format!("--log {filter:?} (MOCK_APNS_LOG) is not a log filter"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(colour(
                std::io::stderr().is_terminal(),
                std::env::var_os("NO_COLOR"),
            ))
            .init(),
        // Fields at the top level, beside timestamp, level, target and message; no spans
        // (the mock opens none), so every line has the same shape.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
    Ok(())
}

/// Colour codes only for a person at a terminal, and not when they set `NO_COLOR` to anything
/// but the empty string (no-color.org).
fn colour(stderr_is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour(true, None));
        assert!(colour(true, Some("".into())), "an empty NO_COLOR is unset");
        assert!(!colour(true, Some("1".into())));
        assert!(
            !colour(false, None),
            "a file or a pipe gets no colour codes"
        );
    }
}
