//! Lint: VoIP mistakes APNs accepts but a phone pays for, in the record (`lint`), counted at
//! `/api/v1/lint`, filterable, off on request, and a verification failure under `deny`, while
//! the answer on the wire never changes.

use http::Method;
use mock_apns::admin::PushQuery;
use mock_apns::lint::Severity;
use mock_apns::{LintMode, MockApns, Reason};

use crate::support::admin::error_of;
use crate::support::{
    admin, assert_accepted, assert_rejected, ApnsClient, OrFail, Push, BUNDLE, DEVICE,
};

/// The rule ids of a push's findings, in order.
fn rules(record: &mock_apns::Notification) -> Vec<&str> {
    record.lint.iter().map(|f| f.rule.as_str()).collect()
}

#[tokio::test]
async fn a_well_formed_call_push_has_no_finding() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client.send(&Push::voip(&apns)).await.unwrap();

    assert!(rules(&assert_accepted(&apns, &reply)).is_empty());
}

#[tokio::test]
async fn each_voip_mistake_is_named_by_its_rule_with_apples_source() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    let far = (apns.clock().now_secs() + 3600).to_string();
    let cases = [
        (
            Push::voip(&apns).without("apns-expiration"),
            "voip-no-expiration",
        ),
        (
            Push::voip(&apns).header("apns-expiration", &far),
            "voip-long-expiration",
        ),
        (
            Push::voip(&apns).header("apns-priority", "5"),
            "voip-priority",
        ),
        (
            Push::voip(&apns).body(r#"{"aps":{},"caller":"alice"}"#),
            "voip-no-call-id",
        ),
        (
            Push::voip(&apns).body(r#"{"aps":{"alert":"Missed call"},"call_id":"7"}"#),
            "voip-visible-alert",
        ),
    ];
    for (push, rule) in cases {
        let reply = client.send(&push).await.unwrap();

        let record = assert_accepted(&apns, &reply);
        assert_eq!(rules(&record), [rule], "{push:?}");
        let finding = &record.lint[0];
        assert!(
            finding.source.starts_with("https://developer.apple.com/"),
            "{finding:?}"
        );
        assert!(!finding.message.is_empty());
    }
}

#[tokio::test]
async fn a_repeated_call_is_an_error_on_a_phone_that_rang_it() {
    let apns = MockApns::start().await;
    apns.phone("bob-iphone").tokens([DEVICE]);
    let client = ApnsClient::connect(&apns).await;
    client.send(&Push::voip(&apns)).await.unwrap();

    let again = client.send(&Push::voip(&apns)).await.unwrap();

    let record = assert_accepted(&apns, &again);
    assert_eq!(rules(&record), ["voip-repeated-call"]);
    assert_eq!(record.lint[0].severity, Severity::Error);
}

#[tokio::test]
async fn a_voip_push_apns_rejects_is_not_reported_twice() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(
            &Push::voip(&apns)
                .header("apns-topic", BUNDLE)
                .without("apns-expiration"),
        )
        .await
        .unwrap();

    let record = assert_rejected(&apns, &reply, Reason::TopicDisallowed);
    assert!(rules(&record).is_empty(), "{:?}", record.lint);
}

#[tokio::test]
async fn findings_are_counted_per_rule_and_filterable() {
    let apns = MockApns::start().await;
    let admin = admin(&apns);
    let client = ApnsClient::connect(&apns).await;
    client.send(&Push::voip(&apns)).await.unwrap();
    let late = client
        .send(&Push::voip(&apns).without("apns-expiration"))
        .await
        .unwrap();
    client
        .send(&Push::voip(&apns).without("apns-expiration"))
        .await
        .unwrap();

    let report = admin.lint().await.or_fail();
    let any = admin.pushes(&PushQuery::all().lint("any")).await.or_fail();
    let unknown = admin
        .send(Method::GET, "/api/v1/pushes?lint=voip-colour", None)
        .await
        .or_fail();

    let count = |id: &str| report.rules.iter().find(|r| r.id == id).map(|r| r.count);
    assert_eq!(count("voip-no-expiration"), Some(2), "{report:#?}");
    assert_eq!(report.total(), 2);
    assert_eq!(report.mode, LintMode::Warn);
    assert!(report.rules.iter().all(|r| !r.explanation.is_empty()));
    assert_eq!(any.len(), 2);
    assert_eq!(&*any[0].apns_id, late.apns_id());
    assert_eq!(unknown.status, 400);
    assert!(
        error_of(&unknown.json()).contains("voip-no-expiration"),
        "the error lists the rules: {}",
        unknown.json()
    );
}

#[tokio::test]
async fn findings_are_counted_in_the_prometheus_metrics_one_series_per_rule() {
    let apns = MockApns::start().await;
    let client = ApnsClient::connect(&apns).await;
    client
        .send(&Push::voip(&apns).without("apns-expiration"))
        .await
        .unwrap();

    let scrape = admin(&apns)
        .send(Method::GET, "/metrics", None)
        .await
        .or_fail();

    let text = String::from_utf8_lossy(&scrape.body);
    for line in [
        r#"mockapns_lint_findings_total{rule="voip-no-expiration"} 1"#,
        r#"mockapns_lint_findings_total{rule="voip-repeated-call"} 0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
}

#[tokio::test]
async fn lint_off_runs_no_rule() {
    let apns = MockApns::builder().lint(LintMode::Off).start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(&Push::voip(&apns).without("apns-expiration"))
        .await
        .unwrap();

    assert!(rules(&assert_accepted(&apns, &reply)).is_empty());
    assert_eq!(apns.lint_report().total(), 0);
}

#[tokio::test]
#[should_panic(expected = "lint (deny) push #1")]
async fn lint_deny_keeps_the_200_and_fails_the_mocks_verification() {
    let apns = MockApns::builder().lint(LintMode::Deny).start().await;
    let client = ApnsClient::connect(&apns).await;

    let reply = client
        .send(&Push::voip(&apns).without("apns-expiration"))
        .await
        .unwrap();

    assert_accepted(&apns, &reply);
    let health = admin(&apns).health().await.or_fail();
    assert_eq!(health.lint, LintMode::Deny);
    apns.verify();
}
