//! Item and folder paths.
//!
//! Akeyless names items (producers) and targets by path, such as `/team/aws/s3-reader`, and
//! normalizes them with a leading `/` (contract §1, "Names"). Folders are implicit: they exist
//! because some name lies under them. Segments are restricted to `[A-Za-z0-9._@+=,-]` so a
//! name can be used in role rules (path globs), log lines and IAM tags without escaping.

/// The longest accepted path, leading slash included.
pub const MAX_PATH_LEN: usize = 512;

const EXAMPLE: &str = "/team/aws/s3-reader";
const ALLOWED: &str = "letters, digits and . _ @ + = , -";

/// A valid item or target name: `/segment/.../segment`, normalized with a leading `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemName(String);

impl ItemName {
    /// Trims `raw`, adds a leading `/` if missing and checks every segment.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(format!(
                "name must not be empty; use a path such as {EXAMPLE}"
            ));
        }
        if trimmed == "/" {
            return Err(format!(
                "name must not be the root folder '/'; use a path such as {EXAMPLE}"
            ));
        }
        let path = with_leading_slash(trimmed);
        if path.ends_with('/') {
            return Err(format!(
                "name must not end with '/'; remove the trailing slash (e.g. {EXAMPLE})"
            ));
        }
        check_segments("name", &path)?;
        Ok(Self(path))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after the last `/`: `s3-reader` for `/team/aws/s3-reader`.
    pub fn last_segment(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }

    /// The folder holding this item: `/team/aws` for `/team/aws/s3-reader`, `/` for `/x`.
    pub fn parent(&self) -> &str {
        match self.0.rfind('/') {
            Some(0) | None => "/",
            Some(i) => &self.0[..i],
        }
    }

    /// Whether this name lies in `folder` at any depth (`/team/aws/x` is in `/team` and in
    /// `/`). Matching is by whole segments: `/teamx/a` is not in `/team`.
    ///
    /// `folder` is normalized leniently (`team/`, `/team/` and `/team` are the same folder) so
    /// callers can pass a raw request value or a [`FolderPath`].
    pub fn is_in_folder(&self, folder: impl AsRef<str>) -> bool {
        self.relative_to(folder).is_some()
    }

    /// The rest of the path below `folder` (`aws/s3-reader` for `/team/aws/s3-reader` under
    /// `/team`), or `None` when the name is not in that folder. No `/` in the result means the
    /// item sits directly in `folder`; otherwise its first segment is a subfolder.
    pub fn relative_to(&self, folder: impl AsRef<str>) -> Option<&str> {
        let folder = folder.as_ref().trim().trim_matches('/');
        let rest = &self.0[1..];
        if folder.is_empty() {
            return Some(rest);
        }
        rest.strip_prefix(folder)?.strip_prefix('/')
    }
}

display_str!(ItemName);
string_serde!(ItemName);

impl AsRef<str> for ItemName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A folder to list: `/` or `/segment/.../segment`, never with a trailing slash except root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FolderPath(String);

impl FolderPath {
    /// Accepts `/`, `/team`, `/team/` and `team`, normalized to `/` or `/team`. An empty value
    /// means the root folder, as an absent `path` on `list-items` does.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed == "/" {
            return Ok(Self::root());
        }
        let mut path = with_leading_slash(trimmed);
        if path.ends_with('/') {
            path.pop();
        }
        check_segments("path", &path)?;
        Ok(Self(path))
    }

    pub fn root() -> Self {
        Self("/".to_owned())
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for FolderPath {
    fn default() -> Self {
        Self::root()
    }
}

display_str!(FolderPath);
string_serde!(FolderPath);

impl AsRef<str> for FolderPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn with_leading_slash(trimmed: &str) -> String {
    if trimmed.starts_with('/') {
        trimmed.to_owned()
    } else {
        format!("/{trimmed}")
    }
}

/// Checks a path that starts with `/` and has no trailing `/`. `what` is `name` or `path`,
/// the word the messages use for it.
fn check_segments(what: &str, path: &str) -> Result<(), String> {
    let len = path.chars().count();
    if len > MAX_PATH_LEN {
        return Err(format!(
            "{what} is {len} characters long; the maximum is {MAX_PATH_LEN}"
        ));
    }
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            return Err(format!(
                "{what} must not contain an empty segment ('//'); use a path such as {EXAMPLE}"
            ));
        }
        if segment == "." || segment == ".." {
            return Err(format!(
                "{what} must not contain '.' or '..' segments; spell the path out, e.g. {EXAMPLE}"
            ));
        }
        if let Some(bad) = segment.chars().find(|c| !is_segment_char(*c)) {
            return Err(format!(
                "{what} contains {bad:?}, which is not allowed; use {ALLOWED} between the slashes"
            ));
        }
    }
    Ok(())
}

