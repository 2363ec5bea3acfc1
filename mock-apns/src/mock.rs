//! The Rust face of fault rules, in the style of wiremock-rs: `Mock::given(matcher)
//! .respond_with(action).up_to_n_times(n).expect(range).mount(&apns)`. Expectations are
//! checked when the [`MockApns`] (or a scoped [`MockGuard`]) is dropped.

use std::fmt;
use std::ops::{Range, RangeFrom, RangeInclusive, RangeTo, RangeToInclusive};
use std::sync::Arc;

use crate::faults::{Action, Match, Rule, RuleSpec, Schedule};
use crate::{MockApns, Notification};

/// A fault rule being built.
#[derive(Debug, Clone)]
#[must_use = "a Mock does nothing until it is mounted"]
pub struct Mock {
    spec: RuleSpec,
    expect: Option<Times>,
}

/// The first half of a [`Mock`]: which pushes it applies to.
#[derive(Debug, Clone)]
#[must_use = "call respond_with to finish the Mock"]
pub struct MockBuilder {
    matcher: Match,
}

impl Mock {
    /// Starts a mock for the pushes `matcher` selects (see [`crate::matchers`]).
    pub fn given(matcher: Match) -> MockBuilder {
        MockBuilder { matcher }
    }

    /// Fires at most `n` times, then stops matching (the rule's `expire_after`).
    pub fn up_to_n_times(mut self, n: u64) -> Self {
        self.spec.expire_after = Some(n);
        self
    }

    /// When, among matching pushes, it fires (default: always).
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.spec.schedule = schedule;
        self
    }

    /// How many times it must fire by the time it is verified: `1`, `1..`, `2..=3`, `0`.
    pub fn expect(mut self, times: impl Into<Times>) -> Self {
        self.expect = Some(times.into());
        self
    }

    /// A name for failure messages and listings.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.spec.name = Some(name.into());
        self
    }

    /// Lower is evaluated first (default 0); ties go by mount order.
    pub fn with_priority(mut self, priority: i32) -> Self {
        self.spec.priority = priority;
        self
    }

    /// The rule as JSON would write it.
    pub fn spec(&self) -> &RuleSpec {
        &self.spec
    }

    /// Mounts the mock; its expectation is checked when `apns` is dropped or verified.
    ///
    /// # Panics
    /// If the rule is impossible (for example a `max_connections` rule with a match).
    pub fn mount(self, apns: &MockApns) -> u64 {
        let rule = self.install(apns);
        let id = rule.id;
        apns.remember(rule, self.expect);
        id
    }

    /// Mounts the mock until the returned guard is dropped, which checks its expectation.
    pub fn mount_as_scoped(self, apns: &MockApns) -> MockGuard {
        let rule = self.install(apns);
        MockGuard {
            rule,
            expect: self.expect,
            apns: apns.faults_handle(),
        }
    }

    fn install(&self, apns: &MockApns) -> Arc<Rule> {
        match apns.add_fault(self.spec.clone()) {
            Ok(rule) => rule,
            Err(e) => panic!("mock-apns: cannot mount {:?}: {e}", self.spec.name),
        }
    }
}

impl MockBuilder {
    /// Adds a condition.
    pub fn and(self, matcher: Match) -> Self {
        Self {
            matcher: self.matcher.and(matcher),
        }
    }

    /// What happens to matching pushes.
    pub fn respond_with(self, action: Action) -> Mock {
        let mut spec = RuleSpec::new(action);
        spec.matcher = self.matcher;
        Mock { spec, expect: None }
    }
}

/// How many times a mock is expected to fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    min: u64,
    max: Option<u64>,
}

impl Times {
    fn contains(&self, n: u64) -> bool {
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

/// A mock mounted until this guard is dropped; dropping it checks the expectation (unless the
/// thread is already panicking) and unmounts the rule.
#[must_use = "the mock is unmounted as soon as the guard is dropped"]
pub struct MockGuard {
    rule: Arc<Rule>,
    expect: Option<Times>,
    apns: crate::mock_apns::FaultsHandle,
}

impl fmt::Debug for MockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockGuard")
            .field("rule", &self.rule.label())
            .finish_non_exhaustive()
    }
}

impl MockGuard {
    /// How many times the mock has fired.
    pub fn hits(&self) -> u64 {
        self.rule.hits()
    }
}

impl Drop for MockGuard {
    fn drop(&mut self) {
        self.apns.remove(self.rule.id);
        if std::thread::panicking() {
            return;
        }
        if let Some(failure) = failure(&self.rule, self.expect) {
            panic!("{}", report(&[failure], &self.apns.received()));
        }
    }
}
