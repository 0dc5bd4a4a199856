//! Vault's wire conventions: how its clients send values (durations as integer seconds or
//! `"15m"`, lists as arrays or comma-separated strings, key/value pairs as maps or `k=v`
//! lists, `null` for "not given") and the response envelope every successful read answers.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};

/// A request's parameters: the JSON body's fields, then the query string's (GET requests
/// carry them there). `null` counts as not given: hvac sends `max_retries: null`,
/// `increment: null`.
pub struct Params {
    body: serde_json::Map<String, Value>,
    query: Vec<(String, String)>,
}

impl Params {
    pub fn new(body: Value, query: &str) -> Params {
        let body = match body {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        };
        let query = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Params { body, query }
    }

    /// The value of `name`, if given (not `null`).
    pub fn get(&self, name: &str) -> Option<Value> {
        match self.body.get(name) {
            Some(Value::Null) | None => self
                .query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Value::String(v.clone())),
            Some(v) => Some(v.clone()),
        }
    }

    /// Whether `name` was sent at all (even as `null` or empty).
    pub fn has(&self, name: &str) -> bool {
        self.body.get(name).is_some_and(|v| !v.is_null())
            || self.query.iter().any(|(k, _)| k == name)
    }

    /// The names sent that are not in `known`: Vault answers them with a warning.
    pub fn unknown(&self, known: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = self
            .body
            .keys()
            .chain(self.query.iter().map(|(k, _)| k))
            .filter(|k| !known.contains(&k.as_str()) && k.as_str() != "list")
            .cloned()
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// A string parameter (a number or boolean is taken as its text), trimmed; empty is `None`.
    pub fn string(&self, name: &str) -> ApiResult<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned()).filter(|s| !s.is_empty())),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
            Some(_) => Err(ApiError::bad_request(format!("{name}: must be a string"))),
        }
    }

    /// A duration in whole seconds: an integer (`900`), a numeric string (`"900"`) or a
    /// duration with units (`"15m"`, `"1h30m"`, `"900s"`).
    pub fn seconds(&self, name: &str) -> ApiResult<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => {
                seconds_of(&v).map_err(|why| ApiError::bad_request(format!("{name}: {why}")))
            }
        }
    }

    /// A list of strings: a JSON array or a comma-separated string.
    pub fn list(&self, name: &str) -> ApiResult<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => list_of(&v)
                .map(Some)
                .map_err(|why| ApiError::bad_request(format!("{name}: {why}"))),
        }
    }

    /// Key/value pairs: a JSON object, or `k=v` strings (an array or comma-separated).
    pub fn pairs(&self, name: &str) -> ApiResult<Option<BTreeMap<String, String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => pairs_of(&v)
                .map(Some)
                .map_err(|why| ApiError::bad_request(format!("{name}: {why}"))),
        }
    }

    /// `true` for `list=true` (any letter case, or `1`) in the query: `GET ...?list=true` is
    /// how clients that cannot send the `LIST` method list.
    pub fn wants_list(query: &str) -> bool {
        url::form_urlencoded::parse(query.as_bytes())
            .any(|(k, v)| k == "list" && (v.eq_ignore_ascii_case("true") || v == "1"))
    }
}

/// See [`Params::seconds`]; `None` for an empty string.
pub fn seconds_of(v: &Value) -> Result<Option<u64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| *f >= 0.0 && f.fract() == 0.0)
                    .map(|f| f as u64)
            })
            .map(Some)
            .ok_or_else(|| format!("{n} is not a number of seconds")),
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if s.bytes().all(|b| b.is_ascii_digit()) {
                return s
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| format!("{s:?} is too large"));
            }
            mayfly_domain::Ttl::parse(s).map(|t| Some(t.as_secs()))
        }
        other => Err(format!(
            "{other} is not a duration; send seconds (900) or a duration such as \"15m\""
        )),
    }
}

/// See [`Params::list`].
pub fn list_of(v: &Value) -> Result<Vec<String>, String> {
    let items: Vec<String> = match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.trim().to_owned()),
                other => Err(format!("{other} is not a string")),
            })
            .collect::<Result<_, _>>()?,
        Value::String(s) => s.split(',').map(|p| p.trim().to_owned()).collect(),
        other => {
            return Err(format!(
                "{other} is not a list; send an array or a comma-separated string"
            ))
        }
    };
    Ok(items.into_iter().filter(|s| !s.is_empty()).collect())
}

