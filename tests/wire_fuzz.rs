//! A seeded fuzz run on the wire: a few thousand requests, mostly near-valid pushes with some
//! of their parts replaced by anything HTTP/2 can carry, over real TLS + HTTP/2 connections.
//! Every answer must look like one of Apple's: a status from Apple's table, an `apns-id`, no
//! body on a 200 and `{"reason":…}` (plus `timestamp` on a 410) on an error; and every answer
//! is in the record.

use std::collections::BTreeSet;
use std::time::Instant;

use mock_apns::{Device, MockApns, Reason};
use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tokio::task::JoinSet;

use crate::support::{ApnsClient, Push, Reply, DEVICE, VOIP_TOPIC};

/// Requests in the run, over [`CONNECTIONS`] connections.
const REQUESTS: usize = 3000;
const CONNECTIONS: usize = 6;
/// The run is the same every time: a failure reproduces.
const SEED: [u8; 32] = *b"mock-apns wire fuzz, seed no. 1!";

/// Apple's statuses (`docs/apns.md`): what any answer may carry.
const APPLE_STATUSES: &[u16] = &[200, 400, 403, 404, 405, 410, 413, 429, 500, 503];

/// A registered device, an unregistered one (410), and any other.
fn device_token() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(DEVICE.to_owned()),
        1 => Just("cd".repeat(32)),
        1 => Just("ef".repeat(8)),
        1 => "[0-9a-fA-F]{0,70}",
        1 => "[a-zA-Z0-9%._~-]{0,20}",
    ]
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,40}",
        proptest::sample::select(vec![
            "voip",
            "alert",
            "background",
            "liveactivity",
            "10",
            "5",
            "1",
            "0",
            "-1",
            "com.example.app",
            "com.example.app.voip",
            "com..voip",
            "",
            "ACDFB3EB-105B-D33C-7F29-8D09A01CC4EF",
            "not-a-uuid",
            "1700000000",
        ])
        .prop_map(str::to_owned),
    ]
}

/// What to put in `authorization`: the mock's token, another one, garbage, or nothing.
#[derive(Debug, Clone)]
enum Auth {
    Valid,
    Fresh,
    Value(String),
    None,
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        6 => Just(Auth::Valid),
        1 => Just(Auth::Fresh),
        1 => "[ -~\t]{0,60}".prop_map(Auth::Value),
        1 => Just(Auth::None),
    ]
}

