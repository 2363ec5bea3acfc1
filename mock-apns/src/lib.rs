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
//! - [`reason`]: Apple's reason strings and statuses, the single table.
//! - [`push_type`]: the eleven push types and their topic suffixes.
//! - `validate`: the ordered checks a push goes through.
//! - `auth` / [`keys`]: provider tokens (ES256 JWT), per-connection token rules, the keys.
//! - `client_cert` / [`tls`]: certificate auth, the generated CA and server certificate.
//! - `server` / `connection` / `connections` / `service`: accept loop, one connection (SETTINGS,
//!   GOAWAY, idle timeout), the connection registry, one stream.
//! - `ids`: the random `apns-id` and `apns-unique-id` answered.
//! - [`faults`] / [`Mock`] / [`matchers`]: fault rules and their wiremock-style Rust face.
//! - `recorder` / [`Notification`]: what was received and answered.
//! - `admin`: the HTTP/1.1 admin API.
//! - `connect_proxy` / [`ClientEnv`]: the CONNECT front door and the environment that points
//!   unmodified clients at the mock.
//! - [`MockApnsBuilder`] / [`MockApns`]: configuration and the test-facing handle.

mod admin;
mod auth;
mod builder;
mod client_cert;
mod client_env;
mod clock;
mod connect_proxy;
mod connection;
mod connections;
mod devices;
mod environment;
mod error;
mod error_code;
mod fault_effect;
pub mod faults;
mod files;
mod ids;
pub mod keys;
pub mod matchers;
mod mock;
mod mock_apns;
mod notification;
mod push;
pub mod push_type;
pub mod reason;
mod recorder;
mod rewind;
mod server;
mod service;
mod state;
mod str_enum;
pub mod tls;
mod validate;

pub use builder::{Bound, MockApnsBuilder, DEV_TEAM_ID};
pub use client_cert::{CertIdentity, ClientCert, ClientCertRequest};
pub use client_env::{ClientEnv, Shell};
pub use clock::Clock;
pub use connect_proxy::{APNS_HOSTS, APNS_PORTS};
pub use connections::{ConnectionSummary, GoAway};
pub use devices::Device;
pub use environment::Environment;
pub use error::Error;
pub use error_code::ErrorCode;
pub use faults::{Action, RuleSpec, Schedule};
pub use keys::{SigningKey, VerifyingKey};
pub use mock::{Mock, MockBuilder, MockGuard, Times};
pub use mock_apns::{MockApns, WaitTimeout};
pub use notification::{AppliedFault, AuthKind, AuthSummary, Notification, Payload};
pub use push_type::PushType;
pub use reason::Reason;
pub use state::Config;
