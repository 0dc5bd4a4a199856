//! moto as the tests see it: the admin's view of IAM, whether issued keys authenticate, and
//! roles to assume. Everything goes through `mayfly-aws` (the gateway's own AWS layer) on the
//! auth-enforcing [`MotoServer::shared`], so "rejected" really means rejected.

use std::sync::OnceLock;

use mayfly_aws::{AwsClients, AwsConnection, AwsFactory};
use mayfly_testkit::moto::MotoServer;
use secrecy::SecretString;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

fn factory() -> &'static AwsFactory {
    static FACTORY: OnceLock<AwsFactory> = OnceLock::new();
    FACTORY.get_or_init(AwsFactory::from_env)
}

fn connection(
    moto: &MotoServer,
    key_id: &str,
    secret: &str,
    session_token: Option<&str>,
) -> AwsConnection {
    AwsConnection {
        credentials: mayfly_aws::ConnectionCredentials::Keys {
            access_key_id: key_id.to_owned(),
            secret_access_key: SecretString::from(secret.to_owned()),
            session_token: session_token.map(|t| SecretString::from(t.to_owned())),
        },
        region: "us-east-1".into(),
        iam_endpoint: Some(moto.url().to_owned()),
        sts_endpoint: Some(moto.url().to_owned()),
    }
}

fn clients(
    moto: &MotoServer,
    key_id: &str,
    secret: &str,
    session_token: Option<&str>,
) -> AwsClients {
    let _guard = runtime().enter();
    factory().clients(&connection(moto, key_id, secret, session_token))
}

/// A unique IAM path per gateway, so tests sharing one moto never see each other's users.
pub fn unique_path() -> String {
    format!("/mayfly-cli-{}/", uuid::Uuid::new_v4().simple())
}

/// A short unique suffix for names in moto (roles are global to the account).
pub fn unique_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// Names of the IAM users under `path`, as the admin sees them.
pub fn users_under(moto: &MotoServer, path: &str) -> Vec<String> {
    let (id, secret) = moto.admin();
    let admin = clients(moto, &id, &secret, None);
    let mut names: Vec<String> = block_on(admin.iam.list_users(path))
        .expect("list users as the admin")
        .into_iter()
        .map(|u| u.name)
        .collect();
    names.sort();
    names
}

/// The ARN these keys authenticate as (STS GetCallerIdentity), or None when moto rejects them.
pub fn caller_arn(
    moto: &MotoServer,
    key_id: &str,
    secret: &str,
    session_token: Option<&str>,
) -> Option<String> {
    let c = clients(moto, key_id, secret, session_token);
    block_on(c.sts.get_caller_identity()).ok().map(|i| i.arn)
}

/// Creates IAM role `name` that anyone in the account may assume, with `inline_policy`;
/// returns its ARN. (moto enforces auth, so AssumeRole needs a real role and trust policy.)
pub fn create_role(moto: &MotoServer, name: &str, inline_policy: &str) -> String {
    let (id, secret) = moto.admin();
    let _guard = runtime().enter();
    let sdk = factory().iam(&connection(moto, &id, &secret, None));
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

/// The account moto's admin belongs to.
pub fn account_id(moto: &MotoServer) -> String {
    let (id, secret) = moto.admin();
    let arn = caller_arn(moto, &id, &secret, None).expect("moto accepts its admin");
    arn.split(':')
        .nth(4)
        .expect("an ARN names its account")
        .to_owned()
}

/// Creates IAM user `name` (no policy: GetCallerIdentity needs none) with an access key;
/// returns the key id and secret.
pub fn create_user_with_key(moto: &MotoServer, name: &str) -> (String, String) {
    let (id, secret) = moto.admin();
    let _guard = runtime().enter();
    let sdk = factory().iam(&connection(moto, &id, &secret, None));
    let iam = sdk.sdk_client();
    block_on(iam.create_user().user_name(name).send()).expect("create user");
    let created =
        block_on(iam.create_access_key().user_name(name).send()).expect("create access key");
    let key = created.access_key().expect("an access key");
    (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    )
}

/// Temporary credentials (key id, secret, session token) of a session of role `role_arn`,
/// assumed by moto's admin.
pub fn assume_role(moto: &MotoServer, role_arn: &str, session: &str) -> (String, String, String) {
    let (id, secret) = moto.admin();
    let _guard = runtime().enter();
    let sdk = factory().sts(&connection(moto, &id, &secret, None));
    let assumed = block_on(
        sdk.sdk_client()
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session)
            .send(),
    )
    .expect("assume role");
    let credentials = assumed.credentials().expect("credentials");
    (
        credentials.access_key_id().to_owned(),
        credentials.secret_access_key().to_owned(),
        credentials.session_token().to_owned(),
    )
}
