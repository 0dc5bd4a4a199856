//! Names for the IAM users and STS sessions the gateway creates.
//!
//! A template such as the default `tmp.{{name}}.{{rand}}` makes a credential traceable in
//! CloudTrail and the IAM console (which producer, sometimes which caller) while `{{rand}}`
//! keeps names unique. AWS caps these names (64 characters for IAM users and AssumeRole
//! session names, 32 for GetFederationToken), so rendering shortens everything *except* the
//! random part, which is what makes a name unique.

use std::fmt;

use crate::arn::is_iam_name_char;

/// The template used when a producer sets none; close to Akeyless's own `tmp.<...>` names.
pub const DEFAULT_TEMPLATE: &str = "tmp.{{name}}.{{rand}}";

/// The longest accepted template text.
pub const MAX_TEMPLATE_LEN: usize = 64;

const PLACEHOLDERS: &str = "{{name}}, {{rand}}, {{time}} or {{caller}}";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// The last segment of the producer's name.
    Name,
    /// Random characters supplied by the caller.
    Rand,
    /// Unix seconds.
    Time,
    /// The requesting client's access id.
    Caller,
}

/// A checked username template.
#[derive(Debug, Clone)]
pub struct UsernameTemplate {
    text: String,
    parts: Vec<Part>,
}

/// The values a template is rendered with. The domain has no clock or random generator, so
/// the caller supplies both.
#[derive(Debug, Clone, Copy)]
pub struct RenderContext<'a> {
    /// The producer's name; only its last segment is meant here, e.g. `s3-reader`.
    pub name: &'a str,
    /// Random characters, kept whole however short the name must be.
    pub random: &'a str,
    pub unix_time: u64,
    /// The access id of the client asking for the credential.
    pub caller: &'a str,
}

impl UsernameTemplate {
    /// Accepts literal text of `[A-Za-z0-9+=,.@_-]` and the placeholders `{{name}}`,
    /// `{{rand}}`, `{{time}}` and `{{caller}}` (spaces inside the braces allowed), at most 64
    /// characters, with `{{rand}}` at least once.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(format!(
                "username template must not be empty; leave it unset for the default {DEFAULT_TEMPLATE}"
            ));
        }
        let len = text.chars().count();
        if len > MAX_TEMPLATE_LEN {
            return Err(format!(
                "username template is {len} characters long; the maximum is {MAX_TEMPLATE_LEN}"
            ));
        }
        let parts = split_parts(text)?;
        if !parts.contains(&Part::Rand) {
            return Err(format!(
                "username template must contain {{{{rand}}}} so that every name is unique, e.g. {DEFAULT_TEMPLATE}"
            ));
        }
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Fills in the placeholders and returns a name of at most `max_len` characters.
    ///
    /// Substituted values have every character IAM does not allow replaced with `-`. When the
    /// result is too long, the substituted values other than `{{rand}}` are shortened first
    /// (the longest one first, cutting from its end), then the literal text; the random part
    /// is kept whole. Only if the random part alone exceeds `max_len` is it cut too.
    pub fn render(&self, ctx: &RenderContext<'_>, max_len: usize) -> String {
        let mut pieces: Vec<Piece> = self
            .parts
            .iter()
            .map(|part| match part {
                Part::Literal(text) => Piece::new(text.clone(), Role::Literal),
                Part::Name => Piece::new(sanitize(ctx.name), Role::Value),
                Part::Rand => Piece::new(sanitize(ctx.random), Role::Random),
                Part::Time => Piece::new(ctx.unix_time.to_string(), Role::Value),
                Part::Caller => Piece::new(sanitize(ctx.caller), Role::Value),
            })
            .collect();
        let total: usize = pieces.iter().map(|p| p.text.len()).sum();
        let mut excess = total.saturating_sub(max_len);
        for role in [Role::Value, Role::Literal] {
            excess = shrink(&mut pieces, role, excess);
        }
        let mut name: String = pieces.iter().map(|p| p.text.as_str()).collect();
        if name.len() > max_len {
            name.truncate(max_len);
        }
        name
    }
}

impl Default for UsernameTemplate {
    fn default() -> Self {
        Self {
            text: DEFAULT_TEMPLATE.to_owned(),
            parts: vec![
                Part::Literal("tmp.".to_owned()),
                Part::Name,
                Part::Literal(".".to_owned()),
                Part::Rand,
            ],
        }
    }
}

impl PartialEq for UsernameTemplate {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for UsernameTemplate {}

impl fmt::Display for UsernameTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

string_serde!(UsernameTemplate);

fn split_parts(text: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (literal, after) = match rest.find("{{") {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        if let Some(bad) = literal.chars().find(|c| !is_iam_name_char(*c)) {
            return Err(format!(
                "username template contains {bad:?} outside a placeholder; use letters, digits, + = , . @ _ - and {PLACEHOLDERS}"
            ));
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal.to_owned()));
        }
        let Some(after) = after else { break };
        let Some(end) = after.find("}}") else {
            return Err("username template has '{{' without a closing '}}'".to_owned());
        };
        let part = match after[..end].trim() {
            "name" => Part::Name,
            "rand" => Part::Rand,
            "time" => Part::Time,
            "caller" => Part::Caller,
            other => {
                return Err(format!(
                "username template has the unknown placeholder {{{{{other}}}}}; use {PLACEHOLDERS}"
            ))
            }
        };
        parts.push(part);
        rest = &after[end + 2..];
    }
    Ok(parts)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Literal,
    Value,
    Random,
}

