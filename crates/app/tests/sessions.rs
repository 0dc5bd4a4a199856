//! Revocable STS credentials (issue #14 item 1) against the in-memory fakes: unique session
//! names, the deny statements put on the role or the issuing user, revoke-all narrowed to one
//! producer, pruning once every covered credential has expired, and errors that name the
//! missing permission. The same flow runs against moto in the gateway's API tests.

use std::sync::Arc;

use mayfly_app::{
    access::{self as authz, Caller, Capability, ResourceKind},
    aws_source::FixedSource,
    error::AppError,
    leases::{issue, sessions},
    state::AppState,
    tmp_creds,
};
use mayfly_aws::{
    api::CreateUser,
    fake::{FakeIam, FakeSts},
    ops, AwsClients, AwsError, IamApi,
};
use mayfly_crypto::{KeyRing, MasterKey};
use mayfly_domain::{sts_revocation::POLICY_NAME, ItemName, ProducerDraft};
use mayfly_store::{
    leases::{self, LeaseState},
    LeaseId,
};
use serde_json::Value;

mod common;

const ROLE: &str = "arn:aws:iam::123456789012:role/app";

struct Fixture {
    state: AppState,
    iam: Arc<FakeIam>,
    sts: Arc<FakeSts>,
    admin: Caller,
}

fn caller(access_id: &str, rules: Vec<authz::Rule>) -> Caller {
    Caller {
        access_id: access_id.into(),
        auth_method_id: mayfly_store::AuthMethodId::new("am"),
        identity: String::new(),
        claims: Default::default(),
        rules,
        audit_access: authz::AuditAccess::All,
    }
}

fn rule(kind: ResourceKind, glob: &str, caps: &[Capability]) -> authz::Rule {
    authz::Rule {
        kind,
        path_glob: glob.into(),
        capabilities: caps.to_vec(),
        deny: false,
    }
}

async fn fixture() -> Fixture {
    let db = mayfly_store::connect("sqlite::memory:", 1).await.unwrap();
    let iam = Arc::new(FakeIam::new());
    let sts = Arc::new(FakeSts::new());
    let aws = Arc::new(FixedSource(AwsClients {
        iam: iam.clone(),
        sts: sts.clone(),
    }));
    let keys = KeyRing::single(MasterKey::generate("k1").unwrap());
    let auditor = mayfly_app::audit::Auditor::from_env().unwrap();
    let state = AppState::new(
        db,
        keys,
        aws,
        "cluster-1".into(),
        &common::settings(),
        auditor,
    );
    let admin = common::admin_caller("p-admin");
    common::create_aws_target(&state, &admin, "us-east-1").await;
    // The target's own IAM user (what GetCallerIdentity names) exists in the fake.
    iam.create_user(&CreateUser {
        name: "mayfly-target".into(),
        path: "/".into(),
        permissions_boundary: None,
        tags: Vec::new(),
    })
    .await
    .unwrap();
    Fixture {
        state,
        iam,
        sts,
        admin,
    }
}

impl Fixture {
    async fn producer(&self, name: &str, mode: &str, extra: ProducerDraft) {
        let draft = ProducerDraft {
            name: Some(name.into()),
            access_mode: Some(mode.into()),
            role_arns: (mode == "assume_role").then(|| ROLE.to_owned()),
            ..extra
        };
        common::create_producer_on_aws(&self.state, &self.admin, &draft).await;
    }

    async fn issue(&self, name: &str) -> LeaseId {
        let value = issue::get_value(
            &self.state,
            issue::Requester {
                caller: self.admin.clone(),
                client_address: "127.0.0.1".into(),
            },
            issue::GetValue {
                name: ItemName::parse(name).unwrap(),
                args: Vec::new(),
                timeout: None,
            },
        )
        .await
        .unwrap();
        LeaseId::new(value["id"].clone())
    }

    async fn lease(&self, id: &LeaseId) -> leases::Lease {
        leases::find(self.state.db(), id).await.unwrap().unwrap()
    }

    async fn granted(&self, who: &Caller, name: &str) -> Result<tmp_creds::Granted, AppError> {
        tmp_creds::authorize(
            &self.state,
            who,
            &ItemName::parse(name).unwrap(),
            Capability::Delete,
        )
        .await
    }

    async fn role_policy(&self) -> Option<Value> {
        self.iam
            .get_role_policy("app", POLICY_NAME)
            .await
            .unwrap()
            .map(|d| serde_json::from_str(&d).unwrap())
    }

    async fn user_policy(&self) -> Option<Value> {
        self.iam
            .get_user_policy("mayfly-target", POLICY_NAME)
            .await
            .unwrap()
            .map(|d| serde_json::from_str(&d).unwrap())
    }
}

