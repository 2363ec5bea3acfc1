//! A fault rule: match + schedule + action, in the one vocabulary shared by the admin API,
//! the `--faults` file and the Rust API.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::error::RuleError;
use crate::{ErrorCode, Reason};

/// A rule as written (JSON) or built (Rust), before the mock gives it an id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// A label for listings and failure messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Lower numbers are evaluated first; ties go by insertion order.
    #[serde(default)]
    pub priority: i32,
    /// Which pushes the rule applies to (absent or `{}`: all).
    #[serde(default, rename = "match")]
    pub matcher: Match,
    /// When, among the matching pushes, the action fires.
    #[serde(default)]
    pub schedule: Schedule,
    /// Remove the rule after it has fired this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_after: Option<u64>,
    /// What happens to the push (or connection).
    pub action: Action,
}

/// Conditions on a push; every field that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// The device token (case-insensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    /// `apns-topic` (or the certificate's default topic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// `apns-push-type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub push_type: Option<String>,
    /// `apns-priority` (10 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// The provider token's team id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<String>,
    /// The provider token's key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// The connection (as numbered in `GET /api/v1/connections`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<u64>,
    /// A JSON pointer into the payload whose value must equal `equals`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<PayloadMatch>,
}

impl Match {
    /// Whether the match is `{}` (every push).
    pub fn is_everything(&self) -> bool {
        *self == Match::default()
    }
}

/// `{"pointer": "/call_id", "equals": "42"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadMatch {
    /// RFC 6901 JSON pointer, e.g. `/aps/alert/title`.
    pub pointer: String,
    /// The value found there must equal this.
    pub equals: serde_json::Value,
}

/// When a rule fires, counted over the pushes it matches (the first match is 1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    /// Every match.
    #[default]
    Always,
    /// Matches 1..=N.
    First(u64),
    /// Only match N.
    Nth(u64),
    /// Every match after the first K.
    After(u64),
    /// Matches k, 2k, 3k, ….
    Every(u64),
    /// Each match with probability `probability`, drawn from a generator seeded by `seed`: the
    /// same seed gives the same hits, run after run.
    #[serde(untagged)]
    Probability {
        /// Between 0 and 1.
        probability: f64,
        /// The generator's seed.
        seed: u64,
    },
}

impl Schedule {
    /// Whether match number `n` (from 1) fires.
    pub(crate) fn fires(&self, n: u64) -> bool {
        match *self {
            Schedule::Always => true,
            Schedule::First(count) => n <= count,
            Schedule::Nth(nth) => n == nth,
            Schedule::After(skip) => n > skip,
            Schedule::Every(k) => k > 0 && n % k == 0,
            Schedule::Probability { probability, seed } => {
                let draw = splitmix64(seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) >> 11;
                let uniform = draw as f64 / (1u64 << 53) as f64;
                uniform < probability
            }
        }
    }
}

/// A small, well-mixed hash: each (seed, n) gives an independent-looking uniform draw.
fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Action {
    /// Answer with one of Apple's reasons (status from the table; 410s carry `timestamp`,
    /// default: now).
    Reject {
        /// The reason.
        reject: Reason,
        /// Epoch ms for a 410.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp: Option<u64>,
    },
    /// Wait this long, then handle the push normally.
    Delay {
        /// Milliseconds (real time).
        delay_ms: u64,
    },
    /// Reset the stream with this HTTP/2 error code, without answering.
    Reset {
        /// E.g. `REFUSED_STREAM`, `CANCEL`, `INTERNAL_ERROR`.
        reset: ErrorCode,
    },
    /// Send GOAWAY with a JSON reason.
    GoAway {
        /// The frame to send.
        goaway: GoAwayAction,
    },
    /// Close the TCP connection without GOAWAY.
    Close {
        /// Must be `true`.
        close: bool,
    },
    /// Accept the stream and never answer it.
    Stall {
        /// Must be `true`.
        stall: bool,
    },
    /// Answer 429 `TooManyRequests` once a device token gets more than `max` pushes within
    /// `window_ms` (Apple's "too many requests to the same device token").
    RateLimit {
        /// The limiter's settings.
        rate_limit: RateLimitAction,
    },
    /// The whole service is down: every push gets 503 `ServiceUnavailable`, or 503 `Shutdown`
    /// plus a GOAWAY `{"reason":"Shutdown"}` whose last-stream-id covers
    /// the push (the two may reach the client in either order; nothing is lost either way).
    Outage {
        /// `ServiceUnavailable` or `Shutdown`.
        outage: Reason,
    },
    /// Refuse new connections beyond this many open ones.
    MaxConnections {
        /// The cap.
        max_connections: usize,
    },
}

