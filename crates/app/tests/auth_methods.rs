//! API keys in the core, without HTTP: a scoped key manages only the auth methods under its
//! rules, a replaced key ends the old key and its tokens, and a caller cannot delete the
//! method of its own token.

mod common;

use common::state;
use mayfly_app::{
    access::{AuditAccess, Caller, Capability, ResourceKind, Rule},
    auth_methods::{self, AuthMethodChanges, NewApiKey},
    authn,
    error::AppError,
};
use mayfly_domain::ItemName;
use secrecy::ExposeSecret;

fn name(s: &str) -> ItemName {
    ItemName::parse(s).unwrap()
}

/// Every capability on auth methods under `glob`, nothing else.
fn manager(glob: &str, auth_method_id: &str) -> Caller {
    Caller {
        access_id: "p-manager".into(),
        auth_method_id: mayfly_store::AuthMethodId::new(auth_method_id),
        identity: String::new(),
        claims: Default::default(),
        rules: vec![Rule {
            kind: ResourceKind::AuthMethod,
            path_glob: glob.into(),
            capabilities: vec![
                Capability::Create,
                Capability::Read,
                Capability::Update,
                Capability::Delete,
                Capability::List,
            ],
            deny: false,
        }],
        audit_access: AuditAccess::None,
    }
}

fn new_key(n: &str) -> NewApiKey {
    NewApiKey {
        name: name(n),
        description: String::new(),
        delete_protection: false,
    }
}

#[tokio::test]
async fn a_scoped_key_manages_only_its_auth_methods() {
    let state = state().await;
    let ci = manager("/ci/*", "am-manager");
    auth_methods::create(&state, &ci, new_key("/ci/deployer"))
        .await
        .unwrap();
    let admin = manager("/*", "am-admin");
    auth_methods::create(&state, &admin, new_key("/prod/root"))
        .await
        .unwrap();

    let err = auth_methods::create(&state, &ci, new_key("/prod/other"))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
    for result in [
        auth_methods::get(&state, &ci, &name("/prod/root"))
            .await
            .map(|_| ()),
        auth_methods::delete(&state, &ci, &name("/prod/root")).await,
        auth_methods::reset_key(&state, &ci, &name("/prod/root"))
            .await
            .map(|_| ()),
        auth_methods::update(
            &state,
            &ci,
            &name("/prod/root"),
            AuthMethodChanges {
                delete_protection: Some(false),
                ..Default::default()
            },
        )
        .await
        .map(|_| ()),
    ] {
        assert!(matches!(result, Err(AppError::Denied(_))), "{result:?}");
    }
    let listed: Vec<String> = auth_methods::list(&state, &ci, None)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.method.name)
        .collect();
    assert_eq!(
        listed,
        ["/ci/deployer"],
        "the other method is not even named"
    );
}

#[tokio::test]
async fn a_replaced_key_ends_the_old_key_and_its_tokens() {
    let state = state().await;
    let admin = manager("/*", "am-admin");
    let created = auth_methods::create(&state, &admin, new_key("/ci/deployer"))
        .await
        .unwrap();
    let old_key = created.access_key.expose_secret().to_owned();
    let token = authn::login_with_key(&state, &created.access_id, &old_key)
        .await
        .unwrap()
        .token;
    authn::resolve(&state, Some(token.expose_secret()))
        .await
        .unwrap();

    let (new_key, revoked) = auth_methods::reset_key(&state, &admin, &name("/ci/deployer"))
        .await
        .unwrap();
    assert_eq!(revoked, 1);
    assert!(authn::login_with_key(&state, &created.access_id, &old_key)
        .await
        .is_err());
    assert!(authn::resolve(&state, Some(token.expose_secret()))
        .await
        .is_err());
    authn::login_with_key(&state, &created.access_id, new_key.expose_secret())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_caller_cannot_delete_the_method_of_its_own_token() {
    let state = state().await;
    let admin = manager("/*", "am-admin");
    auth_methods::create(&state, &admin, new_key("/ci/deployer"))
        .await
        .unwrap();
    let method_id = auth_methods::get(&state, &admin, &name("/ci/deployer"))
        .await
        .unwrap()
        .method
        .id;
    let itself = manager("/*", method_id.as_str());
    let err = auth_methods::delete(&state, &itself, &name("/ci/deployer"))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    auth_methods::delete(&state, &admin, &name("/ci/deployer"))
        .await
        .unwrap();
}
