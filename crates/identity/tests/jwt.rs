//! JWT verification against real signatures: the fixture RSA keys sign tokens shaped like
//! GitHub's; every way a token can be wrong is refused with a message naming what.

use std::sync::Arc;

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use mayfly_domain::{AllowedOrigin, OutboundPolicy};
use mayfly_identity::{jwt, Bindings, JwksCache, JwksError, KeySet};
use mayfly_testkit::jwt::{github_claims, jwks, now, JwksServer, TestKey};
use serde_json::json;

const ISS: &str = "https://token.actions.githubusercontent.com";
const AUD: &str = "https://github.com/octo-org";

fn keys(which: &[TestKey]) -> KeySet {
    KeySet::parse(&jwks(which).to_string()).unwrap()
}

fn bindings(audiences: &[String]) -> Bindings<'_> {
    Bindings {
        issuer: Some(ISS),
        audiences,
    }
}

fn refusal(token: &str, set: &KeySet) -> String {
    let aud = vec![AUD.to_owned()];
    jwt::verify(token, set, &bindings(&aud)).unwrap_err().0
}

#[test]
fn a_good_token_verifies_and_yields_its_claims() {
    let token = TestKey::A.sign(&github_claims(ISS, AUD, "octo-org/app"));
    let aud = vec!["other".to_owned(), AUD.to_owned()];
    let claims = jwt::verify(&token, &keys(&[TestKey::A, TestKey::B]), &bindings(&aud)).unwrap();
    assert_eq!(claims["repository"], "octo-org/app");
    // No bound audience: aud is not checked; no bound issuer: iss is not either.
    let open = Bindings::default();
    assert!(jwt::verify(&token, &keys(&[TestKey::A]), &open).is_ok());
}

#[test]
fn every_wrong_token_is_refused_with_its_reason() {
    let set = keys(&[TestKey::A]);
    let good = github_claims(ISS, AUD, "octo-org/app");
    let with = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut c = good.clone();
        f(&mut c);
        TestKey::A.sign(&c)
    };
    assert!(refusal(&with(&|c| c["aud"] = "someone-else".into()), &set).contains("audience"));
    assert!(refusal(&with(&|c| c["iss"] = "https://evil.example".into()), &set).contains("issuer"));
    assert!(refusal(&with(&|c| c["exp"] = (now() - 3600).into()), &set).contains("expired"));
    assert!(refusal(&with(&|c| c["nbf"] = (now() + 3600).into()), &set).contains("not valid yet"));
    assert!(refusal(&with(&|c| c["iat"] = (now() + 3600).into()), &set).contains("future"));
    assert!(refusal(
        &with(&|c| {
            c.as_object_mut().unwrap().remove("exp");
        }),
        &set
    )
    .contains("no expiry"));
    // Within the clock skew: still fine.
    assert!(jwt::verify(
        &with(&|c| c["exp"] = (now() - 30).into()),
        &set,
        &bindings(&[AUD.to_owned()])
    )
    .is_ok());

    // Signed by a key the method does not hold (rotation not yet seen): unknown kid.
    let other = TestKey::B.sign(&good);
    assert!(refusal(&other, &set).contains("key id"));
    // Key B's token relabelled with key A's kid: the signature fails.
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(TestKey::A.kid().into());
    let forged = {
        let b_signed = TestKey::B.sign(&good);
        let parts: Vec<&str> = b_signed.split('.').collect();
        let a_header = TestKey::A.sign(&good);
        let a_parts: Vec<&str> = a_header.split('.').collect();
        format!("{}.{}.{}", a_parts[0], parts[1], parts[2])
    };
    assert!(refusal(&forged, &set).contains("signature"));

    // A tampered payload.
    let token = TestKey::A.sign(&good);
    let parts: Vec<&str> = token.split('.').collect();
    let evil = base64_url(&json!({"repository": "octo-org/admin"}).to_string());
    assert!(refusal(&format!("{}.{}.{}", parts[0], evil, parts[2]), &set).contains("signature"));
}

