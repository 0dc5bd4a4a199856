//! IAM group names.

use crate::arn::is_iam_name_char;

/// An IAM group name: 1..128 characters of `[A-Za-z0-9_+=,.@-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupName(String);

impl GroupName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err("group name must not be empty".to_owned());
        }
        if let Some(bad) = text.chars().find(|c| !is_iam_name_char(*c)) {
            return Err(format!(
                "group name {text:?} contains {bad:?}; use letters, digits and _ + = , . @ -"
            ));
        }
        if text.len() > 128 {
            return Err(format!(
                "group name {text:?} is {} characters long; the maximum is 128",
                text.len()
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

display_str!(GroupName);
string_serde!(GroupName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iam_names() {
        assert_eq!(
            GroupName::parse(" dev_ops+x=y,z.a@b-c ").unwrap().as_str(),
            "dev_ops+x=y,z.a@b-c"
        );
        assert!(GroupName::parse(&"g".repeat(128)).is_ok());
    }

    #[test]
    fn rejects_empty_long_and_odd_characters() {
        assert!(GroupName::parse("")
            .unwrap_err()
            .contains("must not be empty"));
        assert!(GroupName::parse(&"g".repeat(129))
            .unwrap_err()
            .contains("maximum is 128"));
        assert!(GroupName::parse("dev ops").unwrap_err().contains("' '"));
        assert!(GroupName::parse("dev/ops").unwrap_err().contains("'/'"));
    }
}
