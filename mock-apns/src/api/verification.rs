//! Expectations on mounted mocks, checked when the mock or its guard is dropped: how many hits
//! were expected ([`Times`]) and the report that names each failure and lists what arrived.

use std::fmt;
use std::ops::{Range, RangeFrom, RangeInclusive, RangeTo, RangeToInclusive};

use crate::faults::Rule;
use crate::record::notification::Notification;

/// How many times a mock is expected to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    min: u64,
    max: Option<u64>,
}

impl Times {
    pub(crate) fn contains(&self, n: u64) -> bool {
        n >= self.min && self.max.is_none_or(|max| n <= max)
    }
}

impl fmt::Display for Times {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.max {
            Some(max) if max == self.min => write!(f, "exactly {max}"),
            Some(max) => write!(f, "between {} and {max}", self.min),
            None => write!(f, "at least {}", self.min),
        }
    }
}

impl From<u64> for Times {
    fn from(n: u64) -> Self {
        Times {
            min: n,
            max: Some(n),
        }
    }
}

impl From<Range<u64>> for Times {
    fn from(r: Range<u64>) -> Self {
        Times {
            min: r.start,
            max: Some(r.end.saturating_sub(1)),
        }
    }
}

impl From<RangeInclusive<u64>> for Times {
    fn from(r: RangeInclusive<u64>) -> Self {
        Times {
            min: *r.start(),
            max: Some(*r.end()),
        }
    }
}

impl From<RangeFrom<u64>> for Times {
    fn from(r: RangeFrom<u64>) -> Self {
        Times {
            min: r.start,
            max: None,
        }
    }
}

impl From<RangeTo<u64>> for Times {
    fn from(r: RangeTo<u64>) -> Self {
        Times {
            min: 0,
            max: Some(r.end.saturating_sub(1)),
        }
    }
}

impl From<RangeToInclusive<u64>> for Times {
    fn from(r: RangeToInclusive<u64>) -> Self {
        Times {
            min: 0,
            max: Some(r.end),
        }
    }
}

/// A mounted mock's expectation that did not hold.
pub(crate) fn failure(rule: &Rule, expect: Option<Times>) -> Option<String> {
    let expect = expect?;
    let hits = rule.hits();
    (!expect.contains(hits)).then(|| {
        format!(
            "- mock {}: expected {expect} hits, got {hits}",
            rule.label()
        )
    })
}

/// Under `--lint deny`, each lint finding is a failure of its own.
pub(crate) fn lint_failures(received: &[Notification]) -> Vec<String> {
    received
        .iter()
        .flat_map(|n| {
            n.lint.iter().map(move |f| {
                format!(
                    "- lint (deny) push #{} to {}: {} ({:?}): {}",
                    n.id,
                    n.device_token.as_deref().unwrap_or("-"),
                    f.rule,
                    f.severity,
                    f.message
                )
            })
        })
        .collect()
}

/// The message for failed expectations, with what the mock received.
pub(crate) fn report(failures: &[String], received: &[Notification]) -> String {
    let mut out = format!("Verifications failed:\n{}\n", failures.join("\n"));
    out.push_str(&format!("Received pushes ({}):\n", received.len()));
    for n in received {
        out.push_str(&format!(
            "  #{} {} {} topic={} push-type={} -> {}{}\n",
            n.id,
            n.method,
            n.path,
            n.topic().unwrap_or("-"),
            n.header("apns-push-type").unwrap_or("-"),
            n.status,
            n.reason.map(|r| format!(" {r}")).unwrap_or_default(),
        ));
    }
    out
}