/// The single-key form every action has on the wire (`reject` may carry `timestamp` beside
/// it), so an unknown or misspelt field gets serde's own "unknown field `…`" message.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum ActionTag {
    Reject(Reason),
    DelayMs(u64),
    Reset(ErrorCode),
    Goaway(GoAwayAction),
    Close(bool),
    Stall(bool),
    RateLimit(RateLimitAction),
    Outage(Reason),
    MaxConnections(usize),
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let mut map = serde_json::Map::deserialize(d)?;
        let timestamp = match map.remove("timestamp") {
            None => None,
            Some(_) if !map.contains_key("reject") => {
                return Err(D::Error::custom("\"timestamp\" goes only with \"reject\""))
            }
            Some(v) => Some(serde_json::from_value(v).map_err(D::Error::custom)?),
        };
        let tag: ActionTag =
            serde_json::from_value(serde_json::Value::Object(map)).map_err(D::Error::custom)?;
        Ok(match tag {
            ActionTag::Reject(reject) => Action::Reject { reject, timestamp },
            ActionTag::DelayMs(delay_ms) => Action::Delay { delay_ms },
            ActionTag::Reset(reset) => Action::Reset { reset },
            ActionTag::Goaway(goaway) => Action::GoAway { goaway },
            ActionTag::Close(close) => Action::Close { close },
            ActionTag::Stall(stall) => Action::Stall { stall },
            ActionTag::RateLimit(rate_limit) => Action::RateLimit { rate_limit },
            ActionTag::Outage(outage) => Action::Outage { outage },
            ActionTag::MaxConnections(max_connections) => {
                Action::MaxConnections { max_connections }
            }
        })
    }
}

/// A GOAWAY fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoAwayAction {
    /// Goes into the debug data as `{"reason":"…"}`.
    pub reason: Reason,
    /// The frame's error code (default `NO_ERROR`).
    #[serde(default)]
    pub error_code: ErrorCode,
    /// Whether the push that triggered it is within last-stream-id (answered normally) or
    /// beyond it (left unprocessed and reset with `REFUSED_STREAM`, safe to retry).
    #[serde(default = "yes")]
    pub include_current: bool,
}

fn yes() -> bool {
    true
}

/// A per-device-token rate limiter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitAction {
    /// Pushes allowed per window and token.
    pub max: u64,
    /// The window, in ms on the mock's clock.
    pub window_ms: u64,
}

impl Action {
    /// Answer with `reason`.
    pub fn reject(reason: Reason) -> Self {
        Action::Reject {
            reject: reason,
            timestamp: None,
        }
    }

    /// Answer 410 `reason` with this timestamp (epoch ms).
    pub fn reject_at(reason: Reason, timestamp_ms: u64) -> Self {
        Action::Reject {
            reject: reason,
            timestamp: Some(timestamp_ms),
        }
    }

    /// Delay the answer.
    pub fn delay(by: Duration) -> Self {
        Action::Delay {
            delay_ms: by.as_millis() as u64,
        }
    }

    /// Reset the stream.
    pub fn reset(code: ErrorCode) -> Self {
        Action::Reset { reset: code }
    }

    /// GOAWAY with `reason`, NO_ERROR, the current stream included.
    pub fn goaway(reason: Reason) -> Self {
        Action::GoAway {
            goaway: GoAwayAction {
                reason,
                error_code: ErrorCode::NoError,
                include_current: true,
            },
        }
    }

    /// GOAWAY with every detail chosen.
    pub fn goaway_with(reason: Reason, error_code: ErrorCode, include_current: bool) -> Self {
        Action::GoAway {
            goaway: GoAwayAction {
                reason,
                error_code,
                include_current,
            },
        }
    }

