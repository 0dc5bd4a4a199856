//! Dynamic secrets in the core, without HTTP: `update` on a dynamic secret does not lend the
//! power of its target. Changing what it grants needs `use` on the target; its description
//! needs item `update` only.

mod common;

use common::state;
use mayfly_app::{
    access::{AuditAccess, Caller, Capability, ResourceKind, Rule},
    dynamic_secrets::{self, AdminRotation, ProducerInput, TargetChoice},
    error::AppError,
};
use mayfly_domain::{ItemName, ProducerDraft, ProducerSpec};

fn name(s: &str) -> ItemName {
    ItemName::parse(s).unwrap()
}

fn input(policy: &str, description: &str) -> ProducerInput {
    let (name, spec) = ProducerSpec::parse(&ProducerDraft {
        name: Some("/team/reader".into()),
        user_policies: Some(policy.into()),
        description: Some(description.into()),
        ..Default::default()
    })
    .unwrap();
    ProducerInput {
        name,
        spec,
        target: TargetChoice::Named(ItemName::parse("/aws").unwrap()),
        admin_rotation: AdminRotation::default(),
    }
}

fn caller(rules: Vec<(ResourceKind, &str, Vec<Capability>)>) -> Caller {
    Caller {
        access_id: "p-caller".into(),
        auth_method_id: mayfly_store::AuthMethodId::new("am-caller"),
        identity: String::new(),
        claims: Default::default(),
        rules: rules
            .into_iter()
            .map(|(kind, glob, capabilities)| Rule {
                kind,
                path_glob: glob.into(),
                capabilities,
                deny: false,
            })
            .collect(),
        audit_access: AuditAccess::None,
    }
}

#[tokio::test]
async fn item_update_does_not_lend_the_targets_power() {
    let state = state().await;
    let all = vec![
        Capability::Create,
        Capability::Read,
        Capability::Update,
        Capability::Delete,
        Capability::List,
    ];
    let admin = caller(vec![
        (ResourceKind::Item, "/*", all.clone()),
        (ResourceKind::Target, "/*", all.clone()),
    ]);
    let reader_policy = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    dynamic_secrets::create(&state, &admin, input(reader_policy, "reads"))
        .await
        .unwrap();

    // Item rights on /team, none on the target /aws.
    let team = caller(vec![(ResourceKind::Item, "/team/*", all)]);
    let grant = dynamic_secrets::authorize_update(&team, &name("/team/reader")).unwrap();
    let err = dynamic_secrets::update(
        &state,
        &team,
        grant,
        input("arn:aws:iam::aws:policy/AdministratorAccess", "reads"),
        false,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
    assert!(
        !err.to_string().contains("/aws"),
        "the target it may not list is not named: {err}"
    );
    let grant = dynamic_secrets::authorize_update(&team, &name("/team/reader")).unwrap();
    let updated = dynamic_secrets::update(
        &state,
        &team,
        grant,
        input(reader_policy, "reads S3"),
        false,
    )
    .await
    .unwrap();
    assert_eq!(updated.spec.description(), Some("reads S3"));
    assert_eq!(
        updated.spec.policies()[0].as_str(),
        reader_policy,
        "what it grants did not change"
    );
    // And it cannot build a new one on the target.
    let err = dynamic_secrets::create(&state, &team, input(reader_policy, "x"))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
}
