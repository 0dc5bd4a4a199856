//! A core with SQLite in memory, AWS fakes, a target `/aws` and dynamic secrets `/team/p` and
//! `/other/p`, for the core's tests.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::{sync::Arc, time::Duration};

use mayfly_app::{
    audit::Auditor,
    aws_source::FixedSource,
    state::{AppState, Settings},
};
use mayfly_aws::{
    fake::{FakeIam, FakeSts},
    AwsClients,
};
use mayfly_crypto::{KeyRing, MasterKey};
use mayfly_domain::{OutboundPolicy, UserPath};
use mayfly_store::{
    producers::{self, NewProducer},
    targets::{self, NewTarget},
};

pub async fn state() -> AppState {
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
            access: String::new(),
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
    let settings = settings();
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

/// The core's settings with the gateway's defaults, no caching.
pub fn settings() -> Settings {
    Settings {
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
        cloud_identity_targets: Vec::new(),
        federation_endpoint: None,
        auth_method_max_live: None,
        auth_method_max_rate: None,
    }
}

/// A caller with every capability on every item and target.
pub fn admin_caller(access_id: &str) -> mayfly_app::access::Caller {
    use mayfly_app::access as authz;
    authz::Caller {
        access_id: access_id.into(),
        auth_method_id: mayfly_store::AuthMethodId::new("am"),
        identity: String::new(),
        claims: Default::default(),
        rules: [authz::ResourceKind::Item, authz::ResourceKind::Target]
            .into_iter()
            .map(|kind| authz::Rule {
                kind,
                path_glob: "/*".into(),
                capabilities: authz::ALL_CAPABILITIES.to_vec(),
                deny: false,
            })
            .collect(),
        audit_access: authz::AuditAccess::All,
    }
}

/// Creates the keyed target `/aws` in `region` through the core, as `caller`.
pub async fn create_aws_target(
    state: &AppState,
    caller: &mayfly_app::access::Caller,
    region: &str,
) {
    use mayfly_app::targets::{self, AwsCredentials, CreateTarget};
    targets::create(
        state,
        caller,
        CreateTarget {
            name: mayfly_domain::ItemName::parse("/aws").unwrap(),
            credentials: Some(AwsCredentials {
                access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
                secret_access_key: "s".into(),
                session_token: None,
            }),
            access: Default::default(),
            region: region.into(),
            description: String::new(),
            delete_protection: false,
            iam_endpoint: None,
            sts_endpoint: None,
            rotation_days: None,
        },
    )
    .await
    .unwrap();
}

/// Creates the dynamic secret `draft` describes on the target `/aws`, as `caller`.
pub async fn create_producer_on_aws(
    state: &AppState,
    caller: &mayfly_app::access::Caller,
    draft: &mayfly_domain::ProducerDraft,
) {
    use mayfly_app::dynamic_secrets::{self, AdminRotation, ProducerInput, TargetChoice};
    let (name, spec) = mayfly_domain::ProducerSpec::parse(draft).unwrap();
    dynamic_secrets::create(
        state,
        caller,
        ProducerInput {
            name,
            spec,
            target: TargetChoice::Named(mayfly_domain::ItemName::parse("/aws").unwrap()),
            admin_rotation: AdminRotation::default(),
        },
    )
    .await
    .unwrap();
}