/// See [`Params::pairs`].
pub fn pairs_of(v: &Value) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                let v = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(_) | Value::Bool(_) => v.to_string(),
                    other => return Err(format!("the value of {k:?} ({other}) is not a string")),
                };
                out.insert(k.clone(), v);
            }
        }
        other => {
            for item in list_of(other)? {
                let (k, v) = item
                    .split_once('=')
                    .ok_or_else(|| format!("{item:?} is not key=value"))?;
                out.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }
    Ok(out)
}

/// The envelope of a successful Vault answer: `data` (or a secret with its lease), the
/// request id, and `warnings` (`null` when there are none).
pub struct Envelope {
    pub request_id: String,
    pub lease_id: String,
    pub renewable: bool,
    pub lease_duration: u64,
    pub data: Value,
    pub auth: Value,
    pub warnings: Vec<String>,
}

impl Envelope {
    pub fn data(request_id: &str, data: Value) -> Envelope {
        Envelope {
            request_id: request_id.to_owned(),
            lease_id: String::new(),
            renewable: false,
            lease_duration: 0,
            data,
            auth: Value::Null,
            warnings: Vec::new(),
        }
    }

    pub fn into_json(self) -> Value {
        json!({
            "request_id": self.request_id,
            "lease_id": self.lease_id,
            "renewable": self.renewable,
            "lease_duration": self.lease_duration,
            "data": self.data,
            "wrap_info": null,
            "warnings": if self.warnings.is_empty() { Value::Null } else { json!(self.warnings) },
            "auth": self.auth,
        })
    }
}

/// Vault's warning for parameters an endpoint does not know.
pub fn ignored_warning(unknown: &[String]) -> Option<String> {
    (!unknown.is_empty()).then(|| {
        format!(
            "Endpoint ignored these unrecognized parameters: [{}]",
            unknown.join(" ")
        )
    })
}

/// Seconds as Go prints a duration (`1h0m0s`, `15m0s`, `0s`), as Vault shows `config/lease`.
pub fn go_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_come_as_seconds_or_with_units() {
        assert_eq!(seconds_of(&json!(900)), Ok(Some(900)));
        assert_eq!(seconds_of(&json!("900")), Ok(Some(900)));
        assert_eq!(seconds_of(&json!("15m")), Ok(Some(900)));
        assert_eq!(seconds_of(&json!("1h30m")), Ok(Some(5400)));
        assert_eq!(seconds_of(&json!(null)), Ok(None));
        assert_eq!(seconds_of(&json!("")), Ok(None));
        assert!(seconds_of(&json!(-5)).is_err());
        assert!(seconds_of(&json!("soon")).is_err());
        assert!(seconds_of(&json!([1])).is_err());
    }

    #[test]
    fn lists_and_pairs_take_both_spellings() {
        assert_eq!(list_of(&json!("a, b,,c")).unwrap(), ["a", "b", "c"]);
        assert_eq!(list_of(&json!(["a", " b "])).unwrap(), ["a", "b"]);
        assert!(list_of(&json!([1])).is_err());
        let want: BTreeMap<String, String> = [
            ("team".to_owned(), "a".to_owned()),
            ("n".to_owned(), "1".to_owned()),
        ]
        .into();
        assert_eq!(pairs_of(&json!({"team": "a", "n": 1})).unwrap(), want);
        assert_eq!(pairs_of(&json!(["team=a", "n=1"])).unwrap(), want);
        assert_eq!(pairs_of(&json!("team=a,n=1")).unwrap(), want);
        assert!(pairs_of(&json!(["team"])).is_err());
    }

    #[test]
    fn null_is_not_given_and_the_query_fills_in() {
        let p = Params::new(
            json!({"max_retries": null, "ttl": "15m"}),
            "role_arn=x&list=True",
        );
        assert_eq!(p.get("max_retries"), None);
        assert!(!p.has("max_retries"));
        assert_eq!(p.seconds("ttl").unwrap(), Some(900));
        assert_eq!(p.string("role_arn").unwrap().as_deref(), Some("x"));
        assert_eq!(p.unknown(&["ttl", "role_arn"]), ["max_retries"]);
        assert!(Params::wants_list("list=True"));
        assert!(Params::wants_list("a=b&list=true"));
        assert!(!Params::wants_list("list=false"));
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(3600), "1h0m0s");
        assert_eq!(go_duration(900), "15m0s");
        assert_eq!(go_duration(0), "0s");
    }
}
