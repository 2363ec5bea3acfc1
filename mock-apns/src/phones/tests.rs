//! The phone model without a network: pushes read from request heads, a clock moved by hand.

use std::time::Duration;

use super::*;
use crate::apns::push_head::PushHead;

const IPHONE_VOIP: &str = "aa01";
const IPHONE_APNS: &str = "aa02";

struct Bench {
    phones: Phones,
    clock: Clock,
    next_id: u64,
}

impl Bench {
    fn new() -> Self {
        let bench = Self {
            phones: Phones::new(PhoneSettings::default()),
            clock: Clock::new(),
            next_id: 1,
        };
        bench
            .phones
            .put(
                "bob-iphone",
                PhoneSpec::default().tokens([IPHONE_VOIP, IPHONE_APNS]),
                true,
                &bench.clock,
            )
            .unwrap();
        bench
    }

    fn set(&self, spec: PhoneSpec) {
        self.phones
            .put("bob-iphone", spec, false, &self.clock)
            .unwrap();
    }

    /// A push answered 200: (push type, token, headers, payload).
    fn push(
        &mut self,
        push_type: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<Delivery> {
        let topic = if push_type == "voip" {
            "com.example.app.voip"
        } else {
            "com.example.app"
        };
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("/3/device/{token}"))
            .header("apns-push-type", push_type)
            .header("apns-topic", topic);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let head = PushHead::from_parts(request.body(()).unwrap().into_parts().0);
        let id = self.next_id;
        self.next_id += 1;
        let pointers = self.phones.settings.call_id_pointers.clone();
        let push = Incoming::new(
            id,
            self.clock.now_ms(),
            &head,
            head.header("apns-topic"),
            body.as_bytes(),
            &pointers,
        );
        self.phones
            .receive(Some(token), &push, true, &self.clock)
            .delivery
    }

    fn call(&mut self, id: &str, expiration: &str) -> Option<Delivery> {
        let body = format!(r#"{{"aps":{{}},"call_id":"{id}"}}"#);
        self.push(
            "voip",
            IPHONE_VOIP,
            &[("apns-expiration", expiration)],
            &body,
        )
    }

    fn view(&self) -> PhoneView {
        self.phones.view("bob-iphone", &self.clock).unwrap()
    }
}

#[test]
fn a_voip_push_to_an_online_phone_rings_for_its_call() {
    let mut b = Bench::new();
    let delivery = b.call("42", "0").expect("the phone owns the token");
    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.effect, Some(Effect::Ringing));
    assert_eq!(b.view().ringing, vec!["42".to_owned()]);
}

#[test]
fn a_second_voip_push_for_the_same_call_is_a_violation_that_takes_the_call_down() {
    let mut b = Bench::new();
    b.call("42", "0");
    let again = b.call("42", "0").unwrap();
    assert_eq!(again.status, DeliveryStatus::Delivered);
    assert_eq!(again.effect, Some(Effect::PolicyViolation));
    assert_eq!(again.violation, Some(Violation::RepeatedCall));
    let phone = b.view();
    assert_eq!(phone.violations, 1);
    assert!(
        !phone.is_ringing(None),
        "the app was terminated: {phone:#?}"
    );
    assert_eq!(phone.calls[0].end, Some(CallEnd::AppTerminated));
}

#[test]
fn after_three_violations_a_new_calls_voip_push_is_discarded_until_reset() {
    let mut b = Bench::new();
    for call in ["1", "2", "3"] {
        b.call(call, "0");
        b.call(call, "0");
    }
    let phone = b.view();
    assert!(phone.voip_suspended, "{phone:#?}");
    let new_call = b.call("4", "0").unwrap();
    assert_eq!(new_call.status, DeliveryStatus::Discarded);
    assert_eq!(new_call.reason, Some(DeliveryReason::VoipSuspended));
    assert!(!b.view().is_ringing(None));

    b.phones.reset("bob-iphone", &b.clock).unwrap();
    assert_eq!(b.call("5", "0").unwrap().effect, Some(Effect::Ringing));
}

