//! The contract's boolean strings.
//!
//! Several Akeyless request fields (`delete_protection`, `use-capital-letters`, ...) are
//! booleans sent as the strings `"true"` and `"false"`. They are parsed strictly: accepting
//! `"yes"` or `"1"` would make a typo silently mean something.

/// Parses `"true"` or `"false"` (trimmed, any letter case) for the wire field `field`.
///
/// Callers decide what an empty string means (usually "unset") before calling this; here an
/// empty string is an error like any other non-boolean.
pub fn parse_bool_str(field: &str, raw: &str) -> Result<bool, String> {
    parse_bool(raw).ok_or_else(|| format!("{field} {}", bool_problem(raw)))
}

/// The field-less core of [`parse_bool_str`], for callers that attach the field name themselves.
pub(crate) fn parse_bool(raw: &str) -> Option<bool> {
    let trimmed = raw.trim();
    if trimmed.eq_ignore_ascii_case("true") {
        Some(true)
    } else if trimmed.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// What is wrong with a value that is not a boolean string, for a [`FieldError`] that names
/// the field already. The value is quoted with `{:?}` so stray whitespace is visible.
///
/// [`FieldError`]: crate::FieldError
pub(crate) fn bool_problem(raw: &str) -> String {
    format!("must be \"true\" or \"false\", got {raw:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_true_and_false_in_any_case_and_with_spaces() {
        assert_eq!(parse_bool_str("delete_protection", "true"), Ok(true));
        assert_eq!(parse_bool_str("delete_protection", "false"), Ok(false));
        assert_eq!(parse_bool_str("delete_protection", " TRUE "), Ok(true));
        assert_eq!(parse_bool_str("delete_protection", "False"), Ok(false));
    }

    #[test]
    fn rejects_other_spellings_and_names_the_field() {
        for raw in ["yes", "1", "0", "", "t", "truee"] {
            let err = parse_bool_str("use-numbers", raw).unwrap_err();
            assert!(
                err.starts_with("use-numbers must be \"true\" or \"false\""),
                "{err}"
            );
        }
    }
}