/// One request: a valid VoIP push, then changes.
#[derive(Debug, Clone)]
struct Case {
    method: Option<&'static str>,
    path: Option<String>,
    token: String,
    headers: Vec<(String, String)>,
    repeat: Option<(String, String)>,
    auth: Auth,
    body: Option<Vec<u8>>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::option::weighted(
            0.1,
            proptest::sample::select(vec!["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "X-FUZZ"]),
        ),
        proptest::option::weighted(0.1, "/[a-z0-9/]{0,12}|/3/device"),
        device_token(),
        proptest::collection::vec(
            (
                prop_oneof![
                    proptest::sample::select(vec![
                        "apns-id",
                        "apns-expiration",
                        "apns-push-type",
                        "apns-topic",
                        "apns-priority",
                        "apns-collapse-id",
                    ])
                    .prop_map(str::to_owned),
                    "(apns|x)-[a-z0-9-]{1,12}",
                ],
                header_value(),
            ),
            0..3,
        ),
        proptest::option::weighted(0.05, ("apns-(topic|id|priority)", header_value())),
        auth(),
        proptest::option::weighted(
            0.3,
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..100),
                (0usize..6000)
                    .prop_map(|n| format!(r#"{{"pad":"{}"}}"#, "x".repeat(n)).into_bytes()),
            ],
        ),
    )
        .prop_map(|(method, path, token, headers, repeat, auth, body)| Case {
            method,
            path,
            token,
            headers,
            repeat,
            auth,
            body,
        })
}

impl Case {
    fn push(&self, apns: &MockApns) -> Push {
        let mut push = Push::voip(apns).to(&self.token);
        if let Some(method) = self.method {
            push = push.method(method.parse().expect("a method"));
        }
        if let Some(path) = &self.path {
            push = push.path(path);
        }
        for (name, value) in &self.headers {
            push = push.header(name, value);
        }
        if let Some((name, value)) = &self.repeat {
            push = push.repeat_header(name, value);
        }
        push = match &self.auth {
            Auth::Valid => push,
            Auth::Fresh => push.header(
                "authorization",
                &format!("bearer {}", apns.provider_token()),
            ),
            Auth::Value(value) => push.header("authorization", value),
            Auth::None => push.without("authorization"),
        };
        match &self.body {
            Some(body) => push.body(body.clone()),
            None => push,
        }
    }
}

/// Whether an answer is one Apple could have sent; the problem when not.
fn apns_shaped(reply: &Reply) -> Result<(), String> {
    if !APPLE_STATUSES.contains(&reply.status) {
        return Err(format!("status {} is not in Apple's table", reply.status));
    }
    let id = reply.header("apns-id").ok_or("no apns-id header")?;
    let uuid = id.len() == 36 && id.split('-').map(str::len).eq([8, 4, 4, 4, 12]);
    if !uuid {
        return Err(format!("apns-id {id:?} is not a UUID"));
    }
    if reply.status == 200 {
        return match reply.body.is_empty() {
            true => Ok(()),
            false => Err("a 200 with a body".into()),
        };
    }
    let body: serde_json::Value =
        serde_json::from_slice(&reply.body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let object = body.as_object().ok_or("the body is not a JSON object")?;
    let reason: Reason = object
        .get("reason")
        .and_then(|r| r.as_str())
        .ok_or("no \"reason\" string")?
        .parse()
        .map_err(|e| format!("{e}"))?;
    if reason.status() != reply.status {
        return Err(format!("{reason} answered with {}", reply.status));
    }
    let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
    let expected: BTreeSet<&str> = match reply.status {
        410 => ["reason", "timestamp"].into(),
        _ => ["reason"].into(),
    };
    if keys != expected || (reply.status == 410 && !object["timestamp"].is_u64()) {
        return Err(format!("body keys {keys:?}, expected {expected:?}"));
    }
    Ok(())
}

#[tokio::test]
async fn thousands_of_fuzzed_requests_all_get_apns_shaped_answers() {
    let started = Instant::now();
    let apns = MockApns::builder().throttle_on_reject(false).start().await;
    apns.register_device(
        DEVICE,
        Device {
            topic: Some(VOIP_TOPIC.into()),
            ..Device::default()
        },
    );
    apns.unregister_device(&"cd".repeat(32), 1_700_000_000_000);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &SEED),
    );
    let strategy = case();
    let cases: Vec<Case> = (0..REQUESTS)
        .map(|_| strategy.new_tree(&mut runner).expect("a case").current())
        .collect();

    let mut connections = JoinSet::new();
    for chunk in cases.chunks(REQUESTS / CONNECTIONS) {
        let client = ApnsClient::connect(&apns).await;
        let pushes: Vec<(Case, Push)> = chunk.iter().map(|c| (c.clone(), c.push(&apns))).collect();
        connections.spawn(async move {
            let mut problems = Vec::new();
            let mut answered = 0;
            for (case, push) in pushes {
                match client.send(&push).await {
                    Ok(reply) => {
                        answered += 1;
                        if let Err(problem) = apns_shaped(&reply) {
                            problems
                                .push(format!("{problem}\n  request {case:?}\n  answer {reply:?}"));
                        }
                    }
                    Err(e) => problems.push(format!("no answer: {e:#}\n  request {case:?}")),
                }
            }
            (answered, problems)
        });
    }
    let mut answered = 0;
    let mut problems = Vec::new();
    while let Some(done) = connections.join_next().await {
        let (n, mut p) = done.unwrap();
        answered += n;
        problems.append(&mut p);
    }

    assert!(
        problems.is_empty(),
        "{} of {REQUESTS} answers are not APNs-shaped; the first:\n{}",
        problems.len(),
        problems
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(answered, REQUESTS);
    let record = apns.received_notifications();
    assert_eq!(
        record.len(),
        REQUESTS,
        "every answered request is in the record"
    );
    let statuses: BTreeSet<u16> = record.iter().map(|n| n.status).collect();
    assert!(
        statuses.len() >= 6,
        "the run reached only statuses {statuses:?}: the fuzz is too tame"
    );
    eprintln!(
        "{REQUESTS} fuzzed requests in {:?}; statuses {statuses:?}",
        started.elapsed()
    );
}