#[test]
fn none_and_hmac_with_the_public_key_are_refused() {
    let set = keys(&[TestKey::A]);
    let claims = github_claims(ISS, AUD, "octo-org/app");
    // alg: none, no signature.
    let none = format!(
        "{}.{}.",
        base64_url(r#"{"alg":"none","typ":"JWT"}"#),
        base64_url(&claims.to_string())
    );
    assert!(
        refusal(&none, &set).contains("not a JWT"),
        "{}",
        refusal(&none, &set)
    );
    // HS256 "signed" with the RSA public key as the shared secret (algorithm confusion).
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(TestKey::A.kid().into());
    let confused = encode(
        &header,
        &claims,
        &EncodingKey::from_secret(TestKey::A.public_pem().as_bytes()),
    )
    .unwrap();
    assert!(refusal(&confused, &set).contains("shared secret"));
}

#[test]
fn oversized_tokens_are_refused_before_parsing() {
    let set = keys(&[TestKey::A]);
    let mut claims = github_claims(ISS, AUD, "octo-org/app");
    claims["padding"] = "x".repeat(jwt::MAX_TOKEN_BYTES).into();
    assert!(refusal(&TestKey::A.sign(&claims), &set).contains("larger"));
}

fn base64_url(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn policy_allowing(origin: &str) -> Arc<OutboundPolicy> {
    Arc::new(OutboundPolicy::new(vec![
        AllowedOrigin::parse(origin).unwrap()
    ]))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cache_fetches_once_and_refetches_on_an_unknown_kid_no_faster_than_the_floor() {
    let server = JwksServer::start(&jwks(&[TestKey::A]));
    let cache = JwksCache::new(policy_allowing(&server.origin()));
    let uri = server.uri();
    for _ in 0..5 {
        let keys = cache.keys(&uri, Some(TestKey::A.kid())).await.unwrap();
        assert!(keys.has_kid(TestKey::A.kid()));
    }
    assert_eq!(server.fetches(), 1, "cached");
    // The issuer rotates to key B; a token with kid B arrives right away: within the floor
    // no refetch (a flood of made-up kids costs at most one fetch per floor)...
    server.set_document(&jwks(&[TestKey::B]));
    let keys = cache.keys(&uri, Some(TestKey::B.kid())).await.unwrap();
    assert!(!keys.has_kid(TestKey::B.kid()));
    assert_eq!(server.fetches(), 1);
    // ...after it, one refetch finds the new key.
    tokio::time::sleep(mayfly_identity::jwks::JWKS_REFETCH_FLOOR).await;
    for _ in 0..3 {
        let keys = cache.keys(&uri, Some(TestKey::B.kid())).await.unwrap();
        assert!(keys.has_kid(TestKey::B.kid()));
    }
    assert_eq!(server.fetches(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn urls_outside_the_policy_are_never_fetched() {
    let server = JwksServer::start(&jwks(&[TestKey::A]));
    let cache = JwksCache::new(Arc::new(OutboundPolicy::default()));
    let err = cache.keys(&server.uri(), None).await.unwrap_err();
    assert!(matches!(err, JwksError::Refused(_)), "{err:?}");
    assert!(
        err.to_string().contains("MAYFLY_ALLOWED_ENDPOINTS"),
        "{err}"
    );
    // https on the same loopback address, another scheme of an allowed host, a loopback name:
    // refused before any connection.
    let port = server.origin().rsplit(':').next().unwrap().to_owned();
    for uri in [
        format!("https://127.0.0.1:{port}/jwks"),
        "https://localhost/jwks".to_owned(),
        "http://example.com/jwks".to_owned(),
    ] {
        let err = cache.probe(&uri).await.unwrap_err();
        assert!(matches!(err, JwksError::Refused(_)), "{uri}: {err:?}");
    }
    assert_eq!(server.fetches(), 0);
}
