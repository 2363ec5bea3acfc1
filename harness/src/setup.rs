//! What a scenario sets up before its first step: the mock ([`MockSetup`], the `mock` section)
//! and the devices ([`DeviceSpec`]) whose tokens ([`TokenInfo`]) the steps name.

use std::collections::BTreeMap;

use mock_apns::Environment;
use serde::Deserialize;
use serde_json::Value;

use crate::check::{self, Invalid, Scope};

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
    /// (`POST /api/v1/faults`), passed through unchanged but for `{{token}}` templates;
    /// checked with the mock's own rule parser when the scenario is.
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

impl MockSetup {
    /// What serde cannot check: every fault rule is one the mock mounts, using only the
    /// names in `scope` (the tokens: nothing is captured before the first step).
    pub(crate) fn check(&self, scope: &Scope) -> Result<(), Invalid> {
        for (i, f) in self.faults.iter().enumerate() {
            check::fault_rule(f, scope).map_err(|e| e.under(&format!("mock.faults[{i}]")))?;
        }
        Ok(())
    }
}

/// A declared token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// `bob-iphone.voip`.
    pub name: String,
    /// The device it is one of (`bob-iphone`), kept beside `name` so that no one parses it
    /// back out.
    pub device: String,
    /// The hex token.
    pub value: String,
    /// The topic it belongs to (`<bundle>` or `<bundle>.voip`).
    pub topic: String,
    /// The environment it was issued for.
    pub environment: Environment,
}

/// Every token of `devices`: (name, device, value, topic, environment), in name order.
pub(crate) fn tokens(devices: &BTreeMap<String, DeviceSpec>, bundle_id: &str) -> Vec<TokenInfo> {
    let mut all = Vec::new();
    for (name, d) in devices {
        let bundle = d.bundle_id.as_deref().unwrap_or(bundle_id);
        all.push(TokenInfo {
            name: format!("{name}.apns"),
            device: name.clone(),
            value: d.apns_token.clone(),
            topic: bundle.to_owned(),
            environment: d.environment,
        });
        all.push(TokenInfo {
            name: format!("{name}.voip"),
            device: name.clone(),
            value: d.voip_token.clone(),
            topic: format!("{bundle}.voip"),
            environment: d.environment,
        });
    }
    all
}

/// What serde cannot check: usable device names (each is a virtual phone's name on the mock,
/// and so part of admin API paths), and tokens that are hex and unique.
pub(crate) fn check_devices(devices: &BTreeMap<String, DeviceSpec>) -> Result<(), Invalid> {
    let mut seen = BTreeMap::new();
    for (name, d) in devices {
        let usable = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !usable {
            return Err(Invalid::new(
                format!("devices.{name}"),
                "a device name is also its phone's name on the mock: 1 to 64 letters, digits, \
                 '-' or '_'",
            ));
        }
        for (field, token) in [("apns_token", &d.apns_token), ("voip_token", &d.voip_token)] {
            let path = format!("devices.{name}.{field}");
            check_hex(token).map_err(|m| Invalid::new(path.clone(), m))?;
            if let Some(other) = seen.insert(token.to_ascii_lowercase(), path.clone()) {
                return Err(Invalid::new(
                    path,
                    format!("the same token is already {other}"),
                ));
            }
        }
    }
    Ok(())
}

fn check_hex(token: &str) -> Result<(), String> {
    if token.is_empty() || token.len() % 2 != 0 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{token:?} is not a device token (an even number of hex digits)"
        ));
    }
    Ok(())
}
