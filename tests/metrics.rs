//! `GET /metrics` on the admin listener: after a known mix of pushes, faults and a GOAWAY, the
//! scrape is read by the Prometheus project's own text-format parser (the official Python
//! client's, installed by `make clients`) and every count matches what was sent. No label
//! carries a device token or an `apns-id`.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use http::Method;
use mock_apns::{ErrorCode, GoAway, MockApns, Reason};
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt as _;

use crate::support::{admin, ApnsClient, Push, DEVICE, PATIENCE};

/// One parsed sample: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape as the Prometheus parser read it: family name → (type, samples).
#[derive(Debug)]
struct Scrape(BTreeMap<String, (String, Vec<Sample>)>);

impl Scrape {
    /// The value of the sample `name` whose labels include `labels`; fails if not exactly one.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self
            .0
            .values()
            .flat_map(|(_, samples)| samples)
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}\nin {self:#?}");
        found[0].value
    }

    /// Every sample of the family `family`, which must have type `kind`.
    fn family(&self, family: &str, kind: &str) -> &[Sample] {
        let (found, samples) = self
            .0
            .get(family)
            .unwrap_or_else(|| panic!("no family {family} in {self:#?}"));
        assert_eq!(found, kind, "{family}");
        samples
    }
}

/// `GET /metrics`, parsed by `prometheus_client.parser` (which raises on malformed text).
async fn scrape(apns: &MockApns) -> (String, Scrape) {
    let admin = admin(apns);
    let answer = admin
        .send(Method::GET, "/metrics", None)
        .await
        .expect("GET /metrics");
    assert_eq!(answer.status, 200);
    let text = String::from_utf8(answer.body.to_vec()).expect("UTF-8");
    let parsed = parse_with_prometheus(&text).await;
    let text_of = |v: &Value| v.as_str().expect("a string").to_owned();
    let families = parsed["families"].as_array().expect("families").iter();
    let scrape = families
        .map(|f| {
            let samples = f["samples"].as_array().expect("samples").iter();
            let samples = samples.map(|s| Sample {
                name: text_of(&s["name"]),
                labels: serde_json::from_value(s["labels"].clone()).expect("labels"),
                value: s["value"].as_f64().expect("a value"),
            });
            (
                text_of(&f["name"]),
                (text_of(&f["type"]), samples.collect()),
            )
        })
        .collect();
    (text, Scrape(scrape))
}

