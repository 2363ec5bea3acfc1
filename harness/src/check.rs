//! For the checks serde cannot make: the names a step may use at its point of a scenario
//! ([`Scope`]), and what a check answers when something is wrong ([`Invalid`]).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::choices;
use crate::template::{self, TemplateVars};

/// What a check found wrong, and where: a JSON path (`devices.bob.apns_token`), or for a
/// step's own check the rest of one below the step (`.path`, or `""` for the step itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Invalid {
    pub(crate) path: String,
    pub(crate) message: String,
}

impl Invalid {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same finding below `prefix`: `steps[2].call` and `.path` make `steps[2].call.path`.
    pub(crate) fn under(self, prefix: &str) -> Self {
        Self {
            path: format!("{prefix}{}", self.path),
            ..self
        }
    }
}

/// The names in scope at one step, as the steps are checked in order: the scenario's tokens
/// and devices, the template variables defined so far (tokens, then captures), and the
/// faults added and not removed yet.
#[derive(Debug)]
pub(crate) struct Scope {
    tokens: BTreeSet<String>,
    devices: BTreeSet<String>,
    vars: TemplateVars,
    faults: BTreeSet<String>,
}

impl Scope {
    /// The scope of the first step: token names (`bob-iphone.voip`) and device names.
    pub(crate) fn new(tokens: BTreeSet<String>, devices: BTreeSet<String>) -> Self {
        let mut vars = TemplateVars::default();
        for token in &tokens {
            vars.define(token);
        }
        Self {
            tokens,
            devices,
            vars,
            faults: BTreeSet::new(),
        }
    }

    /// `name` is a declared token; the error lists the known ones, as they are written.
    pub(crate) fn token(&self, name: &str) -> Result<(), String> {
        if self.tokens.contains(name) {
            return Ok(());
        }
        let known = self
            .tokens
            .iter()
            .map(|t| format!("{{{{{t}}}}}"))
            .collect::<Vec<_>>()
            .join(", ");
        Err(format!("no token named {name:?} (known: {known})"))
    }

    /// `name` is a declared device (a phone); the error lists the known ones.
    pub(crate) fn device(&self, name: &str) -> Result<(), String> {
        if self.devices.contains(name) {
            return Ok(());
        }
        let known = self.devices.iter().cloned().collect::<Vec<_>>().join(", ");
        Err(format!(
            "no device named {name:?} (devices: {known}; one token is written \
             \"{{{{device.voip}}}}\")"
        ))
    }

    /// Whether `name` is a declared token (a bare name where `{{name}}` is meant).
    pub(crate) fn is_token(&self, name: &str) -> bool {
        self.tokens.contains(name)
    }

    /// Every `{{…}}` in `text` is defined here.
    pub(crate) fn template(&self, text: &str) -> Result<(), String> {
        template::check(text, &self.vars)
    }

    /// [`Self::template`] over every string in a JSON value.
    pub(crate) fn template_value(&self, value: &Value) -> Result<(), String> {
        template::check_value(value, &self.vars)
    }

    /// A variable later steps may use (a capture).
    pub(crate) fn define(&mut self, var: &str) {
        self.vars.define(var);
    }

    /// Adds a fault by name; false when one of that name is already added.
    pub(crate) fn add_fault(&mut self, name: &str) -> bool {
        self.faults.insert(name.to_owned())
    }

    /// Removes a fault by name; false when none of that name was added.
    pub(crate) fn remove_fault(&mut self, name: &str) -> bool {
        self.faults.remove(name)
    }
}

/// A fault rule (`add_fault`'s `rule`, an entry of `mock.faults`) is one mock-apns mounts:
/// parsed by its own [`mock_apns::faults::parse_rule`], so `apns-harness check` refuses what
/// the mock would, with the field's path below the rule (`.action`). Templates stand in
/// string values only, so the rule parses before they are expanded, and they may name only
/// what `scope` defines. What the mock takes as any string is checked here: a reason (so the
/// message names the nearest one), the match's push type (a typo would never match) and its
/// device token (a bare token name would never match; it is written `{{bob-iphone.voip}}`).
pub(crate) fn fault_rule(rule: &Value, scope: &Scope) -> Result<(), Invalid> {
    if !rule.is_object() {
        return Err(Invalid::new("", "a fault rule is a JSON object"));
    }
    for pointer in ["/action/reject", "/action/outage", "/action/goaway/reason"] {
        if let Some(Value::String(reason)) = rule.pointer(pointer) {
            choices::reason(reason).map_err(|m| Invalid::new(pointer.replace('/', "."), m))?;
        }
    }
    if let Some(Value::String(token)) = rule.pointer("/match/device_token") {
        device_token(token, scope).map_err(|m| Invalid::new(".match.device_token", m))?;
    }
    scope
        .template_value(rule)
        .map_err(|m| Invalid::new("", m))?;
    let spec = mock_apns::faults::parse_rule(rule.to_string().as_bytes()).map_err(|e| {
        let path = e.path().map(|p| format!(".{p}")).unwrap_or_default();
        Invalid::new(path, without_position(e.message()))
    })?;
    match spec.matcher.push_type {
        Some(t) if !t.contains("{{") => choices::push_type(&t)
            .map(drop)
            .map_err(|m| Invalid::new(".match.push_type", m)),
        _ => Ok(()),
    }
}

/// A fault rule's `device_token`: hex, or a template (`{{bob-iphone.voip}}`).
fn device_token(token: &str, scope: &Scope) -> Result<(), String> {
    if token.contains("{{") || (!token.is_empty() && token.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Ok(());
    }
    if scope.is_token(token) {
        return Err(format!(
            "{token:?} is a bare name: a token is written \"{{{{{token}}}}}\", as in call bodies"
        ));
    }
    Err(format!(
        "{token:?} is not a device token: write a declared token as \"{{{{device.voip}}}}\", \
         or the token's hex"
    ))
}

/// serde_json's ` at line 1 column 48` points into the rule as re-written for the parser, not
/// into the scenario file: dropped, as the path says where.
fn without_position(message: &str) -> &str {
    match message.rsplit_once(" at line ") {
        Some((head, tail))
            if tail
                .split_once(" column ")
                .is_some_and(|(l, c)| is_number(l) && is_number(c)) =>
        {
            head
        }
        _ => message,
    }
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
