//! What the end-to-end tests share: real clients for the APNs endpoint, the library's typed
//! admin client, a push builder, provider-token crafting, assertions that compare the answer with
//! the record, and a handle on the `mock-apns` binary as a child process.

pub(crate) mod admin;
pub(crate) mod apns_client;
pub(crate) mod assertions;
pub(crate) mod binary;
pub(crate) mod browser;
pub(crate) mod cargo;
pub(crate) mod jwt;
pub(crate) mod push;
pub(crate) mod raw_h2;

use std::time::Duration;

pub(crate) use admin::{admin, OrFail};
pub(crate) use apns_client::{Alpn, ApnsClient, Reply};
pub(crate) use assertions::{assert_accepted, assert_rejected};
pub(crate) use push::Push;

/// Bounds every wait in the suite. It only decides how long a broken test takes to fail; no
/// test waits for it to pass.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// A 32-byte device token, the size of today's app and PushKit tokens.
pub(crate) const DEVICE: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

/// The VoIP topic of the example app.
pub(crate) const VOIP_TOPIC: &str = "com.example.app.voip";

/// The example app's bundle id.
pub(crate) const BUNDLE: &str = "com.example.app";
