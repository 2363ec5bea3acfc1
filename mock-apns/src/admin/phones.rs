//! Virtual phones through the admin API: create and change them, look at their timelines, wait
//! for them to ring (or stop), answer and decline calls, reset their PushKit policy state.

use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};

use super::plumbing::{error, ok, reply, wait_timeout, Reply};
use crate::phones::{PhoneCondition, PhoneError, PhoneSpec};
use crate::shared::Shared;

/// The status each phone error answers with.
pub(super) fn refused(e: PhoneError) -> Reply {
    let status = match e {
        PhoneError::NoSuchPhone(_) => StatusCode::NOT_FOUND,
        PhoneError::NotRinging { .. } => StatusCode::CONFLICT,
        _ => StatusCode::BAD_REQUEST,
    };
    error(status, e.to_string())
}

pub(super) fn list(shared: &Shared) -> Reply {
    ok(json!({ "phones": shared.phones.list(&shared.clock) }))
}

pub(super) fn get(name: &str, shared: &Shared) -> Reply {
    match shared.phones.view(name, &shared.clock) {
        Ok(view) => ok(json!(view)),
        Err(e) => refused(e),
    }
}

/// `PUT` creates the phone or changes it; `PATCH` only changes an existing one.
pub(super) fn put(name: &str, spec: PhoneSpec, create: bool, shared: &Shared) -> Reply {
    match shared.phones.put(name, spec, create, &shared.clock) {
        Ok((phone, created)) => {
            let status = match created {
                true => StatusCode::CREATED,
                false => StatusCode::OK,
            };
            reply(status, json!(phone.view(shared.clock.now_ms())))
        }
        Err(e) => refused(e),
    }
}

pub(super) fn remove(name: &str, shared: &Shared) -> Reply {
    match shared.phones.remove(name) {
        Ok(()) => ok(json!({ "deleted": name })),
        Err(e) => refused(e),
    }
}

/// `{"call": "42"}` (or a number), or nothing: the call ringing longest.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CallChoice {
    #[serde(default)]
    call: Option<Value>,
}

impl CallChoice {
    fn call(&self) -> Result<Option<String>, String> {
        match &self.call {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(format!(
                "call {other} is not a call id (a string or a number)"
            )),
        }
    }
}

/// Answering or declining, as the user would.
#[derive(Debug, Clone, Copy)]
pub(super) enum Gesture {
    Answer,
    Decline,
}

pub(super) fn gesture(name: &str, gesture: Gesture, choice: CallChoice, shared: &Shared) -> Reply {
    let call = match choice.call() {
        Ok(call) => call,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let done = match gesture {
        Gesture::Answer => shared.phones.answer(name, call.as_deref(), &shared.clock),
        Gesture::Decline => shared.phones.decline(name, call.as_deref(), &shared.clock),
    };
    match done {
        Ok(call) => ok(json!(call)),
        Err(e) => refused(e),
    }
}

pub(super) fn reset(name: &str, shared: &Shared) -> Reply {
    match shared.phones.reset(name, &shared.clock) {
        Ok(view) => ok(json!(view)),
        Err(e) => refused(e),
    }
}

/// `GET /api/v1/phones/{name}/wait?ringing=true&call=42&timeout_ms=5000`: answers once the
/// phone rings (that call) or, with `ringing=false`, once nothing rings; with
/// `delivery=discarded&reason=expired` instead, once the latest push that reached it has that
/// fate. `408` with the phone as it is when the time is up.
pub(super) async fn wait(name: &str, query: &[(String, String)], shared: &Shared) -> Reply {
    const PARAMS: [&str; 5] = ["ringing", "call", "delivery", "reason", "timeout_ms"];
    if let Some((k, _)) = query.iter().find(|(k, _)| !PARAMS.contains(&k.as_str())) {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "unknown query parameter {k:?} (expected {})",
                PARAMS.join(", ")
            ),
        );
    }
    let condition = match condition(query) {
        Ok(condition) => condition,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    let timeout = match wait_timeout(query) {
        Ok(timeout) => timeout,
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    match shared
        .phones
        .wait(name, &condition, timeout, &shared.clock)
        .await
    {
        Ok(Ok(view)) => ok(json!(view)),
        Ok(Err(view)) => reply(
            StatusCode::REQUEST_TIMEOUT,
            json!({
                "error": format!("{name} was not {condition} within {} ms", timeout.as_millis()),
                "phone": view,
            }),
        ),
        Err(e) => refused(e),
    }
}

/// The condition a wait's query names.
fn condition(query: &[(String, String)]) -> Result<PhoneCondition, String> {
    let value = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let ringing = value("ringing");
    let call = value("call");
    if let Some(status) = value("delivery") {
        if ringing.is_some() || call.is_some() {
            return Err(
                "delivery waits on the latest push; it does not go with ringing or call".into(),
            );
        }
        let reason = value("reason").map(|r| r.parse()).transpose()?;
        return Ok(PhoneCondition::LastPush(status.parse()?, reason));
    }
    if value("reason").is_some() {
        return Err("reason goes with delivery".into());
    }
    match (ringing.as_deref(), call) {
        (None | Some("true"), call) => Ok(PhoneCondition::Ringing(call)),
        (Some("false"), None) => Ok(PhoneCondition::NotRinging),
        (Some("false"), Some(_)) => {
            Err("call goes with ringing=true only: ringing=false waits until nothing rings".into())
        }
        (Some(other), _) => Err(format!("ringing {other:?} is not true or false")),
    }
}
