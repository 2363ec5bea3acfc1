//! A rule mounted over the admin API while a provider is sending applies from the next push:
//! no push is lost, none is answered twice, and the record agrees with what the provider saw.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use mock_apns::{MockApns, Reason};
use serde_json::json;

use super::{apns_id, mount};
use crate::support::{admin, ApnsClient, Push, PATIENCE};

/// Pushes answered before the rule is mounted.
const BEFORE_RULE: usize = 25;
/// Rejections the sender waits for before it stops.
const AFTER_RULE: usize = 20;
/// Bounds a broken test: a rule that never applies stops the sender here.
const MAX_PUSHES: u64 = 10_000;

/// One push as the sender saw it: the `apns-id` it sent, and the answer's status and
/// `apns-id`.
#[derive(Debug)]
struct Answered {
    sent_id: String,
    status: u16,
    answered_id: String,
}

#[tokio::test]
async fn a_rule_added_while_pushes_flow_applies_from_the_next_push() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    // How many pushes the sender has begun: those begun after the rule was mounted must get it.
    let begun = Arc::new(AtomicU64::new(0));
    let sender = tokio::spawn({
        let (begun, push) = (begun.clone(), Push::voip(&apns));
        async move {
            let mut answered = Vec::new();
            let mut rejected = 0;
            for n in 0..MAX_PUSHES {
                let sent_id = apns_id(n);
                begun.store(n + 1, Ordering::SeqCst);
                let reply = client
                    .send(&push.clone().header("apns-id", &sent_id))
                    .await
                    .unwrap_or_else(|e| panic!("push {n} got no answer: {e:#}"));
                rejected += usize::from(reply.status != 200);
                answered.push(Answered {
                    sent_id,
                    status: reply.status,
                    answered_id: reply.apns_id().to_owned(),
                });
                if rejected == AFTER_RULE {
                    break;
                }
            }
            answered
        }
    });

    apns.wait_for(BEFORE_RULE, PATIENCE).await.unwrap();
    let rule = mount(&admin, json!({ "action": { "reject": "TooManyRequests" } })).await;
    let begun_before_mounted = begun.load(Ordering::SeqCst) as usize;
    let answered = tokio::time::timeout(PATIENCE, sender)
        .await
        .expect("the sender finishes")
        .expect("the sender does not panic");

    // On the wire: each push answered once, under its own apns-id; 200s, then only 429s.
    for a in &answered {
        assert_eq!(a.answered_id, a.sent_id, "{a:?}");
    }
    let switch = answered
        .iter()
        .position(|a| a.status != 200)
        .expect("the rule applied");
    let statuses: Vec<u16> = answered.iter().map(|a| a.status).collect();
    assert!(
        statuses[switch..].iter().all(|s| *s == 429),
        "once applied, the rule applies to every push: {statuses:?}"
    );
    assert!(
        switch >= BEFORE_RULE,
        "push {switch} was rejected, but {BEFORE_RULE} were answered before the rule existed"
    );
    assert!(
        switch <= begun_before_mounted,
        "push {begun_before_mounted} began after the rule was mounted, yet push {switch} is the \
         first rejected"
    );
    // In the record: each apns-id exactly once, in order, with the same fate.
    let records = apns.received_notifications();
    let recorded: Vec<(&str, u16)> = records.iter().map(|n| (&*n.apns_id, n.status)).collect();
    let sent: Vec<(&str, u16)> = answered
        .iter()
        .map(|a| (a.sent_id.as_str(), a.status))
        .collect();
    assert_eq!(recorded, sent, "the record and the wire disagree");
    for n in &records[switch..] {
        assert_eq!(n.reason, Some(Reason::TooManyRequests));
        assert_eq!(n.fault.as_ref().map(|f| f.rule_id), Some(rule), "{n:#?}");
    }
    assert!(records[..switch].iter().all(|n| n.fault.is_none()));
    eprintln!(
        "live rule: {} pushes, first rejected #{switch}, {begun_before_mounted} begun when \
         the rule was mounted",
        answered.len()
    );
}
