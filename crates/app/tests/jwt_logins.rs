//! JWT logins in the core, without HTTP: a GitHub-shaped token logs in against a JWT auth
//! method with inline keys; sub-claims on associations decide which roles it holds; every
//! wrong token is refused; a scoped key cannot turn a JWT method into something more.

mod common;

use common::state;
use mayfly_app::{
    access::{AuditAccess, Caller, Capability, ResourceKind, Rule},
    auth_methods::{self, NewJwtMethod},
    authn,
    error::AppError,
    roles::{self, NewRole, RuleSpec},
    state::AppState,
};
use mayfly_domain::{ItemName, JwksSource, JwtSettings, SubClaims};
use mayfly_testkit::jwt::{github_claims, jwks, TestKey};
use std::collections::BTreeMap;

const ISS: &str = "https://token.actions.githubusercontent.com";
const AUD: &str = "https://github.com/octo-org";

fn name(s: &str) -> ItemName {
    ItemName::parse(s).unwrap()
}

fn admin() -> Caller {
    Caller {
        access_id: "p-admin".into(),
        auth_method_id: mayfly_store::AuthMethodId::new("am-admin"),
        identity: String::new(),
        claims: Default::default(),
        rules: [
            ResourceKind::Role,
            ResourceKind::AuthMethod,
            ResourceKind::Item,
        ]
        .into_iter()
        .map(|kind| Rule {
            kind,
            path_glob: "/*".into(),
            capabilities: vec![
                Capability::Create,
                Capability::Read,
                Capability::Update,
                Capability::Delete,
                Capability::List,
            ],
            deny: false,
        })
        .collect(),
        audit_access: AuditAccess::None,
    }
}

fn settings(force_sub_claims: bool) -> JwtSettings {
    JwtSettings {
        jwks: JwksSource::Inline(jwks(&[TestKey::A]).to_string()),
        issuer: Some(ISS.into()),
        audiences: vec![AUD.into()],
        unique_identifier: "repository".into(),
        bound_client_ids: vec![],
        bound_claims: SubClaims::default(),
        force_sub_claims,
        token_ttl_minutes: Some(15),
        access_expires: None,
    }
}

async fn method(state: &AppState, settings: JwtSettings) -> String {
    auth_methods::create_secretless(
        state,
        &admin(),
        NewJwtMethod {
            name: name("/ci/github"),
            description: String::new(),
            delete_protection: false,
            settings,
        },
    )
    .await
    .unwrap()
}

async fn role_reading(state: &AppState, role: &str, path: &str) {
    roles::create(
        state,
        &admin(),
        NewRole {
            name: name(role),
            description: String::new(),
            audit_access: AuditAccess::None,
            delete_protection: false,
        },
    )
    .await
    .unwrap();
    roles::set_rule(
        state,
        &admin(),
        &name(role),
        &RuleSpec {
            kind: ResourceKind::Item,
            path: path.into(),
            capabilities: vec!["read".into()],
        },
    )
    .await
    .unwrap();
}

fn claims_rule(pairs: &[(&str, &str)]) -> SubClaims {
    let raw: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    SubClaims::parse("sub-claims", &raw, true).unwrap()
}

async fn login(state: &AppState, access_id: &str, repository: &str) -> Result<Caller, AppError> {
    let token = TestKey::A.sign(&github_claims(ISS, AUD, repository));
    let issued = authn::login_with_jwt(state, access_id, &token).await?;
    assert_eq!(issued.identity, repository);
    authn::resolve(
        state,
        Some(secrecy::ExposeSecret::expose_secret(&issued.token)),
    )
    .await
}

#[tokio::test]
async fn sub_claims_give_each_repository_its_own_role() {
    let state = state().await;
    let access_id = method(&state, settings(true)).await;
    role_reading(&state, "/ci/app-a", "/app-a/*").await;
    role_reading(&state, "/ci/app-b", "/app-b/*").await;
    let assoc = |role: &'static str, rule: SubClaims| {
        let state = state.clone();
        async move { roles::associate(&state, &admin(), &name(role), &name("/ci/github"), &rule).await }
    };
    assoc(
        "/ci/app-a",
        claims_rule(&[("repository", "octo-org/app-a")]),
    )
    .await
    .unwrap();
    assoc(
        "/ci/app-b",
        claims_rule(&[
            ("repository", "octo-org/app-b*"),
            ("ref", "refs/heads/main"),
        ]),
    )
    .await
    .unwrap();
    // force-sub-claims: an association for every repository of the issuer is refused.
    let err = assoc("/ci/app-a", SubClaims::default()).await.unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(m) if m.contains("force-sub-claims")),
        "{err:?}"
    );

    let a = login(&state, &access_id, "octo-org/app-a").await.unwrap();
    assert_eq!(a.identity, "octo-org/app-a");
    assert!(
        a.rules.iter().all(|r| r.path_glob == "/app-a/*"),
        "{:?}",
        a.rules
    );
    assert_eq!(a.rules.len(), 1);
    let b = login(&state, &access_id, "octo-org/app-b-staging")
        .await
        .unwrap();
    assert!(b.rules.iter().all(|r| r.path_glob == "/app-b/*") && b.rules.len() == 1);
    // Any other repository of the issuer logs in but holds no role at all.
    let other = login(&state, &access_id, "evil-org/app-a").await.unwrap();
    assert!(other.rules.is_empty(), "{:?}", other.rules);
}

