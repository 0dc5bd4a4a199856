//! The console password policy of `iam_user` producers with console access.
//!
//! Requests carry it as strings (`password-length: "24"`, `use-numbers: "false"`); the
//! gateway maps the parsed policy onto `mayfly_crypto::PasswordRules` to generate passwords.

use crate::flag::{bool_problem, parse_bool};
use crate::validation::ValidationErrors;

pub const MIN_PASSWORD_LEN: u32 = 8;
pub const MAX_PASSWORD_LEN: u32 = 128;
pub const DEFAULT_PASSWORD_LEN: u32 = 20;

/// A checked password policy: length 8..128 and at least one character class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "PasswordPolicyFields", into = "PasswordPolicyFields")]
pub struct PasswordPolicy {
    length: u32,
    capital_letters: bool,
    lower_letters: bool,
    numbers: bool,
    special_characters: bool,
}

/// The raw request strings; `None` or an empty string means "use the default".
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordPolicyInput<'a> {
    pub password_length: Option<&'a str>,
    pub use_capital_letters: Option<&'a str>,
    pub use_lower_letters: Option<&'a str>,
    pub use_numbers: Option<&'a str>,
    pub use_special_characters: Option<&'a str>,
}

impl PasswordPolicy {
    /// A policy from typed values.
    pub fn new(
        length: u32,
        capital_letters: bool,
        lower_letters: bool,
        numbers: bool,
        special_characters: bool,
    ) -> Result<Self, String> {
        if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&length) {
            return Err(format!(
                "password length {length} is out of range; use {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN}"
            ));
        }
        if !(capital_letters || lower_letters || numbers || special_characters) {
            return Err("at least one of use-capital-letters, use-lower-letters, use-numbers and use-special-characters must be \"true\"".to_owned());
        }
        Ok(Self {
            length,
            capital_letters,
            lower_letters,
            numbers,
            special_characters,
        })
    }

    /// Parses the request strings, reporting each bad one under its own wire field. A policy
    /// with every character class turned off is one error, reported on `use-capital-letters`.
    pub fn parse(input: &PasswordPolicyInput<'_>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let length = match set(input.password_length) {
            None => Some(DEFAULT_PASSWORD_LEN),
            Some(raw) => errors.check(
                "password-length",
                raw.trim().parse::<u32>().map_err(|_| {
                    format!(
                        "{raw:?} is not a whole number; use {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN}"
                    )
                }),
            ),
        };
        let mut flag = |field: &'static str, raw: Option<&str>| match set(raw) {
            None => Some(true),
            Some(raw) => errors.check(field, parse_bool(raw).ok_or_else(|| bool_problem(raw))),
        };
        let capital = flag("use-capital-letters", input.use_capital_letters);
        let lower = flag("use-lower-letters", input.use_lower_letters);
        let numbers = flag("use-numbers", input.use_numbers);
        let special = flag("use-special-characters", input.use_special_characters);
        if let (Some(length), Some(capital), Some(lower), Some(numbers), Some(special)) =
            (length, capital, lower, numbers, special)
        {
            match Self::new(length, capital, lower, numbers, special) {
                Ok(policy) => return Ok(policy),
                Err(message) if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&length) => {
                    errors.push("password-length", message)
                }
                Err(message) => errors.push("use-capital-letters", message),
            }
        }
        Err(errors)
    }

    pub fn length(&self) -> u32 {
        self.length
    }

    pub fn capital_letters(&self) -> bool {
        self.capital_letters
    }

    pub fn lower_letters(&self) -> bool {
        self.lower_letters
    }

    pub fn numbers(&self) -> bool {
        self.numbers
    }

    pub fn special_characters(&self) -> bool {
        self.special_characters
    }
}

impl Default for PasswordPolicy {
    /// 20 characters of every class.
    fn default() -> Self {
        Self {
            length: DEFAULT_PASSWORD_LEN,
            capital_letters: true,
            lower_letters: true,
            numbers: true,
            special_characters: true,
        }
    }
}

