//! A local stand-in for Apple's Push Notification service (APNs).
//!
//! mock-apns speaks real TLS and HTTP/2, validates every request the way Apple documents it,
//! answers with Apple's statuses and reason strings, and records every push. Point a push
//! provider at it in CI or on a laptop, then look at what it sent.
//!
//! # Quick start (Rust tests)
//!
//! ```no_run
//! # async fn demo() {
//! use std::time::Duration;
//! use mock_apns::MockApns;
//!
//! let apns = MockApns::start().await;            // 127.0.0.1:<free port>, fresh CA
//! let url = apns.uri();                           // https://localhost:<port>
//! let ca = apns.ca_cert_pem();                    // trust this in your client
//! let jwt = apns.provider_token();                // signed with the registered dev key
//! // ... let the provider under test send a push to `url` with `jwt` ...
//! let pushes = apns.wait_for(1, Duration::from_secs(5)).await.expect("one push");
//! assert_eq!(pushes[0].status, 200);
//! # let _ = (url, ca, jwt);
//! # }
//! ```
//!
//! # Failing on purpose
//!
//! ```no_run
//! # async fn demo() {
//! use mock_apns::{matchers::device_token, Action, Mock, MockApns, Reason};
//!
//! let apns = MockApns::start().await;
//! Mock::given(device_token("a1b2c3d4"))
//!     .respond_with(Action::reject(Reason::Unregistered))
//!     .expect(1)
//!     .named("stale token")
//!     .mount(&apns);
//! // ... the provider pushes to a1b2c3d4 and must prune it ...
//! # }
//! // Dropping `apns` panics (listing what it received) unless "stale token" fired once.
//! ```
//!
//! # Layout
//! Each folder answers one question; read them bottom-up.
//! - `apns/`: APNs's vocabulary and rules: the [`Reason`] table (and a rejection beside it),
//!   [`PushType`]s and their topic suffixes, [`ErrorCode`]s, [`Environment`]s, the push head a
//!   request is read into, the ordered checks, the `apns-id`s answered.
//! - `auth/`: provider tokens (ES256 JWT) and the per-connection token rules, the registered
//!   [`keys`] and the development key, client certificates, the mock's [`Pki`].
//! - `record/`: the [`Notification`] record, the compact form the recorder keeps of it (one
//!   buffer per push), the payload's JSON scanner, the recorder and its record file (reopened
//!   when deleted or rotated), registered [`Device`]s, the [`Clock`] every time rule reads, the
//!   Simulator's `.apns` file of a push.
//! - [`phones`]: virtual phones that own tokens: [`Delivery`] of each accepted push
//!   (delivered, stored, discarded), incoming [`Call`]s that ring, PushKit's policy, timelines.
//! - [`lint`]: mistakes APNs accepts but a phone pays for, one small rule each.
//! - [`faults`]: fault rules (match + schedule + action), their effect on a push, the rate
//!   limiter.
//! - `server/`: accepting under a connection cap with back-off, the accept loop, one task per
//!   connection (with a deadline until HTTP/2 runs), what is known of each connection
//!   ([`ConnectionSummary`], [`GoAway`]), one stream's handling, and a [`Bound`] server's life.
//! - `redirect/`: the CONNECT front door and the [`ClientEnv`] that points unmodified clients at
//!   the mock.
//! - [`admin`]: the HTTP/1.1 admin API (every request through one guard: Host, Origin, JSON
//!   bodies), the record listed in streamed pages, its event stream, the web UI it serves at
//!   `/`, and its typed [`admin::Client`].
//! - `telemetry/`: what the mock tells whoever runs it: a log line per push, Prometheus
//!   metrics.
//! - `api/`: the test-facing [`MockApns`] handle, [`MockApnsBuilder`], [`Mock`] with
//!   [`matchers`], and verification ([`Times`]).
//! - `config.rs` / `shared.rs` / `state_dir.rs` / `error.rs`: the settings, the state every task
//!   shares, the files kept in the state directory, setup errors.
//!
//! Wire facts and their public sources: `docs/apns.md` in the repository; the phone side's:
//! `docs/phones.md`.

pub mod admin;
mod api;
mod apns;
mod auth;
mod config;
mod error;
pub mod faults;
pub mod lint;
pub mod phones;
mod record;
mod redirect;
mod server;
mod shared;
mod state_dir;
mod telemetry;

pub use api::builder::MockApnsBuilder;
pub use api::handle::{MockApns, WaitTimeout};
pub use api::matchers;
pub use api::mock::{Mock, MockBuilder, MockGuard};
pub use api::phone::{Phone, PhoneWaitTimeout};
pub use api::verification::Times;
pub use apns::environment::Environment;
pub use apns::error_code::ErrorCode;
pub use apns::push_type::{self, PushType};
pub use apns::reason::{self, Reason};
pub use auth::client_cert::{CertIdentity, ClientCert, ClientCertRequest};
pub use auth::dev_key::DEV_TEAM_ID;
pub use auth::keys::{self, SigningKey, VerifyingKey};
pub use auth::pki::{Pki, SERVER_NAMES};
pub use config::Config;
pub use error::{Error, TlsError};
pub use faults::{Action, RuleError, RuleSpec, RuleSummary, Schedule};
pub use lint::{LintFinding, LintMode, LintReport};
pub use phones::{Call, Delivery, DeliveryStatus, PhoneSpec, PhoneView};
pub use record::clock::{AdvanceTooFar, Clock, MAX_NOW_MS};
pub use record::devices::Device;
pub use record::notification::{AppliedFault, AuthKind, AuthSummary, Notification, Payload};
pub use record::simulator_file::{SimulatorFileError, TARGET_BUNDLE_KEY};
pub use redirect::client_env::{ClientEnv, Shell};
pub use redirect::connect_proxy::{APNS_HOSTS, APNS_PORTS};
pub use server::bound::Bound;
pub use server::connection_state::{ConnectionSummary, GoAway};
