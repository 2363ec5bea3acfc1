//! The traits every name-valued enum (reasons, push types, environments, HTTP/2 error codes)
//! shares: `Display` and serde through its `as_str()` and `FromStr`, so the wire name is
//! written in one place per type.

/// Implements `Display`, `Serialize` and `Deserialize` for `$ty` from its `as_str()` and
/// `FromStr` (whose error must be `Display`).
macro_rules! str_traits {
    ($ty:ty) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use str_traits;
