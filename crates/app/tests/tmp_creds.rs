//! The core's tmp-creds operations without HTTP or JSON: a scoped caller reaches only what
//! its rules allow, and a dynamic secret granted for one capability cannot be used for
//! another (the type a front door gets back from `authorize` carries the capability).

use std::{sync::Arc, time::Duration};

use mayfly_app::{
    access::{AuditAccess, Caller, Capability, ResourceKind, Rule},
    audit::Auditor,
    aws_source::FixedSource,
    error::AppError,
    state::{AppState, Settings},
    tmp_creds,
};
use mayfly_aws::{
    fake::{FakeIam, FakeSts},
    AwsClients,
};
use mayfly_crypto::{KeyRing, MasterKey};
use mayfly_domain::{ItemName, OutboundPolicy, UserPath};
use mayfly_store::{
    producers::{self, NewProducer},
    targets::{self, NewTarget},
};

async fn state() -> AppState {
    let db = mayfly_store::connect("sqlite::memory:", 1).await.unwrap();
    let target = targets::insert(
        &db,
        NewTarget {
            uid: "uid-1".into(),
            name: "/aws".into(),
            description: String::new(),
            region: "us-east-1".into(),
            iam_endpoint: None,
            sts_endpoint: None,
            sealed_credentials: "v1.k1.sealed".into(),
            is_private: false,
            delete_protection: false,
        },
        1,
    )
    .await
    .unwrap();
    for name in ["/team/p", "/other/p"] {
        producers::insert(
            &db,
            NewProducer {
                name: name.into(),
                target_id: target.id,
                access_mode: "iam_user".into(),
                spec: "{}".into(),
            },
            1,
        )
        .await
        .unwrap();
    }
    let settings = Settings {
        token_ttl: Duration::from_secs(3600),
        max_body_bytes: 1 << 20,
        request_timeout: Duration::from_secs(60),
        iam_user_path: UserPath::parse("/mayfly/").unwrap(),
        revoke_interval: Duration::from_secs(1),
        reconcile_interval: Duration::from_secs(300),
        reconcile_min_age: Duration::from_secs(120),
        cache_ttl: Duration::ZERO,
        outbound: OutboundPolicy::default(),
        shutdown_grace: Duration::from_secs(20),
        audit_retention: None,
        lease_retention: None,
        housekeeping_interval: Duration::from_secs(300),
        admin_rotation_check_interval: Duration::from_secs(600),
    };
    AppState::new(
        db,
        KeyRing::single(MasterKey::generate("k1").unwrap()),
        Arc::new(FixedSource(AwsClients {
            iam: Arc::new(FakeIam::new()),
            sts: Arc::new(FakeSts::new()),
        })),
        "cluster-1".into(),
        &settings,
        Auditor::from_env().unwrap(),
    )
}

/// May read the credentials of dynamic secrets under /team, nothing else.
fn reader() -> Caller {
    Caller {
        access_id: "p-reader".into(),
        auth_method_id: "am-reader".into(),
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
    let err = tmp_creds::revoke_by_id(&state, &granted, "tc-x")
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Internal(_)), "{err:?}");
    let err = tmp_creds::set_ttl(&state, &granted, "tc-x", 5)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Internal(_)), "{err:?}");
}
