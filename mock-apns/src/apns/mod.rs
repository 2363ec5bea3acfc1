//! APNs's own vocabulary and rules: the reasons table, push types and their topics, the push
//! head a request is read into, and the ordered checks a push goes through (`docs/apns.md`).

pub(crate) mod checks;
#[cfg(test)]
mod checks_properties;
pub(crate) mod environment;
pub(crate) mod error_code;
pub(crate) mod ids;
pub(crate) mod push_head;
pub mod push_type;
pub mod reason;
pub(crate) mod rejection;
pub(crate) mod str_enum;
