//! Registered device tokens: which topic and environment each belongs to, and which are gone.
//!
//! Read on every push and written only from the admin API or the library, so readers take a
//! lock-free snapshot (copy-on-write through `ArcSwap`), never a lock.

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use crate::Environment;

/// Whether `token` can name a device: hex digits, an even number of them (bytes), any case.
pub(crate) fn is_hex_token(token: &str) -> bool {
    !token.is_empty() && token.len() % 2 == 0 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What the mock knows about one device token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// A label for people ("Bob's iPhone"): the web UI shows it instead of the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The only topic this token may be pushed on (`None`: any topic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    /// The environment the token was issued for (`None`: either).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    /// When the token stopped being valid (epoch ms): pushes then get 410 `Unregistered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unregistered_at: Option<u64>,
}

/// The device registry, keyed by lower-case token.
#[derive(Debug, Default)]
pub(crate) struct Devices {
    map: ArcSwap<HashMap<Box<str>, Device>>,
}

impl Devices {
    /// The entry for `token` (matched case-insensitively), if registered.
    pub(crate) fn get(&self, token: &str) -> Option<Device> {
        let map = self.map.load();
        // Most mocks register no device: no lower-cased copy of the token then.
        if map.is_empty() {
            return None;
        }
        map.get(token.to_ascii_lowercase().as_str()).cloned()
    }

    /// Registers (or replaces) a token.
    pub(crate) fn register(&self, token: &str, device: Device) {
        let key: Box<str> = token.to_ascii_lowercase().into();
        self.map.rcu(|map| {
            let mut map = HashMap::clone(map);
            map.insert(key.clone(), device.clone());
            map
        });
    }

    /// Marks a token unregistered at `timestamp_ms`, keeping its topic and environment.
    pub(crate) fn unregister(&self, token: &str, timestamp_ms: u64) {
        let key: Box<str> = token.to_ascii_lowercase().into();
        self.map.rcu(|map| {
            let mut map = HashMap::clone(map);
            map.entry(key.clone()).or_default().unregistered_at = Some(timestamp_ms);
            map
        });
    }

    /// Every registered token, sorted.
    pub(crate) fn list(&self) -> Vec<(String, Device)> {
        let mut all: Vec<_> = self
            .map
            .load()
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unregistering_keeps_the_topic_and_lookup_ignores_case() {
        let d = Devices::default();
        d.register(
            "ABCD",
            Device {
                topic: Some("com.a.voip".into()),
                ..Device::default()
            },
        );
        d.unregister("abcd", 7);
        let got = d.get("AbCd").unwrap();
        assert_eq!(got.topic.as_deref(), Some("com.a.voip"));
        assert_eq!(got.unregistered_at, Some(7));
    }
}
