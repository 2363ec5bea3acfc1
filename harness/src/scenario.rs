//! Scenario files: the serde types, strict parsing and the checks serde cannot make.
//!
//! A scenario is one JSON file. Unknown fields and bad values are refused, and every error
//! names the file and the JSON path (`steps[3].call.expect_status`), like ripgrep's
//! `ignore::Error::WithPath`. The words are the admin API's and the provider's own, so a
//! scenario reads like the traffic it describes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mock_apns::Environment;
use serde::Deserialize;
use serde_json::Value;

pub use crate::error::ScenarioError;
use crate::span::Span;
use crate::template::{self, TemplateVars};

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
    /// Devices by name (`"bob-iphone"`); their tokens are written `bob-iphone.apns` and
    /// `bob-iphone.voip` everywhere else.
    pub devices: BTreeMap<String, DeviceSpec>,
    /// What happens, in order. The last step must be an expectation, so every push the
    /// scenario causes is waited for and lands in the transcript.
    pub steps: Vec<Step>,
}

/// The mock's setup.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockSetup {
    /// Which APNs the mock stands in for (default `development`).
    #[serde(default)]
    pub environment: Environment,
    /// Refuse tokens that were not registered (`BadDeviceToken`).
    #[serde(default)]
    pub strict_devices: bool,
    /// The provider key the mock trusts; the provider gets its `.p8` as `APNS_KEY_FILE`.
    #[serde(default)]
    pub key: KeySpec,
    /// Register every device's tokens with the mock before the first step (default true), so
    /// the mock knows each token's topic and environment.
    #[serde(default = "yes")]
    pub register_devices: bool,
    /// Fault rules installed before the first step, in the admin API's vocabulary
    /// (`POST /api/v1/faults`), passed through unchanged but for `{{token}}` templates.
    #[serde(default)]
    pub faults: Vec<Value>,
}

impl Default for MockSetup {
    fn default() -> Self {
        Self {
            environment: Environment::default(),
            strict_devices: false,
            key: KeySpec::default(),
            register_devices: true,
            faults: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// A provider-token key's identity; the harness generates the key itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// 10-character key id (`kid`).
    pub key_id: String,
    /// 10-character team id (`iss`).
    pub team_id: String,
}

impl Default for KeySpec {
    fn default() -> Self {
        Self {
            key_id: "HARNESSKEY".into(),
            team_id: mock_apns::DEV_TEAM_ID.into(),
        }
    }
}

/// One device of one user: two tokens, as UIKit and PushKit hand them out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// Whose device it is.
    pub user: String,
    /// The app's bundle id on this device (default: the scenario's).
    #[serde(default)]
    pub bundle_id: Option<String>,
    /// The regular APNs token (alerts, background pushes), hex.
    pub apns_token: String,
    /// The PushKit VoIP token, hex.
    pub voip_token: String,
    /// The environment the tokens were issued for (default `development`).
    #[serde(default)]
    pub environment: Environment,
}

/// One step. Written as an object with a single key naming the step.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// An HTTP request to the provider.
    Call(CallStep),
    /// A shell command, given the mock's `APNS_*` variables.
    Run(RunStep),
    /// Wait until pushes arrive at the mock.
    ExpectPushes(ExpectPushes),
    /// Watch the mock for a span; no (matching) push may arrive.
    ExpectNoPush(ExpectNoPush),
    /// Install a fault rule (admin API vocabulary) under a name.
    AddFault(AddFault),
    /// Remove a fault rule added earlier, by its name.
    RemoveFault(String),
    /// Register a token with the mock: `"bob-ipad.voip"`, or `"bob-ipad"` for both tokens.
    RegisterDevice(String),
    /// Mark a token unregistered: later pushes to it get 410.
    UnregisterDevice(UnregisterDevice),
    /// Move the mock's clock forward, e.g. `"61m"`.
    AdvanceClock(Span),
    /// A named point in the transcript.
    Mark(String),
}

