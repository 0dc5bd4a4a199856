//! Public keys a JWT method trusts: a JWKS document parsed into keys with the algorithms each
//! may verify ([`KeySet`]), and the cache of fetched documents ([`JwksCache`]).
//!
//! A key verifies only the asymmetric algorithms of its own type (RSA: RS*/PS*; EC P-256:
//! ES256, P-384: ES384; Ed25519: EdDSA), narrowed to its `alg` when the JWK names one. HMAC
//! keys (`oct`) and encryption keys (`use: enc`) are ignored, so a token signed with HS256
//! using the public key as the secret (algorithm confusion) finds no key.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm, PublicKeyUse},
    Algorithm, DecodingKey,
};
use mayfly_domain::OutboundPolicy;

use crate::fetch::Fetcher;

/// The largest JWKS document accepted (real ones are a few KiB).
pub const MAX_JWKS_BYTES: usize = 256 * 1024;
/// The most keys one document may hold.
pub const MAX_KEYS: usize = 100;

/// One usable public key.
struct Key {
    kid: Option<String>,
    key: DecodingKey,
    algorithms: Vec<Algorithm>,
}

/// The usable keys of a JWKS document.
pub struct KeySet {
    keys: Vec<Key>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field(
                "kids",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .finish()
    }
}

const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
];

fn named_algorithm(alg: KeyAlgorithm) -> Option<Algorithm> {
    Some(match alg {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

impl KeySet {
    /// Parses a JWKS document (`{"keys": [...]}`), keeping the keys that can verify a
    /// signature. Refused when it is not JSON, too large, or holds no usable key.
    pub fn parse(json: &str) -> Result<KeySet, String> {
        if json.len() > MAX_JWKS_BYTES {
            return Err(format!(
                "the JWKS document is larger than {MAX_JWKS_BYTES} bytes"
            ));
        }
        let set: JwkSet = serde_json::from_str(json).map_err(|e| {
            format!("not a JWKS document (a JSON object with a \"keys\" array of JWKs): {e}")
        })?;
        if set.keys.len() > MAX_KEYS {
            return Err(format!("the JWKS document holds more than {MAX_KEYS} keys"));
        }
        let mut keys = Vec::new();
        for jwk in &set.keys {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let by_type: Vec<Algorithm> = match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => RSA_ALGORITHMS.to_vec(),
                AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                    EllipticCurve::P256 => vec![Algorithm::ES256],
                    EllipticCurve::P384 => vec![Algorithm::ES384],
                    _ => continue,
                },
                AlgorithmParameters::OctetKeyPair(okp) => match okp.curve {
                    EllipticCurve::Ed25519 => vec![Algorithm::EdDSA],
                    _ => continue,
                },
                // Symmetric keys never verify a login: anyone who can read the JWKS knows them.
                AlgorithmParameters::OctetKey(_) => continue,
            };
            let algorithms = match jwk.common.key_algorithm {
                None => by_type,
                Some(named) => match named_algorithm(named) {
                    Some(a) if by_type.contains(&a) => vec![a],
                    // An `alg` that does not fit the key type: the key is not trusted at all.
                    _ => continue,
                },
            };
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            keys.push(Key {
                kid: jwk.common.key_id.clone(),
                key,
                algorithms,
            });
        }
        if keys.is_empty() {
            return Err(
                "the JWKS document holds no usable public key (RSA, EC P-256/P-384 or Ed25519 for signing)"
                    .into(),
            );
        }
        Ok(KeySet { keys })
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether a key has this id.
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// The keys that may verify a token with this header: those with its `kid` (all keys
    /// when it has none) that allow its algorithm.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a DecodingKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| kid.is_none() || k.kid.as_deref() == kid)
            .filter(move |k| k.algorithms.contains(&alg))
            .map(|k| &k.key)
    }
}

/// Why keys could not be had.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JwksError {
    /// The URL is not allowed by the outbound URL policy.
    #[error("{0}")]
    Refused(String),
    /// The document could not be fetched or is not a usable JWKS.
    #[error("{0}")]
    Unavailable(String),
}

/// How long a fetched document is used before it is fetched again.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(600);
/// The least time between two fetches of one URL, whatever tokens arrive: a flood of tokens
/// with unknown key ids makes at most one fetch per floor.
pub const JWKS_REFETCH_FLOOR: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Slot {
    keys: Option<Arc<KeySet>>,
    fetched_at: Option<Instant>,
    /// The last fetch attempt, and its error when it failed.
    attempted_at: Option<Instant>,
    failure: Option<JwksError>,
}

/// Fetches and parses the JWKS document at `uri` (the URL checked against the policy).
async fn fetch_jwks(fetcher: &Fetcher, uri: &str) -> Result<KeySet, JwksError> {
    let url = fetcher
        .policy()
        .check_url(uri)
        .map_err(|why| JwksError::Refused(format!("jwks-uri: {why}")))?;
    let origin = url.origin().ascii_serialization();
    let unavailable = |why: String| JwksError::Unavailable(format!("the JWKS at {origin} {why}"));
    let response = fetcher
        .client()
        .get(url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            // The resolver's refusal surfaces as a connect error; say which rule refused.
            if let Some(why) = crate::fetch::refusal_in(&e) {
                JwksError::Refused(format!("jwks-uri: {why}"))
            } else if e.is_timeout() {
                unavailable("did not answer within 10 seconds".into())
            } else {
                unavailable("could not be reached".into())
            }
        })?;
    if !response.status().is_success() {
        return Err(unavailable(format!(
            "answered HTTP {} (redirects are not followed)",
            response.status().as_u16()
        )));
    }
    let body = crate::fetch::read_limited(response, MAX_JWKS_BYTES)
        .await
        .map_err(|why| match why {
            crate::fetch::Unread::TooLarge => {
                unavailable(format!("is larger than {MAX_JWKS_BYTES} bytes"))
            }
            crate::fetch::Unread::BrokeOff => unavailable("broke off while being read".into()),
        })?;
    let text = String::from_utf8(body).map_err(|_| unavailable("is not UTF-8".into()))?;
    KeySet::parse(&text).map_err(|why| unavailable(format!("is not usable: {why}")))
}

