//! The Rust face of fault rules, in the style of wiremock-rs: `Mock::given(matcher)
//! .respond_with(action).up_to_n_times(n).expect(range).mount(&apns)`. Expectations are
//! checked when the [`MockApns`] (or a scoped [`MockGuard`]) is dropped.

use std::fmt;
use std::sync::Arc;

use crate::api::handle::{FaultsHandle, MockApns};
use crate::api::verification::{failure, report, Times};
use crate::faults::{Action, Match, Rule, RuleSpec, Schedule};

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
    /// Starts a mock for the pushes `matcher` selects (see [`crate::api::matchers`]).
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

/// A mock mounted until this guard is dropped; dropping it checks the expectation (unless the
/// thread is already panicking) and unmounts the rule.
#[must_use = "the mock is unmounted as soon as the guard is dropped"]
pub struct MockGuard {
    rule: Arc<Rule>,
    expect: Option<Times>,
    apns: FaultsHandle,
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
