//! [`FakeIam`]: an in-memory IAM with real IAM's refusals.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::faults::{fault_methods, Faults};
use crate::api::{AccessKey, CreateUser, IamApi, IamUser, TagPair};
use crate::{ops, AwsError};

/// Account id in the fake's ARNs.
pub const FAKE_ACCOUNT: &str = "123456789012";

/// IAM allows at most two access keys per user.
const MAX_ACCESS_KEYS: usize = 2;
/// IAM allows at most 20 managed policies per user (the default quota).
const MAX_MANAGED_POLICIES: usize = 20;
/// IAM allows at most 50 tags per user.
const MAX_TAGS: usize = 50;

/// An in-memory IAM for unit tests: thread-safe, with the semantics callers depend on.
///
/// - Missing users, keys, profiles, devices, policies and groups answer `NoSuchEntity`;
///   creating what exists answers `EntityAlreadyExists`.
/// - `DeleteUser` is refused with `ServiceError { code: "DeleteConflict", status: 409 }` while
///   the user still has a login profile, access keys, MFA devices, signing certificates, SSH
///   keys, service-specific credentials, managed or inline policies or group memberships.
///   That is real AWS; moto is more lenient and deletes anyway.
/// - Groups must exist ([`FakeIam::create_group`]); policy ARNs must look like policy ARNs.
/// - Two access keys per user, 20 managed policies, 50 tags (`LimitExceeded`).
///
/// Fault injection and counters (per action name of [`crate::ops`]): `fail_next`,
/// `fail_always`, `throttle_next`, `set_latency`, `calls`, `max_in_flight`. The `add_*`
/// helpers change state "out of band" (no faults, not counted), like another admin would.
#[derive(Debug)]
pub struct FakeIam {
    faults: Faults,
    state: Mutex<IamState>,
}

#[derive(Debug, Default)]
struct IamState {
    users: BTreeMap<String, FakeUser>,
    groups: BTreeSet<String>,
    /// Virtual MFA devices that exist (assigned or not), by serial.
    virtual_mfa: BTreeSet<String>,
    /// Roles' inline policies, by role and policy name (any role name exists).
    role_policies: BTreeMap<(String, String), String>,
    next_id: u64,
}

#[derive(Debug, Clone, Default)]
struct FakeUser {
    path: String,
    arn: String,
    tags: Vec<TagPair>,
    created: DateTime<Utc>,
    permissions_boundary: Option<String>,
    /// The password, kept so tests can check what was set.
    login_profile: Option<String>,
    access_keys: BTreeMap<String, String>,
    mfa_devices: BTreeSet<String>,
    signing_certificates: BTreeSet<String>,
    ssh_public_keys: BTreeSet<String>,
    service_specific_credentials: BTreeSet<String>,
    attached_policies: BTreeSet<String>,
    inline_policies: BTreeMap<String, String>,
    groups: BTreeSet<String>,
}

/// A copy of one fake user's state, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeUserView {
    pub name: String,
    pub path: String,
    pub arn: String,
    pub tags: Vec<TagPair>,
    pub permissions_boundary: Option<String>,
    pub login_profile: bool,
    pub access_keys: Vec<String>,
    pub mfa_devices: Vec<String>,
    pub signing_certificates: Vec<String>,
    pub ssh_public_keys: Vec<String>,
    pub service_specific_credentials: Vec<String>,
    pub attached_policies: Vec<String>,
    /// `(name, document)`.
    pub inline_policies: Vec<(String, String)>,
    pub groups: Vec<String>,
}

impl Default for FakeIam {
    fn default() -> Self {
        Self::new()
    }
}

fn no_such_entity(what: impl std::fmt::Display) -> AwsError {
    AwsError::NoSuchEntity(format!("The {what} cannot be found."))
}

fn no_such_user(name: &str) -> AwsError {
    no_such_entity(format_args!("user with name {name}"))
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::InvalidInput {
        code: "ValidationError".into(),
        message: message.into(),
    }
}

fn limit_exceeded(message: impl Into<String>) -> AwsError {
    AwsError::InvalidInput {
        code: "LimitExceeded".into(),
        message: message.into(),
    }
}

