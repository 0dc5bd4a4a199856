//! The caller's identity carried into AWS: templates that turn who asked for a credential
//! (access id, auth method, login identity, JWT claims) into STS session tags and a
//! `SourceIdentity`, so CloudTrail shows who asked and IAM policies can use
//! `aws:PrincipalTag` / `sts:SourceIdentity`.
//!
//! A template is text with `{access_id}`, `{auth_method}`, `{identity}` and `{claim:NAME}`;
//! checked when the producer is made, rendered per request, values sanitised to AWS's
//! character set and lengths.

use crate::claims::TokenClaims;
use crate::iam::Tag;

/// The most caller tags a producer may map (STS takes 50 session tags in all).
pub const MAX_CALLER_TAGS: usize = 10;
const MAX_TEMPLATE_CHARS: usize = 256;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    AccessId,
    AuthMethod,
    Identity,
    Claim(String),
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerTemplate {
    raw: String,
    pieces: Vec<Piece>,
}

/// Who asked, as templates see it.
#[derive(Debug, Clone, Copy)]
pub struct CallerAttrs<'a> {
    pub access_id: &'a str,
    pub auth_method: &'a str,
    pub identity: &'a str,
    pub claims: &'a TokenClaims,
}

impl CallerTemplate {
    pub fn parse(raw: &str) -> Result<CallerTemplate, String> {
        let raw = raw.trim();
        if raw.is_empty() || raw.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(format!(
                "a template of 1 to {MAX_TEMPLATE_CHARS} characters, such as {{claim:repository}}"
            ));
        }
        let mut pieces = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_owned()));
            }
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .ok_or_else(|| format!("{raw:?}: a {{ without its }}"))?;
            let var = &rest[open + 1..close];
            pieces.push(match var {
                "access_id" => Piece::AccessId,
                "auth_method" => Piece::AuthMethod,
                "identity" => Piece::Identity,
                v if v.starts_with("claim:") && v.len() > "claim:".len() => {
                    Piece::Claim(v["claim:".len()..].to_owned())
                }
                other => {
                    return Err(format!(
                        "{raw:?}: unknown {{{other}}}; use {{access_id}}, {{auth_method}}, {{identity}} or {{claim:NAME}}"
                    ))
                }
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_owned()));
        }
        Ok(CallerTemplate {
            raw: raw.to_owned(),
            pieces,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether it names the auth method (which costs a lookup per request).
    pub fn uses_auth_method(&self) -> bool {
        self.pieces.contains(&Piece::AuthMethod)
    }

    /// The text for this caller; `None` when a value it needs is missing or empty (a claim
    /// the token did not carry, the identity of an API key).
    pub fn render(&self, who: &CallerAttrs<'_>) -> Option<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            let value = match piece {
                Piece::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Piece::AccessId => who.access_id,
                Piece::AuthMethod => who.auth_method,
                Piece::Identity => who.identity,
                Piece::Claim(name) => who.claims.first(name).unwrap_or_default(),
            };
            if value.is_empty() {
                return None;
            }
            out.push_str(value);
        }
        Some(out)
    }
}

/// `caller-session-tags`: `Key={template},Key2={template}`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallerTags(Vec<(String, CallerTemplate)>);

impl CallerTags {
    pub fn parse(raw: &str) -> Result<CallerTags, String> {
        let mut tags = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (key, template) = entry.split_once('=').ok_or_else(|| {
                format!("{entry:?} is not Key={{template}}, e.g. Repo={{claim:repository}}")
            })?;
            let key = key.trim();
            // The key alone must make a valid tag.
            Tag::new(key, "x")?;
            if tags
                .iter()
                .any(|(k, _): &(String, CallerTemplate)| k.eq_ignore_ascii_case(key))
            {
                return Err(format!("tag key {key:?} is given twice"));
            }
            tags.push((key.to_owned(), CallerTemplate::parse(template)?));
        }
        if tags.len() > MAX_CALLER_TAGS {
            return Err(format!("at most {MAX_CALLER_TAGS} caller tags"));
        }
        Ok(CallerTags(tags))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn uses_auth_method(&self) -> bool {
        self.0.iter().any(|(_, t)| t.uses_auth_method())
    }

    /// `Key={template},...` as given.
    pub fn to_wire_string(&self) -> String {
        self.0
            .iter()
            .map(|(k, t)| format!("{k}={}", t.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The tags for this caller, values sanitised; a tag whose value is missing is left out.
    pub fn render(&self, who: &CallerAttrs<'_>) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter_map(|(k, t)| t.render(who).map(|v| (k.clone(), tag_value(&v))))
            .collect()
    }
}

/// A value in AWS's tag character set (others become `_`), at most 256 characters.
pub fn tag_value(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_alphanumeric()
                || c == ' '
                || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
            {
                c
            } else {
                '_'
            }
        })
        .take(256)
        .collect()
}

/// A `SourceIdentity`: `[\w+=,.@-]`, 2 to 64 characters (others become `-`); `None` when
/// too short.
pub fn source_identity(raw: &str) -> Option<String> {
    let out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    (out.chars().count() >= 2).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> TokenClaims {
        let mut m = std::collections::BTreeMap::new();
        m.insert("repository".to_owned(), vec!["octo-org/app-a".to_owned()]);
        m.insert(
            "sub".to_owned(),
            vec!["repo:octo-org/app-a:ref:refs/heads/main".to_owned()],
        );
        TokenClaims(m)
    }

    #[test]
    fn templates_render_who_asked_and_leave_out_what_is_missing() {
        let c = claims();
        let who = CallerAttrs {
            access_id: "p-abc",
            auth_method: "/ci/github",
            identity: "octo-org/app-a",
            claims: &c,
        };
        let tags = CallerTags::parse(
            "Repo={claim:repository}, Who=gh-{access_id}, Method={auth_method}, Env={claim:environment}",
        )
        .unwrap();
        assert!(tags.uses_auth_method());
        assert_eq!(
            tags.render(&who),
            vec![
                ("Repo".to_owned(), "octo-org/app-a".to_owned()),
                ("Who".to_owned(), "gh-p-abc".to_owned()),
                ("Method".to_owned(), "/ci/github".to_owned()),
            ]
        );
        let si = CallerTemplate::parse("{claim:sub}").unwrap();
        assert_eq!(
            source_identity(&si.render(&who).unwrap()).unwrap(),
            "repo-octo-org-app-a-ref-refs-heads-main"
        );
        assert_eq!(tag_value("a#b*c"), "a_b_c");
        assert_eq!(source_identity("x"), None);
        assert_eq!(source_identity(&"y".repeat(80)).unwrap().len(), 64);
    }

    #[test]
    fn templates_are_checked_when_made() {
        for bad in [
            "Repo={claim:}",
            "Repo={unknown}",
            "Repo={claim:x",
            "aws:x={access_id}",
            "NoTemplate",
            "A={access_id},a={identity}",
        ] {
            assert!(CallerTags::parse(bad).is_err(), "{bad}");
        }
        assert!(CallerTemplate::parse("").is_err());
    }
}
