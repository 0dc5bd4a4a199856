//! Targets in the core, without HTTP: `use` builds on a target without revealing it, and an
//! endpoint (where the credentials are sent) needs the right that reveals them.

mod common;

use common::state;
use mayfly_app::{
    access::{AuditAccess, Caller, Capability, ResourceKind, Rule},
    error::AppError,
    targets::{self, AwsCredentials, CreateTarget},
};
use mayfly_domain::ItemName;
use secrecy::ExposeSecret;

fn name(s: &str) -> ItemName {
    ItemName::parse(s).unwrap()
}

fn caller(capabilities: Vec<Capability>) -> Caller {
    Caller {
        access_id: "p-caller".into(),
        auth_method_id: mayfly_store::AuthMethodId::new("am-caller"),
        identity: String::new(),
        claims: Default::default(),
        rules: vec![Rule {
            kind: ResourceKind::Target,
            path_glob: "/team/*".into(),
            capabilities,
            deny: false,
        }],
        audit_access: AuditAccess::None,
    }
}

fn new_target(n: &str, endpoint: Option<&str>) -> CreateTarget {
    CreateTarget {
        name: name(n),
        credentials: Some(AwsCredentials {
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret_access_key: "secret/KnownValue+1".into(),
            session_token: None,
        }),
        access: Default::default(),
        region: "us-east-1".into(),
        description: String::new(),
        delete_protection: false,
        iam_endpoint: endpoint.map(str::to_owned),
        sts_endpoint: None,
        rotation_days: None,
    }
}

#[tokio::test]
async fn use_does_not_reveal_and_endpoints_need_read() {
    let state = state().await;
    let creator = caller(vec![Capability::Create, Capability::Use, Capability::List]);
    let err = targets::create(
        &state,
        &creator,
        new_target("/team/aws", Some("https://iam.amazonaws.com")),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
    targets::create(&state, &creator, new_target("/team/aws", None))
        .await
        .unwrap();
    let err = targets::read_secret(&state, &creator, &name("/team/aws"))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");

    let reader = caller(vec![Capability::Read]);
    let (_, _, creds) = targets::read_secret(&state, &reader, &name("/team/aws"))
        .await
        .unwrap();
    assert_eq!(
        creds
            .expect("a keyed target")
            .secret_access_key
            .expose_secret(),
        "secret/KnownValue+1"
    );
    let err = targets::read_secret(&state, &reader, &name("/aws"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Denied(_)),
        "outside its rules: {err:?}"
    );
    let listed: Vec<String> = targets::list(&state, &creator, None)
        .await
        .unwrap()
        .into_iter()
        .map(|(t, _)| t.name)
        .collect();
    assert_eq!(listed, ["/team/aws"], "the fixture's /aws is not listed");
}
