//! Helpers for tests that issue real credentials against moto.

use std::sync::OnceLock;

use mayfly_aws::{AwsClients, AwsConnection, AwsFactory};
use mayfly_testkit::{moto::MotoServer, TestGateway};
use secrecy::SecretString;
use serde_json::{json, Value};

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// AWS clients on `moto` with the given keys.
pub fn clients(
    moto: &MotoServer,
    key_id: &str,
    secret: &str,
    session_token: Option<&str>,
) -> AwsClients {
    static FACTORY: OnceLock<AwsFactory> = OnceLock::new();
    let factory = FACTORY.get_or_init(AwsFactory::from_env);
    let _guard = runtime().enter();
    factory.clients(&AwsConnection {
        credentials: mayfly_aws::ConnectionCredentials::Keys {
            access_key_id: key_id.to_owned(),
            secret_access_key: SecretString::from(secret.to_owned()),
            session_token: session_token.map(|t| SecretString::from(t.to_owned())),
        },
        region: "us-east-1".into(),
        iam_endpoint: Some(moto.url().to_owned()),
        sts_endpoint: Some(moto.url().to_owned()),
    })
}

pub fn admin_clients(moto: &MotoServer) -> AwsClients {
    let (id, secret) = moto.admin();
    clients(moto, &id, &secret, None)
}

/// A unique IAM path per test, so tests sharing one moto never see each other's users.
pub fn unique_path() -> String {
    format!("/mayfly-{}/", uuid::Uuid::new_v4().simple())
}

/// Creates target `/aws` on `gw` with moto's admin keys and endpoints.
pub fn create_moto_target(gw: &TestGateway, moto: &MotoServer) {
    let (id, secret) = moto.admin();
    let (status, body) = gw.post_authed(
        "/create-aws-target",
        json!({"name": "/aws", "access-key-id": id, "access-key": secret, "region": "us-east-1",
               "iam-endpoint": moto.url(), "sts-endpoint": moto.url()}),
    );
    assert_eq!(status, 200, "{body}");
}

/// Names of the IAM users under `path`, as the admin sees them.
pub fn users_under(moto: &MotoServer, path: &str) -> Vec<String> {
    let admin = admin_clients(moto);
    let mut names: Vec<String> = block_on(admin.iam.list_users(path))
        .expect("list users")
        .into_iter()
        .map(|u| u.name)
        .collect();
    names.sort();
    names
}

/// Waits until no IAM user is left under `path`: bulk revocations (revoke-all, deleting a
/// producer or a target) answer at once and the revoker ends the users right after. Panics
/// with the users still there after `within`.
pub fn wait_until_no_users(moto: &MotoServer, path: &str, within: std::time::Duration) {
    let deadline = std::time::Instant::now() + within;
    loop {
        let left = users_under(moto, path);
        if left.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} users still under {path} after {within:?}: {left:?}",
            left.len()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Whether these keys authenticate (STS GetCallerIdentity), and as whom.
pub fn caller_arn(moto: &MotoServer, value: &Value) -> Option<String> {
    let c = clients(
        moto,
        value["access_key_id"].as_str().unwrap(),
        value["secret_access_key"].as_str().unwrap(),
        value["security_token"].as_str(),
    );
    block_on(c.sts.get_caller_identity()).ok().map(|i| i.arn)
}

/// Creates IAM role `name` in moto that the admin may assume; returns its ARN.
pub fn create_role(moto: &MotoServer, name: &str, inline_policy: &str) -> String {
    static FACTORY: OnceLock<AwsFactory> = OnceLock::new();
    let factory = FACTORY.get_or_init(AwsFactory::from_env);
    let (id, secret) = moto.admin();
    let _guard = runtime().enter();
    let conn = AwsConnection {
        credentials: mayfly_aws::ConnectionCredentials::Keys {
            access_key_id: id,
            secret_access_key: SecretString::from(secret),
            session_token: None,
        },
        region: "us-east-1".into(),
        iam_endpoint: Some(moto.url().to_owned()),
        sts_endpoint: Some(moto.url().to_owned()),
    };
    let sdk = factory.iam(&conn);
    let iam = sdk.sdk_client();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let role = block_on(
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(trust)
            .send(),
    )
    .expect("create role");
    block_on(
        iam.put_role_policy()
            .role_name(name)
            .policy_name("access")
            .policy_document(inline_policy)
            .send(),
    )
    .expect("put role policy");
    role.role().map(|r| r.arn().to_owned()).expect("role arn")
}
