//! [`SdkIam`]: [`IamApi`] on `aws-sdk-iam`. One request per call, except that list calls
//! follow `Marker` until `IsTruncated` is false.

use async_trait::async_trait;
use aws_sdk_iam::config::http::HttpResponse;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use secrecy::{ExposeSecret, SecretString};

use super::convert::{iam_tags, missing, to_chrono, Pages};
use super::Redactor;
use crate::api::{AccessKey, CreateUser, IamApi, IamUser, TagPair};
use crate::ops;
use crate::AwsError;

/// The real IAM client of one connection.
#[derive(Clone)]
pub struct SdkIam {
    client: aws_sdk_iam::Client,
    redactor: Redactor,
    /// `MaxItems` of list calls; `None` = IAM's default (100).
    page_size: Option<i32>,
}

impl std::fmt::Debug for SdkIam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SdkIam").finish_non_exhaustive()
    }
}

impl SdkIam {
    pub(crate) fn new(client: aws_sdk_iam::Client, redactor: Redactor) -> Self {
        Self {
            client,
            redactor,
            page_size: None,
        }
    }

    /// Asks list calls for at most `items` per page (IAM's default is 100). Every page is
    /// still read; this exists to exercise pagination against a mock and for tuning.
    pub fn with_page_size(mut self, items: i32) -> Self {
        self.page_size = Some(items);
        self
    }

    /// The underlying SDK client, for calls the trait does not cover (tests, tools).
    pub fn sdk_client(&self) -> &aws_sdk_iam::Client {
        &self.client
    }

