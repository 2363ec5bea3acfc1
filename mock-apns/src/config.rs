//! The validated settings a mock runs with, built by the CLI or [`crate::MockApnsBuilder`].

use std::path::PathBuf;

use crate::apns::environment::Environment;
use crate::lint::LintMode;
use crate::phones::PhoneSettings;

/// Validated settings the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which APNs the mock stands in for.
    pub environment: Environment,
    /// Refuse tokens that were not registered (400 `BadDeviceToken`).
    pub strict_devices: bool,
    /// `SETTINGS_MAX_CONCURRENT_STREAMS` once a connection is trusted (token connections start
    /// at 1 until a push is accepted, as APNs does).
    pub max_concurrent_streams: u32,
    /// Drop the limit to 1 after a rejected push, back up after the next accepted one.
    pub throttle_on_reject: bool,
    /// Close connections idle this long (mock clock) with GOAWAY `IdleTimeout`; `None`: never.
    pub idle_timeout: Option<std::time::Duration>,
    /// Records kept in memory before the oldest are dropped.
    pub max_records: usize,
    /// JSON-lines file every record is appended to.
    pub record_file: Option<PathBuf>,
    /// What lint findings do (`docs/phones.md` §5).
    pub lint: LintMode,
    /// How virtual phones behave (`docs/phones.md`).
    pub phones: PhoneSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            strict_devices: false,
            max_concurrent_streams: 1000,
            throttle_on_reject: true,
            idle_timeout: None,
            max_records: 100_000,
            record_file: None,
            lint: LintMode::default(),
            phones: PhoneSettings::default(),
        }
    }
}