async fn parse_with_prometheus(text: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/python");
    let python = dir.join(".venv/bin/python");
    assert!(
        python.is_file(),
        "the Prometheus parser is not installed ({} is missing): run `make clients`",
        python.display()
    );
    let mut child = tokio::process::Command::new(&python)
        .arg(dir.join("parse_metrics.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("running the parser");
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin
        .write_all(text.as_bytes())
        .await
        .expect("writing to the parser");
    drop(stdin);
    let out = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("the parser finishes")
        .expect("the parser's output");
    assert!(
        out.status.success(),
        "Prometheus's parser refused the scrape: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the parser's JSON")
}

const DELAY: Duration = Duration::from_millis(1100);

#[tokio::test]
async fn metrics_count_what_was_sent_and_parse_as_prometheus_text() {
    let apns = MockApns::builder().max_records(4).start().await;
    let admin = admin(&apns);
    let slow = "5105".repeat(16);
    let lost = "0badc0de".repeat(8);
    admin
        .add_fault_json(&json!({"match": {"device_token": slow}, "action": {"delay_ms": DELAY.as_millis() as u64}}))
        .await
        .unwrap();
    admin
        .add_fault_json(&json!({"match": {"device_token": lost}, "action": {"reset": "CANCEL"}}))
        .await
        .unwrap();
    let client = ApnsClient::connect(&apns).await;
    let push = Push::voip(&apns);
    let mut sent = Vec::new();
    let mut apns_ids = Vec::new();

    // 3 accepted, 1 accepted after a delay, 2 BadPriority, 1 InvalidPushType, 1 reset; then 1
    // accepted on a second connection, which is then sent GOAWAY.
    for push in [
        push.clone(),
        push.clone().payload_of_size(3000),
        push.clone(),
        push.clone().to(&slow),
        push.clone().header("apns-priority", "7"),
        push.clone().header("apns-priority", "2"),
        push.clone().header("apns-push-type", "not-a-type"),
    ] {
        let reply = client.send(&push).await.unwrap();
        apns_ids.push(reply.apns_id().to_owned());
        sent.push(push);
    }
    let reset = push.clone().to(&lost);
    assert!(client.send(&reset).await.is_err(), "the stream was reset");
    sent.push(reset);
    let second = ApnsClient::connect(&apns).await;
    assert_eq!(second.send(&push).await.unwrap().status, 200);
    sent.push(push.clone());
    let (before_goaway, open) = scrape(&apns).await;
    let connection = admin.connections().await.unwrap().last().unwrap().id;
    admin
        .go_away(
            connection,
            &GoAway {
                reason: Reason::Shutdown,
                error_code: ErrorCode::NoError,
                last_stream_id: None,
            },
        )
        .await
        .unwrap();
    let (_, after) = scrape(&apns).await;

    let pushes = |push_type: &str, status: &str, reason: &str| {
        open.value(
            "mockapns_pushes_total",
            &[
                ("push_type", push_type),
                ("status", status),
                ("reason", reason),
                ("environment", "development"),
            ],
        )
    };
    let total = sent.len() as f64;
    assert_eq!(pushes("voip", "200", ""), 5.0);
    assert_eq!(pushes("voip", "400", "BadPriority"), 2.0);
    assert_eq!(pushes("invalid", "400", "InvalidPushType"), 1.0);
    assert_eq!(pushes("voip", "0", ""), 1.0);
    assert_eq!(open.family("mockapns_pushes", "counter").len(), 4);

    open.family("mockapns_request_duration_seconds", "histogram");
    let duration = |s: &str| open.value(&format!("mockapns_request_duration_seconds{s}"), &[]);
    let under_a_second = open.value("mockapns_request_duration_seconds_bucket", &[("le", "1")]);
    assert_eq!(duration("_count"), total);
    assert!(
        total - under_a_second >= 1.0,
        "the delayed push took over 1 s: {before_goaway}"
    );
    assert!(duration("_sum") >= DELAY.as_secs_f64(), "{before_goaway}");

    open.family("mockapns_payload_bytes", "histogram");
    let bytes: usize = sent.iter().map(|p| p.body.len()).sum();
    assert_eq!(open.value("mockapns_payload_bytes_count", &[]), total);
    assert_eq!(open.value("mockapns_payload_bytes_sum", &[]), bytes as f64);
    let payload = |le: &str| open.value("mockapns_payload_bytes_bucket", &[("le", le)]);
    assert_eq!(payload("2048"), total - 1.0, "one payload of 3000 bytes");
    assert_eq!(payload("4096"), total);

    assert_eq!(open.value("mockapns_connections_open", &[]), 2.0);
    assert_eq!(open.value("mockapns_records", &[]), 4.0, "--max-records 4");
    assert_eq!(
        open.value("mockapns_records_dropped_total", &[]),
        total - 4.0
    );
    let resets = open.family("mockapns_stream_resets", "counter");
    assert_eq!(resets.len(), 1, "{resets:?}");
    assert_eq!(
        open.value("mockapns_stream_resets_total", &[("code", "CANCEL")]),
        1.0
    );
    let faults = |action: &str| open.value("mockapns_faults_applied_total", &[("action", action)]);
    assert_eq!((faults("delay"), faults("reset")), (1.0, 1.0));
    assert!(open.family("mockapns_goaways", "counter").is_empty());
    assert_eq!(
        after.value("mockapns_goaways_total", &[("reason", "Shutdown")]),
        1.0
    );
    let build = open.family("mockapns_build_info", "gauge");
    assert!(build[0].labels["version"].starts_with("0."), "{build:?}");
    assert_eq!(build[0].value, 1.0);

    for secret in apns_ids
        .iter()
        .map(String::as_str)
        .chain([DEVICE, &slow, &lost])
    {
        assert!(
            !before_goaway.contains(secret),
            "{secret} in:\n{before_goaway}"
        );
    }
}
