//! Errors of this crate. Messages describe the *shape* of what was wrong and never include
//! the input, since the input may be a key or a secret.

/// A master key (or key ring) that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the master key must look like KEYID:BASE64, e.g. k1:<44 base64 characters>")]
    Format,
    #[error("the master key id must be 1 to 32 characters of A-Z, a-z, 0-9, '_' and '-'")]
    InvalidId,
    #[error("the master key material is not valid standard base64")]
    Encoding,
    #[error(
        "the master key material decodes to {0} bytes; it must be exactly 32 (e.g. `openssl rand -base64 32`)"
    )]
    Length(usize),
    #[error("the master key id {0:?} is used by more than one key")]
    DuplicateId(String),
}

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Not of the form `v1.<keyid>.<base64url>`; the reason names the part.
    #[error("sealed value is malformed: {0}")]
    Malformed(&'static str),
    #[error("sealed value has an unsupported format version")]
    UnsupportedVersion,
    /// Sealed under a key that is neither the current nor a previous one: a master key was
    /// dropped from the configuration too early.
    #[error("sealed value uses master key {0:?}, which is not configured")]
    UnknownKeyId(String),
    /// The key, the associated data or the ciphertext is not what it was at sealing time.
    /// AES-GCM cannot tell these apart, by design.
    #[error("sealed value failed authentication (wrong key or associated data, or tampered)")]
    AuthenticationFailed,
}