#[test]
fn a_voip_push_without_a_call_id_is_a_violation() {
    let mut b = Bench::new();
    let d = b.push("voip", IPHONE_VOIP, &[], r#"{"aps":{}}"#).unwrap();
    assert_eq!(d.violation, Some(Violation::NoCallId));
}

#[test]
fn an_offline_phone_discards_an_expiration_0_push_and_rings_for_nothing_later() {
    let mut b = Bench::new();
    b.set(PhoneSpec::default().online(false));
    let d = b.call("42", "0").unwrap();
    assert_eq!(
        (d.status, d.reason),
        (DeliveryStatus::Discarded, Some(DeliveryReason::Expired))
    );
    b.set(PhoneSpec::default().online(true));
    assert!(!b.view().is_ringing(None));
}

#[test]
fn a_stored_call_rings_late_when_the_phone_comes_back_before_it_expires() {
    let mut b = Bench::new();
    b.set(PhoneSpec::default().online(false));
    let in_a_minute = (b.clock.now_secs() + 60).to_string();
    let d = b.call("42", &in_a_minute).unwrap();
    assert_eq!(
        (d.status, d.reason),
        (DeliveryStatus::Stored, Some(DeliveryReason::DeviceOffline))
    );
    b.clock.advance(Duration::from_secs(30));
    b.set(PhoneSpec::default().online(true));
    let phone = b.view();
    assert!(phone.is_ringing(Some("42")), "{phone:#?}");
    assert_eq!(
        phone.last_push().and_then(|f| f.reason),
        Some(DeliveryReason::FromStorage)
    );
}

#[test]
fn a_stored_push_expires_on_the_mocks_clock() {
    let mut b = Bench::new();
    b.set(PhoneSpec::default().online(false));
    let in_a_minute = (b.clock.now_secs() + 60).to_string();
    b.call("42", &in_a_minute);
    b.clock.advance(Duration::from_secs(61));
    b.set(PhoneSpec::default().online(true));
    let phone = b.view();
    assert!(!phone.is_ringing(None));
    assert_eq!(
        phone.last_push().map(|f| (f.status, f.reason)),
        Some((DeliveryStatus::Discarded, Some(DeliveryReason::Expired)))
    );
}

#[test]
fn apns_stores_only_the_newest_push_per_app() {
    let mut b = Bench::new();
    b.set(PhoneSpec::default().online(false));
    b.push("alert", IPHONE_APNS, &[], r#"{"aps":{"alert":"one"}}"#);
    b.push("alert", IPHONE_APNS, &[], r#"{"aps":{"alert":"two"}}"#);
    let phone = b.view();
    assert_eq!(phone.stored, vec![2]);
    assert_eq!(phone.pushes[0].reason, Some(DeliveryReason::Superseded));
}

#[test]
fn a_non_voip_push_with_the_call_id_stops_the_ringing() {
    let mut b = Bench::new();
    b.call("42", "0");
    let d = b
        .push(
            "alert",
            IPHONE_APNS,
            &[],
            r#"{"aps":{"alert":"Missed call"},"call_id":"42"}"#,
        )
        .unwrap();
    assert_eq!(d.effect, Some(Effect::EndedCall));
    let phone = b.view();
    assert!(!phone.is_ringing(None));
    assert_eq!(phone.calls[0].end, Some(CallEnd::StoppedByPush));
}

#[test]
fn an_unanswered_call_rings_out_when_the_clock_passes_the_ring_timeout() {
    let mut b = Bench::new();
    b.call("42", "0");
    b.clock
        .advance(DEFAULT_RING_TIMEOUT + Duration::from_secs(1));
    let phone = b.view();
    assert!(!phone.is_ringing(None));
    assert_eq!(phone.calls[0].end, Some(CallEnd::RingTimeout));
}

#[test]
fn answering_stops_the_ringing_and_declining_a_silent_phone_is_refused() {
    let mut b = Bench::new();
    b.call("42", "0");
    let call = b.phones.answer("bob-iphone", None, &b.clock).unwrap();
    assert_eq!(call.state, CallState::Answered);
    assert!(!b.view().is_ringing(None));
    assert!(matches!(
        b.phones.decline("bob-iphone", None, &b.clock),
        Err(PhoneError::NotRinging { .. })
    ));
}

#[test]
fn without_the_app_every_push_is_discarded_as_token_unregistered() {
    let mut b = Bench::new();
    b.set(PhoneSpec::default().app_installed(false));
    let d = b.call("42", "0").unwrap();
    assert_eq!(d.reason, Some(DeliveryReason::TokenUnregistered));
}

#[test]
fn a_token_given_to_another_phone_moves_and_unknown_tokens_get_no_delivery() {
    let mut b = Bench::new();
    b.phones
        .put(
            "bob-ipad",
            PhoneSpec::default().tokens([IPHONE_VOIP]),
            true,
            &b.clock,
        )
        .unwrap();
    assert_eq!(b.view().tokens, vec![IPHONE_APNS.to_owned()]);
    assert_eq!(
        b.call("42", "0").map(|d| d.phone),
        Some("bob-ipad".to_owned())
    );
    assert!(b.push("voip", "ffff", &[], r#"{"call_id":"1"}"#).is_none());
}

#[test]
fn names_and_tokens_are_checked() {
    let b = Bench::new();
    assert!(matches!(
        b.phones
            .put("bob iphone", PhoneSpec::default(), true, &b.clock),
        Err(PhoneError::BadName(_))
    ));
    assert!(matches!(
        b.phones
            .put("x", PhoneSpec::default().tokens(["xyz"]), true, &b.clock),
        Err(PhoneError::BadToken(_))
    ));
}

#[tokio::test]
async fn a_waiter_wakes_when_the_ring_timeout_passes_on_the_mocks_clock() {
    let mut b = Bench::new();
    b.call("42", "0");
    let waiting = b.phones.wait(
        "bob-iphone",
        &PhoneCondition::NotRinging,
        Duration::from_secs(10),
        &b.clock,
    );
    let clock = b.clock.clone();
    let advance = async move {
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(3600));
    };
    let (view, ()) = tokio::join!(waiting, advance);
    let view = view
        .unwrap()
        .expect("the call rang out before the deadline");
    assert_eq!(view.calls[0].end, Some(CallEnd::RingTimeout));
}

#[test]
fn put_says_whether_it_created_the_phone() {
    let b = Bench::new();
    let put = |name| b.phones.put(name, PhoneSpec::default(), true, &b.clock);
    assert!(!put("bob-iphone").unwrap().1, "bob-iphone already exists");
    assert!(put("bob-ipad").unwrap().1, "bob-ipad is new");
    assert!(!put("bob-ipad").unwrap().1, "bob-ipad exists now");
}
