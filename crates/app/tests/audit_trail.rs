//! Who may read the audit trail, in the core, without HTTP: none, only its own events, or all.

mod common;

use common::state;
use mayfly_app::{
    access::{AuditAccess, Caller},
    audit_trail,
    error::AppError,
};
use mayfly_store::audit::{AuditQuery, NewAuditEvent};

fn caller(access_id: &str, audit_access: AuditAccess) -> Caller {
    Caller {
        access_id: access_id.into(),
        auth_method_id: mayfly_store::AuthMethodId::new(format!("am-{access_id}")),
        identity: String::new(),
        claims: Default::default(),
        rules: Vec::new(),
        audit_access,
    }
}

fn all_events() -> AuditQuery {
    AuditQuery {
        since: None,
        until: None,
        item: None,
        access_id: None,
        operation: None,
        outcome: None,
        after_id: None,
        limit: 1000,
        newest_first: false,
    }
}

#[tokio::test]
async fn readers_see_what_their_audit_access_allows() {
    let state = state().await;
    for who in ["p-alice", "p-bob"] {
        mayfly_store::audit::insert(
            state.db(),
            NewAuditEvent {
                identity: String::new(),
                at: 1,
                request_id: String::new(),
                access_id: who.into(),
                operation: "list-targets".into(),
                item: String::new(),
                outcome: "ok".into(),
                status: 200,
                client_address: "127.0.0.1".into(),
                detail: String::new(),
            },
        )
        .await
        .unwrap();
    }

    let err = audit_trail::reader(&caller("p-none", AuditAccess::None)).unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");

    let own = audit_trail::reader(&caller("p-alice", AuditAccess::Own)).unwrap();
    let err = own.scope_access_id(Some("p-bob".into())).unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
    // Asking for everything still gets only its own events.
    let rows = audit_trail::read(&state, &own, all_events()).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].access_id, "p-alice");
    let mut widened = all_events();
    widened.access_id = Some("p-bob".into());
    assert!(audit_trail::read(&state, &own, widened).await.is_err());

    let all = audit_trail::reader(&caller("p-admin", AuditAccess::All)).unwrap();
    assert_eq!(
        audit_trail::read(&state, &all, all_events())
            .await
            .unwrap()
            .len(),
        2
    );
}
