//! Shared set-up: moto, connections, unique names.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use mayfly_aws::{AwsConnection, AwsFactory, EndpointDefaults};
use mayfly_testkit::moto::MotoServer;
use secrecy::SecretString;
use tokio::time::Instant;

/// moto's fixed account id.
pub const ACCOUNT: &str = "123456789012";

/// The auth-enforcing moto shared by this test binary.
pub fn moto() -> &'static MotoServer {
    MotoServer::shared()
}

/// A factory that ignores `AWS_ENDPOINT_URL*` in the developer's environment: every
/// connection here names moto explicitly. One per test: each `#[tokio::test]` has its own
/// runtime, and pooled connections must not outlive the runtime that opened them.
pub fn factory() -> AwsFactory {
    AwsFactory::new(EndpointDefaults::default())
}

/// A connection to `moto` with the given credentials.
pub fn connection(
    moto: &MotoServer,
    access_key_id: &str,
    secret: &str,
    session_token: Option<&str>,
) -> AwsConnection {
    AwsConnection {
        credentials: mayfly_aws::ConnectionCredentials::Keys {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: SecretString::from(secret.to_owned()),
            session_token: session_token.map(|t| SecretString::from(t.to_owned())),
        },
        region: "us-east-1".into(),
        iam_endpoint: Some(moto.url().to_owned()),
        sts_endpoint: Some(moto.url().to_owned()),
    }
}

/// The bootstrapped admin's connection.
pub fn admin(moto: &MotoServer) -> AwsConnection {
    let (id, secret) = moto.admin();
    connection(moto, &id, &secret, None)
}

/// A name no other test (or earlier run against the same moto) uses: `prefix-<random>-<n>`.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{:08x}-{}",
        fastrand::u32(..),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// `secs` from now.
pub fn deadline(secs: u64) -> Instant {
    Instant::now() + Duration::from_secs(secs)
}
