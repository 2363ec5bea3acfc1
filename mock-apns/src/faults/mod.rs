//! Fault injection: rules that make the mock fail on purpose, deterministically.
//!
//! A rule is match + schedule + action ([`RuleSpec`]). Rules are evaluated per push in
//! priority order (lower first), then insertion order; the first rule that matches and whose
//! schedule fires decides. The rule list is read lock-free on every push (copy-on-write through
//! `ArcSwap`); counters are atomics.

pub(crate) mod effect;
mod error;
mod rate_limit;
mod rule;
#[cfg(test)]
mod rule_properties;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

pub use error::RuleError;
pub use rule::{
    parse_rule, parse_rules, Action, GoAwayAction, Match, PayloadMatch, RateLimitAction, RuleSpec,
    Schedule,
};

use rate_limit::RateLimiter;

/// A mounted rule, with its id and counters.
#[derive(Debug)]
pub struct Rule {
    /// Assigned by the mock, from 1.
    pub id: u64,
    /// The rule as written.
    pub spec: RuleSpec,
    matched: AtomicU64,
    hits: AtomicU64,
    removed: AtomicBool,
    limiter: Option<RateLimiter>,
}

/// How a rule appears in listings: the spec plus id and counters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuleSummary {
    /// The rule's id.
    pub id: u64,
    /// How many pushes matched it.
    pub matched: u64,
    /// How many times its action fired.
    pub hits: u64,
    /// Whether it is still active (false once expired or deleted).
    pub active: bool,
    /// The rule itself.
    #[serde(flatten)]
    pub spec: RuleSpec,
}

impl Rule {
    /// How many times the action fired.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    /// For listings.
    pub fn summary(&self) -> RuleSummary {
        RuleSummary {
            id: self.id,
            matched: self.matched.load(Ordering::SeqCst),
            hits: self.hits(),
            active: !self.removed.load(Ordering::SeqCst),
            spec: self.spec.clone(),
        }
    }

    /// A label for records and messages: `#3 "stale token"`.
    pub fn label(&self) -> String {
        match &self.spec.name {
            Some(name) => format!("#{} {name:?}", self.id),
            None => format!("#{}", self.id),
        }
    }

    /// Takes one hit if the expiry allows it; the last allowed hit also reports expiry.
    fn take_hit(&self) -> Option<bool> {
        let max = self.spec.expire_after.unwrap_or(u64::MAX);
        let before = self
            .hits
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |h| {
                (h < max).then_some(h + 1)
            })
            .ok()?;
        Some(before + 1 == max)
    }
}

/// What a push looks like to a rule's match.
#[derive(Debug, Default)]
pub(crate) struct PushFacts<'a> {
    pub(crate) device_token: Option<&'a str>,
    pub(crate) topic: Option<&'a str>,
    pub(crate) push_type: Option<&'a str>,
    pub(crate) priority: Option<u8>,
    pub(crate) team_id: Option<&'a str>,
    pub(crate) key_id: Option<&'a str>,
    pub(crate) connection_id: u64,
    pub(crate) payload: &'a [u8],
}

impl Match {
    pub(crate) fn matches(&self, push: &PushFacts<'_>) -> bool {
        let eq = |want: &Option<String>, got: Option<&str>| {
            want.as_deref().is_none_or(|w| got == Some(w))
        };
        self.device_token
            .as_deref()
            .is_none_or(|w| push.device_token.is_some_and(|t| t.eq_ignore_ascii_case(w)))
            && eq(&self.topic, push.topic)
            && eq(&self.push_type, push.push_type)
            && self.priority.is_none_or(|p| push.priority == Some(p))
            && eq(&self.team_id, push.team_id)
            && eq(&self.key_id, push.key_id)
            && self.connection_id.is_none_or(|c| c == push.connection_id)
            && self.payload.as_ref().is_none_or(|m| {
                serde_json::from_slice::<serde_json::Value>(push.payload)
                    .ok()
                    .and_then(|v| v.pointer(&m.pointer).map(|found| *found == m.equals))
                    .unwrap_or(false)
            })
    }
}

/// The rule that fired for a push.
#[derive(Debug, Clone)]
pub(crate) struct Fired {
    pub(crate) rule: Arc<Rule>,
}

/// The mounted rules.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: ArcSwap<Vec<Arc<Rule>>>,
    next_id: AtomicU64,
}

impl Faults {
    /// Mounts a rule and returns it (with its id).
    pub(crate) fn add(&self, spec: RuleSpec) -> Result<Arc<Rule>, RuleError> {
        spec.check()?;
        let limiter = match &spec.action {
            Action::RateLimit { rate_limit } => Some(RateLimiter::new(rate_limit.clone())),
            _ => None,
        };
        let rule = Arc::new(Rule {
            id: self.next_id.fetch_add(1, Ordering::Relaxed) + 1,
            spec,
            matched: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            removed: AtomicBool::new(false),
            limiter,
        });
        self.rules.rcu(|rules| {
            let mut rules = Vec::clone(rules);
            rules.push(rule.clone());
            rules.sort_by_key(|r| (r.spec.priority, r.id));
            rules
        });
        Ok(rule)
    }

