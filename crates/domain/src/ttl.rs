//! Credential lifetimes written the way Go (and so Akeyless) writes durations: `60m`, `1h30m`,
//! `900s`.
//!
//! Only whole numbers of hours, minutes and seconds are accepted: they are all the Akeyless
//! console offers, and fractions or sub-second units make no sense for credentials. A bare
//! number is rejected rather than guessed at, since `60` could mean seconds or minutes.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::Duration;

const EXAMPLES: &str = "60m, 1h30m or 900s";

/// A positive duration of whole seconds that remembers how the user wrote it.
///
/// Comparison and hashing use the length only: `60m` equals `1h`.
#[derive(Debug, Clone)]
pub struct Ttl {
    secs: u64,
    original: String,
}

impl Ttl {
    /// The longest accepted TTL: 100 years (`876000h`). Anything longer is a mistake, and the
    /// cap keeps every later conversion (to milliseconds, `i64`, SQL integers, dates) far from
    /// overflow.
    pub const MAX_SECS: u64 = 876_000 * 3600;

    /// Parses `<n>h`, `<n>m`, `<n>s` and combinations such as `1h0m30s` (trimmed).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let text = raw.trim();
        if text.is_empty() {
            return Err(format!(
                "duration must not be empty; use a duration such as {EXAMPLES}"
            ));
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            let hint = match text.trim_start_matches('0') {
                "" => "60m".to_owned(),
                digits => format!("{digits}m"),
            };
            return Err(format!("{text} has no unit; add a unit, e.g. {hint}"));
        }
        if text.starts_with('-') {
            return Err(format!(
                "{text} is negative; use a positive duration such as {EXAMPLES}"
            ));
        }
        let secs = sum_components(text)?;
        if secs == 0 {
            return Err(format!(
                "{text} is zero; use a positive duration such as {EXAMPLES}"
            ));
        }
        if secs > Self::MAX_SECS {
            return Err(too_long(text));
        }
        Ok(Self {
            secs,
            original: text.to_owned(),
        })
    }

    /// The contract's default `user-ttl`, `60m` (and echoed as `60m`).
    pub fn default_user_ttl() -> Self {
        Self {
            secs: 3600,
            original: "60m".to_owned(),
        }
    }

    /// A TTL the program computed itself (a default, a remaining lifetime); its
    /// [`original`](Self::original) is the canonical form. Unlike [`parse`](Self::parse), this
    /// does not reject zero: keeping it infallible keeps computed defaults simple, and callers
    /// that take a TTL from a user go through `parse`.
    pub fn from_secs(secs: u64) -> Self {
        Self {
            secs,
            original: canonical(secs),
        }
    }

    pub fn as_secs(&self) -> u64 {
        self.secs
    }

    pub fn as_duration(&self) -> Duration {
        Duration::from_secs(self.secs)
    }

    /// Exactly what the user wrote (trimmed), for echoing back as Akeyless does (`user_ttl`).
    pub fn original(&self) -> &str {
        &self.original
    }
}

impl fmt::Display for Ttl {
    /// The canonical form: largest units first, zero parts left out (`1h30m`, `45s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&canonical(self.secs))
    }
}

// Stored and sent back in the user's own spelling, so `user_ttl` echoes what was given.
string_serde!(Ttl, original);

impl PartialEq for Ttl {
    fn eq(&self, other: &Self) -> bool {
        self.secs == other.secs
    }
}

impl Eq for Ttl {}

impl PartialOrd for Ttl {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ttl {
    fn cmp(&self, other: &Self) -> Ordering {
        self.secs.cmp(&other.secs)
    }
}

impl Hash for Ttl {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.secs.hash(state);
    }
}

/// Reads `<digits><unit>` pairs (in any order and repeated, as Go allows) and adds them up.
fn sum_components(text: &str) -> Result<u64, String> {
    let bytes = text.as_bytes();
    let mut total: u64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return Err(format!(
                "{text} is not a duration: expected a number at {:?}; use e.g. {EXAMPLES}",
                &text[start..]
            ));
        }
        let number: u64 = text[start..i].parse().map_err(|_| too_long(text))?;
        if bytes.get(i) == Some(&b'.') {
            return Err(format!(
                "{text} has a fraction; use whole numbers of h, m and s, e.g. 90m instead of 1.5h"
            ));
        }
        let unit_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_digit() {
            i += 1;
        }
        let unit = &text[unit_start..i];
        let multiplier = match unit {
            "h" => 3600,
            "m" => 60,
            "s" => 1,
            "" => {
                return Err(format!(
                    "{text} ends with a number without a unit; add a unit, e.g. {text}m"
                ))
            }
            other => {
                return Err(format!(
                    "{text} uses the unit {other:?}, which is not supported; use h, m or s (e.g. 1h30m)"
                ))
            }
        };
        total = number
            .checked_mul(multiplier)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| too_long(text))?;
    }
    Ok(total)
}