struct Piece {
    text: String,
    role: Role,
}

impl Piece {
    fn new(text: String, role: Role) -> Self {
        Self { text, role }
    }
}

/// Replaces every character IAM names may not contain with `-`. The result is ASCII, so its
/// byte length is its character count.
fn sanitize(value: &str) -> String {
    value
        .chars()
        .map(|c| if is_iam_name_char(c) { c } else { '-' })
        .collect()
}

/// Cuts up to `excess` characters from the pieces of `role`, always from the currently
/// longest one (the later one on a tie), so short values survive and long ones lose most.
/// Returns what is left of `excess`.
fn shrink(pieces: &mut [Piece], role: Role, mut excess: usize) -> usize {
    while excess > 0 {
        let longest = pieces
            .iter_mut()
            .filter(|p| p.role == role)
            .max_by_key(|p| p.text.len());
        match longest {
            Some(piece) if !piece.text.is_empty() => {
                piece.text.pop();
                excess -= 1;
            }
            _ => break,
        }
    }
    excess
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(name: &'a str, random: &'a str) -> RenderContext<'a> {
        RenderContext {
            name,
            random,
            unix_time: 1_700_000_000,
            caller: "p-abc123",
        }
    }

    #[test]
    fn default_renders_like_akeyless() {
        let template = UsernameTemplate::default();
        assert_eq!(template.as_str(), DEFAULT_TEMPLATE);
        assert_eq!(UsernameTemplate::parse(DEFAULT_TEMPLATE).unwrap(), template);
        assert_eq!(
            template.render(&ctx("s3-reader", "k3x9q"), 64),
            "tmp.s3-reader.k3x9q"
        );
    }

    #[test]
    fn renders_every_placeholder() {
        let template = UsernameTemplate::parse("{{ caller }}_{{time}}-{{name}}@{{rand}}").unwrap();
        assert_eq!(
            template.render(&ctx("db", "zz"), 64),
            "p-abc123_1700000000-db@zz"
        );
    }

    #[test]
    fn replaces_illegal_characters_in_values() {
        let template = UsernameTemplate::parse("{{name}}.{{rand}}").unwrap();
        assert_eq!(template.render(&ctx("my app/ü", "r:1"), 64), "my-app--.r-1");
    }

    #[test]
    fn shortening_keeps_the_random_part_and_the_limit() {
        let template = UsernameTemplate::default();
        let long_name = "n".repeat(200);
        let name = template.render(&ctx(&long_name, "abcdefgh12"), 64);
        assert_eq!(name.len(), 64);
        assert!(name.starts_with("tmp.nnn"));
        assert!(name.ends_with(".abcdefgh12"), "{name}");

        let federation = template.render(&ctx(&long_name, "abcdefgh12"), 32);
        assert_eq!(federation.len(), 32);
        assert!(federation.ends_with(".abcdefgh12"));
    }

    #[test]
    fn shortening_cuts_the_longest_value_first_then_literals() {
        let template = UsernameTemplate::parse("{{caller}}.{{name}}.{{rand}}").unwrap();
        let name = template.render(
            &RenderContext {
                name: "abcdefghijklmnopqrst",
                random: "RND",
                unix_time: 0,
                caller: "p-12345",
            },
            24,
        );
        // 7 + 1 + 20 + 1 + 3 = 32; 8 characters come off the 20-character name.
        assert_eq!(name, "p-12345.abcdefghijkl.RND");

        let literal_heavy = UsernameTemplate::parse("prefix-text.{{name}}.{{rand}}").unwrap();
        let cut = literal_heavy.render(&ctx("svc", "RND"), 10);
        assert_eq!(cut.len(), 10);
        assert!(cut.ends_with("RND"), "{cut}");
    }

    #[test]
    fn random_longer_than_the_limit_is_cut_last() {
        let template = UsernameTemplate::default();
        assert_eq!(template.render(&ctx("x", "0123456789"), 4), "0123");
    }

    #[test]
    fn rejects_bad_templates() {
        for (raw, needle) in [
            ("", "must not be empty"),
            ("tmp.{{name}}", "must contain {{rand}}"),
            ("{{rand}}{{user}}", "unknown placeholder {{user}}"),
            ("{{rand}}{{", "without a closing"),
            ("{{rand", "without a closing"),
            ("tmp/{{rand}}", "'/'"),
            ("tmp {{rand}}", "' '"),
            ("{rand}", "'{'"),
            ("{{rand}}}", "'}'"),
            ("{{.Name}}{{rand}}", "unknown placeholder {{.Name}}"),
        ] {
            let err = UsernameTemplate::parse(raw).unwrap_err();
            assert!(err.contains(needle), "{raw:?}: {err}");
        }
        let long = format!("{{{{rand}}}}{}", "x".repeat(57));
        assert!(UsernameTemplate::parse(&long)
            .unwrap_err()
            .contains("maximum is 64"));
        let max = format!("{{{{rand}}}}{}", "x".repeat(56));
        assert!(UsernameTemplate::parse(&max).is_ok());
    }

    #[test]
    fn serde_round_trips_through_parse() {
        let template = UsernameTemplate::parse("svc.{{rand}}").unwrap();
        let json = serde_json::to_string(&template).unwrap();
        assert_eq!(json, "\"svc.{{rand}}\"");
        assert_eq!(
            serde_json::from_str::<UsernameTemplate>(&json).unwrap(),
            template
        );
        assert!(serde_json::from_str::<UsernameTemplate>("\"svc\"").is_err());
    }
}