/// IAM's name rule for users, groups and policy names: `[\w+=,.@-]{1,max}`.
fn check_name(kind: &str, name: &str, max: usize) -> Result<(), AwsError> {
    let legal = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if name.is_empty() || name.chars().count() > max || !name.chars().all(legal) {
        return Err(validation(format!(
            "1 validation error detected: Value '{name}' at '{kind}' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+ and \
             have length at most {max}"
        )));
    }
    Ok(())
}

fn check_policy_arn(arn: &str) -> Result<(), AwsError> {
    let ok = arn.starts_with("arn:aws") && arn.contains(":iam::") && arn.contains(":policy/");
    if ok {
        Ok(())
    } else {
        Err(AwsError::InvalidInput {
            code: "InvalidInput".into(),
            message: format!("ARN {arn} is not valid."),
        })
    }
}

impl FakeIam {
    pub fn new() -> Self {
        Self {
            faults: Faults::new(ops::IAM_OPS),
            state: Mutex::new(IamState::default()),
        }
    }

    fault_methods!();

    fn lock(&self) -> MutexGuard<'_, IamState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates a group so users can be added to it (out of band, not counted).
    pub fn create_group(&self, name: &str) {
        self.lock().groups.insert(name.to_owned());
    }

    /// A snapshot of the user, `None` if it does not exist.
    pub fn user(&self, name: &str) -> Option<FakeUserView> {
        let state = self.lock();
        let user = state.users.get(name)?;
        Some(FakeUserView {
            name: name.to_owned(),
            path: user.path.clone(),
            arn: user.arn.clone(),
            tags: user.tags.clone(),
            permissions_boundary: user.permissions_boundary.clone(),
            login_profile: user.login_profile.is_some(),
            access_keys: user.access_keys.keys().cloned().collect(),
            mfa_devices: user.mfa_devices.iter().cloned().collect(),
            signing_certificates: user.signing_certificates.iter().cloned().collect(),
            ssh_public_keys: user.ssh_public_keys.iter().cloned().collect(),
            service_specific_credentials: user
                .service_specific_credentials
                .iter()
                .cloned()
                .collect(),
            attached_policies: user.attached_policies.iter().cloned().collect(),
            inline_policies: user
                .inline_policies
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            groups: user.groups.iter().cloned().collect(),
        })
    }

    /// Names of all users, sorted.
    pub fn user_names(&self) -> Vec<String> {
        self.lock().users.keys().cloned().collect()
    }

    /// The console password the user's login profile was created with.
    pub fn login_password(&self, user: &str) -> Option<String> {
        self.lock().users.get(user)?.login_profile.clone()
    }

    /// Serials of all virtual MFA devices that exist.
    pub fn virtual_mfa_devices(&self) -> Vec<String> {
        self.lock().virtual_mfa.iter().cloned().collect()
    }

    /// Out of band: gives the user a login profile.
    pub fn add_login_profile(&self, user: &str) -> Result<(), AwsError> {
        self.do_create_login_profile(user, "Out-of-band-1!")
    }

    /// Out of band: gives the user another access key; returns its id.
    pub fn add_access_key(&self, user: &str) -> Result<String, AwsError> {
        self.do_create_access_key(user).map(|k| k.access_key_id)
    }

    /// Out of band: creates a virtual MFA device and enables it for the user; returns its
    /// serial (an ARN).
    pub fn add_virtual_mfa_device(&self, user: &str) -> Result<String, AwsError> {
        let mut state = self.lock();
        let id = state.next_id();
        let serial = format!("arn:aws:iam::{FAKE_ACCOUNT}:mfa/{user}-{id}");
        state.user_mut(user)?.mfa_devices.insert(serial.clone());
        state.virtual_mfa.insert(serial.clone());
        Ok(serial)
    }

    /// Out of band: enables a hardware MFA device (a plain serial number) for the user.
    pub fn add_hardware_mfa_device(&self, user: &str) -> Result<String, AwsError> {
        let mut state = self.lock();
        let serial = format!("GAHT{:08}", state.next_id());
        state.user_mut(user)?.mfa_devices.insert(serial.clone());
        Ok(serial)
    }

