//! Comma-separated request values (`aws-user-policies`, `aws-user-groups`, `aws-role-arns`).

/// Splits on commas, trims every entry and drops empty ones, so `"a, b,,"` is `["a", "b"]`
/// and an empty string is an empty list.
pub fn parse_comma_list(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_drops_empties() {
        assert_eq!(parse_comma_list(" a , b,,c ,"), vec!["a", "b", "c"]);
        assert!(parse_comma_list("").is_empty());
        assert!(parse_comma_list(" , ,").is_empty());
        assert_eq!(parse_comma_list("one"), vec!["one"]);
    }
}
