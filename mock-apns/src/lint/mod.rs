//! Lint: mistakes APNs accepts but a phone pays for. Each push APNs's checks let through is
//! read by the [`RULES`], in order; findings go into the record (`lint`), are counted, and
//! never change APNs's answer. `--lint deny` makes them a failure of the test run instead (the
//! harness's `--deny-lint`, the Rust handle's verification), still never a different answer.
//!
//! Every rule has an id, a one-line explanation and its Apple source; `docs/phones.md` §5
//! lists them. A VoIP push to a bare or wrong topic has no rule: APNs already rejects it
//! (`TopicDisallowed`), and a rejected push is not linted, so nothing is reported twice.

mod rules;

pub use rules::{LintRule, LONG_VOIP_EXPIRATION_SECS, RULES};

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::phones::incoming::Incoming;

/// What the mock does with lint findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LintMode {
    /// No rule runs.
    Off,
    /// Findings are recorded and counted (the default).
    #[default]
    Warn,
    /// Findings are recorded and counted, and fail the test run (harness, Rust verification).
    Deny,
}

impl LintMode {
    /// The flag value.
    pub fn as_str(self) -> &'static str {
        match self {
            LintMode::Off => "off",
            LintMode::Warn => "warn",
            LintMode::Deny => "deny",
        }
    }
}

impl std::str::FromStr for LintMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "off" => Ok(LintMode::Off),
            "warn" => Ok(LintMode::Warn),
            "deny" => Ok(LintMode::Deny),
            _ => Err(format!("lint mode {s:?} is not off, warn or deny")),
        }
    }
}

crate::apns::str_enum::str_traits!(LintMode);

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Works today, fails some calls (late, silent, stored).
    Warning,
    /// Breaks PushKit's rule: iOS terminates the app and eventually stops VoIP delivery.
    Error,
}

impl Severity {
    /// The wire name (`warning`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule's finding on one push, as the record shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintFinding {
    /// The rule's id (`voip-no-expiration`).
    pub rule: String,
    /// Its severity.
    pub severity: Severity,
    /// What is wrong with this push.
    pub message: String,
    /// Apple's page the rule comes from.
    pub source: String,
}

/// A finding as a record keeps it: the rule's static id and source are referenced, not
/// copied into every record (a source is a URL of some 90 bytes).
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) rule: &'static LintRule,
    pub(crate) message: Box<str>,
}

impl Found {
    /// The finding as the record shows it.
    pub(crate) fn to_finding(&self) -> LintFinding {
        LintFinding {
            rule: self.rule.id.to_owned(),
            severity: self.rule.severity,
            message: self.message.to_string(),
            source: self.rule.source.to_owned(),
        }
    }

    /// Back from the record's form: `None` for a rule this mock does not have.
    #[cfg(test)]
    pub(crate) fn from_finding(finding: &LintFinding) -> Option<Self> {
        let rule = RULES.iter().find(|r| r.id == finding.rule)?;
        let message = finding.message.as_str().into();
        Some(Self { rule, message })
    }
}

/// The rules' settings and counters, shared by every connection.
#[derive(Debug)]
pub(crate) struct Lint {
    pub(crate) mode: LintMode,
    /// Findings per rule, in [`RULES`] order.
    counts: Box<[AtomicU64]>,
}

/// What a rule may look at besides the push.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Known {
    /// For a VoIP push to a phone: whether that phone already rang its call id. `None`: no
    /// phone owns the token, so the mock has no memory to judge by.
    pub(crate) repeated_call: Option<bool>,
}

impl Lint {
    pub(crate) fn new(mode: LintMode) -> Self {
        Self {
            mode,
            counts: RULES.iter().map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Runs every rule on a push APNs's checks accepted, counting what they find.
    pub(crate) fn check(&self, push: &Incoming<'_>, known: Known) -> Vec<Found> {
        // Every rule is about VoIP pushes: any other costs one comparison.
        if self.mode == LintMode::Off || !push.is_voip() {
            return Vec::new();
        }
        let input = rules::Input { push, known };
        let mut findings = Vec::new();
        for (i, rule) in RULES.iter().enumerate() {
            if let Some(message) = (rule.check)(&input) {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
                let message = message.into();
                findings.push(Found { rule, message });
            }
        }
        findings
    }

    /// Findings so far per rule, in [`RULES`] order.
    pub(crate) fn counts(&self) -> Vec<(&'static LintRule, u64)> {
        RULES
            .iter()
            .zip(self.counts.iter())
            .map(|(rule, n)| (rule, n.load(Ordering::Relaxed)))
            .collect()
    }
}

/// `GET /api/v1/lint`: the mode, and each rule with its explanation, source and count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LintReport {
    /// The mock's `--lint` mode.
    pub mode: LintMode,
    /// Every rule, in the order they run.
    pub rules: Vec<RuleCount>,
}

/// One rule of a [`LintReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    /// The rule's id.
    pub id: String,
    /// Its severity.
    pub severity: Severity,
    /// One line: what it catches and why that matters.
    pub explanation: String,
    /// Apple's page it comes from.
    pub source: String,
    /// Findings so far.
    pub count: u64,
}

impl LintReport {
    pub(crate) fn of(lint: &Lint) -> Self {
        Self {
            mode: lint.mode,
            rules: lint
                .counts()
                .into_iter()
                .map(|(rule, count)| RuleCount {
                    id: rule.id.to_owned(),
                    severity: rule.severity,
                    explanation: rule.explanation.to_owned(),
                    source: rule.source.to_owned(),
                    count,
                })
                .collect(),
        }
    }

    /// Findings so far, all rules together.
    pub fn total(&self) -> u64 {
        self.rules.iter().map(|r| r.count).sum()
    }
}
