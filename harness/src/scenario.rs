//! Scenario files: the top of the format, strict parsing, and the checks serde cannot make.
//!
//! A scenario is one JSON file. Unknown fields and bad values are refused, and every error
//! names the file and the JSON path (`steps[3].call.expect_status`), like ripgrep's
//! `ignore::Error::WithPath`. The words are the admin API's and the provider's own, so a
//! scenario reads like the traffic it describes. The `mock` section and the devices are
//! [`MockSetup`] and [`DeviceSpec`]; each step kind is a type of [`crate::steps`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::check::{Invalid, Scope};
pub use crate::error::ScenarioError;
use crate::setup;
pub use crate::setup::{DeviceSpec, KeySpec, MockSetup, TokenInfo};
use crate::steps::Step;

/// One scenario: devices, mock setup and ordered steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The snapshot name: the file stem (set by [`Scenario::load`]).
    #[serde(skip)]
    pub name: String,
    /// One sentence: what a reader of the snapshot should expect.
    pub description: String,
    /// The app's bundle id: the provider's `APNS_TOPIC`, and every device's unless it says
    /// otherwise.
    pub bundle_id: String,
    /// The mock's configuration before the first step.
    #[serde(default)]
    pub mock: MockSetup,
    /// Environment variables for this scenario's provider, after every other (a feature flag,
    /// or one of the reference provider's deliberate bugs). Needs a provider the harness
    /// starts (a command) or a closure; a provider already running cannot get them.
    #[serde(default)]
    pub provider_env: BTreeMap<String, String>,
    /// Devices by name (`"bob-iphone"`); their tokens are written `bob-iphone.apns` and
    /// `bob-iphone.voip` everywhere else. Each device is a virtual phone of the same name on
    /// the mock, owning both tokens.
    pub devices: BTreeMap<String, DeviceSpec>,
    /// What happens, in order. The last step must be an expectation, so every push the
    /// scenario causes is waited for and lands in the transcript.
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Reads, parses and checks a scenario file; its stem becomes its name.
    pub fn load(file: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let file = file.as_ref();
        let text = std::fs::read_to_string(file).map_err(|e| ScenarioError {
            file: file.to_owned(),
            path: None,
            message: e.to_string(),
        })?;
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Self::parse(&name, &text).map_err(|e| ScenarioError {
            file: file.to_owned(),
            ..e
        })
    }

    /// Parses and checks scenario text; errors give the JSON path and the message, and
    /// `name` in place of a file.
    pub fn parse(name: &str, text: &str) -> Result<Self, ScenarioError> {
        let invalid = |path, message| ScenarioError {
            file: PathBuf::from(name),
            path,
            message,
        };
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            invalid((path != ".").then_some(path), inner.to_string())
        })?;
        scenario.name = name.to_owned();
        scenario
            .check()
            .map_err(|e| invalid(Some(e.path), e.message))?;
        Ok(scenario)
    }

    /// The token's value for a name like `bob-iphone.voip`.
    pub fn token(&self, name: &str) -> Option<&str> {
        let (device, kind) = name.rsplit_once('.')?;
        let spec = self.devices.get(device)?;
        match kind {
            "apns" => Some(&spec.apns_token),
            "voip" => Some(&spec.voip_token),
            _ => None,
        }
    }

    /// Every token: (name, device, value, topic, environment), in name order.
    pub fn tokens(&self) -> Vec<TokenInfo> {
        setup::tokens(&self.devices, &self.bundle_id)
    }

    /// What serde cannot check: names that must exist, tokens that must be hex, templates
    /// that must resolve, and an expectation at the end. Each step checks itself, given the
    /// names the steps before it defined.
    fn check(&self) -> Result<(), Invalid> {
        if self.steps.is_empty() {
            return Err(Invalid::new("steps", "a scenario needs at least one step"));
        }
        setup::check_devices(&self.devices)?;
        let tokens: BTreeSet<String> = self.tokens().into_iter().map(|t| t.name).collect();
        let mut scope = Scope::new(tokens, self.devices.keys().cloned().collect());
        self.mock.check(&scope)?;
        for (i, step) in self.steps.iter().enumerate() {
            step.check(&mut scope)
                .map_err(|e| e.under(&format!("steps[{i}].{}", step.kind())))?;
        }
        let last = self.steps.len() - 1;
        if !self.steps[last].is_expectation() {
            let kinds = Step::expectation_kinds();
            let (last_kind, others) = kinds.split_last().expect("some step is an expectation");
            return Err(Invalid::new(
                format!("steps[{last}]"),
                format!(
                    "the last step must be an expectation ({} or {last_kind}), so every push \
                     the scenario causes is waited for and recorded",
                    others.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: &str = "aaaa000000000000000000000000000000000000000000000000000000000001";
    const T2: &str = "bbbb000000000000000000000000000000000000000000000000000000000002";

    fn minimal(steps: &str) -> String {
        format!(
            r#"{{"description": "d", "bundle_id": "com.example.app",
                "devices": {{"bob-iphone": {{"user": "bob", "apns_token": "{T1}", "voip_token": "{T2}"}}}},
                "steps": {steps}}}"#
        )
    }

    fn error(text: &str) -> (Option<String>, String) {
        let e = Scenario::parse("t", text).unwrap_err();
        (e.path, e.message)
    }

    #[test]
    fn a_minimal_scenario_parses_and_names_its_tokens() {
        let s = Scenario::parse(
            "t",
            &minimal(r#"[{"call": {"path": "/calls"}}, {"expect_pushes": {"count": 1}}]"#),
        )
        .unwrap();
        assert_eq!(s.token("bob-iphone.voip"), Some(T2));
        let tokens = s.tokens();
        assert_eq!(tokens[1].topic, "com.example.app.voip");
        assert_eq!(
            (tokens[0].device.as_str(), tokens[1].device.as_str()),
            ("bob-iphone", "bob-iphone")
        );
        assert_eq!(s.mock.key.team_id, mock_apns::DEV_TEAM_ID);
    }

    #[test]
    fn an_unknown_field_is_refused_with_its_path() {
        let (path, msg) = error(&minimal(
            r#"[{"call": {"path": "/calls", "expect_staus": 201}}, {"expect_pushes": {"count": 1}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].call.expect_staus"));
        assert!(msg.contains("expect_staus"), "{msg}");
    }

    #[test]
    fn an_unknown_field_beside_a_push_filter_is_refused_with_its_path() {
        let (path, msg) = error(&minimal(
            r#"[{"expect_pushes": {"count": 1, "push_type": "voip", "within": "1s"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].expect_pushes.within"));
        assert!(msg.contains("within"), "{msg}");
    }

    #[test]
    fn a_bad_value_names_its_path() {
        let (path, msg) = error(&minimal(
            r#"[{"call": {"path": "/calls", "method": "FETCH"}}, {"expect_pushes": {"count": 1}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].call.method"));
        assert!(msg.contains("FETCH"), "{msg}");
    }

    #[test]
    fn an_unknown_token_name_is_refused() {
        let (path, msg) = error(&minimal(
            r#"[{"expect_pushes": {"count": 1, "device": "{{bob-ipad.voip}}"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].expect_pushes.device"));
        assert!(
            msg.contains("(known: {{bob-iphone.apns}}, {{bob-iphone.voip}})"),
            "lists the known names: {msg}"
        );
    }

    #[test]
    fn a_bare_token_name_is_refused_with_the_braced_spelling_wherever_a_token_goes() {
        let bare = r#""bob-iphone.voip" is a bare name: a token is written "{{bob-iphone.voip}}", as in call bodies"#;
        for (steps, at) in [
            (
                r#"[{"unregister_device": {"token": "bob-iphone.voip"}}, {"expect_no_push": {"for": "10ms"}}]"#,
                "steps[0].unregister_device.token",
            ),
            (
                r#"[{"expect_no_push": {"for": "10ms", "device": "bob-iphone.voip"}}]"#,
                "steps[0].expect_no_push.device",
            ),
            (
                r#"[{"register_device": "bob-iphone.voip"}, {"expect_no_push": {"for": "10ms"}}]"#,
                "steps[0].register_device",
            ),
            (
                r#"[{"add_fault": {"name": "f", "rule": {"match": {"device_token": "bob-iphone.voip"}, "action": {"reject": "Unregistered"}}}},
                    {"expect_no_push": {"for": "10ms"}}]"#,
                "steps[0].add_fault.rule.match.device_token",
            ),
        ] {
            let (path, msg) = error(&minimal(steps));
            assert_eq!(path.as_deref(), Some(at), "{msg}");
            assert!(msg.starts_with(bare), "{at}: {msg}");
        }
    }

    #[test]
    fn braced_tokens_and_device_names_are_accepted_and_shown_bare() {
        let s = Scenario::parse(
            "t",
            &minimal(
                r#"[{"register_device": "bob-iphone"}, {"register_device": "{{bob-iphone.apns}}"},
                    {"unregister_device": {"token": "{{bob-iphone.voip}}"}},
                    {"add_fault": {"name": "f", "rule": {"match": {"device_token": "{{bob-iphone.voip}}"}, "action": {"reject": "Unregistered"}}}},
                    {"expect_no_push": {"for": "10ms", "device": "{{ bob-iphone.voip }}"}}]"#,
            ),
        )
        .unwrap();
        let lines: Vec<String> = s.steps.iter().map(|s| s.describe()).collect();
        assert_eq!(
            lines,
            [
                "register bob-iphone",
                "register bob-iphone.apns",
                "unregister bob-iphone.voip",
                "add fault f",
                "expect no push for 10ms (device bob-iphone.voip)",
            ]
        );
    }

    #[test]
    fn a_step_with_two_actions_names_the_fix_at_the_step_s_path() {
        let (path, msg) = error(&minimal(
            r#"[{"call": {"path": "/calls"},
                 "expect_pushes": {"count": 1}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0]"));
        assert!(
            msg.starts_with("one action per step: this step has `call` and `expect_pushes`"),
            "{msg}"
        );
    }

    #[test]
    fn a_status_that_is_not_the_reason_s_own_is_refused() {
        let (path, msg) = error(&minimal(
            r#"[{"expect_no_push": {"for": "10ms", "status": 400, "reason": "Unregistered"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].expect_no_push.status"));
        assert_eq!(
            msg,
            "Unregistered comes with status 410, so status 400 would never match; write 410 or \
             leave status out"
        );
    }

    #[test]
    fn a_number_for_a_duration_names_the_string_to_write() {
        let (path, msg) = error(&minimal(r#"[{"expect_no_push": {"for": 200}}]"#));
        assert_eq!(path.as_deref(), Some("steps[0].expect_no_push.for"));
        assert!(msg.contains(r#"like "200ms" or "200s""#), "{msg}");
    }

    #[test]
    fn a_template_must_be_defined_before_use() {
        let (path, msg) = error(&minimal(
            r#"[{"call": {"path": "/calls/{{call_id}}/cancel"}},
                {"call": {"path": "/calls", "capture": {"call_id": "/call_id"}}},
                {"expect_no_push": {"for": "100ms"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].call.path"));
        assert!(msg.contains("call_id"), "{msg}");
    }

    #[test]
    fn phone_steps_parse_and_name_a_device_and_defined_calls() {
        let s = Scenario::parse(
            "t",
            &minimal(
                r#"[{"phone_offline": {"phone": "bob-iphone"}},
                    {"call": {"path": "/calls", "capture": {"call_id": "/call_id"}}},
                    {"expect_delivery": {"phone": "bob-iphone", "status": "discarded", "reason": "expired"}},
                    {"phone_online": {"phone": "bob-iphone"}},
                    {"answer": {"phone": "bob-iphone", "call": "{{call_id}}"}},
                    {"decline": {"phone": "bob-iphone"}},
                    {"expect_ringing": {"phone": "bob-iphone", "call": "{{call_id}}", "timeout": "2s"}},
                    {"expect_not_ringing": {"phone": "bob-iphone"}}]"#,
            ),
        )
        .unwrap();
        let uses_phone: Vec<_> = s.steps.iter().map(|s| s.uses_phone()).collect();
        assert_eq!(
            uses_phone,
            [true, false, true, true, true, true, true, true],
            "every step but the call drives or watches a phone"
        );
        let lines: Vec<_> = s.steps.iter().map(|s| s.describe()).collect();
        assert_eq!(
            lines[2],
            "expect bob-iphone's latest push discarded (expired)"
        );
        assert_eq!(lines[4], "answer call {{call_id}} on bob-iphone");
        assert_eq!(lines[6], "expect bob-iphone ringing for call {{call_id}}");

        let (path, msg) = error(&minimal(r#"[{"expect_ringing": {"phone": "bob-ipad"}}]"#));
        assert_eq!(path.as_deref(), Some("steps[0].expect_ringing.phone"));
        assert_eq!(
            msg,
            r#"no device named "bob-ipad" (devices: bob-iphone; one token is written "{{device.voip}}")"#,
            "lists the devices"
        );
        let (path, _) = error(&minimal(
            r#"[{"answer": {"phone": "bob-iphone", "call": "{{call_id}}"}}, {"expect_not_ringing": {"phone": "bob-iphone"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].answer.call"));
        let (path, msg) = error(&minimal(
            r#"[{"expect_delivery": {"phone": "bob-iphone", "status": "lost"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].expect_delivery.status"));
        assert!(msg.contains("delivered"), "{msg}");
    }

    #[test]
    fn provider_env_is_read_and_a_device_name_must_be_a_phone_name() {
        let text = minimal(r#"[{"expect_not_ringing": {"phone": "bob-iphone"}}]"#).replacen(
            r#""bundle_id": "com.example.app","#,
            r#""bundle_id": "com.example.app", "provider_env": {"CALL_PROVIDER_BUG": "cancel-as-voip"},"#,
            1,
        );
        let s = Scenario::parse("t", &text).unwrap();
        assert_eq!(s.provider_env["CALL_PROVIDER_BUG"], "cancel-as-voip");

        let (path, msg) = error(&text.replace("bob-iphone", "bob/iphone"));
        assert_eq!(path.as_deref(), Some("devices.bob/iphone"));
        assert!(msg.contains("phone's name"), "{msg}");
    }

    #[test]
    fn the_last_step_must_be_an_expectation() {
        let (path, msg) = error(&minimal(r#"[{"call": {"path": "/calls"}}]"#));
        assert_eq!(path.as_deref(), Some("steps[0]"));
        assert!(msg.contains("last step"), "{msg}");
        assert_eq!(
            msg,
            "the last step must be an expectation (expect_pushes, expect_no_push, \
             expect_ringing, expect_not_ringing or expect_delivery), so every push the \
             scenario causes is waited for and recorded"
        );
    }

    #[test]
    fn an_odd_token_is_refused() {
        let text = minimal(r#"[{"expect_pushes": {"count": 1}}]"#).replace(T1, "abc");
        let (path, _) = error(&text);
        assert_eq!(path.as_deref(), Some("devices.bob-iphone.apns_token"));
    }

    #[test]
    fn a_misspelt_reason_is_a_parse_error_at_its_path() {
        let (path, msg) = error(&minimal(
            r#"[{"call": {"path": "/calls"}},
                {"expect_pushes": {"count": 1, "status": 410, "reason": "Unregisterd"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[1].expect_pushes.reason"));
        assert!(
            msg.contains(r#"unknown APNs reason "Unregisterd""#),
            "{msg}"
        );
    }

    #[test]
    fn a_misspelt_push_type_is_a_parse_error_at_its_path() {
        let (path, msg) = error(&minimal(
            r#"[{"expect_no_push": {"for": "100ms", "push_type": "viop"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].expect_no_push.push_type"));
        assert!(msg.contains(r#"unknown apns-push-type "viop""#), "{msg}");
    }

    #[test]
    fn a_fault_rule_the_mock_would_refuse_is_refused_with_the_field_s_path() {
        let add_fault = |rule: &str| {
            error(&minimal(&format!(
                r#"[{{"add_fault": {{"name": "f", "rule": {rule}}}}},
                    {{"expect_no_push": {{"for": "10ms"}}}}]"#
            )))
        };

        let (path, msg) = add_fault(r#"{"action": {"reject": "Unregisterd"}}"#);
        assert_eq!(
            path.as_deref(),
            Some("steps[0].add_fault.rule.action.reject")
        );
        assert!(
            msg.contains(r#"unknown APNs reason "Unregisterd" (did you mean "Unregistered"?)"#),
            "{msg}"
        );

        let (path, msg) = add_fault(r#"{"action": {"goaway": {"reason": "shutdown"}}}"#);
        assert_eq!(
            path.as_deref(),
            Some("steps[0].add_fault.rule.action.goaway.reason")
        );
        assert!(msg.contains(r#"did you mean "Shutdown"?"#), "{msg}");

        let (path, msg) =
            add_fault(r#"{"action": {"goaway": {"reason": "Shutdown", "eror_code": 1}}}"#);
        assert_eq!(path.as_deref(), Some("steps[0].add_fault.rule.action"));
        assert!(msg.contains("eror_code"), "{msg}");
        assert!(
            !msg.contains("line 1"),
            "no position in the re-written rule: {msg}"
        );

        let (path, msg) =
            add_fault(r#"{"match": {"push_type": "viop"}, "action": {"stall": true}}"#);
        assert_eq!(
            path.as_deref(),
            Some("steps[0].add_fault.rule.match.push_type")
        );
        assert!(
            msg.contains(r#"unknown apns-push-type "viop" (did you mean "voip"?)"#),
            "{msg}"
        );

        let (path, msg) = add_fault(r#"{"action": {"close": false}}"#);
        assert_eq!(path.as_deref(), Some("steps[0].add_fault.rule"));
        assert!(msg.contains("action.close must be true"), "{msg}");
    }

    #[test]
    fn a_setup_fault_rule_is_checked_like_a_step_s() {
        let text = minimal(r#"[{"expect_no_push": {"for": "10ms"}}]"#).replace(
            r#""steps":"#,
            r#""mock": {"faults": [{"match": {"device_token": "{{bob-iphone.voip}}"},
                                    "action": {"reject": "Unregistered"}},
                                   {"action": {"outage": "BadTopic"}}]},
               "steps":"#,
        );
        let (path, msg) = error(&text);
        assert_eq!(path.as_deref(), Some("mock.faults[1]"));
        assert!(msg.contains("action.outage"), "{msg}");
    }

    #[test]
    fn a_setup_fault_rule_may_use_only_declared_tokens() {
        let text = minimal(r#"[{"expect_no_push": {"for": "10ms"}}]"#).replace(
            r#""steps":"#,
            r#""mock": {"faults": [{"match": {"device_token": "{{bob-ipad.voip}}"},
                                    "action": {"reject": "Unregistered"}}]},
               "steps":"#,
        );
        let (path, msg) = error(&text);
        assert_eq!(path.as_deref(), Some("mock.faults[0]"));
        assert!(
            msg.contains("{{bob-ipad.voip}} is not defined here"),
            "{msg}"
        );
    }

    #[test]
    fn a_fault_must_be_added_before_it_is_removed() {
        let (path, _) = error(&minimal(
            r#"[{"remove_fault": "outage"}, {"expect_no_push": {"for": "10ms"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].remove_fault"));
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("broken.json");
        std::fs::write(&file, minimal(r#"[{"mark": 3}]"#)).unwrap();
        let err = Scenario::load(&file).unwrap_err().to_string();
        assert!(err.starts_with(&file.display().to_string()), "{err}");
        assert!(err.contains("steps[0].mark"), "{err}");
    }
}
