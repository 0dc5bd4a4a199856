//! API-key credentials and session tokens.
//!
//! Access keys and tokens carry 256 random bits, far beyond guessing, which is also why they
//! can be stored as plain SHA-256 hashes (see `hash`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use secrecy::zeroize::Zeroizing;
use secrecy::SecretString;

use super::random::{random_string, LOWER_ALNUM};
use crate::rng;

/// A new access id, `p-` and 14 characters of `[a-z0-9]`, the shape of Akeyless's ids. It is
/// an identifier, not a secret; 72 random bits make collisions negligible.
pub fn generate_access_id() -> String {
    format!("p-{}", random_string(14, LOWER_ALNUM))
}

/// A new access key: 32 random bytes in standard base64 (44 characters).
pub fn generate_access_key() -> SecretString {
    let bytes = random_bytes();
    SecretString::from(STANDARD.encode(*bytes))
}

/// A new session token: `t-` and 64 hex characters (256 bits).
pub fn generate_token() -> SecretString {
    let bytes = random_bytes();
    SecretString::from(format!("t-{}", hex::encode(*bytes)))
}

fn random_bytes() -> Zeroizing<[u8; 32]> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rng::fill(bytes.as_mut());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn access_ids_have_the_akeyless_shape() {
        let id = generate_access_id();
        assert_eq!(id.len(), 16);
        assert!(id.starts_with("p-"));
        assert!(
            id[2..]
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{id}"
        );
        assert_ne!(generate_access_id(), id);
    }

    #[test]
    fn access_keys_are_32_random_bytes() {
        let key = generate_access_key();
        let decoded = STANDARD.decode(key.expose_secret()).unwrap();
        assert_eq!(decoded.len(), 32);
        assert_ne!(generate_access_key().expose_secret(), key.expose_secret());
        assert_eq!(format!("{key:?}"), "SecretBox<str>([REDACTED])");
    }

    #[test]
    fn tokens_are_t_dash_64_hex() {
        let token = generate_token();
        let text = token.expose_secret();
        assert_eq!(text.len(), 66);
        assert!(text.starts_with("t-"));
        assert_eq!(hex::decode(&text[2..]).unwrap().len(), 32);
        assert_ne!(generate_token().expose_secret(), text);
    }
}