impl Step {
    /// The step's key in the file, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Call(_) => "call",
            Step::Run(_) => "run",
            Step::ExpectPushes(_) => "expect_pushes",
            Step::ExpectNoPush(_) => "expect_no_push",
            Step::AddFault(_) => "add_fault",
            Step::RemoveFault(_) => "remove_fault",
            Step::RegisterDevice(_) => "register_device",
            Step::UnregisterDevice(_) => "unregister_device",
            Step::AdvanceClock(_) => "advance_clock",
            Step::Mark(_) => "mark",
        }
    }

    /// Whether the step waits on the mock (and so closes a group of pushes).
    pub fn is_expectation(&self) -> bool {
        matches!(self, Step::ExpectPushes(_) | Step::ExpectNoPush(_))
    }
}

/// An HTTP request to the provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallStep {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE` (default `POST`).
    #[serde(default = "post")]
    pub method: Method,
    /// Path on the provider, with `{{…}}` templates: `/calls/{{call_id}}/cancel`.
    pub path: String,
    /// JSON body; string values may hold templates (`"{{bob-iphone.voip}}"`).
    #[serde(default)]
    pub body: Option<Value>,
    /// The status the provider must answer; without it any status is recorded.
    #[serde(default)]
    pub expect_status: Option<u16>,
    /// Values to keep from the JSON answer: variable name → JSON pointer (`"/call_id"`).
    /// Later steps use them as `{{call_id}}`; the transcript shows them as `[call_id]`.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// How long the provider may take to answer (default 30s).
    #[serde(default)]
    pub timeout: Option<Span>,
}

fn post() -> Method {
    Method::Post
}

/// The HTTP methods a call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A shell command (`sh -c`), with the mock's `APNS_*` variables and `APNS_JWT`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunStep {
    /// The command, with `{{…}}` templates.
    pub command: String,
    /// The exit code it must end with (default 0).
    #[serde(default)]
    pub expect_exit: i32,
    /// How long it may run (default 30s).
    #[serde(default)]
    pub timeout: Option<Span>,
}

/// Which pushes an expectation counts; every field set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushFilter {
    /// A token by name: `"bob-ipad.voip"`.
    pub device: Option<String>,
    /// `apns-topic`.
    pub topic: Option<String>,
    /// `apns-push-type`.
    pub push_type: Option<String>,
    /// The status the mock answered.
    pub status: Option<u16>,
    /// The reason the mock answered.
    pub reason: Option<String>,
}

/// Wait until `count` pushes (matching the filter) have arrived since the previous
/// expectation. Waits on the mock; the timeout only bounds failure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectPushes {
    /// Exactly this many matching pushes (at least 1; use `expect_no_push` for none).
    pub count: usize,
    /// Only pushes to this token (`"bob-ipad.voip"`).
    #[serde(default)]
    pub device: Option<String>,
    /// Only pushes on this topic.
    #[serde(default)]
    pub topic: Option<String>,
    /// Only pushes of this push type.
    #[serde(default)]
    pub push_type: Option<String>,
    /// Only pushes the mock answered with this status.
    #[serde(default)]
    pub status: Option<u16>,
    /// Only pushes the mock answered with this reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Longest wait (default 10s).
    #[serde(default)]
    pub timeout: Option<Span>,
}

impl ExpectPushes {
    /// The filter part.
    pub fn filter(&self) -> PushFilter {
        PushFilter {
            device: self.device.clone(),
            topic: self.topic.clone(),
            push_type: self.push_type.clone(),
            status: self.status,
            reason: self.reason.clone(),
        }
    }
}

/// Watch the mock for a span: no matching push may arrive. This step does wait out its span
/// (that is what it asserts), so keep it short.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectNoPush {
    /// How long to watch (at most 10s).
    #[serde(rename = "for")]
    pub span: Span,
    /// Only pushes to this token count.
    #[serde(default)]
    pub device: Option<String>,
    /// Only pushes on this topic count.
    #[serde(default)]
    pub topic: Option<String>,
    /// Only pushes of this push type count.
    #[serde(default)]
    pub push_type: Option<String>,
    /// Only pushes answered with this status count.
    #[serde(default)]
    pub status: Option<u16>,
    /// Only pushes answered with this reason count.
    #[serde(default)]
    pub reason: Option<String>,
}

