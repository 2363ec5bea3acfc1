//! [`Span`]: a duration written the way people say it, `"500ms"`, `"5s"`, `"61m"`, `"1h"`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A duration from a scenario file: a whole number and a unit (`ms`, `s`, `m` or `h`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    millis: u64,
}

impl Span {
    /// A span of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        Self { millis }
    }

    /// As a [`Duration`].
    pub fn duration(self) -> Duration {
        Duration::from_millis(self.millis)
    }

    /// In milliseconds.
    pub fn as_millis(self) -> u64 {
        self.millis
    }
}

/// Text that is not a [`Span`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a duration like \"500ms\", \"5s\", \"61m\" or \"1h\"")]
pub struct ParseSpanError {
    text: String,
}

impl std::str::FromStr for Span {
    type Err = ParseSpanError;

    fn from_str(s: &str) -> Result<Self, ParseSpanError> {
        let bad = || ParseSpanError { text: s.to_owned() };
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = s.split_at(digits);
        let n: u64 = number.parse().map_err(|_| bad())?;
        let factor = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return Err(bad()),
        };
        n.checked_mul(factor).map(Span::from_millis).ok_or_else(bad)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.millis;
        match ms {
            0 => write!(f, "0ms"),
            _ if ms % 3_600_000 == 0 => write!(f, "{}h", ms / 3_600_000),
            _ if ms % 60_000 == 0 => write!(f, "{}m", ms / 60_000),
            _ if ms % 1_000 == 0 => write!(f, "{}s", ms / 1_000),
            _ => write!(f, "{ms}ms"),
        }
    }
}

/// A number is refused with its spelling as a span: `5` could be seconds or milliseconds.
impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpanVisitor;

        impl serde::de::Visitor<'_> for SpanVisitor {
            type Value = Span;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(r#"a duration string like "500ms", "5s", "61m" or "1h""#)
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Span, E> {
                text.parse().map_err(E::custom)
            }

            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Span, E> {
                Err(E::custom(format!(
                    "{n} is a number: a duration is a string with its unit, like \"{n}ms\" or \
                     \"{n}s\""
                )))
            }

            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Span, E> {
                Err(E::invalid_value(serde::de::Unexpected::Signed(n), &self))
            }

            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Span, E> {
                Err(E::invalid_value(serde::de::Unexpected::Float(n), &self))
            }
        }

        d.deserialize_any(SpanVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_and_print_back() {
        for (text, ms) in [
            ("500ms", 500),
            ("5s", 5_000),
            ("61m", 3_660_000),
            ("1h", 3_600_000),
        ] {
            let span: Span = text.parse().unwrap();
            assert_eq!(span.as_millis(), ms);
            assert_eq!(span.to_string(), text);
        }
    }

    #[test]
    fn a_number_is_refused_with_its_spelling_as_a_duration() {
        let err = serde_json::from_str::<Span>("5").unwrap_err().to_string();
        assert!(
            err.starts_with(
                r#"5 is a number: a duration is a string with its unit, like "5ms" or "5s""#
            ),
            "{err}"
        );
        let err = serde_json::from_str::<Span>("true")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(r#"expected a duration string like "500ms""#),
            "{err}"
        );
    }

    #[test]
    fn a_bare_number_or_unknown_unit_is_refused() {
        for text in ["500", "5 s", "1d", "ms", "-1s"] {
            let err = text.parse::<Span>().unwrap_err().to_string();
            assert!(err.contains("61m"), "{text}: {err}");
        }
    }
}
