//! Tags for IAM users (`aws-user-tags`) and STS sessions (`session-tags`), written
//! `key=value,key2=value2`, and the transitive subset of session tags.

use std::fmt;

/// IAM and STS allow 50 tags; the gateway adds its own to every IAM user it creates (cluster,
/// producer, lease), so users get two fewer.
pub const MAX_USER_TAGS: usize = 48;

/// Key prefixes a user may not set: `aws:` is AWS's own, `mayfly:` is the gateway's, so that
/// the tags the reconciler trusts to find its users cannot be forged or collide.
pub const RESERVED_TAG_PREFIXES: [&str; 2] = ["aws:", "mayfly:"];

const MAX_KEY_LEN: usize = 128;
const MAX_VALUE_LEN: usize = 256;
const CHARSET: &str = "letters, digits, spaces and _ . : / = + - @";

/// One `key=value` tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag {
    key: String,
    value: String,
}

impl Tag {
    /// A tag from its parts: key 1..128 and value 0..256 characters of the AWS tag character
    /// set (Unicode letters and digits, spaces, `_ . : / = + - @`), key not reserved.
    pub fn new(key: &str, value: &str) -> Result<Self, String> {
        let key = key.trim();
        let value = value.trim();
        check_key(key)?;
        if let Some(bad) = value.chars().find(|c| !is_tag_char(*c)) {
            return Err(format!(
                "tag {key:?} has {bad:?} in its value; use {CHARSET}"
            ));
        }
        let len = value.chars().count();
        if len > MAX_VALUE_LEN {
            return Err(format!(
                "tag {key:?} has a value of {len} characters; the maximum is {MAX_VALUE_LEN}"
            ));
        }
        Ok(Self {
            key: key.to_owned(),
            value: value.to_owned(),
        })
    }

    /// Parses one `key=value` entry, split at the first `=`.
    pub fn parse(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        let (key, value) = entry
            .split_once('=')
            .ok_or_else(|| format!("{entry:?} is not key=value"))?;
        Self::new(key, value)
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.value)
    }
}

/// A list of tags with distinct keys (compared ignoring case, as IAM and STS do), at most
/// [`MAX_USER_TAGS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagList(Vec<Tag>);

impl TagList {
    /// Parses `k=v,k2=v2`: entries are trimmed, empty entries dropped, each split at its first
    /// `=` (so values may contain `=`, keys may not). An empty string is an empty list.
    /// Every bad entry is reported, joined with `; `.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut tags: Vec<Tag> = Vec::new();
        let mut problems = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match Tag::parse(entry) {
                Ok(tag) if tags.iter().any(|t| t.key.eq_ignore_ascii_case(&tag.key)) => {
                    problems.push(format!("tag key {:?} appears more than once", tag.key));
                }
                Ok(tag) => tags.push(tag),
                Err(problem) => problems.push(problem),
            }
        }
        let count = tags.len() + problems.len();
        if count > MAX_USER_TAGS {
            problems.push(format!(
                "{count} tags given; the maximum is {MAX_USER_TAGS} (the gateway adds its own)"
            ));
        }
        if problems.is_empty() {
            Ok(Self(tags))
        } else {
            Err(problems.join("; "))
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Tag> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[Tag] {
        &self.0
    }

    /// Whether a tag has this key, ignoring case as STS does.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.iter().any(|t| t.key.eq_ignore_ascii_case(key))
    }

    /// The `k=v,k2=v2` form, which [`parse`](Self::parse) reads back to the same list.
    pub fn to_wire_string(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for TagList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, tag) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{tag}")?;
        }
        Ok(())
    }
}

impl<'a> IntoIterator for &'a TagList {
    type Item = &'a Tag;
    type IntoIter = std::slice::Iter<'a, Tag>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl serde::Serialize for TagList {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire_string())
    }
}

