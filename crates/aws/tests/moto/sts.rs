//! STS credentials from moto, used for real.

use chrono::Utc;
use mayfly_aws::{AssumeRole, AwsError, CreateUser, FederationToken, StsApi};
use mayfly_testkit::moto::{MotoOptions, MotoServer, ADMIN_USER_NAME};
use secrecy::ExposeSecret;

use crate::helpers::{admin, connection, factory, moto, unique, ACCOUNT};

/// The role may list IAM users, nothing else.
const LIST_USERS_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}"#;

/// Asserts that the credentials expire `secs` from now (give or take moto's clock rounding).
fn assert_expires_in(expiration: chrono::DateTime<Utc>, secs: i64) {
    let left = (expiration - Utc::now()).num_seconds();
    assert!(
        (secs - 60..=secs + 5).contains(&left),
        "expires in {left} s, wanted about {secs} s"
    );
}

#[tokio::test]
async fn assumed_role_credentials_work_within_the_role_policy() {
    let moto = moto();
    let factory = factory();
    let admin_conn = admin(moto);
    let admin_iam = factory.iam(&admin_conn);
    let role = unique("reader-role");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:user/{ADMIN_USER_NAME}"}},"Action":["sts:AssumeRole","sts:TagSession"]}}]}}"#
    );
    let created = admin_iam
        .sdk_client()
        .create_role()
        .role_name(&role)
        .path("/mayfly-test/")
        .assume_role_policy_document(trust)
        .max_session_duration(43_200)
        .send()
        .await
        .expect("role");
    let role_arn = created.role().map(|r| r.arn().to_owned()).expect("arn");
    admin_iam
        .sdk_client()
        .put_role_policy()
        .role_name(&role)
        .policy_name("list-users")
        .policy_document(LIST_USERS_ONLY)
        .send()
        .await
        .expect("role policy");

    let sts = factory.sts(&admin_conn);
    let session = unique("mayfly-session");
    let creds = sts
        .assume_role(&AssumeRole {
            role_arn: role_arn.clone(),
            session_name: session.clone(),
            duration_secs: 900,
            external_id: Some("mayfly-external-id".into()),
            // Pretty-printed, with spaces: see `form_spaces` in the SDK module.
            policy: Some(
                "{ \"Version\": \"2012-10-17\", \"Statement\": [ { \"Effect\": \"Allow\", \
                 \"Action\": \"iam:ListUsers\", \"Resource\": \"*\" } ] }"
                    .into(),
            ),
            policy_arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            tags: vec![("team".into(), "platform one".into())],
            transitive_tag_keys: vec!["team".into()],
            source_identity: Some("ci-octo-org".into()),
        })
        .await
        .expect("assumed");
    assert!(!creds.session_token.expose_secret().is_empty());
    assert_expires_in(creds.expiration, 900);

    let as_role = factory.clients(&connection(
        moto,
        &creds.access_key_id,
        creds.secret_access_key.expose_secret(),
        Some(creds.session_token.expose_secret()),
    ));
    let me = as_role.sts.get_caller_identity().await.expect("works");
    assert_eq!(
        me.arn,
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}")
    );
    as_role
        .iam
        .list_users("/")
        .await
        .expect("allowed by the role");
    let denied = as_role
        .iam
        .create_user(&CreateUser {
            name: unique("escalation"),
            path: "/".into(),
            permissions_boundary: None,
            tags: Vec::new(),
        })
        .await
        .expect_err("denied");
    assert!(
        matches!(&denied, AwsError::AccessDenied { action, .. } if action == "iam:CreateUser"),
        "{denied:?}"
    );
    // A wrong session token is not accepted.
    let forged = factory.sts(&connection(
        moto,
        &creds.access_key_id,
        creds.secret_access_key.expose_secret(),
        Some("forged-token"),
    ));
    assert!(forged.get_caller_identity().await.is_err());
}

#[tokio::test]
async fn federation_and_session_tokens_carry_the_requested_lifetime() {
    let moto = moto();
    let factory = factory();
    let sts = factory.sts(&admin(moto));
    let federated = sts
        .get_federation_token(&FederationToken {
            name: "mayfly-fed".into(),
            duration_secs: 3600,
            policy: Some(LIST_USERS_ONLY.into()),
            policy_arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
            tags: vec![("team".into(), "platform".into())],
        })
        .await
        .expect("federation token");
    assert_expires_in(federated.expiration, 3600);
    assert!(!federated.session_token.expose_secret().is_empty());

    let session = sts.get_session_token(900).await.expect("session token");
    assert_expires_in(session.expiration, 900);
    // (moto answers both with the same fixed example key, so uniqueness is not checked here.)
    assert!(!session.secret_access_key.expose_secret().is_empty());
}

#[tokio::test]
async fn federation_and_session_credentials_sign_requests() {
    // moto's auth enforcement only knows IAM users' keys and assumed roles: it rejects the
    // credentials of GetFederationToken and GetSessionToken. A moto without enforcement still
    // proves that they are complete and sign a request (the SDK needs all three parts).
    let moto = MotoServer::spawn(MotoOptions::default());
    let factory = factory();
    let (id, secret) = moto.admin();
    let sts = factory.sts(&connection(&moto, &id, &secret, None));
    for creds in [
        sts.get_federation_token(&FederationToken {
            name: "mayfly-fed".into(),
            duration_secs: 900,
            ..FederationToken::default()
        })
        .await
        .expect("federation token"),
        sts.get_session_token(900).await.expect("session token"),
    ] {
        let with_creds = factory.sts(&connection(
            &moto,
            &creds.access_key_id,
            creds.secret_access_key.expose_secret(),
            Some(creds.session_token.expose_secret()),
        ));
        let me = with_creds
            .get_caller_identity()
            .await
            .expect("signed request");
        assert_eq!(me.account, ACCOUNT);
    }
}

/// The calls that keep a role's revocation policy (issue #14): a document put is read back as
/// written (IAM answers it URL-encoded), a missing one reads as none, deleting twice is fine.
#[tokio::test]
async fn a_roles_inline_policy_is_put_read_back_and_deleted() {
    use mayfly_aws::IamApi;
    use mayfly_domain::sts_revocation::{Rendered, RevocationPolicy, POLICY_NAME};
    let moto = moto();
    let factory = factory();
    let admin_iam = factory.iam(&admin(moto));
    let role = unique("revocable-role");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    admin_iam
        .sdk_client()
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("role");
    assert_eq!(
        admin_iam.get_role_policy(&role, POLICY_NAME).await.unwrap(),
        None
    );

    let mut policy = RevocationPolicy::parse(None).unwrap();
    policy.revoke_session("mayfly-tc-abc+d=e,f.g@h-i", 4_000_000_000);
    let Rendered::Document { json, merged } = policy.render("2026-11-29T05:00:00Z") else {
        panic!("a document")
    };
    assert!(!merged);
    admin_iam
        .put_role_policy(&role, POLICY_NAME, &json)
        .await
        .expect("put");
    let stored = admin_iam
        .get_role_policy(&role, POLICY_NAME)
        .await
        .unwrap()
        .expect("stored");
    let as_json = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
    assert_eq!(as_json(&stored), as_json(&json));
    assert_eq!(RevocationPolicy::parse(Some(&stored)).unwrap(), policy);

    admin_iam
        .delete_role_policy(&role, POLICY_NAME)
        .await
        .unwrap();
    assert_eq!(
        admin_iam.get_role_policy(&role, POLICY_NAME).await.unwrap(),
        None
    );
    admin_iam
        .delete_role_policy(&role, POLICY_NAME)
        .await
        .unwrap();
}
