//! Deserializers that accept both spellings real clients use.
//!
//! The Akeyless SDK sends `delete_protection` as the string `"true"` while the CLI and
//! hand-written clients send booleans; `password-length` is a string in the SDK and a number
//! elsewhere. Rejecting either would break a real client for no gain.

use serde::{de, Deserialize, Deserializer};
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::RefOr;

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolLike {
    Bool(bool),
    Str(String),
}

/// `true`, `false`, `"true"`, `"false"` (any case) or `""`/null (unset).
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<BoolLike>::deserialize(d)? {
        None => Ok(None),
        Some(BoolLike::Bool(b)) => Ok(Some(b)),
        Some(BoolLike::Str(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            other => Err(de::Error::custom(format!(
                "expected true or false, found {other:?}"
            ))),
        },
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StrLike {
    Str(String),
    Int(i64),
    Bool(bool),
}

/// A string, or a number or bool given where the SDK would send a string; kept as text.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<StrLike>::deserialize(d)? {
        None => None,
        Some(StrLike::Str(s)) => Some(s),
        Some(StrLike::Int(i)) => Some(i.to_string()),
        Some(StrLike::Bool(b)) => Some(b.to_string()),
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IntLike {
    Int(i64),
    Str(String),
}

/// An integer, or a string holding one.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<IntLike>::deserialize(d)? {
        None => Ok(None),
        Some(IntLike::Int(i)) => Ok(Some(i)),
        Some(IntLike::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(IntLike::Str(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("expected an integer, found {s:?}"))),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListLike {
    List(Vec<String>),
    Str(String),
}

/// A list of strings, or one comma-separated string (as some clients send `tags`/`type`).
pub fn opt_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(match Option::<ListLike>::deserialize(d)? {
        None => None,
        Some(ListLike::List(v)) => Some(v),
        Some(ListLike::Str(s)) => Some(
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    })
}

// The OpenAPI schema of each deserializer above, for `#[schema(schema_with = ...)]` next to
// `deserialize_with`. They describe exactly the spellings accepted (every one also takes null),
// so generated clients and fuzzers send what the gateway reads, and a request the schema calls
// valid is never a type error.

/// Any `i64`, as a JSON integer. Bounds are given because JSON integers are unbounded.
fn i64_schema() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(i64::MIN))
        .maximum(Some(i64::MAX))
}

fn null_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Null)
}

/// Schema of [`opt_bool`].
pub fn opt_bool_schema() -> RefOr<Schema> {
    OneOfBuilder::new()
        .description(Some(
            "A boolean, or the string \"true\" or \"false\" (any case; surrounding spaces \
             are ignored); \"\" or null leave it unset.",
        ))
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])?$")),
        )
        .item(null_schema())
        .into()
}

/// Schema of [`opt_string`].
pub fn opt_string_schema() -> RefOr<Schema> {
    OneOfBuilder::new()
        .description(Some(
            "A string; an integer or a boolean is taken as its text.",
        ))
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(i64_schema())
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(null_schema())
        .into()
}

/// Schema of [`opt_i64`].
pub fn opt_i64_schema() -> RefOr<Schema> {
    OneOfBuilder::new()
        .description(Some(
            "An integer, or a string holding one; \"\" or null leave it unset.",
        ))
        .item(i64_schema())
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some("^([+-]?[0-9]{1,18})?$")),
        )
        .item(null_schema())
        .into()
}

/// Schema of an optional [`Secret`](crate::request::Secret): a string, or null. Secrets have
/// no `Serialize` (so they cannot leak into a response or a log by accident), which the derived
/// schema would need to print the field's default; this is why secret fields name it.
pub fn opt_secret_schema() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Password))),
        )
        .item(null_schema())
        .into()
}

/// Schema of [`opt_list`].
pub fn opt_list_schema() -> RefOr<Schema> {
    OneOfBuilder::new()
        .description(Some("A list of strings, or one comma-separated string."))
        .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String)))
        .item(ObjectBuilder::new().schema_type(Type::String))
        .item(null_schema())
        .into()
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    struct T {
        #[serde(default, deserialize_with = "super::opt_bool")]
        b: Option<bool>,
        #[serde(default, deserialize_with = "super::opt_i64")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "super::opt_list")]
        l: Option<Vec<String>>,
        #[serde(default, deserialize_with = "super::opt_string")]
        s: Option<String>,
    }

    fn parse(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn bools_accept_both_spellings_and_reject_others() {
        assert_eq!(parse(r#"{"b":"TRUE"}"#).unwrap().b, Some(true));
        assert_eq!(parse(r#"{"b":false}"#).unwrap().b, Some(false));
        assert_eq!(parse(r#"{"b":""}"#).unwrap().b, None);
        assert_eq!(parse(r#"{"b":null}"#).unwrap().b, None);
        assert_eq!(parse(r#"{}"#).unwrap().b, None);
        assert!(parse(r#"{"b":"yes"}"#).is_err());
        assert!(parse(r#"{"b":1}"#).is_err());
    }

    #[test]
    fn ints_lists_and_strings_are_lenient_about_their_json_type() {
        assert_eq!(parse(r#"{"i":"20"}"#).unwrap().i, Some(20));
        assert_eq!(parse(r#"{"i":20}"#).unwrap().i, Some(20));
        assert!(parse(r#"{"i":"x"}"#).is_err());
        assert_eq!(
            parse(r#"{"l":"a, b,"}"#).unwrap().l,
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse(r#"{"l":["a"]}"#).unwrap().l, Some(vec!["a".into()]));
        assert!(parse(r#"{"l":[1]}"#).is_err());
        assert_eq!(parse(r#"{"s":20}"#).unwrap().s.as_deref(), Some("20"));
        assert!(parse(r#"{"s":{}}"#).is_err());
    }
}