impl<'de> serde::Deserialize<'de> for TagList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <String as serde::Deserialize>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Session tag keys that pass on to later role-chaining sessions (AssumeRole's
/// `TransitiveTagKeys`). Each must be the key of one of the session tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct TransitiveTagKeys(Vec<String>);

impl TransitiveTagKeys {
    /// Parses the contract's space-separated list (commas are accepted too, since tag keys
    /// cannot contain them). Keys repeated are kept once. Every key missing from
    /// `session_tags` is reported.
    pub fn parse(raw: &str, session_tags: &TagList) -> Result<Self, String> {
        let keys = Self::from_keys(raw.split([' ', ',']).map(str::to_owned).collect())?;
        let missing: Vec<&str> = keys
            .0
            .iter()
            .filter(|k| !session_tags.contains_key(k))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            Ok(keys)
        } else {
            Err(format!(
                "{} not among the session tags; add them to session-tags or drop them here",
                missing
                    .iter()
                    .map(|k| format!("{k:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
                    + if missing.len() == 1 { " is" } else { " are" }
            ))
        }
    }

    /// Checks key syntax only; membership in the session tags is checked by
    /// [`parse`](Self::parse). Used when reading a spec the gateway stored itself.
    fn from_keys(raw: Vec<String>) -> Result<Self, String> {
        let mut keys: Vec<String> = Vec::new();
        for key in raw.iter().map(|k| k.trim()).filter(|k| !k.is_empty()) {
            check_key(key)?;
            if !keys.iter().any(|k| k.eq_ignore_ascii_case(key)) {
                keys.push(key.to_owned());
            }
        }
        Ok(Self(keys))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> &[String] {
        &self.0
    }

    /// The space-separated wire form.
    pub fn to_wire_string(&self) -> String {
        self.0.join(" ")
    }
}

impl TryFrom<Vec<String>> for TransitiveTagKeys {
    type Error = String;

    fn try_from(keys: Vec<String>) -> Result<Self, String> {
        Self::from_keys(keys)
    }
}

impl From<TransitiveTagKeys> for Vec<String> {
    fn from(keys: TransitiveTagKeys) -> Self {
        keys.0
    }
}

fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("tag key must not be empty".to_owned());
    }
    if let Some(bad) = key.chars().find(|c| !is_tag_char(*c)) {
        return Err(format!("tag key {key:?} contains {bad:?}; use {CHARSET}"));
    }
    let len = key.chars().count();
    if len > MAX_KEY_LEN {
        return Err(format!(
            "tag key {key:?} is {len} characters long; the maximum is {MAX_KEY_LEN}"
        ));
    }
    let lower = key.to_lowercase();
    if let Some(prefix) = RESERVED_TAG_PREFIXES.iter().find(|p| lower.starts_with(*p)) {
        return Err(format!(
            "tag key {key:?} starts with the reserved prefix {prefix:?}; choose another key"
        ));
    }
    Ok(())
}

/// AWS's tag character set `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_key_value_lists() {
        let tags = TagList::parse(" team=data , env = prod,,note=a=b, empty= ").unwrap();
        let pairs: Vec<(&str, &str)> = tags.iter().map(|t| (t.key(), t.value())).collect();
        assert_eq!(
            pairs,
            vec![
                ("team", "data"),
                ("env", "prod"),
                ("note", "a=b"),
                ("empty", "")
            ]
        );
        assert_eq!(tags.to_wire_string(), "team=data,env=prod,note=a=b,empty=");
        assert_eq!(TagList::parse(&tags.to_wire_string()).unwrap(), tags);
        assert!(TagList::parse("").unwrap().is_empty());
        assert!(TagList::parse("Cost Center=Ünïcode 42").is_ok());
        assert!(tags.contains_key("TEAM"));
    }

    #[test]
    fn reports_every_bad_entry() {
        let err = TagList::parse("novalue,=x,k=v;,aws:owner=me,Mayfly:cluster=x").unwrap_err();
        assert!(err.contains("\"novalue\" is not key=value"), "{err}");
        assert!(err.contains("tag key must not be empty"), "{err}");
        assert!(err.contains("';'"), "{err}");
        assert!(err.contains("reserved prefix \"aws:\""), "{err}");
        assert!(err.contains("reserved prefix \"mayfly:\""), "{err}");
    }

    #[test]
    fn single_tags_parse() {
        let tag = Tag::parse(" owner = a=b ").unwrap();
        assert_eq!((tag.key(), tag.value()), ("owner", "a=b"));
        assert_eq!(tag.to_string(), "owner=a=b");
        assert!(Tag::parse("owner").unwrap_err().contains("not key=value"));
    }

    #[test]
    fn rejects_duplicate_keys_ignoring_case() {
        let err = TagList::parse("env=a,Env=b").unwrap_err();
        assert!(err.contains("\"Env\" appears more than once"), "{err}");
    }

    #[test]
    fn enforces_lengths_and_count() {
        assert!(Tag::new(&"k".repeat(128), &"v".repeat(256)).is_ok());
        assert!(Tag::new(&"k".repeat(129), "v")
            .unwrap_err()
            .contains("maximum is 128"));
        assert!(Tag::new("k", &"v".repeat(257))
            .unwrap_err()
            .contains("maximum is 256"));
        let forty_eight: Vec<String> = (0..48).map(|i| format!("k{i}=v")).collect();
        assert_eq!(TagList::parse(&forty_eight.join(",")).unwrap().len(), 48);
        let forty_nine: Vec<String> = (0..49).map(|i| format!("k{i}=v")).collect();
        assert!(TagList::parse(&forty_nine.join(","))
            .unwrap_err()
            .contains("49 tags given; the maximum is 48"));
    }

    #[test]
    fn transitive_keys_must_be_session_tags() {
        let session = TagList::parse("team=data,env=prod").unwrap();
        let keys = TransitiveTagKeys::parse(" team  ENV team ", &session).unwrap();
        assert_eq!(keys.keys(), ["team", "ENV"]);
        assert_eq!(keys.to_wire_string(), "team ENV");
        assert!(TransitiveTagKeys::parse("team,env", &session).is_ok());
        assert!(TransitiveTagKeys::parse("", &session).unwrap().is_empty());
        let err = TransitiveTagKeys::parse("team owner cost", &session).unwrap_err();
        assert_eq!(
            err,
            "\"owner\", \"cost\" are not among the session tags; add them to session-tags or drop them here"
        );
        let one = TransitiveTagKeys::parse("owner", &TagList::default()).unwrap_err();
        assert!(one.starts_with("\"owner\" is not among"), "{one}");
        assert!(TransitiveTagKeys::parse("bad;key", &session).is_err());
    }

    #[test]
    fn serde_round_trips() {
        let tags = TagList::parse("a=1,b=2").unwrap();
        let json = serde_json::to_string(&tags).unwrap();
        assert_eq!(json, "\"a=1,b=2\"");
        assert_eq!(serde_json::from_str::<TagList>(&json).unwrap(), tags);
        let keys = TransitiveTagKeys::parse("a", &tags).unwrap();
        let json = serde_json::to_string(&keys).unwrap();
        assert_eq!(json, "[\"a\"]");
        assert_eq!(
            serde_json::from_str::<TransitiveTagKeys>(&json).unwrap(),
            keys
        );
        assert!(serde_json::from_str::<TransitiveTagKeys>("[\"aws:x\"]").is_err());
    }
}