    /// Close the TCP connection without GOAWAY.
    pub fn close() -> Self {
        Action::Close { close: true }
    }

    /// Never answer.
    pub fn stall() -> Self {
        Action::Stall { stall: true }
    }

    /// 429 above `max` pushes per token per `window`.
    pub fn rate_limit(max: u64, window: Duration) -> Self {
        Action::RateLimit {
            rate_limit: RateLimitAction {
                max,
                window_ms: window.as_millis() as u64,
            },
        }
    }

    /// Service-wide outage: `ServiceUnavailable` or `Shutdown`.
    pub fn outage(reason: Reason) -> Self {
        Action::Outage { outage: reason }
    }

    /// Cap open connections.
    pub fn max_connections(n: usize) -> Self {
        Action::MaxConnections { max_connections: n }
    }

    /// A short name for records and listings.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Reject { .. } => "reject",
            Action::Delay { .. } => "delay",
            Action::Reset { .. } => "reset",
            Action::GoAway { .. } => "goaway",
            Action::Close { .. } => "close",
            Action::Stall { .. } => "stall",
            Action::RateLimit { .. } => "rate_limit",
            Action::Outage { .. } => "outage",
            Action::MaxConnections { .. } => "max_connections",
        }
    }
}

impl RuleSpec {
    /// A rule applying `action` to every push, always.
    pub fn new(action: Action) -> Self {
        Self {
            name: None,
            priority: 0,
            matcher: Match::default(),
            schedule: Schedule::Always,
            expire_after: None,
            action,
        }
    }

    /// Refuses impossible combinations, naming the field.
    pub fn check(&self) -> Result<(), RuleError> {
        match &self.action {
            Action::Close { close: false } => return Err(RuleError::new("action.close must be true")),
            Action::Stall { stall: false } => return Err(RuleError::new("action.stall must be true")),
            Action::Outage { outage }
                if !matches!(outage, Reason::ServiceUnavailable | Reason::Shutdown) =>
            {
                return Err(RuleError::new(format!(
                    "action.outage must be \"ServiceUnavailable\" or \"Shutdown\", not {outage:?}"
                )))
            }
            Action::RateLimit { rate_limit } if rate_limit.max == 0 || rate_limit.window_ms == 0 => {
                return Err(RuleError::new("action.rate_limit: max and window_ms must be at least 1"))
            }
            Action::MaxConnections { .. } if !self.matcher.is_everything() => {
                return Err(RuleError::new("match: a max_connections rule applies to connections, not pushes; remove \"match\""))
            }
            Action::MaxConnections { .. } if self.schedule != Schedule::Always => {
                return Err(RuleError::new("schedule: a max_connections rule has no schedule"))
            }
            Action::RateLimit { .. } if self.schedule != Schedule::Always => {
                return Err(RuleError::new("schedule: a rate_limit rule counts every push itself; remove \"schedule\""))
            }
            _ => {}
        }
        match self.schedule {
            Schedule::First(0) | Schedule::Nth(0) | Schedule::Every(0) => {
                Err(RuleError::new("schedule: the count must be at least 1"))
            }
            Schedule::Probability { probability, .. } if !(0.0..=1.0).contains(&probability) => {
                Err(RuleError::new(format!(
                    "schedule.probability must be between 0 and 1, not {probability}"
                )))
            }
            _ if self.expire_after == Some(0) => {
                Err(RuleError::new("expire_after must be at least 1"))
            }
            _ => Ok(()),
        }
    }
}

/// Parses one rule from JSON, with errors that name the field (`action.goaway.reason: …`).
pub fn parse_rule(json: &[u8]) -> Result<RuleSpec, RuleError> {
    let rule: RuleSpec = parse_with_path(json)?;
    rule.check()?;
    Ok(rule)
}

/// Parses a JSON array of rules (a `--faults` file); errors name the rule's index and field.
pub fn parse_rules(json: &[u8]) -> Result<Vec<RuleSpec>, RuleError> {
    let rules: Vec<RuleSpec> = parse_with_path(json)?;
    for (i, rule) in rules.iter().enumerate() {
        rule.check().map_err(|e| e.in_list(i))?;
    }
    Ok(rules)
}

