//! A stand-in call provider as a closure: just enough of the reference provider's API
//! (`/devices`, `/calls`, `/calls/{id}/cancel`) to exercise the closure adapter.
#![allow(
    clippy::unwrap_used,
    reason = "test support: a failure here is a failed test"
)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use harness::{Provider, ProviderResponse};
use serde_json::{json, Value};
use tokio::sync::OnceCell;

use super::apns_client::ApnsClient;

#[derive(Default)]
struct State {
    /// user → [(apns_token, voip_token)]
    devices: BTreeMap<String, Vec<(String, String)>>,
    /// call id → callee
    calls: BTreeMap<String, String>,
}

pub(crate) fn provider() -> Provider {
    Provider::from_fn(|env| {
        let env = env.clone();
        let state = Arc::new(Mutex::new(State::default()));
        let client = Arc::new(OnceCell::<ApnsClient>::new());
        move |request| {
            let (env, state, client) = (env.clone(), state.clone(), client.clone());
            async move {
                let body = request.body.unwrap_or(Value::Null);
                let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                let segments: Vec<&str> = request.path.split('/').skip(1).collect();
                match (request.method.as_str(), segments.as_slice()) {
                    ("POST", ["devices"]) => {
                        let mut st = state.lock().unwrap();
                        st.devices
                            .entry(s(&body["user"]))
                            .or_default()
                            .push((s(&body["apns_token"]), s(&body["voip_token"])));
                        ProviderResponse::new(201, Value::Null)
                    }
                    ("POST", ["calls"]) => {
                        let (id, tokens) = {
                            let mut st = state.lock().unwrap();
                            let id = format!("call-{}", st.calls.len() + 1);
                            st.calls.insert(id.clone(), s(&body["to"]));
                            let tokens =
                                st.devices.get(&s(&body["to"])).cloned().unwrap_or_default();
                            (id, tokens)
                        };
                        let client = client.get_or_init(|| ApnsClient::connect(&env)).await;
                        for (_, voip) in tokens {
                            let payload = json!({"aps": {}, "call_id": id, "caller": body["from"]});
                            client.push(&voip, "voip", payload).await;
                        }
                        ProviderResponse::new(201, json!({ "call_id": id }))
                    }
                    ("POST", ["calls", id, "cancel"]) => {
                        let tokens = {
                            let st = state.lock().unwrap();
                            let callee = st.calls.get(*id).cloned().unwrap_or_default();
                            st.devices.get(&callee).cloned().unwrap_or_default()
                        };
                        let client = client.get_or_init(|| ApnsClient::connect(&env)).await;
                        for (apns, _) in tokens {
                            let payload = json!({"aps": {"alert": {"title": "Missed call"}}});
                            client.push(&apns, "alert", payload).await;
                        }
                        ProviderResponse::new(200, Value::Null)
                    }
                    _ => ProviderResponse::new(404, json!({"error": "no route"})),
                }
            }
        }
    })
}
