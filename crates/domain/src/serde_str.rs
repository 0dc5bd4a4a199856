//! Serde for types whose wire and storage form is a plain string.
//!
//! Deserializing goes back through the type's `parse`, so a value read from JSON (a request, or
//! a producer spec stored by the gateway) is held to exactly the rules of a fresh one.

/// Implements `Serialize` (via the given `&str` accessor, `as_str` by default) and
/// `Deserialize` (via `parse(&str) -> Result<Self, impl Display>`) for a string newtype.
macro_rules! string_serde {
    ($ty:ty) => {
        string_serde!($ty, as_str);
    };
    ($ty:ty, $accessor:ident) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.$accessor())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
                <$ty>::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Implements `Display` by writing the given `&str` accessor (`as_str` by default).
macro_rules! display_str {
    ($ty:ty) => {
        display_str!($ty, as_str);
    };
    ($ty:ty, $accessor:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.$accessor())
            }
        }
    };
}