fn statements(doc: &Value) -> Vec<Value> {
    doc["Statement"].as_array().cloned().unwrap_or_default()
}

/// Far past every credential's expiry (and the denials' margin).
fn later() -> i64 {
    mayfly_store::now_millis() + 2 * 24 * 3600 * 1000
}

#[tokio::test]
async fn revoking_one_assume_role_credential_denies_exactly_its_session_until_it_expires() {
    let f = fixture().await;
    f.producer("/r", "assume_role", ProducerDraft::default())
        .await;
    // Someone else's statement on the same policy must survive every change.
    f.iam
        .put_role_policy(
            "app",
            POLICY_NAME,
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#,
        )
        .await
        .unwrap();
    let ids = [
        f.issue("/r").await,
        f.issue("/r").await,
        f.issue("/r").await,
    ];
    let names: Vec<String> = f
        .sts
        .assume_role_requests()
        .iter()
        .map(|r| r.session_name.clone())
        .collect();
    for (id, name) in ids.iter().zip(&names) {
        assert!(name.len() <= 64, "{name}");
        assert!(name.ends_with(id.as_str()), "{name} carries lease {id}");
        let lease = f.lease(id).await;
        assert_eq!(lease.session_name.as_deref(), Some(name.as_str()));
        assert_eq!(lease.role_arn.as_deref(), Some(ROLE));
    }

    let g = f.granted(&f.admin, "/r").await.unwrap();
    tmp_creds::revoke_by_id(&f.state, &g, &ids[1])
        .await
        .unwrap();
    let doc = f.role_policy().await.expect("the revocation policy");
    let sts = statements(&doc);
    assert_eq!(sts.len(), 2, "{doc}");
    assert_eq!(sts[0]["Sid"], "Theirs");
    assert_eq!(sts[1]["Effect"], "Deny");
    assert_eq!(sts[1]["Action"], "*");
    assert_eq!(
        sts[1]["Condition"]["StringLike"]["aws:userid"],
        format!("*:{}", names[1])
    );
    assert_eq!(f.lease(&ids[1]).await.state, LeaseState::Revoked);
    assert_eq!(f.lease(&ids[0]).await.state, LeaseState::Active);
    // Revoking it again is a success and changes nothing.
    tmp_creds::revoke_by_id(&f.state, &g, &ids[1])
        .await
        .unwrap();
    assert_eq!(statements(&f.role_policy().await.unwrap()).len(), 2);

    // Before expiry, pruning keeps it; after, it goes and the foreign statement stays.
    sessions::prune_expired_at(&f.state, mayfly_store::now_millis()).await;
    assert_eq!(statements(&f.role_policy().await.unwrap()).len(), 2);
    sessions::prune_expired_at(&f.state, later()).await;
    let doc = f.role_policy().await.expect("their statement stays");
    assert_eq!(statements(&doc).len(), 1);
    assert_eq!(statements(&doc)[0]["Sid"], "Theirs");
    assert!(
        mayfly_store::session_denials::find(f.state.db(), f.lease(&ids[0]).await.target_id, ROLE)
            .await
            .unwrap()
            .is_none(),
        "nothing left to prune"
    );
}

