//! `register_device`: register a token, or both of a device's, with the mock.

use serde::{Deserialize, Deserializer};

use crate::check::{Invalid, Scope};
use crate::player::{Player, Stop};
use crate::token_ref::TokenRef;

/// A device (`"bob-ipad"`) for both its tokens, or one token (`"{{bob-ipad.voip}}"`).
#[derive(Debug, Clone)]
pub enum RegisterDevice {
    /// Both tokens of the device of this name.
    Device(String),
    /// One token.
    Token(TokenRef),
}

impl<'de> Deserialize<'de> for RegisterDevice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text.contains(['{', '}']) {
            text.parse()
                .map(RegisterDevice::Token)
                .map_err(serde::de::Error::custom)
        } else {
            Ok(RegisterDevice::Device(text))
        }
    }
}

impl RegisterDevice {
    /// The step's key in the file.
    pub const KIND: &'static str = "register_device";

    /// Whether the step waits on the mock, and so closes a group of pushes (the last step
    /// of a scenario must).
    pub const IS_EXPECTATION: bool = false;

    /// Whether the step drives or watches a phone (a scenario with such a step gets each
    /// phone's timeline in its transcript).
    pub const USES_PHONE: bool = false;

    /// One line for the transcript and for messages.
    pub fn describe(&self) -> String {
        match self {
            RegisterDevice::Device(name) => format!("register {name}"),
            RegisterDevice::Token(token) => format!("register {token}"),
        }
    }

    /// The device or token is a declared one; a token's bare name gets its `{{…}}` spelling.
    pub(crate) fn check(&self, scope: &mut Scope) -> Result<(), Invalid> {
        match self {
            RegisterDevice::Token(token) => scope.token(token.name()),
            RegisterDevice::Device(name) if scope.is_token(name) => {
                name.parse::<TokenRef>().map(drop)
            }
            RegisterDevice::Device(name) => scope.device(name),
        }
        .map_err(|m| Invalid::new("", m))
    }

    /// Registers each token named, with its topic and environment.
    pub(crate) async fn play(&self, player: &mut Player<'_>) -> Result<(), Stop> {
        for t in player.tokens() {
            let named = match self {
                RegisterDevice::Token(token) => t.name == token.name(),
                RegisterDevice::Device(name) => t.device == *name,
            };
            if named {
                player
                    .mock
                    .register(&t.value, &t.topic, t.environment)
                    .await?;
            }
        }
        Ok(())
    }
}
