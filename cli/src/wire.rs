//! Serde helpers for the few places where the gateway's wire types differ from the flag types.

use serde::Serializer;

/// `delete_protection` and the password-policy switches travel as the *strings* `"true"` /
/// `"false"` (the Akeyless SDK types them `str`), while the flag is parsed as a real bool.
/// Used together with `skip_serializing_if = "Option::is_none"`.
pub fn bool_string<S: Serializer>(value: &Option<bool>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(true) => serializer.serialize_str("true"),
        Some(false) => serializer.serialize_str("false"),
        None => serializer.serialize_none(),
    }
}

/// A number checked by clap but sent as a string (`password-length` is `str` in the SDK).
pub fn number_string<S: Serializer>(value: &Option<u32>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(number) => serializer.collect_str(number),
        None => serializer.serialize_none(),
    }
}
