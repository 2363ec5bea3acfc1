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
//! - [`scenario`]: the top of the file format, strict parsing, and the checks across steps.
//! - `setup`: the `mock` section and the devices ([`scenario::DeviceSpec`]), with their tokens
//!   (each device is also a virtual phone of the same name on the mock).
//! - [`steps`]: [`steps::Step`], one variant per step kind, and its dispatch (how to add a step).
//! - `steps/<kind>.rs`, one per kind (`call`, `run`, `expect_pushes`, `expect_no_push`, …):
//!   its serde shape, `KIND`, `check`, `play` and `describe`.
//! - `steps/push_filter.rs`: [`steps::PushFilter`], shared by the two push expectations.
//! - `steps/phone.rs`, `steps/gesture.rs`: what the phone steps share (`expect_ringing`,
//!   `expect_not_ringing`, `expect_delivery`, `answer`, `decline`, `phone_offline`,
//!   `phone_online`; each device is a virtual phone on the mock).
//! - `check`: what a step's check sees (the names in scope) and answers (a path and a message);
//!   fault rules checked by mock-apns's own parser.
//! - `choices`: values from a closed set (reasons, push types, step kinds), parsed with a
//!   message that names the nearest choice and lists them all.
//! - `template`: `{{bob-iphone.voip}}`, `{{call_id}}` and `{{repeat:N:x}}` in strings.
//! - `token_ref`: [`TokenRef`], a token where a step takes one, written `"{{bob-ipad.voip}}"`
//!   too.
//! - `span`: [`Span`], a duration written `"500ms"` or `"61m"`.
//! - `replay`: [`Harness`], which starts the mock and the provider and plays the steps.
//! - `player`: one scenario being played, the state each step's `play` reads and changes.
//! - [`provider`]: the three adapters (URL, command, closure); an HTTP provider is called
//!   through [`mock_apns::admin::Client::send`].
//! - `command`: the command adapter: [`CommandProvider`] and the process it starts.
//! - `mock`: the mock, in-process or running, driven through [`mock_apns::admin::Client`];
//!   [`ApnsEnv`].
//! - [`transcript`]: the record ([`mock_apns::Notification`]s) normalised, step by step.
//! - [`snapshot`]: insta settings, redactions and the `.snap` file format.
//! - `error`: [`Error`] (a failed admin request keeps its [`mock_apns::admin::ClientError`]),
//!   [`StepFailure`], [`LintFailure`] and [`ScenarioError`].

mod check;
mod choices;
mod command;
mod error;
mod mock;
mod player;
pub mod provider;
mod replay;
pub mod scenario;
mod setup;
pub mod snapshot;
mod span;
pub mod steps;
mod template;
mod token_ref;
pub mod transcript;

pub use error::{Error, LintFailure, ScenarioError, StepFailure};
pub use mock::{ApnsEnv, MockTarget};
pub use provider::{CommandProvider, Provider, ProviderRequest, ProviderResponse};
pub use replay::Harness;
pub use scenario::Scenario;
pub use snapshot::{snapshot_name, snapshot_path, snapshot_settings};
pub use span::{ParseSpanError, Span};
pub use token_ref::TokenRef;
pub use transcript::Transcript;