#[tokio::test]
async fn wrong_tokens_and_wrong_methods_are_refused() {
    let state = state().await;
    let access_id = method(&state, settings(false)).await;
    let good = github_claims(ISS, AUD, "octo-org/app-a");
    let refused = |token: String, access_id: String| {
        let state = state.clone();
        async move {
            match authn::login_with_jwt(&state, &access_id, &token).await {
                Err(AppError::Unauthenticated(m)) => m,
                other => panic!("expected 401, got {:?}", other.map(|_| ())),
            }
        }
    };
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = "someone-else".into();
    assert!(refused(TestKey::A.sign(&wrong_aud), access_id.clone())
        .await
        .contains("audience"));
    assert!(refused(TestKey::B.sign(&good), access_id.clone())
        .await
        .contains("key id"));
    let mut anonymous = good.clone();
    anonymous.as_object_mut().unwrap().remove("repository");
    assert!(refused(TestKey::A.sign(&anonymous), access_id.clone())
        .await
        .contains("unique identifier"));
    // An API key's access id does not take a JWT; a JWT method's id does not take a key.
    let key = auth_methods::create(
        &state,
        &admin(),
        auth_methods::NewApiKey {
            name: name("/ci/key"),
            description: String::new(),
            delete_protection: false,
        },
    )
    .await
    .unwrap();
    assert!(refused(TestKey::A.sign(&good), key.access_id.clone())
        .await
        .contains("no JWT auth method"));
    let err = authn::login_with_key(&state, &access_id, "").await.err();
    assert!(matches!(err, Some(AppError::Unauthenticated(_))));
}

#[tokio::test]
async fn a_scoped_key_cannot_make_a_jwt_method_into_more() {
    let state = state().await;
    let _ = method(&state, settings(false)).await;
    // reset-access-key would give the method a secret key: refused.
    let err = auth_methods::reset_key(&state, &admin(), &name("/ci/github"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(m) if m.contains("no access key")),
        "{err:?}"
    );
    // An API key takes no sub-claims (they would never match its tokens).
    auth_methods::create(
        &state,
        &admin(),
        auth_methods::NewApiKey {
            name: name("/ci/key"),
            description: String::new(),
            delete_protection: false,
        },
    )
    .await
    .unwrap();
    role_reading(&state, "/ci/r", "/x/*").await;
    let err = roles::associate(
        &state,
        &admin(),
        &name("/ci/r"),
        &name("/ci/key"),
        &claims_rule(&[("sub", "x")]),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)));
    // A key limited to /team/* cannot create a JWT method elsewhere.
    let mut team = admin();
    for r in &mut team.rules {
        r.path_glob = "/team/*".into();
    }
    let err = auth_methods::create_secretless(
        &state,
        &team,
        NewJwtMethod {
            name: name("/ci/other"),
            description: String::new(),
            delete_protection: false,
            settings: settings(false),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Denied(_)));
    // Inline keys must be usable public keys; a JWKS URL must be allowed.
    let mut bad = settings(false);
    bad.jwks = JwksSource::Inline(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#.into());
    let err = auth_methods::create_secretless(
        &state,
        &admin(),
        NewJwtMethod {
            name: name("/ci/bad"),
            description: String::new(),
            delete_protection: false,
            settings: bad,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(m) if m.contains("jwks-json-data")),
        "{err:?}"
    );
    let mut internal = settings(false);
    internal.jwks = JwksSource::Uri("http://169.254.169.254/latest/meta-data/".into());
    let err = auth_methods::create_secretless(
        &state,
        &admin(),
        NewJwtMethod {
            name: name("/ci/ssrf"),
            description: String::new(),
            delete_protection: false,
            settings: internal,
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, AppError::Invalid(m) if m.contains("MAYFLY_ALLOWED_ENDPOINTS")),
        "{err:?}"
    );
}
