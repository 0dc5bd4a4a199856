//! Claims of a workload's identity token, and the rules that bind roles to them.
//!
//! One issuer often serves many tenants: every GitHub repository can mint a token from
//! `token.actions.githubusercontent.com` for any audience. So an auth method for such an issuer
//! gives roles per association *and* per claim values: repository `org/a` one role,
//! `org/b` another ([`SubClaims`]). A token that matches no association's claims holds no role.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The most claims one association (or one method's bound claims) may name.
pub const MAX_SUB_CLAIMS: usize = 32;
/// The longest claim name and the longest allowed value.
pub const MAX_CLAIM_NAME_CHARS: usize = 128;
pub const MAX_CLAIM_VALUE_CHARS: usize = 512;
/// The most values one claim of a token keeps (array claims such as `groups`).
pub const MAX_VALUES_PER_CLAIM: usize = 64;

/// A token's claims reduced to what rules can match: each string, number or boolean claim as
/// one value, each array of such values as several; objects and nulls are left out. Kept with
/// the session so associations changed later apply to it at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TokenClaims(pub BTreeMap<String, Vec<String>>);

impl TokenClaims {
    /// Reduces a decoded JSON claims object.
    pub fn from_json(claims: &serde_json::Map<String, serde_json::Value>) -> TokenClaims {
        let scalar = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        let mut out = BTreeMap::new();
        for (name, value) in claims {
            if name.chars().count() > MAX_CLAIM_NAME_CHARS {
                continue;
            }
            let values: Vec<String> = match value {
                serde_json::Value::Array(items) => items
                    .iter()
                    .filter_map(scalar)
                    .take(MAX_VALUES_PER_CLAIM)
                    .collect(),
                other => scalar(other).into_iter().collect(),
            };
            let values: Vec<String> = values
                .into_iter()
                .map(|v| v.chars().take(MAX_CLAIM_VALUE_CHARS).collect())
                .collect();
            if !values.is_empty() {
                out.insert(name.clone(), values);
            }
        }
        TokenClaims(out)
    }

    /// The first value of a claim.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// Only the named claims (what a session keeps: the identifying claim and those rules
    /// can match, not the whole token).
    pub fn only<'a>(&self, names: impl IntoIterator<Item = &'a str>) -> TokenClaims {
        let mut out = BTreeMap::new();
        for name in names {
            if let Some(v) = self.0.get(name) {
                out.insert(name.to_owned(), v.clone());
            }
        }
        TokenClaims(out)
    }
}

/// Claim values an association (or a method's bound claims) requires: every named claim
/// must have a value matching one of its patterns. Patterns are globs where `*` matches any
/// run of characters (`org/*`); comparison is exact or, with `case_sensitive` off,
/// case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubClaims {
    pub claims: BTreeMap<String, Vec<String>>,
    pub case_sensitive: bool,
}

