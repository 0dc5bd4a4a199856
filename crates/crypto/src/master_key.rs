//! The master key that seals secrets at rest.
//!
//! A key carries an id (`k1`) that is written into every value it seals, so after a rotation
//! the gateway still knows which key opens which value. Its text form, `k1:BASE64`, is what
//! `--master-key` / `MAYFLY_MASTER_KEY` and the generated `master.key` file hold.

use std::fmt;

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use ring::aead::{LessSafeKey, UnboundKey, AES_256_GCM};
use secrecy::{ExposeSecret, SecretBox, SecretString};

use crate::error::KeyError;
use crate::rng;

/// Key length in bytes (AES-256).
pub const KEY_LEN: usize = 32;

/// Standard base64, with or without padding: people paste keys from many tools.
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A named AES-256 key. `Debug` shows the id only; the bytes are zeroed on drop.
pub struct MasterKey {
    id: String,
    bytes: SecretBox<[u8; KEY_LEN]>,
    /// Built once, so sealing cannot fail on key setup.
    aead: LessSafeKey,
}

impl MasterKey {
    /// A new random key named `id` (1..32 of `[A-Za-z0-9_-]`).
    pub fn generate(id: &str) -> Result<Self, KeyError> {
        let mut bytes = [0u8; KEY_LEN];
        rng::fill(&mut bytes);
        let key = Self::from_bytes(id, bytes);
        secrecy::zeroize::Zeroize::zeroize(&mut bytes);
        key
    }

    /// Parses `keyid:BASE64` (trimmed), where BASE64 is the standard encoding of exactly 32
    /// bytes. Errors describe the problem without repeating any of the input.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let (id, encoded) = text.trim().split_once(':').ok_or(KeyError::Format)?;
        check_id(id)?;
        let decoded = secrecy::zeroize::Zeroizing::new(
            LENIENT_STANDARD
                .decode(encoded)
                .map_err(|_| KeyError::Encoding)?,
        );
        let bytes: [u8; KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::Length(decoded.len()))?;
        Self::from_bytes(id, bytes)
    }

    /// A key from raw bytes, named `id`.
    pub fn from_bytes(id: &str, bytes: [u8; KEY_LEN]) -> Result<Self, KeyError> {
        check_id(id)?;
        let unbound =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| KeyError::Length(KEY_LEN))?;
        Ok(Self {
            id: id.to_owned(),
            bytes: SecretBox::new(Box::new(bytes)),
            aead: LessSafeKey::new(unbound),
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `keyid:BASE64` text form, for writing `master.key`.
    pub fn encode(&self) -> SecretString {
        let encoded = base64::engine::general_purpose::STANDARD.encode(self.bytes.expose_secret());
        SecretString::from(format!("{}:{encoded}", self.id))
    }

    pub(crate) fn aead(&self) -> &LessSafeKey {
        &self.aead
    }
}

impl Clone for MasterKey {
    fn clone(&self) -> Self {
        Self {
            id: self.id.clone(),
            bytes: SecretBox::new(Box::new(*self.bytes.expose_secret())),
            aead: self.aead.clone(),
        }
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .field("key", &"[redacted]")
            .finish()
    }
}

/// Key ids go into every sealed value between dots, so they are kept to a small, dot-free
/// character set.
pub(crate) fn check_id(id: &str) -> Result<(), KeyError> {
    let valid = (1..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(KeyError::InvalidId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn parse_and_encode_round_trip() {
        let key = MasterKey::parse(KEY).unwrap();
        assert_eq!(key.id(), "k1");
        assert_eq!(key.encode().expose_secret(), KEY);
        assert_eq!(key.clone().encode().expose_secret(), KEY);
        let unpadded = MasterKey::parse(&format!(" {}\n", KEY.trim_end_matches('='))).unwrap();
        assert_eq!(unpadded.encode().expose_secret(), KEY);
    }

    #[test]
    fn generate_makes_distinct_parseable_keys() {
        let a = MasterKey::generate("main_2024-01").unwrap();
        let b = MasterKey::generate("main_2024-01").unwrap();
        assert_ne!(a.encode().expose_secret(), b.encode().expose_secret());
        let reparsed = MasterKey::parse(a.encode().expose_secret()).unwrap();
        assert_eq!(
            reparsed.encode().expose_secret(),
            a.encode().expose_secret()
        );
        assert_eq!(MasterKey::generate("").unwrap_err(), KeyError::InvalidId);
    }

    #[test]
    fn rejects_bad_keys_without_echoing_them() {
        let secret_part = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let cases = [
            (secret_part.to_owned(), KeyError::Format),
            (format!(":{secret_part}"), KeyError::InvalidId),
            (format!("k.1:{secret_part}"), KeyError::InvalidId),
            (
                format!("{}:{secret_part}", "k".repeat(33)),
                KeyError::InvalidId,
            ),
            ("k1:not base64!".to_owned(), KeyError::Encoding),
            (
                "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8-".to_owned(),
                KeyError::Encoding,
            ),
            ("k1:AAECAw==".to_owned(), KeyError::Length(4)),
            (
                format!("k1:{}AAAA", secret_part.trim_end_matches('=')),
                KeyError::Length(35),
            ),
        ];
        for (text, expected) in cases {
            let err = MasterKey::parse(&text).unwrap_err();
            assert_eq!(err, expected, "{text}");
            let message = err.to_string();
            assert!(!message.contains("AAEC"), "{message}");
            assert!(!message.contains("not base64"), "{message}");
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let key = MasterKey::parse(KEY).unwrap();
        let debug = format!("{key:?}");
        assert_eq!(debug, "MasterKey { id: \"k1\", key: \"[redacted]\" }");
    }
}