fn parse_with_path<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, RuleError> {
    let de = &mut serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            RuleError::new(inner.to_string())
        } else {
            RuleError::at(path, inner.to_string())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_of_the_vocabulary_parses() {
        for json in [
            r#"{"action":{"reject":"Unregistered","timestamp":5}}"#,
            r#"{"action":{"delay_ms":100}}"#,
            r#"{"action":{"reset":"REFUSED_STREAM"}}"#,
            r#"{"action":{"goaway":{"reason":"Shutdown","error_code":"NO_ERROR","include_current":false}}}"#,
            r#"{"action":{"close":true}}"#,
            r#"{"action":{"stall":true}}"#,
            r#"{"action":{"rate_limit":{"max":2,"window_ms":1000}}}"#,
            r#"{"action":{"outage":"Shutdown"}}"#,
            r#"{"action":{"max_connections":1}}"#,
        ] {
            parse_rule(json.as_bytes()).unwrap_or_else(|e| panic!("{json}: {e}"));
        }
    }

    #[test]
    fn schedules_parse_in_both_shapes() {
        let r = parse_rule(br#"{"schedule":{"first":2},"action":{"delay_ms":1}}"#).unwrap();
        assert_eq!(r.schedule, Schedule::First(2));
        let r = parse_rule(br#"{"schedule":"always","action":{"delay_ms":1}}"#).unwrap();
        assert_eq!(r.schedule, Schedule::Always);
        let r = parse_rule(br#"{"schedule":{"probability":0.5,"seed":7},"action":{"delay_ms":1}}"#)
            .unwrap();
        assert_eq!(
            r.schedule,
            Schedule::Probability {
                probability: 0.5,
                seed: 7
            }
        );
    }

    #[test]
    fn unknown_fields_and_impossible_combinations_name_the_field() {
        let err = parse_rule(br#"{"action":{"reject":"Unregistered"},"colour":1}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("colour"), "{err}");
        let err = parse_rule(br#"{"match":{"topic":"a","tpoic":"b"},"action":{"close":true}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("match") && err.contains("tpoic"), "{err}");
        let err = parse_rule(br#"{"action":{"reject":"Gone"}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("action") && err.contains("Gone"), "{err}");
        let err =
            parse_rule(br#"{"action":{"goaway":{"reason":"Shutdown","eror_code":"CANCEL"}}}"#)
                .unwrap_err()
                .to_string();
        assert!(err.contains("eror_code"), "{err}");
        let err = parse_rule(br#"{"action":{"explode":true}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("explode"), "{err}");
        let err = parse_rule(br#"{"match":{"topic":"a"},"action":{"max_connections":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("match"), "{err}");
        let err = parse_rule(br#"{"action":{"outage":"BadTopic"}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("action.outage"), "{err}");
    }

    #[test]
    fn a_rules_file_names_the_failing_rule() {
        let err = parse_rules(br#"[{"action":{"close":true}},{"action":{"stall":false}}]"#)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("[1]."), "{err}");
        let err = parse_rules(br#"[{"action":{"close":true}},{"acton":{}}]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("[1]") && err.contains("acton"), "{err}");
    }

    #[test]
    fn schedules_fire_on_the_documented_matches() {
        let fired = |s: Schedule| (1..=6).filter(|n| s.fires(*n)).collect::<Vec<_>>();
        assert_eq!(fired(Schedule::First(2)), [1, 2]);
        assert_eq!(fired(Schedule::Nth(3)), [3]);
        assert_eq!(fired(Schedule::After(4)), [5, 6]);
        assert_eq!(fired(Schedule::Every(2)), [2, 4, 6]);
        let p = Schedule::Probability {
            probability: 0.5,
            seed: 42,
        };
        let a: Vec<bool> = (1..=64).map(|n| p.fires(n)).collect();
        let b: Vec<bool> = (1..=64).map(|n| p.fires(n)).collect();
        assert_eq!(a, b);
        let hits = a.iter().filter(|h| **h).count();
        assert!((16..=48).contains(&hits), "{hits} of 64 at p=0.5");
    }
}