    /// Maps an SDK error of `action` and scrubs this connection's secrets from it.
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

fn user_from_sdk(user: &aws_sdk_iam::types::User) -> IamUser {
    IamUser {
        name: user.user_name().to_owned(),
        path: user.path().to_owned(),
        arn: user.arn().to_owned(),
        tags: user
            .tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect(),
        created: to_chrono(user.create_date()),
    }
}

/// `Ok(())` for a `NoSuchEntity` answer to a read that treats "absent" as a value.
fn absent_is_none<T>(result: Result<T, AwsError>) -> Result<Option<T>, AwsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_no_such_entity() => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl IamApi for SdkIam {
    async fn create_user(&self, input: &CreateUser) -> Result<Option<String>, AwsError> {
        let tags = iam_tags(ops::CREATE_USER, &input.tags)?;
        let out = self
            .client
            .create_user()
            .user_name(&input.name)
            .path(&input.path)
            .set_permissions_boundary(input.permissions_boundary.clone())
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(self.fail(ops::CREATE_USER))?;
        Ok(out.user().map(|u| u.arn().to_owned()))
    }

    async fn get_user(&self, name: &str) -> Result<Option<IamUser>, AwsError> {
        let out = self
            .client
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(self.fail(ops::GET_USER));
        let Some(out) = absent_is_none(out)? else {
            return Ok(None);
        };
        let user = out.user().ok_or_else(|| missing(ops::GET_USER, "User"))?;
        Ok(Some(user_from_sdk(user)))
    }

    async fn list_users(&self, path_prefix: &str) -> Result<Vec<IamUser>, AwsError> {
        let mut users = Vec::new();
        let mut pages = Pages::new(ops::LIST_USERS);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_users()
                .path_prefix(path_prefix)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_USERS))?;
            users.extend(out.users().iter().map(user_from_sdk));
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(users);
            }
        }
    }

    async fn list_user_tags(&self, name: &str) -> Result<Vec<TagPair>, AwsError> {
        let mut tags = Vec::new();
        let mut pages = Pages::new(ops::LIST_USER_TAGS);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_user_tags()
                .user_name(name)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_USER_TAGS))?;
            tags.extend(
                out.tags()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned())),
            );
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(tags);
            }
        }
    }

    async fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.client
            .attach_user_policy()
            .user_name(user)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(self.fail(ops::ATTACH_USER_POLICY))?;
        Ok(())
    }

    async fn put_user_policy(
        &self,
        user: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        self.client
            .put_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(self.fail(ops::PUT_USER_POLICY))?;
        Ok(())
    }

    async fn add_user_to_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        self.client
            .add_user_to_group()
            .user_name(user)
            .group_name(group)
            .send()
            .await
            .map_err(self.fail(ops::ADD_USER_TO_GROUP))?;
        Ok(())
    }

    async fn create_login_profile(
        &self,
        user: &str,
        password: &SecretString,
        reset_required: bool,
    ) -> Result<(), AwsError> {
        self.client
            .create_login_profile()
            .user_name(user)
            .password(password.expose_secret())
            .password_reset_required(reset_required)
            .send()
            .await
            .map_err(|e| {
                // The password is request data: make sure no message can echo it.
                let err = self.fail(ops::CREATE_LOGIN_PROFILE)(e);
                err.redacted(&[password.expose_secret()])
            })?;
        Ok(())
    }

    async fn create_access_key(&self, user: &str) -> Result<AccessKey, AwsError> {
        let out = self
            .client
            .create_access_key()
            .user_name(user)
            .send()
            .await
            .map_err(self.fail(ops::CREATE_ACCESS_KEY))?;
        let key = out
            .access_key()
            .ok_or_else(|| missing(ops::CREATE_ACCESS_KEY, "AccessKey"))?;
        Ok(AccessKey {
            access_key_id: key.access_key_id().to_owned(),
            secret_access_key: SecretString::from(key.secret_access_key().to_owned()),
        })
    }

    async fn delete_login_profile(&self, user: &str) -> Result<(), AwsError> {
        self.client
            .delete_login_profile()
            .user_name(user)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_LOGIN_PROFILE))?;
        Ok(())
    }

    async fn list_access_keys(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut ids = Vec::new();
        let mut pages = Pages::new(ops::LIST_ACCESS_KEYS);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_access_keys()
                .user_name(user)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_ACCESS_KEYS))?;
            ids.extend(
                out.access_key_metadata()
                    .iter()
                    .filter_map(|k| k.access_key_id().map(str::to_owned)),
            );
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(ids);
            }
        }
    }

    async fn delete_access_key(&self, user: &str, access_key_id: &str) -> Result<(), AwsError> {
        self.client
            .delete_access_key()
            .user_name(user)
            .access_key_id(access_key_id)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_ACCESS_KEY))?;
        Ok(())
    }

    async fn list_mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut serials = Vec::new();
        let mut pages = Pages::new(ops::LIST_MFA_DEVICES);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_mfa_devices()
                .user_name(user)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_MFA_DEVICES))?;
            serials.extend(
                out.mfa_devices()
                    .iter()
                    .map(|d| d.serial_number().to_owned()),
            );
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(serials);
            }
        }
    }

    async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> Result<(), AwsError> {
        self.client
            .deactivate_mfa_device()
            .user_name(user)
            .serial_number(serial)
            .send()
            .await
            .map_err(self.fail(ops::DEACTIVATE_MFA_DEVICE))?;
        Ok(())
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<(), AwsError> {
        self.client
            .delete_virtual_mfa_device()
            .serial_number(serial)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_VIRTUAL_MFA_DEVICE))?;
        Ok(())
    }

    async fn list_signing_certificates(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut ids = Vec::new();
        let mut pages = Pages::new(ops::LIST_SIGNING_CERTIFICATES);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_signing_certificates()
                .user_name(user)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_SIGNING_CERTIFICATES))?;
            ids.extend(
                out.certificates()
                    .iter()
                    .map(|c| c.certificate_id().to_owned()),
            );
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(ids);
            }
        }
    }

    async fn delete_signing_certificate(
        &self,
        user: &str,
        certificate_id: &str,
    ) -> Result<(), AwsError> {
        self.client
            .delete_signing_certificate()
            .user_name(user)
            .certificate_id(certificate_id)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_SIGNING_CERTIFICATE))?;
        Ok(())
    }

    async fn list_ssh_public_keys(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut ids = Vec::new();
        let mut pages = Pages::new(ops::LIST_SSH_PUBLIC_KEYS);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_ssh_public_keys()
                .user_name(user)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_SSH_PUBLIC_KEYS))?;
            ids.extend(
                out.ssh_public_keys()
                    .iter()
                    .map(|k| k.ssh_public_key_id().to_owned()),
            );
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(ids);
            }
        }
    }

    async fn delete_ssh_public_key(&self, user: &str, key_id: &str) -> Result<(), AwsError> {
        self.client
            .delete_ssh_public_key()
            .user_name(user)
            .ssh_public_key_id(key_id)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_SSH_PUBLIC_KEY))?;
        Ok(())
    }

    async fn list_service_specific_credentials(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut ids = Vec::new();
        let mut pages = Pages::new(ops::LIST_SERVICE_SPECIFIC_CREDENTIALS);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_service_specific_credentials()
                .user_name(user)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_SERVICE_SPECIFIC_CREDENTIALS))?;
            ids.extend(
                out.service_specific_credentials()
                    .iter()
                    .map(|c| c.service_specific_credential_id().to_owned()),
            );
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(ids);
            }
        }
    }

    async fn delete_service_specific_credential(
        &self,
        user: &str,
        credential_id: &str,
    ) -> Result<(), AwsError> {
        self.client
            .delete_service_specific_credential()
            .user_name(user)
            .service_specific_credential_id(credential_id)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_SERVICE_SPECIFIC_CREDENTIAL))?;
        Ok(())
    }

    async fn list_attached_user_policies(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut arns = Vec::new();
        let mut pages = Pages::new(ops::LIST_ATTACHED_USER_POLICIES);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_attached_user_policies()
                .user_name(user)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_ATTACHED_USER_POLICIES))?;
            arns.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_owned)),
            );
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(arns);
            }
        }
    }

    async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.client
            .detach_user_policy()
            .user_name(user)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(self.fail(ops::DETACH_USER_POLICY))?;
        Ok(())
    }

    async fn list_user_policies(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut names = Vec::new();
        let mut pages = Pages::new(ops::LIST_USER_POLICIES);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_user_policies()
                .user_name(user)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_USER_POLICIES))?;
            names.extend(out.policy_names().iter().cloned());
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(names);
            }
        }
    }

    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> Result<(), AwsError> {
        self.client
            .delete_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_USER_POLICY))?;
        Ok(())
    }

    async fn get_user_policy(
        &self,
        user: &str,
        policy_name: &str,
    ) -> Result<Option<String>, AwsError> {
        match self
            .client
            .get_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(self.fail(ops::GET_USER_POLICY))
        {
            // IAM answers the document URL-encoded.
            Ok(out) => Ok(Some(percent_decode(out.policy_document()))),
            Err(e) if e.is_no_such_entity() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn list_groups_for_user(&self, user: &str) -> Result<Vec<String>, AwsError> {
        let mut groups = Vec::new();
        let mut pages = Pages::new(ops::LIST_GROUPS_FOR_USER);
        let mut marker = None;
        loop {
            let out = self
                .client
                .list_groups_for_user()
                .user_name(user)
                .set_marker(marker)
                .set_max_items(self.page_size)
                .send()
                .await
                .map_err(self.fail(ops::LIST_GROUPS_FOR_USER))?;
            groups.extend(out.groups().iter().map(|g| g.group_name().to_owned()));
            marker = pages.next(out.is_truncated(), out.marker())?;
            if marker.is_none() {
                return Ok(groups);
            }
        }
    }

    async fn remove_user_from_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        self.client
            .remove_user_from_group()
            .user_name(user)
            .group_name(group)
            .send()
            .await
            .map_err(self.fail(ops::REMOVE_USER_FROM_GROUP))?;
        Ok(())
    }

    async fn delete_user(&self, user: &str) -> Result<(), AwsError> {
        self.client
            .delete_user()
            .user_name(user)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_USER))?;
        Ok(())
    }

    async fn get_role_policy(
        &self,
        role: &str,
        policy_name: &str,
    ) -> Result<Option<String>, AwsError> {
        match self
            .client
            .get_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(self.fail(ops::GET_ROLE_POLICY))
        {
            // IAM answers the document URL-encoded.
            Ok(out) => Ok(Some(percent_decode(out.policy_document()))),
            Err(e) if e.is_no_such_entity() => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        self.client
            .put_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(self.fail(ops::PUT_ROLE_POLICY))?;
        Ok(())
    }

    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> Result<(), AwsError> {
        match self
            .client
            .delete_role_policy()
            .role_name(role)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(self.fail(ops::DELETE_ROLE_POLICY))
        {
            Ok(_) => Ok(()),
            Err(e) if e.is_no_such_entity() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Decodes `%XX` escapes (IAM returns policy documents URL-encoded; moto too).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
