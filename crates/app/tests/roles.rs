//! Roles in the core, without HTTP: a key that may change only some roles cannot give rules
//! to others, cannot hand a role to an auth method it may not read, and does not learn which
//! association ids exist.

mod common;

use common::state;
use mayfly_app::{
    access::{AuditAccess, Caller, Capability, ResourceKind, Rule},
    auth_methods::{self, NewApiKey},
    error::AppError,
    roles::{self, NewRole, RuleSpec},
};
use mayfly_domain::ItemName;

fn name(s: &str) -> ItemName {
    ItemName::parse(s).unwrap()
}

fn caller(rules: Vec<(ResourceKind, &str)>) -> Caller {
    Caller {
        access_id: "p-caller".into(),
        auth_method_id: mayfly_store::AuthMethodId::new("am-caller"),
        identity: String::new(),
        claims: Default::default(),
        rules: rules
            .into_iter()
            .map(|(kind, glob)| Rule {
                kind,
                path_glob: glob.into(),
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

fn role(n: &str) -> NewRole {
    NewRole {
        name: name(n),
        description: String::new(),
        audit_access: AuditAccess::None,
        delete_protection: false,
    }
}

#[tokio::test]
async fn a_key_that_may_change_team_roles_cannot_reach_others() {
    let state = state().await;
    let admin = caller(vec![
        (ResourceKind::Role, "/*"),
        (ResourceKind::AuthMethod, "/*"),
    ]);
    roles::create(&state, &admin, role("/team/dev"))
        .await
        .unwrap();
    roles::create(&state, &admin, role("/admins"))
        .await
        .unwrap();
    auth_methods::create(
        &state,
        &admin,
        NewApiKey {
            name: name("/prod/root"),
            description: String::new(),
            delete_protection: false,
        },
    )
    .await
    .map(|_| ())
    .unwrap();

    let team = caller(vec![(ResourceKind::Role, "/team/*")]);
    let rule = RuleSpec {
        kind: ResourceKind::Item,
        path: "/*".into(),
        capabilities: vec!["read".into()],
    };
    roles::set_rule(&state, &team, &name("/team/dev"), &rule)
        .await
        .unwrap();
    let err = roles::set_rule(&state, &team, &name("/admins"), &rule)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
    // Its own role, but an auth method it may not read.
    let err = roles::associate(
        &state,
        &team,
        &name("/team/dev"),
        &name("/prod/root"),
        &Default::default(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
    // Unknown association ids: denied to it, not found only for who may change any role.
    let err = roles::delete_association(&state, &team, "ra-nonexistent")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
    let err = roles::delete_association(&state, &admin, "ra-nonexistent")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");

    let seen: Vec<String> = roles::list(&state, &team, None)
        .await
        .unwrap()
        .into_iter()
        .map(|v| v.role.name)
        .collect();
    assert_eq!(seen, ["/team/dev"]);
    let view = roles::get(&state, &team, &name("/team/dev")).await.unwrap();
    assert_eq!(view.rules.len(), 1);
    assert_eq!(view.rules[0].capabilities, "read");
}
