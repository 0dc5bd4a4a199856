//! Console passwords for temporary IAM users.

use secrecy::zeroize::Zeroizing;
use secrecy::SecretString;

use crate::rng::uniform_below;

/// The symbols AWS accepts in IAM passwords (the set its password policy calls
/// "non-alphanumeric characters").
pub const SPECIAL_CHARACTERS: &str = "!@#$%^&*()_+-=[]{}|'";

const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const DIGITS: &str = "0123456789";

/// Which characters a password is made of and how long it is. The gateway maps the domain's
/// `PasswordPolicy` (already checked: length 8..128, a class on) onto this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordRules {
    pub length: usize,
    pub upper: bool,
    pub lower: bool,
    pub digits: bool,
    pub special: bool,
}

impl Default for PasswordRules {
    /// 20 characters of every class.
    fn default() -> Self {
        Self {
            length: 20,
            upper: true,
            lower: true,
            digits: true,
            special: true,
        }
    }
}

/// A password with at least one character of every enabled class, every character drawn
/// without modulo bias, in a random order.
///
/// Rules that cannot be met are widened rather than failing, so this never errors: with no
/// class enabled all four are used, and the length is raised to the number of classes if it
/// is shorter.
pub fn generate_password(rules: &PasswordRules) -> SecretString {
    let mut classes: Vec<&str> = [
        (rules.upper, UPPER),
        (rules.lower, LOWER),
        (rules.digits, DIGITS),
        (rules.special, SPECIAL_CHARACTERS),
    ]
    .into_iter()
    .filter_map(|(on, set)| on.then_some(set))
    .collect();
    if classes.is_empty() {
        classes = vec![UPPER, LOWER, DIGITS, SPECIAL_CHARACTERS];
    }
    let length = rules.length.max(classes.len());
    let pool: Vec<u8> = classes.concat().into_bytes();

    let mut chars = Zeroizing::new(Vec::with_capacity(length));
    for class in &classes {
        chars.push(pick(class.as_bytes()));
    }
    while chars.len() < length {
        chars.push(pick(&pool));
    }
    // Fisher-Yates, so the guaranteed characters are not always in front.
    for i in (1..chars.len()).rev() {
        chars.swap(i, uniform_below(i + 1));
    }
    let mut password = String::with_capacity(length);
    password.extend(chars.iter().map(|&b| char::from(b)));
    SecretString::from(password)
}

fn pick(set: &[u8]) -> u8 {
    set[uniform_below(set.len())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn classes_in(password: &str) -> [bool; 4] {
        [
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| SPECIAL_CHARACTERS.contains(c)),
        ]
    }

    #[test]
    fn every_enabled_class_is_present_even_at_minimum_length() {
        for _ in 0..200 {
            let p = generate_password(&PasswordRules {
                length: 8,
                ..PasswordRules::default()
            });
            assert_eq!(p.expose_secret().len(), 8);
            assert_eq!(
                classes_in(p.expose_secret()),
                [true; 4],
                "{}",
                p.expose_secret()
            );
        }
    }

    #[test]
    fn disabled_classes_are_absent() {
        for _ in 0..50 {
            let rules = PasswordRules {
                length: 40,
                upper: false,
                lower: true,
                digits: true,
                special: false,
            };
            let p = generate_password(&rules);
            assert_eq!(classes_in(p.expose_secret()), [false, true, true, false]);
        }
    }

    #[test]
    fn only_allowed_characters_are_used() {
        let p = generate_password(&PasswordRules {
            length: 128,
            ..PasswordRules::default()
        });
        assert_eq!(p.expose_secret().len(), 128);
        assert!(p
            .expose_secret()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIAL_CHARACTERS.contains(c)));
    }

    #[test]
    fn impossible_rules_are_widened() {
        let none = generate_password(&PasswordRules {
            length: 30,
            upper: false,
            lower: false,
            digits: false,
            special: false,
        });
        assert_eq!(none.expose_secret().len(), 30);
        let short = generate_password(&PasswordRules {
            length: 2,
            ..PasswordRules::default()
        });
        assert_eq!(short.expose_secret().len(), 4);
        assert_eq!(classes_in(short.expose_secret()), [true; 4]);
    }

    #[test]
    fn passwords_differ_and_guaranteed_characters_move() {
        let rules = PasswordRules::default();
        assert_ne!(
            generate_password(&rules).expose_secret(),
            generate_password(&rules).expose_secret()
        );
        // If the shuffle were missing, the first character would always be uppercase.
        let first_not_upper = (0..50).any(|_| {
            let p = generate_password(&rules);
            !p.expose_secret()
                .starts_with(|c: char| c.is_ascii_uppercase())
        });
        assert!(first_not_upper);
    }
}