    /// Out of band: uploads a signing certificate; returns its id.
    pub fn add_signing_certificate(&self, user: &str) -> Result<String, AwsError> {
        let mut state = self.lock();
        let id = format!("CERT{:020}", state.next_id());
        state
            .user_mut(user)?
            .signing_certificates
            .insert(id.clone());
        Ok(id)
    }

    /// Out of band: uploads an SSH public key; returns its id.
    pub fn add_ssh_public_key(&self, user: &str) -> Result<String, AwsError> {
        let mut state = self.lock();
        let id = format!("APKA{:016}", state.next_id());
        state.user_mut(user)?.ssh_public_keys.insert(id.clone());
        Ok(id)
    }

    /// Out of band: creates a service-specific credential; returns its id.
    pub fn add_service_specific_credential(&self, user: &str) -> Result<String, AwsError> {
        let mut state = self.lock();
        let id = format!("ACCA{:016}", state.next_id());
        state
            .user_mut(user)?
            .service_specific_credentials
            .insert(id.clone());
        Ok(id)
    }

    fn do_create_login_profile(&self, user: &str, password: &str) -> Result<(), AwsError> {
        if password.is_empty() {
            return Err(AwsError::InvalidInput {
                code: "PasswordPolicyViolation".into(),
                message: "Password does not conform to the account password policy.".into(),
            });
        }
        let mut state = self.lock();
        let user_state = state.user_mut(user)?;
        if user_state.login_profile.is_some() {
            return Err(AwsError::EntityAlreadyExists(format!(
                "Login Profile for user {user} already exists."
            )));
        }
        user_state.login_profile = Some(password.to_owned());
        Ok(())
    }

    fn do_create_access_key(&self, user: &str) -> Result<AccessKey, AwsError> {
        let mut state = self.lock();
        let id = state.next_id();
        let user_state = state.user_mut(user)?;
        if user_state.access_keys.len() >= MAX_ACCESS_KEYS {
            return Err(limit_exceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS}"
            )));
        }
        let access_key_id = format!("AKIAFAKE{id:012}");
        let secret = format!("fakeSecret{id:030}");
        user_state
            .access_keys
            .insert(access_key_id.clone(), secret.clone());
        Ok(AccessKey {
            access_key_id,
            secret_access_key: SecretString::from(secret),
        })
    }
}

impl IamState {
    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn user(&self, name: &str) -> Result<&FakeUser, AwsError> {
        self.users.get(name).ok_or_else(|| no_such_user(name))
    }

    fn user_mut(&mut self, name: &str) -> Result<&mut FakeUser, AwsError> {
        self.users.get_mut(name).ok_or_else(|| no_such_user(name))
    }

    /// What still blocks `DeleteUser`, if anything.
    fn delete_conflict(user: &FakeUser) -> Option<&'static str> {
        if user.login_profile.is_some() {
            Some("login profile")
        } else if !user.access_keys.is_empty() {
            Some("access keys")
        } else if !user.mfa_devices.is_empty() {
            Some("MFA devices")
        } else if !user.signing_certificates.is_empty() {
            Some("signing certificates")
        } else if !user.ssh_public_keys.is_empty() {
            Some("SSH public keys")
        } else if !user.service_specific_credentials.is_empty() {
            Some("service-specific credentials")
        } else if !user.attached_policies.is_empty() {
            Some("attached policies")
        } else if !user.inline_policies.is_empty() {
            Some("inline policies")
        } else if !user.groups.is_empty() {
            Some("group memberships")
        } else {
            None
        }
    }
}

fn to_iam_user(name: &str, user: &FakeUser, with_tags: bool) -> IamUser {
    IamUser {
        name: name.to_owned(),
        path: user.path.clone(),
        arn: user.arn.clone(),
        tags: if with_tags {
            user.tags.clone()
        } else {
            Vec::new()
        },
        created: Some(user.created),
    }
}

