//! IAM user paths (`/` or `/division/team/`).

/// An IAM path: `/` or `/segment/.../`, 1..512 printable ASCII characters without spaces.
///
/// Empty segments (`//`) are rejected even though IAM's own pattern lets them through: they
/// are always a typo and make path-prefix listings surprising.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserPath(String);

impl UserPath {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(
                "user path must not be empty; use / or a path such as /mayfly/team/".to_owned(),
            );
        }
        if !text.starts_with('/') || !text.ends_with('/') {
            return Err(format!(
                "user path {text:?} must start and end with '/', e.g. /mayfly/team/"
            ));
        }
        if text.len() > 512 {
            return Err(format!(
                "user path is {} characters long; the maximum is 512",
                text.chars().count()
            ));
        }
        if text != "/" && text[1..text.len() - 1].split('/').any(str::is_empty) {
            return Err(format!("user path {text:?} has an empty segment ('//')"));
        }
        if let Some(bad) = text.chars().find(|c| !matches!(c, '\x21'..='\x7e')) {
            return Err(format!(
                "user path {text:?} contains {bad:?}; use printable ASCII without spaces"
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

display_str!(UserPath);
string_serde!(UserPath);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_root_and_nested_paths() {
        assert_eq!(UserPath::parse("/").unwrap().as_str(), "/");
        assert_eq!(
            UserPath::parse(" /mayfly/team/ ").unwrap().as_str(),
            "/mayfly/team/"
        );
        let long = format!("/{}/", "a".repeat(510));
        assert!(UserPath::parse(&long).is_ok());
    }

    #[test]
    fn rejects_bad_paths() {
        assert!(UserPath::parse("")
            .unwrap_err()
            .contains("must not be empty"));
        assert!(UserPath::parse("mayfly/")
            .unwrap_err()
            .contains("start and end"));
        assert!(UserPath::parse("/mayfly")
            .unwrap_err()
            .contains("start and end"));
        assert!(UserPath::parse("/a//b/")
            .unwrap_err()
            .contains("empty segment"));
        assert!(UserPath::parse("//").unwrap_err().contains("empty segment"));
        assert!(UserPath::parse("/a b/").unwrap_err().contains("' '"));
        assert!(UserPath::parse("/é/").unwrap_err().contains("'é'"));
        let long = format!("/{}/", "a".repeat(511));
        assert!(UserPath::parse(&long)
            .unwrap_err()
            .contains("maximum is 512"));
    }
}
