//! Sealing values at rest with AES-256-GCM under rotatable master keys.
//!
//! A sealed value is `v1.<keyid>.<base64url-no-pad(nonce || ciphertext || tag)>`:
//! - `v1` leaves room for a different scheme later;
//! - the key id lets old values open after the current key changed (rotation);
//! - each value gets a fresh random 96-bit nonce, which is safe for far more values than a
//!   gateway will ever seal under one key (NIST's limit for random nonces is 2^32);
//! - the associated data (the design uses the row id) binds a value to its row, so a sealed
//!   secret copied into another row does not open there.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::aead::{Aad, Nonce, NONCE_LEN};

use crate::error::{CryptoError, KeyError};
use crate::master_key::{check_id, MasterKey};
use crate::rng;

const VERSION: &str = "v1";
const TAG_LEN: usize = 16;

/// The current master key, which seals, and previous ones, which still open.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl KeyRing {
    /// A ring that seals with `current` and opens with any of the keys. Key ids must be
    /// distinct, or a value could not be matched to its key.
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Result<Self, KeyError> {
        for (i, key) in previous.iter().enumerate() {
            let clash =
                key.id() == current.id() || previous[..i].iter().any(|k| k.id() == key.id());
            if clash {
                return Err(KeyError::DuplicateId(key.id().to_owned()));
            }
        }
        Ok(Self { current, previous })
    }

    /// A ring with one key.
    pub fn single(current: MasterKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// Encrypts `plaintext` under the current key, bound to `aad`.
    ///
    /// # Panics
    /// Only if the operating system's random generator fails (see the `rng` module) or the
    /// plaintext exceeds AES-GCM's limit of about 64 GiB.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        rng::fill(&mut nonce);
        let mut in_out = Vec::with_capacity(plaintext.len() + TAG_LEN);
        in_out.extend_from_slice(plaintext);
        self.current
            .aead()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut in_out,
            )
            .expect("AES-GCM input is below its 64 GiB limit");
        let mut payload = Vec::with_capacity(NONCE_LEN + in_out.len());
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&in_out);
        format!(
            "{VERSION}.{}.{}",
            self.current.id(),
            URL_SAFE_NO_PAD.encode(&payload)
        )
    }

    /// Decrypts a value from [`seal`](Self::seal) with the key it names, checking `aad`.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (version, rest) = sealed
            .split_once('.')
            .ok_or(CryptoError::Malformed("expected v1.<keyid>.<data>"))?;
        if version != VERSION {
            return Err(CryptoError::UnsupportedVersion);
        }
        let (key_id, data) = rest
            .split_once('.')
            .ok_or(CryptoError::Malformed("expected v1.<keyid>.<data>"))?;
        if check_id(key_id).is_err() {
            return Err(CryptoError::Malformed("the key id is not valid"));
        }
        let key = self
            .key(key_id)
            .ok_or_else(|| CryptoError::UnknownKeyId(key_id.to_owned()))?;
        let mut payload = URL_SAFE_NO_PAD
            .decode(data)
            .map_err(|_| CryptoError::Malformed("the data is not base64url without padding"))?;
        if payload.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed("the data is too short"));
        }
        let mut in_out = payload.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&payload)
            .map_err(|_| CryptoError::Malformed("the nonce has the wrong length"))?;
        let plaintext_len = key
            .aead()
            .open_in_place(nonce, Aad::from(aad), &mut in_out)
            .map_err(|_| CryptoError::AuthenticationFailed)?
            .len();
        in_out.truncate(plaintext_len);
        Ok(in_out)
    }

    /// Whether `sealed` was sealed with the current key; values that were not are the ones
    /// to re-seal after a rotation.
    pub fn sealed_with_current(&self, sealed: &str) -> bool {
        sealed
            .strip_prefix("v1.")
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(id, _)| id == self.current.id())
    }

    fn key(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id() == id)
    }
}

