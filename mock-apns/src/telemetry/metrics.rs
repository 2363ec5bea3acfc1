//! Prometheus metrics: counted on the hot path with plain atomics, written out in the
//! Prometheus text format (through the `prometheus-client` crate) when `GET /metrics` asks.
//!
//! Why not the crate's own `Family` and `Histogram` for pushes: a `Family` takes a lock to
//! look a label set up and its `Histogram` takes a mutex per observation, both once per push.
//! Every label here has a small fixed set of values (Apple's push types, Apple's reasons,
//! HTTP/2 error codes, fault actions), so each series is one `AtomicU64` in a table indexed by
//! label, and a scrape copies the tables into the crate's constant metrics. A push costs five
//! relaxed atomic additions. No label ever holds a device token, an `apns-id` or anything else
//! a client chooses freely: a push type that is not Apple's is counted as `invalid`.
//!
//! A scrape reads the counters one by one while pushes go on, so a histogram's `_count` and
//! `_sum` may disagree by the pushes that landed in between; the next scrape catches up.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeMetric as _, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::apns::push_type::PushType;
use crate::faults::Action;
use crate::{Environment, ErrorCode, Reason};

/// The `Content-Type` of `GET /metrics`: the Prometheus text format 0.0.4.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// `push_type` label values: Apple's push types, then a missing header (`""`), then a value
/// that is not Apple's.
const PUSH_TYPE_SLOTS: usize = PushType::ALL.len() + 2;
const NO_PUSH_TYPE: usize = PushType::ALL.len();
const INVALID_PUSH_TYPE: usize = PushType::ALL.len() + 1;

/// Outcomes: accepted (200), not answered (status 0: a fault reset, closed or stalled the
/// stream), then each of Apple's reasons (whose status the reason table gives).
const OUTCOME_SLOTS: usize = 2 + Reason::ALL.len();
const ACCEPTED: usize = 0;
const NOT_ANSWERED: usize = 1;

/// `mockapns_request_duration_seconds` bucket bounds, in nanoseconds: the mock answers in
/// microseconds, and fault rules add delays of milliseconds to seconds.
const DURATION_BOUNDS_NS: &[u64] = &[
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// `mockapns_payload_bytes` bucket bounds: 4096 and 5120 are Apple's limits for regular and
/// VoIP pushes (`docs/apns.md` §3), so `le="4096"` counts what fits a regular push.
const PAYLOAD_BOUNDS: &[u64] = &[128, 256, 512, 1024, 2048, 3072, 4096, 5120];

/// The fault actions, as the `action` label names them.
const ACTIONS: &[&str] = &[
    "reject",
    "delay",
    "reset",
    "goaway",
    "close",
    "stall",
    "rate_limit",
    "outage",
    "max_connections",
];

/// The counters one mock keeps; shared by every connection and read by `GET /metrics`.
#[derive(Debug)]
pub(crate) struct Metrics {
    /// `[push type][outcome]`, flattened.
    pushes: Box<[AtomicU64]>,
    duration: AtomicHistogram,
    payload: AtomicHistogram,
    /// By HTTP/2 error code (its numeric value).
    resets: Box<[AtomicU64]>,
    /// By the GOAWAY's reason.
    goaways: Box<[AtomicU64]>,
    /// By [`ACTIONS`].
    faults: Box<[AtomicU64]>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            pushes: zeros(PUSH_TYPE_SLOTS * OUTCOME_SLOTS),
            duration: AtomicHistogram::new(DURATION_BOUNDS_NS),
            payload: AtomicHistogram::new(PAYLOAD_BOUNDS),
            resets: zeros(ErrorCode::all().count()),
            goaways: zeros(Reason::ALL.len()),
            faults: zeros(ACTIONS.len()),
        }
    }
}

/// What the metrics count of one handled push.
#[derive(Debug)]
pub(crate) struct PushOutcome<'a> {
    /// `apns-push-type` as sent.
    pub(crate) push_type: Option<&'a str>,
    /// The status answered; 0 when the stream got no answer.
    pub(crate) status: u16,
    /// Apple's reason, for a rejection.
    pub(crate) reason: Option<Reason>,
    /// Bytes of body read.
    pub(crate) payload_size: usize,
    /// From the request's arrival until its answer was decided, fault delays included.
    pub(crate) elapsed: Duration,
}

