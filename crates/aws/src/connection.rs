//! [`AwsConnection`]: the credentials and endpoints of one target, and where calls go.
//!
//! Endpoint resolution, most specific first: the connection's own endpoint (a target's
//! `iam-endpoint` / `sts-endpoint`), then the process environment (`AWS_ENDPOINT_URL_IAM` /
//! `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`, the SDKs' standard names), then AWS's
//! own endpoint for the region. The environment is read once, by
//! [`crate::AwsFactory::from_env`], so a running gateway never changes behaviour because its
//! environment was touched.

use secrecy::SecretString;

/// Region used when a connection names none; IAM is global and lives in `us-east-1`.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where a connection's credentials come from.
#[derive(Clone)]
pub enum ConnectionCredentials {
    /// A stored key (a target's access key, perhaps with a session token).
    Keys {
        access_key_id: String,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
    },
    /// A provider that fetches and refreshes them: the gateway's own identity, a role
    /// assumed before use ([`crate::credentials`]).
    Provided(aws_credential_types::provider::SharedCredentialsProvider),
}

/// One set of AWS credentials plus where to send requests.
#[derive(Clone)]
pub struct AwsConnection {
    pub credentials: ConnectionCredentials,
    /// e.g. `us-east-1`; empty means [`DEFAULT_REGION`].
    pub region: String,
    /// Overrides the IAM endpoint (AWS-compatible services, moto).
    pub iam_endpoint: Option<String>,
    /// Overrides the STS endpoint.
    pub sts_endpoint: Option<String>,
}

impl AwsConnection {
    /// Static long-term credentials with default endpoints.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: SecretString,
        region: impl Into<String>,
    ) -> Self {
        Self::with_keys(access_key_id, secret_access_key, None, region)
    }

    /// A stored key, perhaps temporary (`session_token`), with default endpoints.
    pub fn with_keys(
        access_key_id: impl Into<String>,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
        region: impl Into<String>,
    ) -> Self {
        Self {
            credentials: ConnectionCredentials::Keys {
                access_key_id: access_key_id.into(),
                secret_access_key,
                session_token,
            },
            region: region.into(),
            iam_endpoint: None,
            sts_endpoint: None,
        }
    }

    /// The stored key's id; `None` for provided credentials.
    pub fn access_key_id(&self) -> Option<&str> {
        match &self.credentials {
            ConnectionCredentials::Keys { access_key_id, .. } => Some(access_key_id),
            ConnectionCredentials::Provided(_) => None,
        }
    }

    /// The region to sign for: the configured one, or [`DEFAULT_REGION`] when empty.
    pub fn effective_region(&self) -> &str {
        let region = self.region.trim();
        if region.is_empty() {
            DEFAULT_REGION
        } else {
            region
        }
    }
}

impl std::fmt::Debug for AwsConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("AwsConnection");
        match &self.credentials {
            ConnectionCredentials::Keys {
                access_key_id,
                session_token,
                ..
            } => d
                .field("access_key_id", access_key_id)
                .field("secret_access_key", &"***")
                .field("session_token", &session_token.as_ref().map(|_| "***")),
            ConnectionCredentials::Provided(_) => d.field("credentials", &"provided"),
        };
        d.field("region", &self.region)
            .field("iam_endpoint", &self.iam_endpoint)
            .field("sts_endpoint", &self.sts_endpoint)
            .finish()
    }
}

/// How a target reaches AWS, before any credential is fetched: what an [`crate::AwsFactory`]
/// turns into an [`AwsConnection`] ([`crate::AwsFactory::connect`]). Sources cache the
/// result per target version, so providers (and their cached credentials) live as long as
/// the target is unchanged.
#[derive(Clone)]
pub struct ConnectionSpec {
    pub base: BaseCredentials,
    /// e.g. `us-east-1`; empty means [`DEFAULT_REGION`].
    pub region: String,
    pub iam_endpoint: Option<String>,
    pub sts_endpoint: Option<String>,
    /// A role assumed with the base credentials before any call.
    pub role: Option<RoleToAssume>,
}

impl std::fmt::Debug for ConnectionSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionSpec")
            .field(
                "base",
                &match &self.base {
                    BaseCredentials::Keys { access_key_id, .. } => access_key_id.as_str(),
                    BaseCredentials::GatewayIdentity => "gateway identity",
                },
            )
            .field("region", &self.region)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A target's base credentials.
