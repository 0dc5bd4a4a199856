//! Stored hashes of access keys and tokens.
//!
//! Plain SHA-256 is the right tool here, not a slow password KDF (argon2, bcrypt): slow KDFs
//! exist to make guessing *low-entropy*, human-chosen passwords expensive. Our keys and tokens
//! are 256 random bits, so even a fast hash leaves nothing to guess, and a fast hash keeps
//! authenticating every request cheap. (A human-chosen key supplied through
//! `MAYFLY_ADMIN_ACCESS_KEY` would not enjoy this; the gateway should demand a long one.)

use ring::digest::{digest, SHA256};
use subtle::ConstantTimeEq;

/// The lowercase hex SHA-256 of `secret`, for storing instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(digest(&SHA256, secret.as_bytes()))
}

/// Whether `candidate` hashes to `stored_hash`, compared in constant time so response timing
/// reveals nothing about how much of a stored hash a guess matched.
pub fn verify_secret(candidate: &str, stored_hash: &str) -> bool {
    hash_secret(candidate)
        .as_bytes()
        .ct_eq(stored_hash.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash_secret("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(hash_secret("").len(), 64);
    }

    #[test]
    fn verify_accepts_only_the_right_secret() {
        let stored = hash_secret("t-0123");
        assert!(verify_secret("t-0123", &stored));
        assert!(!verify_secret("t-0124", &stored));
        assert!(!verify_secret("", &stored));
        assert!(!verify_secret("t-0123", &stored[..63]));
        assert!(!verify_secret("t-0123", &stored.to_uppercase()));
        assert!(!verify_secret("t-0123", ""));
    }
}