fn too_long(text: &str) -> String {
    format!("{text} is too long; the maximum is 876000h")
}

fn canonical(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_owned();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    for (value, unit) in [(h, 'h'), (m, 'm'), (s, 's')] {
        if value > 0 {
            out.push_str(&value.to_string());
            out.push(unit);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(raw: &str) -> u64 {
        Ttl::parse(raw).unwrap().as_secs()
    }

    #[test]
    fn parses_go_style_durations() {
        assert_eq!(secs("60m"), 3600);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("900s"), 900);
        assert_eq!(secs("2h"), 7200);
        assert_eq!(secs("1h0m30s"), 3630);
        assert_eq!(secs("  24h "), 86_400);
        assert_eq!(secs("30m1h"), 5400, "Go accepts any order");
        assert_eq!(secs("007m"), 420);
    }

    #[test]
    fn remembers_the_original_and_displays_canonically() {
        let ttl = Ttl::parse(" 90m ").unwrap();
        assert_eq!(ttl.original(), "90m");
        assert_eq!(ttl.to_string(), "1h30m");
        assert_eq!(Ttl::parse("3630s").unwrap().to_string(), "1h30s");
        assert_eq!(
            Ttl::parse("60m").unwrap().as_duration(),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn from_secs_is_canonical() {
        assert_eq!(Ttl::from_secs(3600).original(), "1h");
        assert_eq!(Ttl::from_secs(5430).to_string(), "1h30m30s");
        assert_eq!(Ttl::from_secs(59).original(), "59s");
        assert_eq!(Ttl::from_secs(0).to_string(), "0s");
    }

    #[test]
    fn default_user_ttl_is_sixty_minutes() {
        let ttl = Ttl::default_user_ttl();
        assert_eq!(ttl.original(), "60m");
        assert_eq!(ttl, Ttl::parse("60m").unwrap());
    }

    #[test]
    fn equality_is_by_length() {
        assert_eq!(Ttl::parse("60m").unwrap(), Ttl::parse("1h").unwrap());
        assert!(Ttl::parse("59m").unwrap() < Ttl::parse("1h").unwrap());
    }

    #[test]
    fn bare_number_gets_a_hint() {
        assert_eq!(
            Ttl::parse("60").unwrap_err(),
            "60 has no unit; add a unit, e.g. 60m"
        );
        assert!(Ttl::parse("0").unwrap_err().contains("e.g. 60m"));
    }

    #[test]
    fn rejects_everything_else() {
        for (raw, needle) in [
            ("", "must not be empty"),
            ("0s", "is zero"),
            ("0h0m0s", "is zero"),
            ("-5m", "negative"),
            ("1.5h", "fraction"),
            ("1h30", "without a unit"),
            ("5d", "\"d\""),
            ("500ms", "\"ms\""),
            ("60M", "\"M\""),
            ("1 h", "\" h\""),
            ("h", "expected a number"),
            ("+5m", "expected a number"),
            ("m5", "expected a number"),
        ] {
            let err = Ttl::parse(raw).unwrap_err();
            assert!(err.contains(needle), "{raw:?}: {err}");
        }
    }

    #[test]
    fn rejects_overflow_and_absurd_lengths() {
        for raw in [
            "99999999999999999999999h",
            "18446744073709551615h",
            "5124095576030431h",
            "876001h",
            "876000h1s",
        ] {
            assert!(Ttl::parse(raw).unwrap_err().contains("too long"), "{raw}");
        }
        assert_eq!(secs("876000h"), Ttl::MAX_SECS);
    }

    #[test]
    fn serde_echoes_the_original() {
        let ttl: Ttl = serde_json::from_str("\"90m\"").unwrap();
        assert_eq!(ttl.as_secs(), 5400);
        assert_eq!(serde_json::to_string(&ttl).unwrap(), "\"90m\"");
        assert!(serde_json::from_str::<Ttl>("\"90\"").is_err());
    }
}
