//! [`IamApi`] and [`StsApi`] decorators that send every call through a [`Governor`].

use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;
use tokio::time::Instant;

use super::Governor;
use crate::api::{
    AccessKey, AssumeRole, CallerIdentity, CreateUser, FederationToken, IamApi, IamUser, StsApi,
    StsCredentials, TagPair,
};
use crate::{ops, AwsError};

/// IAM calls paced by the target's IAM write or read limiter.
pub struct GovernedIam {
    inner: Arc<dyn IamApi>,
    governor: Arc<Governor>,
}

impl GovernedIam {
    pub fn new(inner: Arc<dyn IamApi>, governor: Arc<Governor>) -> Self {
        GovernedIam { inner, governor }
    }
}

/// STS calls paced by the target's STS limiter.
pub struct GovernedSts {
    inner: Arc<dyn StsApi>,
    governor: Arc<Governor>,
}

impl GovernedSts {
    pub fn new(inner: Arc<dyn StsApi>, governor: Arc<Governor>) -> Self {
        GovernedSts { inner, governor }
    }
}

/// Implements `$trait` for `$ty` by forwarding each method to the inner client through the
/// governor's limiter that `$pick` chooses for the action. (The whole impl is generated: `async_trait` must see the
/// methods expanded.)
macro_rules! governed {
    ($trait:ident for $ty:ident, $pick:expr, { $($extra:tt)* } $( fn $name:ident ( $( $arg:ident : $aty:ty ),* ) -> $ret:ty => $op:expr; )*) => {
        #[async_trait]
        impl $trait for $ty {
            $($extra)*
            $(
                async fn $name(&self, $( $arg: $aty ),*) -> Result<$ret, AwsError> {
                    self.governor
                        .run($pick(&self.governor, $op), $op, self.inner.$name($( $arg ),*))
                        .await
                }
            )*
        }
    };
}

governed! { IamApi for GovernedIam, Governor::iam_limiter, {
        async fn reserve_writes(&self, writes: u32, deadline: Instant) -> Result<(), AwsError> {
            self.governor.reserve_writes(writes, deadline).await
        }
    }
        fn create_user(input: &CreateUser) -> Option<String> => ops::CREATE_USER;
        fn get_user(name: &str) -> Option<IamUser> => ops::GET_USER;
        fn list_users(path_prefix: &str) -> Vec<IamUser> => ops::LIST_USERS;
        fn list_user_tags(name: &str) -> Vec<TagPair> => ops::LIST_USER_TAGS;
        fn attach_user_policy(user: &str, policy_arn: &str) -> () => ops::ATTACH_USER_POLICY;
        fn put_user_policy(user: &str, policy_name: &str, document: &str) -> () => ops::PUT_USER_POLICY;
        fn add_user_to_group(user: &str, group: &str) -> () => ops::ADD_USER_TO_GROUP;
        fn create_login_profile(user: &str, password: &SecretString, reset_required: bool) -> () => ops::CREATE_LOGIN_PROFILE;
        fn create_access_key(user: &str) -> AccessKey => ops::CREATE_ACCESS_KEY;
        fn delete_login_profile(user: &str) -> () => ops::DELETE_LOGIN_PROFILE;
        fn list_access_keys(user: &str) -> Vec<String> => ops::LIST_ACCESS_KEYS;
        fn delete_access_key(user: &str, access_key_id: &str) -> () => ops::DELETE_ACCESS_KEY;
        fn list_mfa_devices(user: &str) -> Vec<String> => ops::LIST_MFA_DEVICES;
        fn deactivate_mfa_device(user: &str, serial: &str) -> () => ops::DEACTIVATE_MFA_DEVICE;
        fn delete_virtual_mfa_device(serial: &str) -> () => ops::DELETE_VIRTUAL_MFA_DEVICE;
        fn list_signing_certificates(user: &str) -> Vec<String> => ops::LIST_SIGNING_CERTIFICATES;
        fn delete_signing_certificate(user: &str, certificate_id: &str) -> () => ops::DELETE_SIGNING_CERTIFICATE;
        fn list_ssh_public_keys(user: &str) -> Vec<String> => ops::LIST_SSH_PUBLIC_KEYS;
        fn delete_ssh_public_key(user: &str, key_id: &str) -> () => ops::DELETE_SSH_PUBLIC_KEY;
        fn list_service_specific_credentials(user: &str) -> Vec<String> => ops::LIST_SERVICE_SPECIFIC_CREDENTIALS;
        fn delete_service_specific_credential(user: &str, credential_id: &str) -> () => ops::DELETE_SERVICE_SPECIFIC_CREDENTIAL;
        fn list_attached_user_policies(user: &str) -> Vec<String> => ops::LIST_ATTACHED_USER_POLICIES;
        fn detach_user_policy(user: &str, policy_arn: &str) -> () => ops::DETACH_USER_POLICY;
        fn list_user_policies(user: &str) -> Vec<String> => ops::LIST_USER_POLICIES;
        fn delete_user_policy(user: &str, policy_name: &str) -> () => ops::DELETE_USER_POLICY;
        fn get_user_policy(user: &str, policy_name: &str) -> Option<String> => ops::GET_USER_POLICY;
        fn list_groups_for_user(user: &str) -> Vec<String> => ops::LIST_GROUPS_FOR_USER;
        fn remove_user_from_group(user: &str, group: &str) -> () => ops::REMOVE_USER_FROM_GROUP;
        fn delete_user(user: &str) -> () => ops::DELETE_USER;
        fn get_role_policy(role: &str, policy_name: &str) -> Option<String> => ops::GET_ROLE_POLICY;
        fn put_role_policy(role: &str, policy_name: &str, document: &str) -> () => ops::PUT_ROLE_POLICY;
        fn delete_role_policy(role: &str, policy_name: &str) -> () => ops::DELETE_ROLE_POLICY;
}

governed! { StsApi for GovernedSts, Governor::sts_limiter, {}
        fn assume_role(input: &AssumeRole) -> StsCredentials => ops::ASSUME_ROLE;
        fn get_federation_token(input: &FederationToken) -> StsCredentials => ops::GET_FEDERATION_TOKEN;
        fn get_session_token(duration_secs: i32) -> StsCredentials => ops::GET_SESSION_TOKEN;
        fn get_caller_identity() -> CallerIdentity => ops::GET_CALLER_IDENTITY;
}
