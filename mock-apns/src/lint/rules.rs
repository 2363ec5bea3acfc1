//! The lint rules, one small function each, in the order they run. Each returns the message
//! for a push that breaks it. Sources and the choices behind the thresholds: `docs/phones.md`
//! §5.

use super::{Known, Severity};
use crate::phones::incoming::{Expiration, Incoming};

/// A VoIP push may be delivered this long after it was sent before it counts as "long":
/// Apple asks for 0 or "a few seconds", so the line is the mock's choice, written down in
/// `docs/phones.md` §5.
pub const LONG_VOIP_EXPIRATION_SECS: u64 = 30;

const PKVOIP: &str =
    "https://developer.apple.com/documentation/pushkit/responding-to-voip-notifications-from-pushkit";
const PKTYPE: &str = "https://developer.apple.com/documentation/pushkit/pkpushtype/voip";
const SEND: &str = "https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns";

/// What a rule reads.
pub(crate) struct Input<'a, 'p> {
    pub(crate) push: &'a Incoming<'p>,
    pub(crate) known: Known,
}

/// One rule: its id, severity, explanation and source, and the check itself.
#[derive(Debug)]
pub struct LintRule {
    /// Stable id, used in records, filters and docs.
    pub id: &'static str,
    /// How bad a finding is.
    pub severity: Severity,
    /// One line: what it catches and why that matters.
    pub explanation: &'static str,
    /// Apple's page it comes from.
    pub source: &'static str,
    pub(crate) check: fn(&Input<'_, '_>) -> Option<String>,
}

/// The rules, in the order they run (every one is about VoIP pushes).
pub static RULES: &[LintRule] = &[
    LintRule {
        id: "voip-no-expiration",
        severity: Severity::Warning,
        explanation: "a VoIP push without apns-expiration is stored by APNs while the phone is \
                      offline and can ring long after the caller hung up; send 0",
        source: PKVOIP,
        check: voip_no_expiration,
    },
    LintRule {
        id: "voip-long-expiration",
        severity: Severity::Warning,
        explanation: "a VoIP push whose apns-expiration is more than 30 s away can be delivered \
                      late, ringing for a call that is over; Apple asks for 0 or a few seconds",
        source: PKVOIP,
        check: voip_long_expiration,
    },
    LintRule {
        id: "voip-priority",
        severity: Severity::Warning,
        explanation: "a VoIP push at a priority other than 10 may be delayed: an incoming call \
                      must be delivered at once",
        source: SEND,
        check: voip_priority,
    },
    LintRule {
        id: "voip-no-call-id",
        severity: Severity::Error,
        explanation: "a VoIP push without a call id cannot be reported to CallKit as a new \
                      call, so iOS terminates the app (and, repeatedly, stops VoIP delivery)",
        source: PKTYPE,
        check: voip_no_call_id,
    },
    LintRule {
        id: "voip-repeated-call",
        severity: Severity::Error,
        explanation: "a second VoIP push for a call the phone already rang (a cancel, a 'keep \
                      ringing') is not a new call: iOS terminates the app; send cancels as alert \
                      or background pushes",
        source: PKTYPE,
        check: voip_repeated_call,
    },
    LintRule {
        id: "voip-visible-alert",
        severity: Severity::Warning,
        explanation: "PushKit hands a VoIP payload to the app and never shows it: an alert, \
                      sound or badge in aps is a notification sent the wrong way",
        source: PKVOIP,
        check: voip_visible_alert,
    },
];

fn voip_no_expiration(input: &Input<'_, '_>) -> Option<String> {
    (input.push.expiration == Expiration::Absent).then(|| {
        "no apns-expiration: APNs stores this call for an offline phone; send apns-expiration: 0"
            .to_owned()
    })
}

fn voip_long_expiration(input: &Input<'_, '_>) -> Option<String> {
    let Expiration::At(secs) = input.push.expiration else {
        return None;
    };
    let sent = input.push.at_ms / 1000;
    let ahead = secs.saturating_sub(sent);
    (ahead > LONG_VOIP_EXPIRATION_SECS).then(|| {
        format!(
            "apns-expiration is {ahead} s after the push arrived (more than {LONG_VOIP_EXPIRATION_SECS} s): \
             the call can ring late; send 0 or a few seconds"
        )
    })
}

fn voip_priority(input: &Input<'_, '_>) -> Option<String> {
    match input.push.priority {
        None | Some("10") => None,
        Some(p) => Some(format!(
            "apns-priority {p}: an incoming call needs priority 10"
        )),
    }
}

fn voip_no_call_id(input: &Input<'_, '_>) -> Option<String> {
    input.push.call_id().is_none().then(|| {
        "no call id in the payload (looked for at the configured JSON pointers): the app has no \
         new call to report to CallKit"
            .to_owned()
    })
}

fn voip_repeated_call(input: &Input<'_, '_>) -> Option<String> {
    if input.known.repeated_call != Some(true) {
        return None;
    }
    let call = input.push.call_id().unwrap_or_default();
    Some(format!(
        "call {call} already rang on this phone: a second VoIP push for it is not a new call; \
         send cancels and updates as alert or background pushes"
    ))
}

fn voip_visible_alert(input: &Input<'_, '_>) -> Option<String> {
    let visible = input.push.aps_keys(&["alert", "sound", "badge"]);
    (!visible.is_empty()).then(|| {
        format!(
            "aps carries {}: PushKit never shows a VoIP push; is this a notification sent as VoIP?",
            visible.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Lint, LintMode};
    use super::*;
    use crate::apns::push_head::PushHead;

    fn findings(headers: &[(&str, &str)], body: &str, repeated: Option<bool>) -> Vec<String> {
        let mut request = http::Request::builder()
            .method("POST")
            .uri("/3/device/ab")
            .header("apns-push-type", "voip")
            .header("apns-topic", "com.example.app.voip");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let head = PushHead::from_parts(request.body(()).unwrap().into_parts().0);
        let pointers = vec!["/call_id".to_owned()];
        let push = Incoming::new(
            1,
            1_000_000,
            &head,
            head.header("apns-topic"),
            body.as_bytes(),
            &pointers,
        );
        let lint = Lint::new(LintMode::Warn);
        lint.check(
            &push,
            Known {
                repeated_call: repeated,
            },
        )
        .into_iter()
        .map(|f| f.rule.id.to_owned())
        .collect()
    }

    #[test]
    fn a_well_formed_call_push_has_no_finding() {
        let got = findings(
            &[("apns-expiration", "0"), ("apns-priority", "10")],
            r#"{"aps":{},"call_id":"42"}"#,
            Some(false),
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn each_mistake_is_named_by_its_rule_in_order() {
        let got = findings(
            &[("apns-priority", "5")],
            r#"{"aps":{"alert":"Missed call"}}"#,
            None,
        );
        assert_eq!(
            got,
            [
                "voip-no-expiration",
                "voip-priority",
                "voip-no-call-id",
                "voip-visible-alert"
            ]
        );
        let got = findings(
            &[("apns-expiration", "1061")],
            r#"{"call_id":"42"}"#,
            Some(true),
        );
        assert_eq!(got, ["voip-long-expiration", "voip-repeated-call"]);
        let got = findings(
            &[("apns-expiration", "1030")],
            r#"{"call_id":"42"}"#,
            Some(false),
        );
        assert!(got.is_empty(), "30 s is still a few seconds: {got:?}");
    }

    #[test]
    fn rule_ids_are_unique() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
    }
}