#[derive(Clone)]
pub enum BaseCredentials {
    Keys {
        access_key_id: String,
        secret_access_key: SecretString,
        session_token: Option<SecretString>,
    },
    /// The gateway process's own identity (AWS's default provider chain).
    GatewayIdentity,
}

/// A role to assume before use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleToAssume {
    pub role_arn: String,
    pub external_id: Option<String>,
    pub session_name: String,
    pub duration_secs: i32,
}

impl ConnectionSpec {
    /// The stored key's id, when the base is a key.
    pub fn access_key_id(&self) -> Option<&str> {
        match &self.base {
            BaseCredentials::Keys { access_key_id, .. } => Some(access_key_id),
            BaseCredentials::GatewayIdentity => None,
        }
    }
}

/// Endpoint overrides taken from the environment (the standard AWS SDK variable names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointDefaults {
    /// `AWS_ENDPOINT_URL_IAM`
    pub iam: Option<String>,
    /// `AWS_ENDPOINT_URL_STS`
    pub sts: Option<String>,
    /// `AWS_ENDPOINT_URL`: every service.
    pub all: Option<String>,
}

impl EndpointDefaults {
    /// Reads the three variables; empty values count as unset.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup` (the pure part of [`EndpointDefaults::from_env`]).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| non_empty(lookup(name));
        Self {
            iam: get("AWS_ENDPOINT_URL_IAM"),
            sts: get("AWS_ENDPOINT_URL_STS"),
            all: get("AWS_ENDPOINT_URL"),
        }
    }

    /// The IAM endpoint for `conn`, or `None` for AWS's default.
    pub fn iam_endpoint(&self, conn: &AwsConnection) -> Option<String> {
        non_empty(conn.iam_endpoint.clone())
            .or_else(|| self.iam.clone())
            .or_else(|| self.all.clone())
    }

    /// The STS endpoint for `conn`, or `None` for AWS's default.
    pub fn sts_endpoint(&self, conn: &AwsConnection) -> Option<String> {
        non_empty(conn.sts_endpoint.clone())
            .or_else(|| self.sts.clone())
            .or_else(|| self.all.clone())
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> AwsConnection {
        AwsConnection::new("AKIDEXAMPLE", SecretString::from("wJalrXUtnFEMI"), "")
    }

    #[test]
    fn debug_never_shows_secrets() {
        let c = AwsConnection::with_keys(
            "AKIDEXAMPLE",
            SecretString::from("wJalrXUtnFEMI"),
            Some(SecretString::from("SESSIONTOKENVALUE")),
            "",
        );
        let shown = format!("{c:?}");
        assert!(shown.contains("AKIDEXAMPLE"), "{shown}");
        assert!(!shown.contains("wJalrXUtnFEMI"), "{shown}");
        assert!(!shown.contains("SESSIONTOKENVALUE"), "{shown}");
    }

    #[test]
    fn empty_region_means_us_east_1() {
        assert_eq!(conn().effective_region(), "us-east-1");
        let mut c = conn();
        c.region = "eu-west-1".into();
        assert_eq!(c.effective_region(), "eu-west-1");
    }

    #[test]
    fn connection_endpoint_beats_service_env_beats_global_env() {
        let env = EndpointDefaults::from_lookup(|name| match name {
            "AWS_ENDPOINT_URL_IAM" => Some("http://iam.env".into()),
            "AWS_ENDPOINT_URL" => Some("http://all.env".into()),
            "AWS_ENDPOINT_URL_STS" => Some("  ".into()),
            _ => None,
        });
        let mut c = conn();
        assert_eq!(env.iam_endpoint(&c).as_deref(), Some("http://iam.env"));
        assert_eq!(env.sts_endpoint(&c).as_deref(), Some("http://all.env"));
        c.iam_endpoint = Some("http://iam.conn".into());
        c.sts_endpoint = Some(String::new());
        assert_eq!(env.iam_endpoint(&c).as_deref(), Some("http://iam.conn"));
        assert_eq!(env.sts_endpoint(&c).as_deref(), Some("http://all.env"));
        assert_eq!(EndpointDefaults::default().iam_endpoint(&conn()), None);
    }
}