#[async_trait]
impl IamApi for FakeIam {
    async fn create_user(&self, input: &CreateUser) -> Result<Option<String>, AwsError> {
        self.faults
            .run(ops::CREATE_USER, || {
                check_name("userName", &input.name, 64)?;
                if !input.path.starts_with('/')
                    || !input.path.ends_with('/')
                    || input.path.len() > 512
                {
                    return Err(validation(format!(
                        "The specified value for path is invalid: {}",
                        input.path
                    )));
                }
                if input.tags.len() > MAX_TAGS {
                    return Err(limit_exceeded(format!(
                        "Cannot exceed quota for TagsPerUser: {MAX_TAGS}"
                    )));
                }
                if let Some(boundary) = &input.permissions_boundary {
                    check_policy_arn(boundary)?;
                }
                let mut state = self.lock();
                if state.users.contains_key(&input.name) {
                    return Err(AwsError::EntityAlreadyExists(format!(
                        "User with name {} already exists.",
                        input.name
                    )));
                }
                let arn = format!(
                    "arn:aws:iam::{FAKE_ACCOUNT}:user{}{}",
                    input.path, input.name
                );
                state.users.insert(
                    input.name.clone(),
                    FakeUser {
                        path: input.path.clone(),
                        arn: arn.clone(),
                        tags: input.tags.clone(),
                        created: Utc::now(),
                        permissions_boundary: input.permissions_boundary.clone(),
                        ..FakeUser::default()
                    },
                );
                Ok(Some(arn))
            })
            .await
    }

    async fn get_user(&self, name: &str) -> Result<Option<IamUser>, AwsError> {
        self.faults
            .run(ops::GET_USER, || {
                let state = self.lock();
                Ok(state.users.get(name).map(|u| to_iam_user(name, u, true)))
            })
            .await
    }

    async fn list_users(&self, path_prefix: &str) -> Result<Vec<IamUser>, AwsError> {
        self.faults
            .run(ops::LIST_USERS, || {
                let state = self.lock();
                Ok(state
                    .users
                    .iter()
                    .filter(|(_, u)| u.path.starts_with(path_prefix))
                    .map(|(name, u)| to_iam_user(name, u, false))
                    .collect())
            })
            .await
    }

    async fn list_user_tags(&self, name: &str) -> Result<Vec<TagPair>, AwsError> {
        self.faults
            .run(ops::LIST_USER_TAGS, || {
                Ok(self.lock().user(name)?.tags.clone())
            })
            .await
    }