#[tokio::test]
async fn revoke_all_denies_by_issue_time_only_this_producers_sessions() {
    let f = fixture().await;
    f.producer("/r", "assume_role", ProducerDraft::default())
        .await;
    f.producer("/other", "assume_role", ProducerDraft::default())
        .await;
    let mine = [f.issue("/r").await, f.issue("/r").await];
    let theirs = f.issue("/other").await;
    let r = f.lease(&mine[0]).await.producer_id;

    let g = f.granted(&f.admin, "/r").await.unwrap();
    assert_eq!(tmp_creds::revoke_all(&f.state, &g).await.unwrap(), 2);
    let doc = f.role_policy().await.unwrap();
    let sts = statements(&doc);
    assert_eq!(sts.len(), 1, "{doc}");
    assert!(sts[0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert_eq!(
        sts[0]["Condition"]["StringLike"]["aws:userid"],
        format!(
            "*:*{}*",
            mayfly_domain::sts_revocation::producer_marker(r.get())
        )
    );
    for id in &mine {
        assert_eq!(f.lease(id).await.state, LeaseState::Revoked);
    }
    let other = f.lease(&theirs).await;
    assert_eq!(other.state, LeaseState::Active);
    assert!(
        !other
            .session_name
            .unwrap()
            .contains(&mayfly_domain::sts_revocation::producer_marker(r.get())),
        "the other producer's session is outside the deny"
    );
    // Nothing live: revoke-all does nothing more.
    assert_eq!(tmp_creds::revoke_all(&f.state, &g).await.unwrap(), 0);
    sessions::prune_expired_at(&f.state, later()).await;
    assert!(
        f.role_policy().await.is_none(),
        "the policy goes with its last statement"
    );
}

#[tokio::test]
async fn federation_tokens_are_denied_on_the_issuing_user_and_session_tokens_all_at_once() {
    let f = fixture().await;
    f.producer("/fed", "federation_token", ProducerDraft::default())
        .await;
    f.producer("/st", "session_token", ProducerDraft::default())
        .await;
    let fed = [f.issue("/fed").await, f.issue("/fed").await];
    let name = f.lease(&fed[0]).await.session_name.unwrap();
    assert!(name.len() <= 32, "{name}");
    assert_eq!(f.sts.federation_token_requests()[0].name, name);

    let g = f.granted(&f.admin, "/fed").await.unwrap();
    tmp_creds::revoke_by_id(&f.state, &g, &fed[0])
        .await
        .unwrap();
    let doc = f.user_policy().await.expect("on the target's user");
    assert_eq!(
        statements(&doc)[0]["Condition"]["StringLike"]["aws:userid"],
        format!("*:{name}")
    );

    let st = f.issue("/st").await;
    let g = f.granted(&f.admin, "/st").await.unwrap();
    let err = tmp_creds::revoke_by_id(&f.state, &g, &st)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)), "{err:?}");
    assert!(err.to_string().contains("revoke-all"), "{err}");
    assert_eq!(tmp_creds::revoke_all(&f.state, &g).await.unwrap(), 1);
    let doc = f.user_policy().await.unwrap();
    let unscoped = statements(&doc)
        .into_iter()
        .find(|s| s["Condition"]["StringLike"].is_null())
        .expect("an issue-time deny for every session token");
    assert!(unscoped["Condition"]["DateLessThan"]["aws:TokenIssueTime"].is_string());
    assert_eq!(f.lease(&st).await.state, LeaseState::Revoked);
    assert_eq!(
        f.lease(&fed[1]).await.state,
        LeaseState::Active,
        "federation tokens have names: the session-token deny is not theirs to mark"
    );
}

#[tokio::test]
async fn a_key_that_may_revoke_one_producer_cannot_cut_every_session_token_of_the_target() {
    let f = fixture().await;
    f.producer("/st", "session_token", ProducerDraft::default())
        .await;
    f.issue("/st").await;
    let scoped = caller(
        "p-scoped",
        vec![rule(
            ResourceKind::Item,
            "/st",
            &[Capability::Read, Capability::Delete],
        )],
    );
    let g = f.granted(&scoped, "/st").await.unwrap();
    let err = tmp_creds::revoke_all(&f.state, &g).await.unwrap_err();
    assert!(matches!(err, AppError::Denied(_)), "{err:?}");
    assert!(err.to_string().contains("use on the target"), "{err}");
    assert!(f.user_policy().await.is_none(), "nothing was written");
}

#[tokio::test]
async fn without_the_iam_permission_the_error_names_it_and_nothing_changes() {
    let f = fixture().await;
    f.producer("/r", "assume_role", ProducerDraft::default())
        .await;
    let id = f.issue("/r").await;
    f.iam.fail_always(
        ops::PUT_ROLE_POLICY,
        AwsError::AccessDenied {
            action: ops::PUT_ROLE_POLICY.into(),
            message: "not authorized".into(),
        },
    );
    let g = f.granted(&f.admin, "/r").await.unwrap();
    let err = tmp_creds::revoke_by_id(&f.state, &g, &id)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("iam:PutRolePolicy"), "{text}");
    assert!(text.contains(ROLE), "{text}");
    assert_eq!(f.lease(&id).await.state, LeaseState::Active);
    // The lock was released: once allowed, the same revoke goes through.
    f.iam.clear_faults();
    tmp_creds::revoke_by_id(&f.state, &g, &id).await.unwrap();
    assert_eq!(f.lease(&id).await.state, LeaseState::Revoked);
}

#[tokio::test]
async fn producers_without_session_revocation_say_how_to_turn_it_on() {
    let f = fixture().await;
    f.producer(
        "/r",
        "assume_role",
        ProducerDraft {
            session_revocation: Some("false".into()),
            ..Default::default()
        },
    )
    .await;
    let id = f.issue("/r").await;
    assert!(f.lease(&id).await.session_name.is_none());
    assert!(!f.sts.assume_role_requests()[0]
        .session_name
        .contains(id.as_str()));
    let g = f.granted(&f.admin, "/r").await.unwrap();
    let err = tmp_creds::revoke_all(&f.state, &g).await.unwrap_err();
    assert!(err.to_string().contains("session-revocation"), "{err}");
    let err = tmp_creds::revoke_by_id(&f.state, &g, &id)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("session-revocation"), "{err}");
}