impl From<MasterKey> for KeyRing {
    fn from(current: MasterKey) -> Self {
        Self::single(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> MasterKey {
        MasterKey::generate(id).unwrap()
    }

    #[test]
    fn seal_open_round_trip() {
        let ring = KeyRing::single(key("k1"));
        for plaintext in [&b""[..], b"x", b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"] {
            let sealed = ring.seal(plaintext, b"target:42");
            assert!(sealed.starts_with("v1.k1."), "{sealed}");
            assert_eq!(ring.open(&sealed, b"target:42").unwrap(), plaintext);
        }
    }

    #[test]
    fn sealed_text_hides_the_plaintext_and_nonces_differ() {
        let ring = KeyRing::single(key("k1"));
        let a = ring.seal(b"secret-value", b"");
        let b = ring.seal(b"secret-value", b"");
        assert_ne!(a, b);
        let nonce = |s: &str| {
            URL_SAFE_NO_PAD
                .decode(s.rsplit('.').next().unwrap())
                .unwrap()[..NONCE_LEN]
                .to_vec()
        };
        assert_ne!(nonce(&a), nonce(&b));
        assert!(!a.contains("secret"));
    }

    #[test]
    fn wrong_aad_fails() {
        let ring = KeyRing::single(key("k1"));
        let sealed = ring.seal(b"secret", b"target:1");
        assert_eq!(
            ring.open(&sealed, b"target:2"),
            Err(CryptoError::AuthenticationFailed)
        );
        assert_eq!(
            ring.open(&sealed, b""),
            Err(CryptoError::AuthenticationFailed)
        );
    }

    #[test]
    fn tampering_fails() {
        let ring = KeyRing::single(key("k1"));
        let sealed = ring.seal(b"secret", b"aad");
        let (head, data) = sealed.rsplit_once('.').unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(data).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let text = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&tampered));
            assert_eq!(
                ring.open(&text, b"aad"),
                Err(CryptoError::AuthenticationFailed),
                "byte {i}"
            );
        }
        let truncated = format!(
            "{head}.{}",
            URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1])
        );
        assert_eq!(
            ring.open(&truncated, b"aad"),
            Err(CryptoError::AuthenticationFailed)
        );
    }

    #[test]
    fn a_different_key_with_the_same_id_fails() {
        let sealed = KeyRing::single(key("k1")).seal(b"secret", b"");
        let other = KeyRing::single(key("k1"));
        assert_eq!(
            other.open(&sealed, b""),
            Err(CryptoError::AuthenticationFailed)
        );
    }

    #[test]
    fn previous_keys_still_open_and_rotation_is_visible() {
        let old = key("k1");
        let old_ring = KeyRing::single(old.clone());
        let sealed_old = old_ring.seal(b"old secret", b"row:7");
        let ring = KeyRing::new(key("k2"), vec![old]).unwrap();
        assert_eq!(ring.current_id(), "k2");
        assert_eq!(ring.open(&sealed_old, b"row:7").unwrap(), b"old secret");
        assert!(!ring.sealed_with_current(&sealed_old));
        let sealed_new = ring.seal(b"new secret", b"row:7");
        assert!(ring.sealed_with_current(&sealed_new));
        assert!(old_ring.sealed_with_current(&sealed_old));
        assert_eq!(
            old_ring.open(&sealed_new, b"row:7"),
            Err(CryptoError::UnknownKeyId("k2".to_owned()))
        );
        assert!(!ring.sealed_with_current("garbage"));
    }

    #[test]
    fn duplicate_key_ids_are_rejected() {
        assert_eq!(
            KeyRing::new(key("k1"), vec![key("k1")]).unwrap_err(),
            KeyError::DuplicateId("k1".to_owned())
        );
        assert_eq!(
            KeyRing::new(key("k3"), vec![key("k1"), key("k2"), key("k1")]).unwrap_err(),
            KeyError::DuplicateId("k1".to_owned())
        );
        assert!(KeyRing::new(key("k3"), vec![key("k1"), key("k2")]).is_ok());
    }

    #[test]
    fn malformed_input_gets_distinct_errors_without_echo() {
        let ring = KeyRing::from(key("k1"));
        let valid = ring.seal(b"secret", b"");
        let data = valid.rsplit('.').next().unwrap();
        let cases = [
            (
                "plaintext-secret".to_owned(),
                CryptoError::Malformed("expected v1.<keyid>.<data>"),
            ),
            (
                "v1.k1".to_owned(),
                CryptoError::Malformed("expected v1.<keyid>.<data>"),
            ),
            (format!("v2.k1.{data}"), CryptoError::UnsupportedVersion),
            (format!("my.secret.{data}"), CryptoError::UnsupportedVersion),
            (
                format!("v1.k 1.{data}"),
                CryptoError::Malformed("the key id is not valid"),
            ),
            (
                format!("v1..{data}"),
                CryptoError::Malformed("the key id is not valid"),
            ),
            (
                format!("v1.k9.{data}"),
                CryptoError::UnknownKeyId("k9".to_owned()),
            ),
            (
                "v1.k1.not*base64".to_owned(),
                CryptoError::Malformed("the data is not base64url without padding"),
            ),
            (
                format!("v1.k1.{data}="),
                CryptoError::Malformed("the data is not base64url without padding"),
            ),
            (
                "v1.k1.AAAA".to_owned(),
                CryptoError::Malformed("the data is too short"),
            ),
        ];
        for (text, expected) in cases {
            let err = ring.open(&text, b"").unwrap_err();
            assert_eq!(err, expected, "{text}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn debug_hides_keys() {
        let ring = KeyRing::new(key("k2"), vec![key("k1")]).unwrap();
        let debug = format!("{ring:?}");
        assert!(debug.contains("k1") && debug.contains("k2"));
        assert_eq!(debug.matches("[redacted]").count(), 2, "{debug}");
    }
}