impl ExpectNoPush {
    /// The filter part.
    pub fn filter(&self) -> PushFilter {
        PushFilter {
            device: self.device.clone(),
            topic: self.topic.clone(),
            push_type: self.push_type.clone(),
            status: self.status,
            reason: self.reason.clone(),
        }
    }
}

/// A fault rule to install, under a name later steps can remove it by.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddFault {
    /// The name `remove_fault` uses.
    pub name: String,
    /// The rule, exactly as `POST /api/v1/faults` takes it; string values may hold
    /// templates (`"device_token": "{{bob-iphone.voip}}"`).
    pub rule: Value,
}

/// Which token stops being valid, and since when.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnregisterDevice {
    /// A token by name: `"bob-ipad.voip"`.
    pub token: String,
    /// The 410 `timestamp` (epoch ms); default: now on the mock's clock.
    #[serde(default)]
    pub timestamp_ms: Option<u64>,
}

/// Longest `expect_no_push` span: it is a real wait, so it is kept short.
pub const MAX_QUIET_SPAN: std::time::Duration = std::time::Duration::from_secs(10);

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
        scenario.check().map_err(|(p, m)| invalid(Some(p), m))?;
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

    /// Every token: (name, value, topic, environment), in name order.
    pub fn tokens(&self) -> Vec<TokenInfo> {
        let mut all = Vec::new();
        for (name, d) in &self.devices {
            let bundle = d.bundle_id.as_deref().unwrap_or(&self.bundle_id);
            all.push(TokenInfo {
                name: format!("{name}.apns"),
                value: d.apns_token.clone(),
                topic: bundle.to_owned(),
                environment: d.environment,
            });
            all.push(TokenInfo {
                name: format!("{name}.voip"),
                value: d.voip_token.clone(),
                topic: format!("{bundle}.voip"),
                environment: d.environment,
            });
        }
        all
    }

    /// What serde cannot check: names that must exist, tokens that must be hex, templates
    /// that must resolve, and an expectation at the end.
    fn check(&self) -> Result<(), (String, String)> {
        if self.steps.is_empty() {
            return Err(("steps".into(), "a scenario needs at least one step".into()));
        }
        let mut seen = BTreeMap::new();
        for (name, d) in &self.devices {
            if name.is_empty() || name.contains(['.', '{', '}', ' ']) {
                return Err((
                    format!("devices.{name}"),
                    "a device name may not be empty or hold '.', '{', '}' or spaces".into(),
                ));
            }
            for (field, token) in [("apns_token", &d.apns_token), ("voip_token", &d.voip_token)] {
                let path = format!("devices.{name}.{field}");
                check_hex(token).map_err(|m| (path.clone(), m))?;
                if let Some(other) = seen.insert(token.to_ascii_lowercase(), path.clone()) {
                    return Err((path, format!("the same token is already {other}")));
                }
            }
        }
        let token_names: BTreeSet<String> = self.tokens().into_iter().map(|t| t.name).collect();
        let mut vars = TemplateVars::default();
        for t in self.tokens() {
            vars.define(&t.name);
        }
        let mut faults = BTreeSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            let at = |field: &str| format!("steps[{i}].{}{field}", step.kind());
            let device_ok = |device: &Option<String>| match device {
                Some(d) if !token_names.contains(d) => Err((
                    at(".device"),
                    format!("no token named {d:?} (known: {})", join(&token_names)),
                )),
                _ => Ok(()),
            };
            match step {
                Step::Call(call) => {
                    if !call.path.starts_with('/') {
                        return Err((at(".path"), "the path must start with '/'".into()));
                    }
                    template::check(&call.path, &vars).map_err(|m| (at(".path"), m))?;
                    if let Some(body) = &call.body {
                        template::check_value(body, &vars).map_err(|m| (at(".body"), m))?;
                    }
                    if let Some(s) = call.expect_status {
                        if !(100..=599).contains(&s) {
                            return Err((
                                at(".expect_status"),
                                format!("{s} is not an HTTP status"),
                            ));
                        }
                    }
                    for (var, pointer) in &call.capture {
                        if !pointer.is_empty() && !pointer.starts_with('/') {
                            return Err((
                                at(&format!(".capture.{var}")),
                                format!("{pointer:?} is not a JSON pointer (like \"/call_id\")"),
                            ));
                        }
                        if var.is_empty() || var.contains(['.', ':', '{', '}', ' ']) {
                            return Err((
                                at(".capture"),
                                format!("{var:?} is not a usable variable name"),
                            ));
                        }
                        vars.define(var);
                    }
                }
                Step::Run(run) => {
                    template::check(&run.command, &vars).map_err(|m| (at(".command"), m))?;
                }
                Step::ExpectPushes(e) => {
                    if e.count == 0 {
                        return Err((
                            at(".count"),
                            "count must be at least 1; use expect_no_push for none".into(),
                        ));
                    }
                    device_ok(&e.device)?;
                }
                Step::ExpectNoPush(e) => {
                    if e.span.duration() > MAX_QUIET_SPAN {
                        return Err((
                            at(".for"),
                            format!(
                                "{} is longer than {}s: this step really waits",
                                e.span,
                                MAX_QUIET_SPAN.as_secs()
                            ),
                        ));
                    }
                    device_ok(&e.device)?;
                }
                Step::AddFault(f) => {
                    if !f.rule.is_object() {
                        return Err((at(".rule"), "a fault rule is a JSON object".into()));
                    }
                    template::check_value(&f.rule, &vars).map_err(|m| (at(".rule"), m))?;
                    if !faults.insert(f.name.clone()) {
                        return Err((at(".name"), format!("fault {:?} is already added", f.name)));
                    }
                }
                Step::RemoveFault(name) => {
                    if !faults.remove(name) {
                        return Err((at(""), format!("no fault named {name:?} was added before")));
                    }
                }
                Step::RegisterDevice(name) => {
                    if !token_names.contains(name) && !self.devices.contains_key(name) {
                        return Err((at(""), format!("no device or token named {name:?}")));
                    }
                }
                Step::UnregisterDevice(u) => {
                    if !token_names.contains(&u.token) {
                        return Err((
                            at(".token"),
                            format!(
                                "no token named {:?} (known: {})",
                                u.token,
                                join(&token_names)
                            ),
                        ));
                    }
                }
                Step::AdvanceClock(_) | Step::Mark(_) => {}
            }
        }
        for (i, f) in self.mock.faults.iter().enumerate() {
            if !f.is_object() {
                return Err((
                    format!("mock.faults[{i}]"),
                    "a fault rule is a JSON object".into(),
                ));
            }
        }
        let last = self.steps.len() - 1;
        if !self.steps[last].is_expectation() {
            return Err((
                format!("steps[{last}]"),
                "the last step must be expect_pushes or expect_no_push, so every push the \
                 scenario causes is waited for and recorded"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// A declared token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// `bob-iphone.voip`.
    pub name: String,
    /// The hex token.
    pub value: String,
    /// The topic it belongs to (`<bundle>` or `<bundle>.voip`).
    pub topic: String,
    /// The environment it was issued for.
    pub environment: Environment,
}

fn check_hex(token: &str) -> Result<(), String> {
    if token.is_empty() || token.len() % 2 != 0 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{token:?} is not a device token (an even number of hex digits)"
        ));
    }
    Ok(())
}

fn join(names: &BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
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
            r#"[{"expect_pushes": {"count": 1, "device": "bob-ipad.voip"}}]"#,
        ));
        assert_eq!(path.as_deref(), Some("steps[0].expect_pushes.device"));
        assert!(
            msg.contains("bob-iphone.voip"),
            "lists the known names: {msg}"
        );
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
    fn the_last_step_must_be_an_expectation() {
        let (path, msg) = error(&minimal(r#"[{"call": {"path": "/calls"}}]"#));
        assert_eq!(path.as_deref(), Some("steps[0]"));
        assert!(msg.contains("last step"), "{msg}");
    }

    #[test]
    fn an_odd_token_is_refused() {
        let text = minimal(r#"[{"expect_pushes": {"count": 1}}]"#).replace(T1, "abc");
        let (path, _) = error(&text);
        assert_eq!(path.as_deref(), Some("devices.bob-iphone.apns_token"));
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
