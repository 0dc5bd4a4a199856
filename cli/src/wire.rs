//! Serde helpers for the few places where the gateway's wire types differ from the flag types.

use clap::builder::{
    BoolishValueParser, MapValueParser, TypedValueParser as _, ValueParserFactory,
};
use clap::Arg;
use serde::{Serialize, Serializer};

/// A number checked by clap but sent as a string (`password-length` is `str` in the SDK).
pub fn number_string<S: Serializer>(value: &Option<u32>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(number) => serializer.collect_str(number),
        None => serializer.serialize_none(),
    }
}

/// An optional `true|false` flag, written the way the akeyless CLI takes its booleans: the value
/// may be left out (`--flag` means `--flag true`) and is parsed by clap's
/// [`BoolishValueParser`] (`yes`, `on`, `1`... are accepted too). `AS_STRING` says how it
/// travels: a JSON bool, or ([`BoolString`]) the *string* `"true"` / `"false"` where the
/// Akeyless SDK types the field `str` (`delete_protection`, the password-policy switches).
///
/// A flag is declared as
///
/// ```ignore
/// /// Help text.
/// #[arg(long, bool_flag())]
/// #[serde(skip_serializing_if = "Option::is_none")]
/// pub some_flag: Option<WireBool>,
/// ```
///
/// where `bool_flag()` is [`BoolFlag::bool_flag`] and clap finds the value parser through the
/// type ([`ValueParserFactory`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireBool<const AS_STRING: bool = false>(pub bool);

/// A [`WireBool`] sent as the string `"true"` / `"false"`.
pub type BoolString = WireBool<true>;

impl<const AS_STRING: bool> Serialize for WireBool<AS_STRING> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (AS_STRING, self.0) {
            (true, true) => serializer.serialize_str("true"),
            (true, false) => serializer.serialize_str("false"),
            (false, value) => serializer.serialize_bool(value),
        }
    }
}

impl<const AS_STRING: bool> ValueParserFactory for WireBool<AS_STRING> {
    type Parser = MapValueParser<BoolishValueParser, fn(bool) -> Self>;

    fn value_parser() -> Self::Parser {
        BoolishValueParser::new().map(WireBool)
    }
}

/// The clap side of a [`WireBool`] flag, used as the derive attribute `#[arg(bool_flag())]`
/// (clap calls any `Arg` method named in `#[arg(...)]`; this trait must be in scope).
pub trait BoolFlag {
    /// `value_name = "true|false"`, `num_args = 0..=1`, `default_missing_value = "true"`.
    fn bool_flag(self) -> Self;
}

impl BoolFlag for Arg {
    fn bool_flag(self) -> Self {
        self.value_name("true|false")
            .num_args(0..=1)
            .default_missing_value("true")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use serde::Serialize;

    use super::{BoolFlag as _, BoolString, WireBool};

    #[derive(Debug, Parser, Serialize)]
    struct Flags {
        #[arg(long, bool_flag())]
        #[serde(skip_serializing_if = "Option::is_none")]
        json: Option<WireBool>,
        #[arg(long, bool_flag())]
        #[serde(skip_serializing_if = "Option::is_none")]
        text: Option<BoolString>,
    }

    fn body(args: &[&str]) -> serde_json::Value {
        let flags = Flags::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
            .expect("parses");
        serde_json::to_value(flags).expect("serializes")
    }

    #[test]
    fn a_bare_flag_is_true_and_absent_flags_are_not_sent() {
        assert_eq!(body(&[]), serde_json::json!({}));
        assert_eq!(
            body(&["--json", "--text"]),
            serde_json::json!({"json": true, "text": "true"})
        );
    }

    #[test]
    fn values_are_boolish_and_keep_their_wire_type() {
        assert_eq!(
            body(&["--json", "no", "--text=off"]),
            serde_json::json!({"json": false, "text": "false"})
        );
        assert_eq!(
            body(&["--json=yes", "--text", "1"]),
            serde_json::json!({"json": true, "text": "true"})
        );
        assert!(Flags::try_parse_from(["t", "--json", "maybe"]).is_err());
    }
}
