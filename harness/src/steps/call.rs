//! `call`: an HTTP request to the provider, with its expected status and the values to keep
//! from its answer.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::provider::ProviderRequest;
use crate::span::Span;

/// How long the provider may take to answer when the step does not say.
const TIMEOUT: Duration = Duration::from_secs(30);

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

impl CallStep {
    /// The step's key in the file.
    pub const KIND: &'static str = "call";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        format!("call {} {}", self.method.as_str(), self.path)
    }

    /// The path and the body use only names defined before; the status is an HTTP status;
    /// captures are JSON pointers into usable variable names, defined from here on.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        if !self.path.starts_with('/') {
            return Err(Invalid::new(".path", "the path must start with '/'"));
        }
        scope
            .template(&self.path)
            .map_err(|m| Invalid::new(".path", m))?;
        if let Some(body) = &self.body {
            scope
                .template_value(body)
                .map_err(|m| Invalid::new(".body", m))?;
        }
        if let Some(s) = self.expect_status {
            if !(100..=599).contains(&s) {
                return Err(Invalid::new(
                    ".expect_status",
                    format!("{s} is not an HTTP status"),
                ));
            }
        }
        for (var, pointer) in &self.capture {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(Invalid::new(
                    format!(".capture.{var}"),
                    format!("{pointer:?} is not a JSON pointer (like \"/call_id\")"),
                ));
            }
            if var.is_empty() || var.contains(['.', ':', '{', '}', ' ']) {
                return Err(Invalid::new(
                    ".capture",
                    format!("{var:?} is not a usable variable name"),
                ));
            }
            scope.define(var);
        }
        Ok(())
    }

    /// Sends the request, records the answer, checks its status and keeps the captures.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        let path = player.expand(&self.path)?;
        let body = match &self.body {
            Some(b) => Some(player.expand_value(b)?),
            None => None,
        };
        player.current().request = self.body.clone();
        let request = ProviderRequest {
            method: self.method.as_str().to_owned(),
            path,
            body,
        };
        let timeout = self.timeout.map_or(TIMEOUT, |s| s.duration());
        let answer = player.provider.call(request, timeout).await?;
        player.current().response = Some((answer.status, answer.body.clone()));
        if let Some(want) = self.expect_status {
            if answer.status != want {
                return Err(Stop::failed(format!(
                    "the provider answered {} (expected {want}): {}",
                    answer.status, answer.body
                )));
            }
        }
        for (var, pointer) in &self.capture {
            let value = match answer.body.pointer(pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(v @ Value::Number(_)) => v.to_string(),
                _ => {
                    return Err(Stop::failed(format!(
                        "capture {var}: the answer has no string or number at {pointer:?}: {}",
                        answer.body
                    )))
                }
            };
            player.capture(var, value);
        }
        Ok(())
    }
}
