//! Verifying a JWT login token against a method's keys and bindings.
//!
//! Checked, in this order, each failure a [`Refused`] whose message says what was wrong
//! without repeating the token: size; a header naming an asymmetric algorithm (`none` and
//! HS* never verify); a key with the token's `kid` (or any key, when it names none) allowed
//! for that algorithm; the signature; `exp` (required), `nbf` and `iat` with
//! [`CLOCK_SKEW`]; `iss` when the method binds one; `aud` when it binds audiences.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, decode_header, errors::ErrorKind, Algorithm, Header, Validation};
use serde_json::{Map, Value};

use crate::jwks::KeySet;

/// The largest token accepted, in bytes (GitHub's and Kubernetes' are 1–2 KiB).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Allowed clock difference between the issuer and the gateway, in seconds.
pub const CLOCK_SKEW: u64 = 60;

/// A token the method does not accept, and why (safe to show the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

fn refused(why: impl Into<String>) -> Refused {
    Refused(why.into())
}

/// What a token must satisfy besides its signature.
#[derive(Debug, Clone, Default)]
pub struct Bindings<'a> {
    pub issuer: Option<&'a str>,
    pub audiences: &'a [String],
}

/// The parts of a token's header that choose the key.
#[derive(Debug, Clone)]
pub struct TokenHeader {
    pub kid: Option<String>,
    pub alg: Algorithm,
}

/// Reads the header, refusing oversized tokens and algorithms that never verify a login.
pub fn header(token: &str) -> Result<TokenHeader, Refused> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(refused(format!(
            "the token is larger than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    let Header { alg, kid, .. } = decode_header(token).map_err(|e| match e.kind() {
        ErrorKind::Json(_) | ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => {
            refused("the token is not a JWT (header.payload.signature) or names an unsupported algorithm such as none")
        }
        _ => refused("the token's header cannot be read"),
    })?;
    if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Err(refused(
            "the token is signed with a shared secret (HS*); only asymmetric signatures (RS*, PS*, ES*, EdDSA) are accepted",
        ));
    }
    Ok(TokenHeader { kid, alg })
}

/// The claim checks every token gets: `exp` required, `exp` and `nbf` with [`CLOCK_SKEW`],
/// the issuer and audiences when bound.
fn claim_checks(alg: Algorithm, bindings: &Bindings<'_>) -> Validation {
    let mut validation = Validation::new(alg);
    validation.leeway = CLOCK_SKEW;
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_required_spec_claims(&["exp"]);
    match bindings.issuer {
        Some(iss) => validation.set_issuer(&[iss]),
        None => validation.iss = None,
    }
    if bindings.audiences.is_empty() {
        validation.validate_aud = false;
    } else {
        validation.set_audience(bindings.audiences);
    }
    validation
}

/// Verifies `token` with `keys`; returns its claims.
pub fn verify(
    token: &str,
    keys: &KeySet,
    bindings: &Bindings<'_>,
) -> Result<Map<String, Value>, Refused> {
    let head = header(token)?;
    let mut validation = claim_checks(head.alg, bindings);
    validation.algorithms = vec![head.alg];
    let mut last = None;
    let mut tried = 0;
    for key in keys.candidates(head.kid.as_deref(), head.alg) {
        tried += 1;
        match decode::<Map<String, Value>>(token, key, &validation) {
            Ok(data) => {
                check_issued_at(&data.claims)?;
                return Ok(data.claims);
            }
            Err(e) => {
                let signature_failed = matches!(e.kind(), ErrorKind::InvalidSignature);
                last = Some(e);
                // Another key may verify it; a claim failure is final.
                if !signature_failed {
                    break;
                }
            }
        }
    }
    Err(match (tried, last) {
        (0, _) => match head.kid {
            Some(_) => {
                refused("no key of the auth method has the token's key id (kid) for its algorithm")
            }
            None => refused("no key of the auth method verifies the token's algorithm"),
        },
        (_, Some(e)) => claim_error(e.kind()),
        (_, None) => refused("the token could not be verified"),
    })
}

/// Reads the claims of a token whose signature another party vouches for (the cluster's
/// TokenReview), with every check [`verify`] makes except the signature: size, algorithm,
/// `exp` (required), `nbf`, `iat`, and the bindings. The result must not be trusted until that
/// party has said the token is genuine.
pub fn claims_for_review(
    token: &str,
    bindings: &Bindings<'_>,
) -> Result<Map<String, Value>, Refused> {
    let head = header(token)?;
    let mut validation = claim_checks(head.alg, bindings);
    validation.insecure_disable_signature_validation();
    let data = decode::<Map<String, Value>>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(&[]),
        &validation,
    )
    .map_err(|e| claim_error(e.kind()))?;
    check_issued_at(&data.claims)?;
    Ok(data.claims)
}

fn claim_error(kind: &ErrorKind) -> Refused {
    refused(match kind {
        ErrorKind::InvalidSignature => {
            "the token's signature does not verify with the auth method's keys"
        }
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf is in the future)",
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not the auth method's issuer",
        ErrorKind::InvalidAudience => {
            "the token's audience (aud) is not one the auth method accepts"
        }
        ErrorKind::MissingRequiredClaim(_) => "the token has no expiry (exp)",
        ErrorKind::InvalidAlgorithm => "the token's algorithm does not match the key",
        _ => "the token could not be verified",
    })
}

/// `iat` in the future (beyond the skew) means a wrong clock or a forged token.
fn check_issued_at(claims: &Map<String, Value>) -> Result<(), Refused> {
    let Some(iat) = claims.get("iat") else {
        return Ok(());
    };
    let Some(iat) = iat.as_f64() else {
        return Err(refused("the token's iat is not a number"));
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    if iat > now + CLOCK_SKEW as f64 {
        return Err(refused("the token was issued in the future (iat)"));
    }
    Ok(())
}
