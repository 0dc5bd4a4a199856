//! Mayfly's cryptography: sealing secrets at rest, and making and checking the random
//! secrets the gateway hands out. Only `ring` does the cryptography; `secrecy` wraps every
//! secret value that leaves the crate, so it cannot be logged or printed by accident.
//!
//! Map of the modules:
//! - [`master_key`]: [`MasterKey`], a named 256-bit key, parsed from `keyid:BASE64`.
//! - [`keyring`]: [`KeyRing`], AES-256-GCM sealing under the current key and opening under
//!   any known key, so master keys can be rotated.
//! - [`secrets`]: access ids, access keys, tokens, their hashes, random strings and console
//!   passwords.
//! - [`fingerprint`]: the SHA-256 fingerprint printed for the TLS certificate.
//! - [`error`]: [`KeyError`] and [`CryptoError`]; neither ever carries key material or
//!   plaintext.
//! - `rng`: the one place randomness comes from.

pub mod error;
pub mod fingerprint;
pub mod key_list;
pub mod keyring;
pub mod master_key;
mod rng;
pub mod secrets;

pub use error::{CryptoError, KeyError};
pub use fingerprint::fingerprint_sha256;
pub use key_list::KeyList;
pub use keyring::KeyRing;
pub use master_key::MasterKey;
pub use secrets::{
    generate_access_id, generate_access_key, generate_password, generate_token, hash_secret,
    random_string, verify_secret, PasswordRules, LOWER_ALNUM,
};
