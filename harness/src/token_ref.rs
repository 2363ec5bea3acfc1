//! [`TokenRef`]: a device token named where a step takes one (`unregister_device.token`, an
//! expectation's `device`), written `"{{bob-ipad.voip}}"` as in call bodies and paths.
//!
//! One spelling everywhere: a bare `"bob-ipad.voip"` (the old form of these fields) is
//! refused with the `{{…}}` spelling in the message, rather than accepted in some places and
//! sent to the provider as text in others.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A declared token by name, written `"{{bob-ipad.voip}}"`. Shown bare (`bob-ipad.voip`) in
/// the transcript and in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRef {
    name: String,
}

impl TokenRef {
    /// The token's name: `bob-ipad.voip`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for TokenRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl std::str::FromStr for TokenRef {
    type Err = String;

    /// `{{name}}` (spaces inside the braces allowed), and nothing around it.
    fn from_str(text: &str) -> Result<Self, String> {
        let inner = text
            .trim()
            .strip_prefix("{{")
            .and_then(|rest| rest.strip_suffix("}}"))
            .map(str::trim);
        match inner {
            Some(name) if !name.is_empty() && !name.contains(['{', '}']) => Ok(TokenRef {
                name: name.to_owned(),
            }),
            _ if !text.contains(['{', '}']) => Err(format!(
                "{text:?} is a bare name: a token is written \"{{{{{text}}}}}\", as in call \
                 bodies"
            )),
            _ => Err(format!(
                "{text:?} is not a token reference: write one token as \"{{{{device.apns}}}}\" \
                 or \"{{{{device.voip}}}}\", and nothing around it"
            )),
        }
    }
}

impl<'de> Deserialize<'de> for TokenRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_written_in_braces_and_shown_bare() {
        let token: TokenRef = "{{bob-ipad.voip}}".parse().unwrap();
        assert_eq!(token.name(), "bob-ipad.voip");
        assert_eq!(token.to_string(), "bob-ipad.voip");
        let spaced: TokenRef = "{{ bob-ipad.voip }}".parse().unwrap();
        assert_eq!(spaced, token);
    }

    #[test]
    fn a_bare_name_is_refused_with_the_braced_spelling() {
        let err = "bob-ipad.voip".parse::<TokenRef>().unwrap_err();
        assert_eq!(
            err,
            r#""bob-ipad.voip" is a bare name: a token is written "{{bob-ipad.voip}}", as in call bodies"#
        );
    }

    #[test]
    fn text_around_the_braces_is_refused() {
        for text in ["x{{bob-ipad.voip}}", "{{bob-ipad.voip}", "{{}}"] {
            let err = text.parse::<TokenRef>().unwrap_err();
            assert!(err.contains("{{device.voip}}"), "{text}: {err}");
        }
    }
}
