//! [`SdkSts`]: [`StsApi`] on `aws-sdk-sts`.

use async_trait::async_trait;
use aws_sdk_sts::config::http::HttpResponse;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::types::PolicyDescriptorType;
use secrecy::SecretString;

use super::convert::{missing, sts_tags, to_chrono};
use super::Redactor;
use crate::api::{AssumeRole, CallerIdentity, FederationToken, StsApi, StsCredentials};
use crate::ops;
use crate::AwsError;

/// The real STS client of one connection.
#[derive(Clone)]
pub struct SdkSts {
    client: aws_sdk_sts::Client,
    redactor: Redactor,
}

impl std::fmt::Debug for SdkSts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkSts").finish_non_exhaustive()
    }
}

impl SdkSts {
    pub(crate) fn new(client: aws_sdk_sts::Client, redactor: Redactor) -> Self {
        Self { client, redactor }
    }

    /// The underlying SDK client, for calls the trait does not cover (tests, tools).
    pub fn sdk_client(&self) -> &aws_sdk_sts::Client {
        &self.client
    }

    fn fail<E>(
        &self,
        action: &'static str,
    ) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError + '_
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        move |err| self.redactor.apply(AwsError::from_sdk(action, err))
    }
}

fn policy_arns(arns: &[String]) -> Option<Vec<PolicyDescriptorType>> {
    (!arns.is_empty()).then(|| {
        arns.iter()
            .map(|arn| PolicyDescriptorType::builder().arn(arn).build())
            .collect()
    })
}

fn credentials(
    action: &str,
    creds: Option<&aws_sdk_sts::types::Credentials>,
) -> Result<StsCredentials, AwsError> {
    let creds = creds.ok_or_else(|| missing(action, "Credentials"))?;
    Ok(StsCredentials {
        access_key_id: creds.access_key_id().to_owned(),
        secret_access_key: SecretString::from(creds.secret_access_key().to_owned()),
        session_token: SecretString::from(creds.session_token().to_owned()),
        expiration: to_chrono(creds.expiration())
            .ok_or_else(|| missing(action, "valid Expiration"))?,
        arn: None,
    })
}

#[async_trait]
impl StsApi for SdkSts {
    async fn assume_role(&self, input: &AssumeRole) -> Result<StsCredentials, AwsError> {
        let tags = sts_tags(ops::ASSUME_ROLE, &input.tags)?;
        let out = self
            .client
            .assume_role()
            .role_arn(&input.role_arn)
            .role_session_name(&input.session_name)
            .duration_seconds(input.duration_secs)
            .set_external_id(input.external_id.clone())
            .set_policy(input.policy.clone())
            .set_policy_arns(policy_arns(&input.policy_arns))
            .set_tags((!tags.is_empty()).then_some(tags))
            .set_transitive_tag_keys(
                (!input.transitive_tag_keys.is_empty()).then(|| input.transitive_tag_keys.clone()),
            )
            .set_source_identity(input.source_identity.clone())
            .send()
            .await
            .map_err(self.fail(ops::ASSUME_ROLE))?;
        let arn = out.assumed_role_user().map(|u| u.arn().to_owned());
        credentials(ops::ASSUME_ROLE, out.credentials()).map(|c| StsCredentials { arn, ..c })
    }

    async fn get_federation_token(
        &self,
        input: &FederationToken,
    ) -> Result<StsCredentials, AwsError> {
        let tags = sts_tags(ops::GET_FEDERATION_TOKEN, &input.tags)?;
        let out = self
            .client
            .get_federation_token()
            .name(&input.name)
            .duration_seconds(input.duration_secs)
            .set_policy(input.policy.clone())
            .set_policy_arns(policy_arns(&input.policy_arns))
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(self.fail(ops::GET_FEDERATION_TOKEN))?;
        let arn = out.federated_user().map(|u| u.arn().to_owned());
        credentials(ops::GET_FEDERATION_TOKEN, out.credentials())
            .map(|c| StsCredentials { arn, ..c })
    }

    async fn get_session_token(&self, duration_secs: i32) -> Result<StsCredentials, AwsError> {
        let out = self
            .client
            .get_session_token()
            .duration_seconds(duration_secs)
            .send()
            .await
            .map_err(self.fail(ops::GET_SESSION_TOKEN))?;
        credentials(ops::GET_SESSION_TOKEN, out.credentials())
    }

    async fn get_caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        let out = self
            .client
            .get_caller_identity()
            .send()
            .await
            .map_err(self.fail(ops::GET_CALLER_IDENTITY))?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            user_id: out.user_id().unwrap_or_default().to_owned(),
        })
    }
}
