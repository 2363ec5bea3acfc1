//! APNs environments: development (sandbox) and production.

use std::str::FromStr;

/// Which APNs the mock stands in for. Development is the default, like a provider's first
/// steps; it is also the only environment that returns `apns-unique-id` (Apple, "Handling
/// notification responses from APNs").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Environment {
    /// `api.sandbox.push.apple.com`.
    #[default]
    Development,
    /// `api.push.apple.com`.
    Production,
}

impl Environment {
    /// `development` or `production`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Production => "production",
        }
    }
}

/// Not `development` or `production`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown environment {0:?} (expected \"development\" or \"production\")")]
pub struct UnknownEnvironment(pub String);

impl FromStr for Environment {
    type Err = UnknownEnvironment;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "development" | "sandbox" => Ok(Environment::Development),
            "production" => Ok(Environment::Production),
            other => Err(UnknownEnvironment(other.to_owned())),
        }
    }
}

crate::apns::str_enum::str_traits!(Environment);