    /// Unmounts a rule; false if it was not mounted.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut removed = Vec::new();
        self.rules.rcu(|rules| {
            let (gone, kept): (Vec<_>, Vec<_>) = rules.iter().cloned().partition(|r| r.id == id);
            removed = gone;
            kept
        });
        // Marked from the rules taken out: looking the id up again would no longer find it.
        for rule in &removed {
            rule.removed.store(true, Ordering::SeqCst);
        }
        !removed.is_empty()
    }

    fn all_including(&self, id: u64) -> Option<Arc<Rule>> {
        self.rules.load().iter().find(|r| r.id == id).cloned()
    }

    /// Unmounts every rule.
    pub(crate) fn clear(&self) {
        let old = self.rules.swap(Arc::new(Vec::new()));
        for rule in old.iter() {
            rule.removed.store(true, Ordering::SeqCst);
        }
    }

    /// The mounted rules, in evaluation order.
    pub(crate) fn list(&self) -> Vec<Arc<Rule>> {
        self.rules.load().iter().cloned().collect()
    }

    /// The mounted rule with this id.
    pub(crate) fn get(&self, id: u64) -> Option<Arc<Rule>> {
        self.all_including(id)
    }

    /// The push-level rule that fires for this push, if any. `now_ms` is the mock's clock.
    pub(crate) fn evaluate(&self, push: &PushFacts<'_>, now_ms: u64) -> Option<Fired> {
        let rules = self.rules.load();
        if rules.is_empty() {
            return None;
        }
        for rule in rules.iter() {
            if matches!(rule.spec.action, Action::MaxConnections { .. })
                || !rule.spec.matcher.matches(push)
            {
                continue;
            }
            let n = rule.matched.fetch_add(1, Ordering::SeqCst) + 1;
            let fires = match &rule.limiter {
                Some(limiter) => limiter.over_limit(push.device_token.unwrap_or(""), now_ms),
                None => rule.spec.schedule.fires(n),
            };
            if fires && self.hit(rule) {
                return Some(Fired { rule: rule.clone() });
            }
        }
        None
    }

    /// Counts a hit of `rule`, unmounting it when that was the last its expiry allows; false
    /// when the expiry had already run out (the rule is on its way out and does not fire).
    fn hit(&self, rule: &Rule) -> bool {
        let Some(expired) = rule.take_hit() else {
            return false;
        };
        if expired {
            let id = rule.id;
            rule.removed.store(true, Ordering::SeqCst);
            self.rules.rcu(|rules| {
                rules
                    .iter()
                    .filter(|r| r.id != id)
                    .cloned()
                    .collect::<Vec<_>>()
            });
        }
        true
    }

    /// Counts a connection refused by a `max_connections` rule as one of its hits.
    pub(crate) fn refused_connection(&self, rule: &Rule) {
        self.hit(rule);
    }

    /// The tightest connection cap among `max_connections` rules.
    pub(crate) fn max_connections(&self) -> Option<(Arc<Rule>, usize)> {
        self.rules
            .load()
            .iter()
            .filter_map(|r| match r.spec.action {
                Action::MaxConnections { max_connections } => Some((r.clone(), max_connections)),
                _ => None,
            })
            .min_by_key(|(_, cap)| *cap)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(token: &str) -> PushFacts<'_> {
        PushFacts {
            device_token: Some(token),
            connection_id: 1,
            ..PushFacts::default()
        }
    }

    #[test]
    fn priority_then_insertion_order_decides() {
        let faults = Faults::default();
        let late = faults.add(RuleSpec::new(Action::stall())).unwrap();
        let mut first = RuleSpec::new(Action::close());
        first.priority = -1;
        let first = faults.add(first).unwrap();
        let fired = faults.evaluate(&facts("aa"), 0).unwrap();
        assert_eq!(fired.rule.id, first.id);
        assert!(late.id < first.id);
    }

    #[test]
    fn an_expiring_rule_fires_exactly_n_times_then_leaves() {
        let faults = Faults::default();
        let mut spec = RuleSpec::new(Action::reject(crate::Reason::TooManyRequests));
        spec.expire_after = Some(2);
        let rule = faults.add(spec).unwrap();
        let fired = (0..4)
            .filter(|_| faults.evaluate(&facts("aa"), 0).is_some())
            .count();
        assert_eq!(fired, 2);
        assert_eq!(rule.hits(), 2);
        assert!(faults.list().is_empty());
        assert!(!rule.summary().active);
    }

    #[test]
    fn a_removed_rule_is_inactive_and_no_longer_fires() {
        let faults = Faults::default();
        let rule = faults.add(RuleSpec::new(Action::stall())).unwrap();
        assert!(faults.remove(rule.id));
        assert!(!rule.summary().active);
        assert!(faults.evaluate(&facts("aa"), 0).is_none());
        assert!(!faults.remove(rule.id));
    }

    #[test]
    fn a_refused_connection_is_a_hit_of_its_cap_rule() {
        let faults = Faults::default();
        let mut spec = RuleSpec::new(Action::max_connections(1));
        spec.expire_after = Some(2);
        let rule = faults.add(spec).unwrap();
        faults.refused_connection(&rule);
        assert_eq!(rule.hits(), 1);
        faults.refused_connection(&rule);
        assert!(
            faults.max_connections().is_none(),
            "expired after 2 refusals"
        );
    }

    #[test]
    fn payload_pointer_must_equal_the_value() {
        let m = Match {
            payload: Some(PayloadMatch {
                pointer: "/call_id".into(),
                equals: "42".into(),
            }),
            ..Match::default()
        };
        let yes = PushFacts {
            payload: br#"{"call_id":"42"}"#,
            ..PushFacts::default()
        };
        let no = PushFacts {
            payload: br#"{"call_id":42}"#,
            ..PushFacts::default()
        };
        assert!(m.matches(&yes));
        assert!(!m.matches(&no));
    }
}