/// Fetched JWKS documents by URL. One fetch at a time per URL; concurrent logins wait for it.
pub struct JwksCache {
    fetcher: Fetcher,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    floor: Duration,
}

impl JwksCache {
    /// A cache whose fetches obey `policy`.
    pub fn new(policy: Arc<OutboundPolicy>) -> Self {
        JwksCache {
            fetcher: Fetcher::new(policy),
            slots: Mutex::new(HashMap::new()),
            floor: JWKS_REFETCH_FLOOR,
        }
    }

    /// The keys at `uri`. Fetched when not cached, older than [`JWKS_MAX_AGE`], or when the
    /// token's `kid` is not among them (keys rotated), but never twice within the floor; a
    /// failed refresh keeps serving the keys it had.
    pub async fn keys(&self, uri: &str, kid: Option<&str>) -> Result<Arc<KeySet>, JwksError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.entry(uri.to_owned()).or_default().clone()
        };
        let mut slot = slot.lock().await;
        let now = Instant::now();
        let since = |t: Option<Instant>| t.map(|t| now.duration_since(t));
        let stale = since(slot.fetched_at).is_none_or(|age| age >= JWKS_MAX_AGE);
        let unknown_kid = match (&slot.keys, kid) {
            (Some(keys), Some(kid)) => !keys.has_kid(kid),
            _ => false,
        };
        let may_fetch = since(slot.attempted_at).is_none_or(|age| age >= self.floor);
        if (slot.keys.is_none() || stale || unknown_kid) && may_fetch {
            slot.attempted_at = Some(now);
            match fetch_jwks(&self.fetcher, uri).await {
                Ok(keys) => {
                    slot.keys = Some(Arc::new(keys));
                    slot.fetched_at = Some(now);
                    slot.failure = None;
                }
                Err(e) => {
                    tracing::warn!(jwks_uri = %uri, error = %e, "JWKS fetch failed");
                    slot.failure = Some(e);
                }
            }
        }
        match (&slot.keys, &slot.failure) {
            (Some(keys), _) => Ok(keys.clone()),
            (None, Some(e)) => Err(e.clone()),
            (None, None) => Err(JwksError::Unavailable(
                "the JWKS document has not been fetched yet; retry in a few seconds".into(),
            )),
        }
    }

    /// Checks that `uri` may be fetched and holds usable keys (creating a method: a typo is
    /// reported at once, not at the first login); returns how many. Nothing is cached: a
    /// caller who may create methods could otherwise fill the cache with documents of URLs no
    /// method ends up using. The first login fetches again.
    pub async fn probe(&self, uri: &str) -> Result<usize, JwksError> {
        Ok(fetch_jwks(&self.fetcher, uri).await?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSA_N: &str = "u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0_IzW7yWR7QkrmBL7jTKEn5u-qKhbwKfBstIs-bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW_VDL5AaWTg0nLVkjRo9z-40RQzuVaE8AkAFmxZzow3x-VJYKdjykkJ0iT9wCS0DRTXu269V264Vf_3jvredZiKRkgwlL9xNAwxXFg0x_XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC-9aGVd-Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmw";

    fn rsa_jwk(kid: &str, alg: Option<&str>) -> serde_json::Value {
        let mut k =
            serde_json::json!({"kty": "RSA", "kid": kid, "n": RSA_N, "e": "AQAB", "use": "sig"});
        if let Some(alg) = alg {
            k["alg"] = alg.into();
        }
        k
    }

    #[test]
    fn keys_get_only_the_algorithms_of_their_type() {
        let doc = serde_json::json!({"keys": [
            rsa_jwk("a", None),
            rsa_jwk("b", Some("RS256")),
            {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
            rsa_jwk("enc", None),
        ]});
        let mut doc = doc;
        doc["keys"][3]["use"] = "enc".into();
        let set = KeySet::parse(&doc.to_string()).unwrap();
        assert_eq!(set.len(), 2, "the oct and the encryption key are dropped");
        assert_eq!(set.candidates(Some("a"), Algorithm::PS256).count(), 1);
        assert_eq!(set.candidates(Some("b"), Algorithm::PS256).count(), 0);
        assert_eq!(set.candidates(None, Algorithm::RS256).count(), 2);
        assert_eq!(set.candidates(None, Algorithm::HS256).count(), 0);
        assert_eq!(set.candidates(Some("h"), Algorithm::HS256).count(), 0);
        assert!(!set.has_kid("h"));
    }

    #[test]
    fn mismatched_alg_and_useless_documents_are_refused() {
        let doc = serde_json::json!({"keys": [rsa_jwk("a", Some("ES256"))]});
        assert!(KeySet::parse(&doc.to_string())
            .unwrap_err()
            .contains("no usable public key"));
        assert!(KeySet::parse("[]").unwrap_err().contains("not a JWKS"));
        assert!(KeySet::parse(r#"{"keys": [{"kty": "oct", "k": "eA"}]}"#).is_err());
        let huge = format!(
            "{{\"keys\": [], \"x\": \"{}\"}}",
            "a".repeat(MAX_JWKS_BYTES)
        );
        assert!(KeySet::parse(&huge).unwrap_err().contains("larger"));
    }
}