    async fn attach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::ATTACH_USER_POLICY, || {
                check_policy_arn(policy_arn)?;
                let mut state = self.lock();
                let user = state.user_mut(user)?;
                if !user.attached_policies.contains(policy_arn)
                    && user.attached_policies.len() >= MAX_MANAGED_POLICIES
                {
                    return Err(limit_exceeded(format!(
                        "Cannot exceed quota for PoliciesPerUser: {MAX_MANAGED_POLICIES}"
                    )));
                }
                user.attached_policies.insert(policy_arn.to_owned());
                Ok(())
            })
            .await
    }

    async fn put_user_policy(
        &self,
        user: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        self.faults
            .run(ops::PUT_USER_POLICY, || {
                check_name("policyName", policy_name, 128)?;
                let trimmed = document.trim();
                if !(trimmed.starts_with('{') && trimmed.ends_with('}')) {
                    return Err(AwsError::InvalidInput {
                        code: "MalformedPolicyDocument".into(),
                        message: "Syntax errors in policy.".into(),
                    });
                }
                let mut state = self.lock();
                state
                    .user_mut(user)?
                    .inline_policies
                    .insert(policy_name.to_owned(), document.to_owned());
                Ok(())
            })
            .await
    }

    async fn add_user_to_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::ADD_USER_TO_GROUP, || {
                let mut state = self.lock();
                if !state.groups.contains(group) {
                    return Err(no_such_entity(format_args!("group with name {group}")));
                }
                state.user_mut(user)?.groups.insert(group.to_owned());
                Ok(())
            })
            .await
    }

    async fn create_login_profile(
        &self,
        user: &str,
        password: &SecretString,
        _reset_required: bool,
    ) -> Result<(), AwsError> {
        self.faults
            .run(ops::CREATE_LOGIN_PROFILE, || {
                self.do_create_login_profile(user, password.expose_secret())
            })
            .await
    }

    async fn create_access_key(&self, user: &str) -> Result<AccessKey, AwsError> {
        self.faults
            .run(ops::CREATE_ACCESS_KEY, || self.do_create_access_key(user))
            .await
    }

    async fn delete_login_profile(&self, user: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_LOGIN_PROFILE, || {
                let mut state = self.lock();
                let user_state = state.user_mut(user)?;
                match user_state.login_profile.take() {
                    Some(_) => Ok(()),
                    None => Err(no_such_entity(format_args!(
                        "Login Profile for User {user}"
                    ))),
                }
            })
            .await
    }

    async fn list_access_keys(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.faults
            .run(ops::LIST_ACCESS_KEYS, || {
                Ok(self
                    .lock()
                    .user(user)?
                    .access_keys
                    .keys()
                    .cloned()
                    .collect())
            })
            .await
    }

    async fn delete_access_key(&self, user: &str, access_key_id: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_ACCESS_KEY, || {
                let mut state = self.lock();
                match state.user_mut(user)?.access_keys.remove(access_key_id) {
                    Some(_) => Ok(()),
                    None => Err(no_such_entity(format_args!(
                        "Access Key with id {access_key_id}"
                    ))),
                }
            })
            .await
    }

    async fn list_mfa_devices(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.faults
            .run(ops::LIST_MFA_DEVICES, || {
                Ok(self
                    .lock()
                    .user(user)?
                    .mfa_devices
                    .iter()
                    .cloned()
                    .collect())
            })
            .await
    }

    async fn deactivate_mfa_device(&self, user: &str, serial: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DEACTIVATE_MFA_DEVICE, || {
                let mut state = self.lock();
                if state.user_mut(user)?.mfa_devices.remove(serial) {
                    Ok(())
                } else {
                    Err(no_such_entity(format_args!("MFA device {serial}")))
                }
            })
            .await
    }

    async fn delete_virtual_mfa_device(&self, serial: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_VIRTUAL_MFA_DEVICE, || {
                let mut state = self.lock();
                if state.users.values().any(|u| u.mfa_devices.contains(serial)) {
                    return Err(AwsError::ServiceError {
                        status: Some(409),
                        code: "DeleteConflict".into(),
                        message: "MFA Device is in use: deactivate it first.".into(),
                    });
                }
                if state.virtual_mfa.remove(serial) {
                    Ok(())
                } else {
                    Err(no_such_entity(format_args!("virtual MFA device {serial}")))
                }
            })
            .await
    }

    async fn list_signing_certificates(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.faults
            .run(ops::LIST_SIGNING_CERTIFICATES, || {
                Ok(self
                    .lock()
                    .user(user)?
                    .signing_certificates
                    .iter()
                    .cloned()
                    .collect())
            })
            .await
    }

    async fn delete_signing_certificate(
        &self,
        user: &str,
        certificate_id: &str,
    ) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_SIGNING_CERTIFICATE, || {
                let mut state = self.lock();
                if state
                    .user_mut(user)?
                    .signing_certificates
                    .remove(certificate_id)
                {
                    Ok(())
                } else {
                    Err(no_such_entity(format_args!(
                        "Signing Certificate with id {certificate_id}"
                    )))
                }
            })
            .await
    }

    async fn list_ssh_public_keys(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.faults
            .run(ops::LIST_SSH_PUBLIC_KEYS, || {
                Ok(self
                    .lock()
                    .user(user)?
                    .ssh_public_keys
                    .iter()
                    .cloned()
                    .collect())
            })
            .await
    }

    async fn delete_ssh_public_key(&self, user: &str, key_id: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_SSH_PUBLIC_KEY, || {
                let mut state = self.lock();
                if state.user_mut(user)?.ssh_public_keys.remove(key_id) {
                    Ok(())
                } else {
                    Err(no_such_entity(format_args!("Public Key with id {key_id}")))
                }
            })
            .await
    }

    async fn list_service_specific_credentials(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.faults
            .run(ops::LIST_SERVICE_SPECIFIC_CREDENTIALS, || {
                Ok(self
                    .lock()
                    .user(user)?
                    .service_specific_credentials
                    .iter()
                    .cloned()
                    .collect())
            })
            .await
    }

    async fn delete_service_specific_credential(
        &self,
        user: &str,
        credential_id: &str,
    ) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_SERVICE_SPECIFIC_CREDENTIAL, || {
                let mut state = self.lock();
                if state
                    .user_mut(user)?
                    .service_specific_credentials
                    .remove(credential_id)
                {
                    Ok(())
                } else {
                    Err(no_such_entity(format_args!(
                        "Service Specific Credential with id {credential_id}"
                    )))
                }
            })
            .await
    }

    async fn list_attached_user_policies(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.faults
            .run(ops::LIST_ATTACHED_USER_POLICIES, || {
                Ok(self
                    .lock()
                    .user(user)?
                    .attached_policies
                    .iter()
                    .cloned()
                    .collect())
            })
            .await
    }

    async fn detach_user_policy(&self, user: &str, policy_arn: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DETACH_USER_POLICY, || {
                let mut state = self.lock();
                if state.user_mut(user)?.attached_policies.remove(policy_arn) {
                    Ok(())
                } else {
                    Err(no_such_entity(format_args!(
                        "Policy {policy_arn} attached to user {user}"
                    )))
                }
            })
            .await
    }

    async fn list_user_policies(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.faults
            .run(ops::LIST_USER_POLICIES, || {
                Ok(self
                    .lock()
                    .user(user)?
                    .inline_policies
                    .keys()
                    .cloned()
                    .collect())
            })
            .await
    }

    async fn get_user_policy(
        &self,
        user: &str,
        policy_name: &str,
    ) -> Result<Option<String>, AwsError> {
        self.faults
            .run(ops::GET_USER_POLICY, || {
                Ok(self
                    .lock()
                    .user(user)?
                    .inline_policies
                    .get(policy_name)
                    .cloned())
            })
            .await
    }

    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_USER_POLICY, || {
                let mut state = self.lock();
                match state.user_mut(user)?.inline_policies.remove(policy_name) {
                    Some(_) => Ok(()),
                    None => Err(no_such_entity(format_args!(
                        "user policy with name {policy_name}"
                    ))),
                }
            })
            .await
    }

    async fn list_groups_for_user(&self, user: &str) -> Result<Vec<String>, AwsError> {
        self.faults
            .run(ops::LIST_GROUPS_FOR_USER, || {
                Ok(self.lock().user(user)?.groups.iter().cloned().collect())
            })
            .await
    }

    async fn remove_user_from_group(&self, user: &str, group: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::REMOVE_USER_FROM_GROUP, || {
                let mut state = self.lock();
                if !state.groups.contains(group) {
                    return Err(no_such_entity(format_args!("group with name {group}")));
                }
                if state.user_mut(user)?.groups.remove(group) {
                    Ok(())
                } else {
                    Err(no_such_entity(format_args!("user {user} in group {group}")))
                }
            })
            .await
    }

    async fn delete_user(&self, user: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_USER, || {
                let mut state = self.lock();
                if let Some(what) = IamState::delete_conflict(state.user(user)?) {
                    return Err(AwsError::ServiceError {
                        status: Some(409),
                        code: "DeleteConflict".into(),
                        message: format!("Cannot delete entity, must remove {what} first."),
                    });
                }
                state.users.remove(user);
                Ok(())
            })
            .await
    }

    async fn get_role_policy(
        &self,
        role: &str,
        policy_name: &str,
    ) -> Result<Option<String>, AwsError> {
        self.faults
            .run(ops::GET_ROLE_POLICY, || {
                Ok(self
                    .lock()
                    .role_policies
                    .get(&(role.to_owned(), policy_name.to_owned()))
                    .cloned())
            })
            .await
    }

    async fn put_role_policy(
        &self,
        role: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<(), AwsError> {
        self.faults
            .run(ops::PUT_ROLE_POLICY, || {
                check_name("policyName", policy_name, 128)?;
                self.lock().role_policies.insert(
                    (role.to_owned(), policy_name.to_owned()),
                    document.to_owned(),
                );
                Ok(())
            })
            .await
    }

    async fn delete_role_policy(&self, role: &str, policy_name: &str) -> Result<(), AwsError> {
        self.faults
            .run(ops::DELETE_ROLE_POLICY, || {
                self.lock()
                    .role_policies
                    .remove(&(role.to_owned(), policy_name.to_owned()));
                Ok(())
            })
            .await
    }
}
