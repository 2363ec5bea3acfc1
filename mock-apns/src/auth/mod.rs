//! Who may push: provider tokens (ES256 JWT) and the per-connection rules around them, the
//! registered keys, client certificates, and the mock's own PKI.

pub(crate) mod client_cert;
pub(crate) mod connection_auth;
pub(crate) mod dev_key;
pub mod keys;
pub(crate) mod pki;
pub(crate) mod provider_token;
pub(crate) mod token_encoding;
#[cfg(test)]
mod token_properties;
