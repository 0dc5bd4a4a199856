//! Serde helpers for the few places where the gateway's wire types differ from the flag types.

use std::collections::BTreeMap;

use clap::builder::{
    BoolishValueParser, MapValueParser, TypedValueParser as _, ValueParserFactory,
};
use clap::Arg;
use serde::{Serialize, Serializer};

/// A `CLAIM=VALUES` flag value (`--sub-claims repository=octo-org/app-a,octo-org/app-b`): the
/// claim name and its comma-separated values, split at the first `=`. The values are passed
/// on as given; the gateway checks them.
pub fn parse_claim(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, values)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), values.to_owned()))
        }
        _ => Err("expected CLAIM=VALUES, e.g. repository=octo-org/app-a".to_owned()),
    }
}

/// Repeated `CLAIM=VALUES` flags as the JSON object the gateway takes (claim name to
/// comma-separated values); a claim given twice keeps the values of both.
pub fn claim_map<S: Serializer>(
    claims: &[(String, String)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map: BTreeMap<&str, String> = BTreeMap::new();
    for (name, values) in claims {
        map.entry(name)
            .and_modify(|joined| {
                joined.push(',');
                joined.push_str(values);
            })
            .or_insert_with(|| values.clone());
    }
    map.serialize(serializer)
}

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

    #[derive(Debug, Parser, Serialize)]
    struct Claims {
        #[arg(long, value_parser = super::parse_claim)]
        #[serde(
            serialize_with = "super::claim_map",
            skip_serializing_if = "Vec::is_empty"
        )]
        claims: Vec<(String, String)>,
    }

    #[test]
    fn claims_become_an_object_of_comma_separated_values() {
        let parse = |args: &[&str]| {
            Claims::try_parse_from(std::iter::once("t").chain(args.iter().copied()))
                .map(|c| serde_json::to_value(c).expect("serializes"))
        };
        assert_eq!(parse(&[]).unwrap(), serde_json::json!({}));
        assert_eq!(
            parse(&[
                "--claims",
                "repository=org/a,org/b-*",
                "--claims",
                " ref =refs/heads/main",
                "--claims",
                "repository=org/c",
                "--claims",
                "x=a=b",
            ])
            .unwrap(),
            serde_json::json!({"claims": {
                "repository": "org/a,org/b-*,org/c",
                "ref": "refs/heads/main",
                "x": "a=b",
            }})
        );
        for bad in ["repository", "=org/a", " =x"] {
            let error = parse(&["--claims", bad]).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad}");
        }
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