impl SubClaims {
    /// Parses the Akeyless form: claim name to comma-separated allowed values
    /// (`{"repository": "org/a,org/b-*"}`). `field` names the request field in messages.
    pub fn parse(
        field: &str,
        raw: &BTreeMap<String, String>,
        case_sensitive: bool,
    ) -> Result<SubClaims, String> {
        if raw.len() > MAX_SUB_CLAIMS {
            return Err(format!(
                "{field}: at most {MAX_SUB_CLAIMS} claims, got {}",
                raw.len()
            ));
        }
        let mut claims = BTreeMap::new();
        for (name, values) in raw {
            let name = name.trim();
            if name.is_empty() {
                return Err(format!("{field}: a claim name is empty"));
            }
            if name.chars().count() > MAX_CLAIM_NAME_CHARS || name.chars().any(char::is_control) {
                return Err(format!(
                    "{field}: claim name {name:?} is longer than {MAX_CLAIM_NAME_CHARS} characters or holds control characters"
                ));
            }
            let allowed: Vec<String> = values
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
            if allowed.is_empty() {
                return Err(format!(
                    "{field}: claim {name:?} has no value; give comma-separated values such as \"org/repo-a,org/repo-b\""
                ));
            }
            if let Some(long) = allowed.iter().find(|v| {
                v.chars().count() > MAX_CLAIM_VALUE_CHARS || v.chars().any(char::is_control)
            }) {
                return Err(format!(
                    "{field}: a value of claim {name:?} ({} characters) is longer than {MAX_CLAIM_VALUE_CHARS} characters or holds control characters",
                    long.chars().count()
                ));
            }
            if allowed.len() > MAX_VALUES_PER_CLAIM {
                return Err(format!(
                    "{field}: claim {name:?} has more than {MAX_VALUES_PER_CLAIM} values"
                ));
            }
            claims.insert(name.to_owned(), allowed);
        }
        Ok(SubClaims {
            claims,
            case_sensitive,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }

    /// Whether `token` satisfies every claim. No claims: always.
    pub fn matches(&self, token: &TokenClaims) -> bool {
        self.claims.iter().all(|(name, patterns)| {
            token.0.get(name).is_some_and(|values| {
                values.iter().any(|value| {
                    patterns
                        .iter()
                        .any(|p| glob_matches(p, value, self.case_sensitive))
                })
            })
        })
    }

    /// The Akeyless form back: claim name to comma-separated values.
    pub fn to_wire(&self) -> BTreeMap<String, String> {
        self.claims
            .iter()
            .map(|(k, v)| (k.clone(), v.join(",")))
            .collect()
    }
}

/// `*` matches any run of characters (including `/` and nothing); everything else matches
/// itself. Linear in the input for each star (no backtracking blow-up).
pub fn glob_matches(pattern: &str, value: &str, case_sensitive: bool) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = if case_sensitive {
        (pattern.chars().collect(), value.chars().collect())
    } else {
        (
            pattern.to_lowercase().chars().collect(),
            value.to_lowercase().chars().collect(),
        )
    };
    // Classic two-pointer wildcard match with the last star remembered.
    let (mut pi, mut vi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if pi < p.len() && p[pi] == v[vi] {
            pi += 1;
            vi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(pairs: &[(&str, &[&str])]) -> TokenClaims {
        TokenClaims(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
        )
    }

    fn rules(pairs: &[(&str, &str)], case_sensitive: bool) -> SubClaims {
        let raw = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        SubClaims::parse("sub-claims", &raw, case_sensitive).unwrap()
    }

    #[test]
    fn globs() {
        assert!(glob_matches("org/*", "org/repo", true));
        assert!(glob_matches("org/*", "org/", true));
        assert!(!glob_matches("org/*", "org", true));
        assert!(glob_matches("*main", "refs/heads/main", true));
        assert!(!glob_matches("*main", "refs/heads/main2", true));
        assert!(glob_matches("a*b*c", "a-x-b-y-c", true));
        assert!(!glob_matches("a*b*c", "a-x-c-y-b", true));
        assert!(glob_matches("exact", "exact", true));
        assert!(!glob_matches("exact", "exact2", true));
        assert!(!glob_matches("Org/*", "org/repo", true));
        assert!(glob_matches("Org/*", "org/repo", false));
        assert!(glob_matches("*", "", true));
        assert!(!glob_matches("", "x", true));
    }

    #[test]
    fn every_claim_must_match_one_value() {
        let r = rules(
            &[("repository", "org/a, org/b-*"), ("ref", "refs/heads/main")],
            true,
        );
        assert!(r.matches(&claims(&[
            ("repository", &["org/b-1"]),
            ("ref", &["refs/heads/main"])
        ])));
        assert!(!r.matches(&claims(&[
            ("repository", &["org/c"]),
            ("ref", &["refs/heads/main"])
        ])));
        assert!(
            !r.matches(&claims(&[("repository", &["org/a"])])),
            "a missing claim fails"
        );
        assert!(r.matches(&claims(&[
            ("repository", &["x", "org/a"]),
            ("ref", &["refs/heads/main"])
        ])));
        assert!(SubClaims::default().matches(&TokenClaims::default()));
    }

    #[test]
    fn parse_refuses_what_cannot_match() {
        let raw = |k: &str, v: &str| BTreeMap::from([(k.to_owned(), v.to_owned())]);
        assert!(SubClaims::parse("f", &raw("", "x"), true).is_err());
        assert!(SubClaims::parse("f", &raw("a", " , "), true)
            .unwrap_err()
            .contains("no value"));
        assert!(SubClaims::parse("f", &raw("a", &"x".repeat(600)), true).is_err());
        let r = SubClaims::parse("f", &raw(" a ", "x , y"), false).unwrap();
        assert_eq!(r.to_wire(), raw("a", "x,y"));
    }

    #[test]
    fn token_claims_keep_scalars_and_arrays_of_scalars() {
        let json: serde_json::Value = serde_json::json!({
            "sub": "repo:org/a:ref:refs/heads/main",
            "run_number": 7,
            "admin": false,
            "groups": ["a", "b", {"x": 1}],
            "nested": {"k": "v"},
            "none": null,
        });
        let c = TokenClaims::from_json(json.as_object().unwrap());
        assert_eq!(c.first("sub"), Some("repo:org/a:ref:refs/heads/main"));
        assert_eq!(c.first("run_number"), Some("7"));
        assert_eq!(c.first("admin"), Some("false"));
        assert_eq!(c.0["groups"], ["a", "b"]);
        assert!(!c.0.contains_key("nested"));
        assert!(!c.0.contains_key("none"));
        assert_eq!(c.only(["sub", "nope"]).0.len(), 1);
    }
}
