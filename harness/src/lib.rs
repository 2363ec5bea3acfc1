//! Replay call scenarios against a push provider and snapshot-test what reached APNs.
//!
//! A provider team writes down what should happen ("when Alice calls Bob, each of Bob's
//! iPhones gets a VoIP push; when Alice hangs up first, a missed-call alert") as scenario
//! files. The harness starts a mock APNs ([`mock_apns`]) and the provider, plays the steps,
//! records every exchange that reached the mock, and returns a [`Transcript`] to compare with
//! a reviewed snapshot. Rust providers use this crate inside `cargo test`; everyone else uses
//! the `apns-harness` CLI (see `docs/testing-your-provider.md`).
//!
//! # In a test
//!
//! ```no_run
//! use harness::{Harness, Provider};
//!
//! #[test]
//! fn scenarios() {
//!     let harness = Harness::new(Provider::command("node server.js"));
//!     insta::glob!("../scenarios", "*.json", |path| {
//!         let transcript = harness.run_file_blocking(path).unwrap_or_else(|e| panic!("{e}"));
//!         harness::snapshot_settings(path).bind(|| {
//!             insta::assert_yaml_snapshot!(harness::snapshot_name(path), transcript);
//!         });
//!     });
//! }
//! ```
//!
//! # Layout
//! - [`scenario`]: the file format, strict parsing, and the checks serde cannot make.
//! - `template`: `{{bob-iphone.voip}}`, `{{call_id}}` and `{{repeat:N:x}}` in strings.
//! - [`provider`]: the three adapters (URL, command, closure); `command` runs a process.
//! - `mock`: the mock, in-process or running, driven through its admin API; [`ApnsEnv`].
//! - `replay`: [`Harness`], which plays the steps.
//! - [`record`] / [`transcript`]: what the mock reports, and its normalised form.
//! - [`snapshot`]: insta settings, redactions and the `.snap` file format.

mod check;
mod command;
mod error;
mod http;
mod mock;
mod player;
pub mod provider;
pub mod record;
mod replay;
pub mod scenario;
mod setup;
pub mod snapshot;
mod span;
pub mod steps;
mod template;
pub mod transcript;

pub use error::{Error, ScenarioError, StepFailure};
pub use mock::{ApnsEnv, MockTarget};
pub use provider::{CommandProvider, Provider, ProviderRequest, ProviderResponse};
pub use replay::Harness;
pub use scenario::Scenario;
pub use snapshot::{snapshot_name, snapshot_path, snapshot_settings};
pub use span::{ParseSpanError, Span};
pub use transcript::Transcript;
