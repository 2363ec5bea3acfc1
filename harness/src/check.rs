//! For the checks serde cannot make: the names a step may use at its point of a scenario
//! ([`Scope`]), and what a check answers when something is wrong ([`Invalid`]).

use std::collections::BTreeSet;

use serde_json::Value;

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

    /// `name` is a declared token; the error lists the known ones.
    pub(crate) fn token(&self, name: &str) -> Result<(), String> {
        if self.tokens.contains(name) {
            return Ok(());
        }
        let known = self.tokens.iter().cloned().collect::<Vec<_>>().join(", ");
        Err(format!("no token named {name:?} (known: {known})"))
    }

    /// `name` is a declared device (a phone); the error lists the known ones.
    pub(crate) fn device(&self, name: &str) -> Result<(), String> {
        if self.devices.contains(name) {
            return Ok(());
        }
        let known = self.devices.iter().cloned().collect::<Vec<_>>().join(", ");
        Err(format!("no device named {name:?} (known: {known})"))
    }

    /// Whether `name` is a token or a device.
    pub(crate) fn is_token_or_device(&self, name: &str) -> bool {
        self.tokens.contains(name) || self.devices.contains(name)
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
