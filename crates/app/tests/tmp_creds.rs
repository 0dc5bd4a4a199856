//! The core's tmp-creds operations without HTTP or JSON: a scoped caller reaches only what
//! its rules allow, and a dynamic secret granted for one capability cannot be used for
//! another (the type a front door gets back from `authorize` carries the capability).

mod common;

use common::state;
use mayfly_app::{
    access::{AuditAccess, Caller, Capability, ResourceKind, Rule},
    error::AppError,
    tmp_creds,
};
use mayfly_domain::ItemName;

/// May read the credentials of dynamic secrets under /team, nothing else.
fn reader() -> Caller {
    Caller {
        access_id: "p-reader".into(),
        auth_method_id: mayfly_store::AuthMethodId::new("am-reader"),
        identity: String::new(),
        claims: Default::default(),
        rules: vec![Rule {
            kind: ResourceKind::Item,
            path_glob: "/team/*".into(),
            capabilities: vec![Capability::Read],
            deny: false,
        }],
        audit_access: AuditAccess::None,
    }
}

fn name(s: &str) -> ItemName {
    ItemName::parse(s).unwrap()
}

#[tokio::test]
async fn a_scoped_caller_reaches_only_what_its_rules_allow() {
    let state = state().await;
    let caller = reader();
    let granted = tmp_creds::authorize(&state, &caller, &name("/team/p"), Capability::Read)
        .await
        .unwrap();
    assert!(tmp_creds::list(&state, &granted).await.unwrap().is_empty());

    for (path, capability) in [
        ("/team/p", Capability::Delete),
        ("/team/p", Capability::Update),
        ("/other/p", Capability::Read),
    ] {
        let err = tmp_creds::authorize(&state, &caller, &name(path), capability)
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Denied(_)), "{path}: {err:?}");
    }
    // Allowed but absent: not found (only after the rules allowed the name).
    let err = tmp_creds::authorize(&state, &caller, &name("/team/missing"), Capability::Read)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_grant_for_reading_cannot_revoke_or_re_time() {
    let state = state().await;
    let granted = tmp_creds::authorize(&state, &reader(), &name("/team/p"), Capability::Read)
        .await
        .unwrap();
    let err = tmp_creds::revoke_all(&state, &granted).await.unwrap_err();
    assert!(matches!(err, AppError::Internal(_)), "{err:?}");
    let err = tmp_creds::revoke_by_id(&state, &granted, &mayfly_store::LeaseId::new("tc-x"))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Internal(_)), "{err:?}");
    let err = tmp_creds::set_ttl(&state, &granted, &mayfly_store::LeaseId::new("tc-x"), 5)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Internal(_)), "{err:?}");
}