fn set(raw: Option<&str>) -> Option<&str> {
    raw.filter(|r| !r.trim().is_empty())
}

/// The stored form: plain fields, checked again on the way in.
#[derive(serde::Serialize, serde::Deserialize)]
struct PasswordPolicyFields {
    length: u32,
    capital_letters: bool,
    lower_letters: bool,
    numbers: bool,
    special_characters: bool,
}

impl TryFrom<PasswordPolicyFields> for PasswordPolicy {
    type Error = String;

    fn try_from(f: PasswordPolicyFields) -> Result<Self, String> {
        Self::new(
            f.length,
            f.capital_letters,
            f.lower_letters,
            f.numbers,
            f.special_characters,
        )
    }
}

impl From<PasswordPolicy> for PasswordPolicyFields {
    fn from(p: PasswordPolicy) -> Self {
        Self {
            length: p.length,
            capital_letters: p.capital_letters,
            lower_letters: p.lower_letters,
            numbers: p.numbers,
            special_characters: p.special_characters,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_and_empty_mean_defaults() {
        assert_eq!(
            PasswordPolicy::parse(&PasswordPolicyInput::default()),
            Ok(PasswordPolicy::default())
        );
        let empty = PasswordPolicyInput {
            password_length: Some(""),
            use_capital_letters: Some(" "),
            ..Default::default()
        };
        assert_eq!(PasswordPolicy::parse(&empty), Ok(PasswordPolicy::default()));
        let p = PasswordPolicy::default();
        assert_eq!(p.length(), 20);
        assert!(p.capital_letters() && p.lower_letters() && p.numbers() && p.special_characters());
    }

    #[test]
    fn parses_the_contract_strings() {
        let input = PasswordPolicyInput {
            password_length: Some("32"),
            use_capital_letters: Some("false"),
            use_lower_letters: Some("true"),
            use_numbers: Some("FALSE"),
            use_special_characters: Some("false"),
        };
        let p = PasswordPolicy::parse(&input).unwrap();
        assert_eq!(p.length(), 32);
        assert!(
            !p.capital_letters() && p.lower_letters() && !p.numbers() && !p.special_characters()
        );
    }

    #[test]
    fn reports_every_bad_field() {
        let input = PasswordPolicyInput {
            password_length: Some("twenty"),
            use_capital_letters: Some("yes"),
            use_numbers: Some("1"),
            ..Default::default()
        };
        let errors = PasswordPolicy::parse(&input).unwrap_err();
        assert_eq!(errors.len(), 3, "{errors}");
        assert!(errors.has_field("password-length"));
        assert!(errors.has_field("use-capital-letters"));
        assert!(errors.has_field("use-numbers"));
    }

    #[test]
    fn enforces_length_range_and_one_class() {
        for length in ["7", "129", "0", "-1"] {
            let input = PasswordPolicyInput {
                password_length: Some(length),
                ..Default::default()
            };
            let errors = PasswordPolicy::parse(&input).unwrap_err();
            assert!(errors.has_field("password-length"), "{length}: {errors}");
        }
        assert!(PasswordPolicy::new(8, true, false, false, false).is_ok());
        assert!(PasswordPolicy::new(128, false, false, false, true).is_ok());
        let none = PasswordPolicyInput {
            use_capital_letters: Some("false"),
            use_lower_letters: Some("false"),
            use_numbers: Some("false"),
            use_special_characters: Some("false"),
            ..Default::default()
        };
        let errors = PasswordPolicy::parse(&none).unwrap_err();
        assert!(errors.to_string().contains("at least one of"), "{errors}");
    }

    #[test]
    fn serde_checks_on_the_way_in() {
        let p = PasswordPolicy::new(16, true, true, false, false).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(serde_json::from_str::<PasswordPolicy>(&json).unwrap(), p);
        let bad = json.replace("16", "4");
        assert!(serde_json::from_str::<PasswordPolicy>(&bad).is_err());
    }
}
