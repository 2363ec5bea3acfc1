//! Registering and unregistering device tokens.

use http::StatusCode;
use serde_json::json;

use super::plumbing::{error, ok, query_u64, Reply};
use crate::record::devices::{is_hex_token, Device};
use crate::shared::Shared;

pub(super) fn register(token: &str, device: Device, shared: &Shared) -> Reply {
    if !is_hex_token(token) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("{token:?} is not a hex device token"),
        );
    }
    shared.devices.register(token, device.clone());
    ok(json!({ "device_token": token.to_ascii_lowercase(), "device": device }))
}

pub(super) fn unregister(token: &str, query: &[(String, String)], shared: &Shared) -> Reply {
    if let Some((k, _)) = query.iter().find(|(k, _)| k != "timestamp") {
        return error(
            StatusCode::BAD_REQUEST,
            format!("unknown query parameter {k:?} (expected timestamp)"),
        );
    }
    let timestamp = match query_u64(query, "timestamp") {
        Ok(ts) => ts.unwrap_or_else(|| shared.clock.now_ms()),
        Err(e) => return error(StatusCode::BAD_REQUEST, e),
    };
    shared.devices.unregister(token, timestamp);
    ok(json!({ "device_token": token.to_ascii_lowercase(), "unregistered_at": timestamp }))
}