fn is_segment_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '=' | ',' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_leading_slash_and_trims() {
        assert_eq!(
            ItemName::parse("  team/aws/s3-reader ").unwrap().as_str(),
            "/team/aws/s3-reader"
        );
        assert_eq!(ItemName::parse("/x").unwrap().to_string(), "/x");
        assert_eq!(
            ItemName::parse("/a.b_c@d+e=f,g-h").unwrap().as_str(),
            "/a.b_c@d+e=f,g-h"
        );
    }

    #[test]
    fn rejects_empty_and_root_with_a_hint() {
        for raw in ["", "   "] {
            assert_eq!(
                ItemName::parse(raw).unwrap_err(),
                "name must not be empty; use a path such as /team/aws/s3-reader"
            );
        }
        assert!(ItemName::parse("/").unwrap_err().contains("root folder"));
    }

    #[test]
    fn rejects_bad_shapes() {
        assert!(ItemName::parse("/team/")
            .unwrap_err()
            .contains("trailing slash"));
        assert!(ItemName::parse("/team//x")
            .unwrap_err()
            .contains("empty segment"));
        assert!(ItemName::parse("//x")
            .unwrap_err()
            .contains("empty segment"));
        assert!(ItemName::parse("/team/../x").unwrap_err().contains("'..'"));
        assert!(ItemName::parse("/team/./x").unwrap_err().contains("'.'"));
    }

    #[test]
    fn rejects_characters_outside_the_segment_set() {
        for (raw, bad) in [
            ("/team/my secret", "' '"),
            ("/team/a*b", "'*'"),
            ("/tëam", "'ë'"),
            ("/a\\b", "'\\\\'"),
            ("/a:b", "':'"),
        ] {
            let err = ItemName::parse(raw).unwrap_err();
            assert!(err.contains(bad), "{raw}: {err}");
            assert!(err.contains("letters, digits"), "{err}");
        }
    }

    #[test]
    fn length_limit_counts_the_leading_slash() {
        let ok = "a".repeat(MAX_PATH_LEN - 1);
        assert!(ItemName::parse(&ok).is_ok());
        let too_long = "a".repeat(MAX_PATH_LEN);
        assert!(ItemName::parse(&too_long)
            .unwrap_err()
            .contains("maximum is 512"));
    }

    #[test]
    fn last_segment_and_parent() {
        let name = ItemName::parse("/team/aws/s3-reader").unwrap();
        assert_eq!(name.last_segment(), "s3-reader");
        assert_eq!(name.parent(), "/team/aws");
        let top = ItemName::parse("/solo").unwrap();
        assert_eq!(top.last_segment(), "solo");
        assert_eq!(top.parent(), "/");
    }

    #[test]
    fn folder_membership_is_by_whole_segments() {
        let name = ItemName::parse("/team/aws/s3-reader").unwrap();
        assert!(name.is_in_folder("/"));
        assert!(name.is_in_folder(""));
        assert!(name.is_in_folder("/team"));
        assert!(name.is_in_folder("/team/"));
        assert!(name.is_in_folder("team/aws"));
        assert!(name.is_in_folder(FolderPath::parse("/team/aws").unwrap()));
        assert!(!name.is_in_folder("/tea"));
        assert!(!name.is_in_folder("/team/aws/s3-reader"));
        assert!(!name.is_in_folder("/other"));
        assert_eq!(name.relative_to("/team"), Some("aws/s3-reader"));
        assert_eq!(name.relative_to("/team/aws"), Some("s3-reader"));
        assert_eq!(name.relative_to("/"), Some("team/aws/s3-reader"));
    }

    #[test]
    fn folder_paths_normalize() {
        for (raw, want) in [
            ("/", "/"),
            ("", "/"),
            ("  ", "/"),
            ("/team", "/team"),
            ("/team/", "/team"),
            ("team", "/team"),
            ("team/aws/", "/team/aws"),
        ] {
            assert_eq!(FolderPath::parse(raw).unwrap().as_str(), want, "{raw:?}");
        }
        assert!(FolderPath::parse("/").unwrap().is_root());
        assert!(!FolderPath::parse("/a").unwrap().is_root());
        assert_eq!(FolderPath::default(), FolderPath::root());
    }

    #[test]
    fn folder_paths_reject_bad_segments() {
        assert!(FolderPath::parse("/team//aws")
            .unwrap_err()
            .starts_with("path must not"));
        assert!(FolderPath::parse("/team/..").is_err());
        assert!(FolderPath::parse("//").is_err());
        assert!(FolderPath::parse("/te am").unwrap_err().contains("' '"));
    }

    #[test]
    fn serde_uses_the_normalized_string_and_parses_on_the_way_in() {
        let name: ItemName = serde_json::from_str("\"team/x\"").unwrap();
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"/team/x\"");
        let err = serde_json::from_str::<ItemName>("\"/a//b\"").unwrap_err();
        assert!(err.to_string().contains("empty segment"));
        let folder: FolderPath = serde_json::from_str("\"/team/\"").unwrap();
        assert_eq!(serde_json::to_string(&folder).unwrap(), "\"/team\"");
    }
}
