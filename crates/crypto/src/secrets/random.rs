//! Random strings over a chosen alphabet.

use crate::rng::uniform_below;

/// Lowercase letters and digits: safe in IAM user names, STS session names and URLs, and
/// unambiguous when IAM compares names without regard to case.
pub const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters drawn uniformly (rejection sampling, no modulo bias) from `alphabet`.
///
/// # Panics
/// If `alphabet` is empty: there is nothing to draw from, and returning a shorter string
/// would silently defeat the uniqueness callers rely on.
pub fn random_string(len: usize, alphabet: &str) -> String {
    let symbols: Vec<char> = alphabet.chars().collect();
    assert!(
        !symbols.is_empty(),
        "random_string needs a non-empty alphabet"
    );
    (0..len)
        .map(|_| symbols[uniform_below(symbols.len())])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_length_and_alphabet_asked_for() {
        let s = random_string(40, LOWER_ALNUM);
        assert_eq!(s.len(), 40);
        assert!(s.chars().all(|c| LOWER_ALNUM.contains(c)), "{s}");
        assert_eq!(random_string(0, LOWER_ALNUM), "");
        assert_eq!(random_string(5, "x"), "xxxxx");
        assert!(random_string(10, "äö")
            .chars()
            .all(|c| c == 'ä' || c == 'ö'));
    }

    #[test]
    fn strings_differ_and_use_the_whole_alphabet() {
        assert_ne!(
            random_string(16, LOWER_ALNUM),
            random_string(16, LOWER_ALNUM)
        );
        let many = random_string(2000, LOWER_ALNUM);
        assert!(LOWER_ALNUM.chars().all(|c| many.contains(c)));
    }

    #[test]
    #[should_panic(expected = "non-empty alphabet")]
    fn empty_alphabet_panics() {
        random_string(3, "");
    }
}
