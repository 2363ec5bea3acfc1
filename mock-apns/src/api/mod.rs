//! The Rust face for tests, in the style of wiremock-rs: the [`MockApns`](handle::MockApns)
//! handle, its builder, `Mock::given(..)` with matchers, virtual phones, and verification on
//! drop.

pub(crate) mod builder;
pub(crate) mod handle;
pub mod matchers;
pub(crate) mod mock;
pub(crate) mod phone;
pub(crate) mod verification;