impl Metrics {
    /// Counts one push whose answer is decided (and recorded).
    pub(crate) fn push(&self, push: &PushOutcome<'_>) {
        let push_type = match push.push_type {
            None => NO_PUSH_TYPE,
            Some(value) => value
                .parse::<PushType>()
                .map_or(INVALID_PUSH_TYPE, |t| t as usize),
        };
        let outcome = match push.reason {
            Some(reason) => 2 + reason as usize,
            None if push.status == 0 => NOT_ANSWERED,
            None => ACCEPTED,
        };
        self.pushes[push_type * OUTCOME_SLOTS + outcome].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(push.elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.duration.observe(nanos);
        self.payload.observe(push.payload_size as u64);
    }

    /// Counts an RST_STREAM the mock sent.
    pub(crate) fn stream_reset(&self, code: ErrorCode) {
        if let Some(counter) = self.resets.get(code.code() as usize) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts a GOAWAY the mock sent.
    pub(crate) fn goaway(&self, reason: Reason) {
        self.goaways[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a fault rule that fired (on a push, or refusing a connection).
    pub(crate) fn fault_applied(&self, action: &Action) {
        self.faults[action_slot(action)].fetch_add(1, Ordering::Relaxed);
    }

    /// The metrics in the Prometheus text format, with the gauges read by the caller now.
    pub(crate) fn render(&self, environment: Environment, gauges: Gauges) -> String {
        let mut registry = Registry::default();
        registry.register(
            "mockapns_build",
            "The mock-apns version serving",
            Info::new([("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register_collector(Box::new(Scrape::of(self, environment, gauges)));
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry);
        text
    }
}

/// The gauges a scrape reads from elsewhere in the mock.
#[derive(Debug, Clone)]
pub(crate) struct Gauges {
    /// HTTP/2 connections being served.
    pub(crate) connections_open: u64,
    /// Records kept in memory.
    pub(crate) records: u64,
    /// Records dropped at the `--max-records` cap so far.
    pub(crate) records_dropped: u64,
    /// Lint findings so far per rule, every rule (the lint module counts them).
    pub(crate) lint_findings: Vec<(&'static str, u64)>,
}

fn zeros(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

fn action_slot(action: &Action) -> usize {
    match action {
        Action::Reject { .. } => 0,
        Action::Delay { .. } => 1,
        Action::Reset { .. } => 2,
        Action::GoAway { .. } => 3,
        Action::Close { .. } => 4,
        Action::Stall { .. } => 5,
        Action::RateLimit { .. } => 6,
        Action::Outage { .. } => 7,
        Action::MaxConnections { .. } => 8,
    }
}

/// A histogram of fixed buckets, one atomic each, plus the sum: two atomic additions per
/// observation and no lock.
#[derive(Debug)]
struct AtomicHistogram {
    bounds: &'static [u64],
    /// Per bucket, not cumulative; the last is `+Inf`.
    counts: Box<[AtomicU64]>,
    sum: AtomicU64,
}

impl AtomicHistogram {
    fn new(bounds: &'static [u64]) -> Self {
        Self {
            bounds,
            counts: zeros(bounds.len() + 1),
            sum: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: u64) {
        let bucket = self
            .bounds
            .iter()
            .position(|bound| value <= *bound)
            .unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
    }

    /// The buckets and sum in the exported unit (`value / divisor`).
    fn snapshot(&self, divisor: f64) -> HistogramSnapshot {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let bounds = self
            .bounds
            .iter()
            .map(|b| *b as f64 / divisor)
            .chain([f64::INFINITY]);
        HistogramSnapshot {
            count: counts.iter().sum(),
            buckets: bounds.zip(counts).collect(),
            sum: self.sum.load(Ordering::Relaxed) as f64 / divisor,
        }
    }
}

#[derive(Debug)]
struct HistogramSnapshot {
    /// Upper bound and count of each bucket (not cumulative; the encoder adds them up).
    buckets: Vec<(f64, u64)>,
    count: u64,
    sum: f64,
}

impl HistogramSnapshot {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<NoLabelSet>(self.sum, self.count, &self.buckets, None)
    }
}

/// Every value at one scrape, owned, as the registry wants its collectors.
#[derive(Debug)]
struct Scrape {
    environment: Environment,
    /// `(push type slot, outcome slot, count)`, non-zero only.
    pushes: Vec<(usize, usize, u64)>,
    duration: HistogramSnapshot,
    payload: HistogramSnapshot,
    resets: Vec<(ErrorCode, u64)>,
    goaways: Vec<(Reason, u64)>,
    faults: Vec<(&'static str, u64)>,
    gauges: Gauges,
}

impl Scrape {
    fn of(metrics: &Metrics, environment: Environment, gauges: Gauges) -> Self {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let pushes = metrics
            .pushes
            .iter()
            .enumerate()
            .map(|(i, c)| (i / OUTCOME_SLOTS, i % OUTCOME_SLOTS, load(c)))
            .filter(|(_, _, n)| *n > 0)
            .collect();
        let nonzero = |counters: &[AtomicU64], i: usize| -> Option<u64> {
            counters.get(i).map(load).filter(|n| *n > 0)
        };
        Self {
            environment,
            pushes,
            duration: metrics.duration.snapshot(1e9),
            payload: metrics.payload.snapshot(1.0),
            resets: ErrorCode::all()
                .filter_map(|code| Some((code, nonzero(&metrics.resets, code.code() as usize)?)))
                .collect(),
            goaways: Reason::ALL
                .iter()
                .filter_map(|r| Some((*r, nonzero(&metrics.goaways, *r as usize)?)))
                .collect(),
            faults: ACTIONS
                .iter()
                .enumerate()
                .filter_map(|(i, a)| Some((*a, nonzero(&metrics.faults, i)?)))
                .collect(),
            gauges,
        }
    }
}

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let mut family = encoder.encode_descriptor(
            "mockapns_pushes",
            "Pushes handled, by push type (as sent; \"invalid\" when not Apple's), status \
             (0: not answered), Apple's reason and environment.",
            None,
            MetricType::Counter,
        )?;
        for (push_type, outcome, n) in &self.pushes {
            let (status, reason) = match *outcome {
                ACCEPTED => (200, ""),
                NOT_ANSWERED => (0, ""),
                r => {
                    let reason = Reason::ALL[r - 2];
                    (reason.status(), reason.as_str())
                }
            };
            let push_type = match *push_type {
                NO_PUSH_TYPE => "",
                INVALID_PUSH_TYPE => "invalid",
                t => PushType::ALL[t].as_str(),
            };
            let status = status.to_string();
            let labels = [
                ("push_type", push_type),
                ("status", status.as_str()),
                ("reason", reason),
                ("environment", self.environment.as_str()),
            ];
            ConstCounter::new(*n).encode(family.encode_family(&labels)?)?;
        }

        self.duration.encode(encoder.encode_descriptor(
            "mockapns_request_duration_seconds",
            "Time from a push's arrival until its answer was decided, fault-rule delays included.",
            None,
            MetricType::Histogram,
        )?)?;
        self.payload.encode(encoder.encode_descriptor(
            "mockapns_payload_bytes",
            "Body size of each push (bytes read: at most the limit + 1 for a body too large).",
            None,
            MetricType::Histogram,
        )?)?;

        ConstGauge::new(self.gauges.connections_open as i64).encode(encoder.encode_descriptor(
            "mockapns_connections_open",
            "HTTP/2 connections being served on the APNs endpoint.",
            None,
            MetricType::Gauge,
        )?)?;

        let mut family = encoder.encode_descriptor(
            "mockapns_stream_resets",
            "RST_STREAM frames the mock sent, by HTTP/2 error code (fault rules, streams beyond \
             a GOAWAY, stalled streams at shutdown).",
            None,
            MetricType::Counter,
        )?;
        for (code, n) in &self.resets {
            ConstCounter::new(*n).encode(family.encode_family(&[("code", code.as_str())])?)?;
        }

        let mut family = encoder.encode_descriptor(
            "mockapns_goaways",
            "GOAWAY frames the mock sent, by the reason in their debug data.",
            None,
            MetricType::Counter,
        )?;
        for (reason, n) in &self.goaways {
            ConstCounter::new(*n).encode(family.encode_family(&[("reason", reason.as_str())])?)?;
        }

        let mut family = encoder.encode_descriptor(
            "mockapns_faults_applied",
            "Fault rules that fired, by action.",
            None,
            MetricType::Counter,
        )?;
        for (action, n) in &self.faults {
            ConstCounter::new(*n).encode(family.encode_family(&[("action", *action)])?)?;
        }

        let mut family = encoder.encode_descriptor(
            "mockapns_lint_findings",
            "Lint findings (VoIP pushes APNs accepts but a phone pays for), by rule.",
            None,
            MetricType::Counter,
        )?;
        for (rule, n) in &self.gauges.lint_findings {
            ConstCounter::new(*n).encode(family.encode_family(&[("rule", *rule)])?)?;
        }

        ConstGauge::new(self.gauges.records as i64).encode(encoder.encode_descriptor(
            "mockapns_records",
            "Records kept in memory.",
            None,
            MetricType::Gauge,
        )?)?;
        ConstCounter::new(self.gauges.records_dropped).encode(encoder.encode_descriptor(
            "mockapns_records_dropped",
            "Records dropped to stay within --max-records.",
            None,
            MetricType::Counter,
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_tables_follow_the_enums_declaration_order() {
        for (i, t) in PushType::ALL.iter().enumerate() {
            assert_eq!(*t as usize, i, "{t}");
        }
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r}");
        }
        for (i, code) in ErrorCode::all().enumerate() {
            assert_eq!(code.code() as usize, i, "{code}");
        }
    }

    #[test]
    fn a_scrape_shows_each_series_counted_and_nothing_else() {
        let metrics = Metrics::default();
        let push = |push_type, status, reason, payload_size, ms| PushOutcome {
            push_type,
            status,
            reason,
            payload_size,
            elapsed: Duration::from_millis(ms),
        };
        metrics.push(&push(Some("voip"), 200, None, 100, 0));
        metrics.push(&push(Some("voip"), 200, None, 5000, 300));
        metrics.push(&push(
            Some("nonsense"),
            400,
            Some(Reason::InvalidPushType),
            10,
            0,
        ));
        metrics.push(&push(None, 0, None, 0, 0));
        metrics.stream_reset(ErrorCode::Cancel);
        metrics.goaway(Reason::Shutdown);
        let gauges = Gauges {
            connections_open: 2,
            records: 4,
            records_dropped: 1,
            lint_findings: vec![("voip-no-expiration", 3), ("voip-priority", 0)],
        };

        let text = metrics.render(Environment::Production, gauges);

        for line in [
            r#"mockapns_pushes_total{push_type="voip",status="200",reason="",environment="production"} 2"#,
            r#"mockapns_lint_findings_total{rule="voip-no-expiration"} 3"#,
            r#"mockapns_lint_findings_total{rule="voip-priority"} 0"#,
            r#"mockapns_pushes_total{push_type="invalid",status="400",reason="InvalidPushType",environment="production"} 1"#,
            r#"mockapns_pushes_total{push_type="",status="0",reason="",environment="production"} 1"#,
            r#"mockapns_request_duration_seconds_bucket{le="0.25"} 3"#,
            r#"mockapns_request_duration_seconds_bucket{le="0.5"} 4"#,
            "mockapns_request_duration_seconds_count 4",
            "mockapns_request_duration_seconds_sum 0.3",
            r#"mockapns_payload_bytes_bucket{le="4096"} 3"#,
            r#"mockapns_payload_bytes_bucket{le="5120"} 4"#,
            "mockapns_payload_bytes_sum 5110",
            "mockapns_connections_open 2",
            r#"mockapns_stream_resets_total{code="CANCEL"} 1"#,
            r#"mockapns_goaways_total{reason="Shutdown"} 1"#,
            "mockapns_records 4",
            "mockapns_records_dropped_total 1",
            r#"mockapns_build_info{version=""#,
        ] {
            assert!(text.contains(line), "no {line:?} in:\n{text}");
        }
        assert_eq!(text.matches("mockapns_pushes_total{").count(), 3, "{text}");
        assert!(!text.contains("mockapns_faults_applied_total{"), "{text}");
    }
}
