//! The `ExternalId` passed to AssumeRole.

/// An AssumeRole external id: 2..1224 characters of `[A-Za-z0-9_+=,.@:/-]`.
///
/// Not a secret in AWS's model (it guards against the confused-deputy problem), so it is
/// stored and echoed in plain text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if let Some(bad) = text.chars().find(|c| !is_external_id_char(*c)) {
            return Err(format!(
                "external id contains {bad:?}; use letters, digits and _ + = , . @ : / -"
            ));
        }
        if !(2..=1224).contains(&text.len()) {
            return Err(format!(
                "external id is {} characters long; it must be 2 to 1224",
                text.len()
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_external_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | ':' | '/' | '-')
}

display_str!(ExternalId);
string_serde!(ExternalId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_sts_charset() {
        assert_eq!(ExternalId::parse("ab").unwrap().as_str(), "ab");
        assert!(ExternalId::parse("tenant:42/x_y+z=1,a.b@c-d").is_ok());
        assert!(ExternalId::parse(&"x".repeat(1224)).is_ok());
    }

    #[test]
    fn rejects_bad_lengths_and_characters() {
        assert!(ExternalId::parse("a").unwrap_err().contains("2 to 1224"));
        assert!(ExternalId::parse("").unwrap_err().contains("2 to 1224"));
        assert!(ExternalId::parse(&"x".repeat(1225))
            .unwrap_err()
            .contains("2 to 1224"));
        assert!(ExternalId::parse("has space").unwrap_err().contains("' '"));
        assert!(ExternalId::parse("semi;colon").unwrap_err().contains("';'"));
    }
}
