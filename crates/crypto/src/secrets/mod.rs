//! The random secrets the gateway hands out, and how it checks them later.
//!
//! - `credentials`: API-key access ids and access keys, and session tokens.
//! - `hash`: stored hashes of keys and tokens, compared in constant time.
//! - `random`: unbiased random strings (IAM user-name suffixes).
//! - `password`: console passwords that satisfy a character-class policy.

mod credentials;
mod hash;
mod password;
mod random;

pub use credentials::{generate_access_id, generate_access_key, generate_token};
pub use hash::{hash_secret, verify_secret};
pub use password::{generate_password, PasswordRules, SPECIAL_CHARACTERS};
pub use random::{random_string, LOWER_ALNUM};
