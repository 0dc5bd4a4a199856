//! One-time AWS console sign-in links, as Granted and aws-vault make them: the session
//! credentials are exchanged for a sign-in token at the federation endpoint
//! (`getSigninToken`), and the link logs the browser in with it (`Action=login`).
//!
//! Partition-aware (aws, aws-us-gov, aws-cn, from the target's region). The federation
//! endpoint can be overridden by the operator (a test serves it locally); it receives the
//! session credentials, so it is never taken from a request. The link itself is a bearer
//! secret: never logged.

use std::time::Duration;

use crate::AwsError;

/// An AWS partition: where its console and federation endpoint are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Partition {
    Aws,
    AwsUsGov,
    AwsCn,
}

impl Partition {
    /// The partition of `region` (`us-gov-west-1`, `cn-north-1`, anything else: `aws`).
    pub fn of_region(region: &str) -> Partition {
        if region.starts_with("us-gov-") {
            Partition::AwsUsGov
        } else if region.starts_with("cn-") {
            Partition::AwsCn
        } else {
            Partition::Aws
        }
    }

    /// The federation endpoint.
    pub fn federation_endpoint(self) -> &'static str {
        match self {
            Partition::Aws => "https://signin.aws.amazon.com/federation",
            Partition::AwsUsGov => "https://signin.amazonaws-us-gov.com/federation",
            Partition::AwsCn => "https://signin.amazonaws.cn/federation",
        }
    }

    /// The console's domain: destinations must be on it (or a regional subdomain).
    pub fn console_domain(self) -> &'static str {
        match self {
            Partition::Aws => "console.aws.amazon.com",
            Partition::AwsUsGov => "console.amazonaws-us-gov.com",
            Partition::AwsCn => "console.amazonaws.cn",
        }
    }

    /// The sign-in page of an account, for IAM users with a password.
    pub fn account_signin_url(self, account: &str) -> String {
        match self {
            Partition::Aws => format!("https://{account}.signin.aws.amazon.com/console"),
            Partition::AwsUsGov => {
                format!("https://{account}.signin.amazonaws-us-gov.com/console")
            }
            Partition::AwsCn => format!("https://{account}.signin.amazonaws.cn/console"),
        }
    }

    /// Checks a destination page: https, on this partition's console. `None`: the console's
    /// home.
    pub fn destination(self, raw: Option<&str>) -> Result<String, String> {
        let home = format!("https://{}/", self.console_domain());
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return Ok(home);
        };
        let url = url::Url::parse(raw).map_err(|_| {
            format!(
                "console_destination: {raw:?} is not a URL; give a console page such as {home}s3/"
            )
        })?;
        let host = url.host_str().unwrap_or_default();
        let on_console =
            host == self.console_domain() || host.ends_with(&format!(".{}", self.console_domain()));
        if url.scheme() != "https" || !on_console || !url.username().is_empty() {
            return Err(format!(
                "console_destination: must be a page of the AWS console ({home}...), not {}",
                url.origin().ascii_serialization()
            ));
        }
        Ok(url.to_string())
    }
}

/// Makes sign-in links through a federation endpoint.
#[derive(Debug, Clone)]
pub struct Federation {
    client: reqwest::Client,
    /// The operator's endpoint for every partition, instead of AWS's.
    endpoint: Option<String>,
}

impl Federation {
    pub fn new(endpoint: Option<String>) -> Federation {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("the federation HTTP client cannot be built (TLS set-up failed)");
        Federation { client, endpoint }
    }

    /// A one-time sign-in link for session credentials (of `AssumeRole` or
    /// `GetFederationToken`), landing on `destination`.
    pub async fn signin_url(
        &self,
        partition: Partition,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: &str,
        destination: &str,
        issuer: &str,
    ) -> Result<String, AwsError> {
        let endpoint = self
            .endpoint
            .as_deref()
            .unwrap_or(partition.federation_endpoint());
        let session = serde_json::json!({
            "sessionId": access_key_id,
            "sessionKey": secret_access_key,
            "sessionToken": session_token,
        })
        .to_string();
        let unavailable = |why: &str| AwsError::Unreachable(format!("federation: {why}"));
        let response = self
            .client
            .get(endpoint)
            .query(&[("Action", "getSigninToken"), ("Session", session.as_str())])
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    AwsError::Timeout("federation: getSigninToken did not answer".into())
                } else {
                    unavailable("the federation endpoint could not be reached")
                }
            })?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|_| unavailable("the answer broke off"))?;
        if status != 200 {
            return Err(AwsError::ServiceError {
                status: Some(status),
                code: "SigninTokenRefused".into(),
                message: "the federation endpoint refused the session (only AssumeRole and GetFederationToken sessions can sign in)".into(),
            });
        }
        let token = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["SigninToken"].as_str().map(str::to_owned))
            .ok_or_else(|| unavailable("the answer holds no SigninToken"))?;
        let mut link = url::Url::parse(endpoint)
            .map_err(|_| unavailable("the federation endpoint is not a URL"))?;
        link.query_pairs_mut()
            .clear()
            .append_pair("Action", "login")
            .append_pair("Issuer", issuer)
            .append_pair("Destination", destination)
            .append_pair("SigninToken", &token);
        Ok(link.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_and_destinations() {
        assert_eq!(Partition::of_region("us-gov-west-1"), Partition::AwsUsGov);
        assert_eq!(Partition::of_region("cn-north-1"), Partition::AwsCn);
        assert_eq!(Partition::of_region("eu-west-1"), Partition::Aws);
        assert_eq!(
            Partition::Aws.destination(None).unwrap(),
            "https://console.aws.amazon.com/"
        );
        assert!(Partition::Aws
            .destination(Some("https://eu-west-1.console.aws.amazon.com/s3/"))
            .is_ok());
        for bad in [
            "https://evil.example/",
            "http://console.aws.amazon.com/",
            "https://console.aws.amazon.com.evil.example/",
            "https://user@console.aws.amazon.com/",
            "nonsense",
        ] {
            assert!(Partition::Aws.destination(Some(bad)).is_err(), "{bad}");
        }
        assert!(Partition::AwsCn
            .destination(Some("https://console.aws.amazon.com/"))
            .is_err());
        assert_eq!(
            Partition::AwsUsGov.account_signin_url("123456789012"),
            "https://123456789012.signin.amazonaws-us-gov.com/console"
        );
    }
}
