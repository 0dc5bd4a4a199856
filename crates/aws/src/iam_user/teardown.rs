//! Tearing a temporary IAM user down completely.
//!
//! IAM refuses `DeleteUser` while anything hangs off the user, and a user can gain things
//! out of band (someone adds a login profile or a second key). Vault's AWS backend forgot login
//! profiles and leaked users (vault issue 16685); this walks every kind of attachment IAM has.
//! Every list call is paginated to the end (inside [`IamApi`]).

use std::future::Future;

use futures_util::future::join_all;
use tokio::time::Instant;

use super::TeardownReport;
use crate::retry::{with_retries, RetryPolicy};
use crate::{ops, AwsError, IamApi};

/// How many full passes to make when `DeleteUser` still finds something attached (something
/// was added during teardown, or IAM's eventual consistency still shows a deleted item).
const MAX_PASSES: u32 = 3;

/// Removes the user `name` and everything attached to it, in this order: login profile,
/// access keys, MFA devices (deactivated; virtual ones deleted), signing certificates, SSH
/// public keys, service-specific credentials, managed policies, inline policies, group
/// memberships, then the user.
///
/// `NoSuchEntity` on any step counts as done, and a user that is already gone is a success
/// (`user_existed = false`). Independent deletions within a step run concurrently. Every call
/// is retried per `retry` within `deadline`.
///
/// Listing service-specific credentials is best effort (moto does not implement it and
/// answers 500; a target policy may not grant it): when it fails, the step is skipped and
/// `DeleteUser` decides, since IAM refuses it with `DeleteConflict` while any credential is
/// left. `DeleteConflict` starts another pass (at most three); if the last one still
/// conflicts, the skipped step's error is returned, as the better explanation.
///
/// On real AWS, `NoSuchEntity` right after creation can also be eventual consistency; callers
/// that tear down because a *create* failed should only treat a missing user as final for
/// leases older than a few minutes (the reconciler's minimum age).
pub async fn teardown_user(
    iam: &dyn IamApi,
    name: &str,
    deadline: Instant,
    retry: &RetryPolicy,
) -> Result<TeardownReport, AwsError> {
    let mut run = Teardown {
        iam,
        user: name,
        deadline,
        retry,
        removed: Vec::new(),
        skipped: None,
    };
    let mut pass = 0;
    loop {
        pass += 1;
        match run.pass().await {
            Ok(Pass::Deleted) => {
                return Ok(TeardownReport {
                    user_existed: true,
                    removed: run.removed,
                })
            }
            Ok(Pass::UserMissing) => {
                return Ok(TeardownReport {
                    user_existed: !run.removed.is_empty(),
                    removed: run.removed,
                })
            }
            Err(err) if is_delete_conflict(&err) && pass < MAX_PASSES => {
                tracing::info!(user = name, pass, error = %err, "DeleteUser found leftovers; another pass");
                let pause = retry.backoff_ceiling(pass);
                if Instant::now() + pause >= deadline {
                    return Err(run.skipped.take().unwrap_or(err));
                }
                tokio::time::sleep(pause).await;
            }
            // A skipped step explains a conflict better than the conflict itself.
            Err(err) if is_delete_conflict(&err) => return Err(run.skipped.unwrap_or(err)),
            Err(err) => return Err(err),
        }
    }
}

fn is_delete_conflict(err: &AwsError) -> bool {
    matches!(err, AwsError::ServiceError { code, .. } if code == "DeleteConflict")
}

/// How one pass ended.
enum Pass {
    Deleted,
    UserMissing,
}

struct Teardown<'a> {
    iam: &'a dyn IamApi,
    user: &'a str,
    deadline: Instant,
    retry: &'a RetryPolicy,
    removed: Vec<String>,
    /// The error of a best-effort list step that was skipped in the latest pass.
    skipped: Option<AwsError>,
}

impl Teardown<'_> {
    async fn pass(&mut self) -> Result<Pass, AwsError> {
        let (iam, user) = (self.iam, self.user);
        self.skipped = None;

        if self
            .call(ops::DELETE_LOGIN_PROFILE, || iam.delete_login_profile(user))
            .await?
        {
            self.removed.push("login-profile".into());
        }

        let Some(keys) = self
            .list(ops::LIST_ACCESS_KEYS, || iam.list_access_keys(user))
            .await?
        else {
            return Ok(Pass::UserMissing);
        };
        self.delete_each(&keys, "access-key", ops::DELETE_ACCESS_KEY, |id| {
            iam.delete_access_key(user, id)
        })
        .await?;

        let Some(devices) = self
            .list(ops::LIST_MFA_DEVICES, || iam.list_mfa_devices(user))
            .await?
        else {
            return Ok(Pass::UserMissing);
        };
        self.remove_mfa_devices(devices).await?;

        let Some(certs) = self
            .list(ops::LIST_SIGNING_CERTIFICATES, || {
                iam.list_signing_certificates(user)
            })
            .await?
        else {
            return Ok(Pass::UserMissing);
        };
        self.delete_each(
            &certs,
            "signing-certificate",
            ops::DELETE_SIGNING_CERTIFICATE,
            |id| iam.delete_signing_certificate(user, id),
        )
        .await?;

        let Some(ssh_keys) = self
            .list(ops::LIST_SSH_PUBLIC_KEYS, || iam.list_ssh_public_keys(user))
            .await?
        else {
            return Ok(Pass::UserMissing);
        };
        self.delete_each(
            &ssh_keys,
            "ssh-public-key",
            ops::DELETE_SSH_PUBLIC_KEY,
            |id| iam.delete_ssh_public_key(user, id),
        )
        .await?;

        // Best effort: AWS-compatible endpoints may not implement this action (moto answers
        // HTTP 500), and a target's policy may not grant it. Skipping is safe because real IAM
        // refuses `DeleteUser` with `DeleteConflict` while such a credential exists, and then
        // the next pass lists again; one attempt per pass keeps a missing action cheap.
        let listed = with_retries(
            &RetryPolicy::no_retries(),
            self.deadline,
            ops::LIST_SERVICE_SPECIFIC_CREDENTIALS,
            || iam.list_service_specific_credentials(user),
        )
        .await;
        match listed {
            Ok(service_creds) => {
                self.delete_each(
                    &service_creds,
                    "service-specific-credential",
                    ops::DELETE_SERVICE_SPECIFIC_CREDENTIAL,
                    |id| iam.delete_service_specific_credential(user, id),
                )
                .await?;
            }
            Err(err) if err.is_no_such_entity() => return Ok(Pass::UserMissing),
            Err(err) => {
                tracing::debug!(user, error = %err, "skipping service-specific credentials: cannot list them");
                self.skipped = Some(err);
            }
        }

        let Some(attached) = self
            .list(ops::LIST_ATTACHED_USER_POLICIES, || {
                iam.list_attached_user_policies(user)
            })
            .await?
        else {
            return Ok(Pass::UserMissing);
        };
        self.delete_each(
            &attached,
            "managed-policy",
            ops::DETACH_USER_POLICY,
            |arn| iam.detach_user_policy(user, arn),
        )
        .await?;

        let Some(inline) = self
            .list(ops::LIST_USER_POLICIES, || iam.list_user_policies(user))
            .await?
        else {
            return Ok(Pass::UserMissing);
        };
        self.delete_each(&inline, "inline-policy", ops::DELETE_USER_POLICY, |name| {
            iam.delete_user_policy(user, name)
        })
        .await?;

        let Some(groups) = self
            .list(ops::LIST_GROUPS_FOR_USER, || iam.list_groups_for_user(user))
            .await?
        else {
            return Ok(Pass::UserMissing);
        };
        self.delete_each(&groups, "group", ops::REMOVE_USER_FROM_GROUP, |group| {
            iam.remove_user_from_group(user, group)
        })
        .await?;

        if self
            .call(ops::DELETE_USER, || iam.delete_user(user))
            .await?
        {
            self.removed.push(format!("user:{user}"));
            Ok(Pass::Deleted)
        } else {
            Ok(Pass::UserMissing)
        }
    }

    /// A deleting call: `Ok(true)` if it removed something, `Ok(false)` on `NoSuchEntity`.
    async fn call<F, Fut>(&self, op: &str, f: F) -> Result<bool, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), AwsError>>,
    {
        match with_retries(self.retry, self.deadline, op, f).await {
            Ok(()) => Ok(true),
            Err(err) if err.is_no_such_entity() => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// A list call on the user: `Ok(None)` when the user does not exist.
    async fn list<F, Fut>(&self, op: &str, f: F) -> Result<Option<Vec<String>>, AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Vec<String>, AwsError>>,
    {
        match with_retries(self.retry, self.deadline, op, f).await {
            Ok(items) => Ok(Some(items)),
            Err(err) if err.is_no_such_entity() => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Deletes `items` concurrently, records each removal as `kind:item`, and returns the
    /// first error (in list order) after all calls have finished.
    async fn delete_each<'i, F, Fut>(
        &mut self,
        items: &'i [String],
        kind: &str,
        op: &str,
        delete: F,
    ) -> Result<(), AwsError>
    where
        F: Fn(&'i str) -> Fut,
        Fut: Future<Output = Result<(), AwsError>>,
    {
        let outcomes = join_all(
            items
                .iter()
                .map(|item| self.call(op, || delete(item.as_str()))),
        )
        .await;
        let mut first_error = None;
        for (item, outcome) in items.iter().zip(outcomes) {
            match outcome {
                Ok(true) => self.removed.push(format!("{kind}:{item}")),
                Ok(false) => {}
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Deactivates each MFA device and deletes the virtual ones (their serial is an ARN
    /// `arn:aws:iam::ACCOUNT:mfa/NAME`; hardware serials are not ours to delete).
    async fn remove_mfa_devices(&mut self, serials: Vec<String>) -> Result<(), AwsError> {
        let (iam, user) = (self.iam, self.user);
        let this = &*self;
        let outcomes = join_all(serials.iter().map(|serial| async move {
            let deactivated = this
                .call(ops::DEACTIVATE_MFA_DEVICE, || {
                    iam.deactivate_mfa_device(user, serial)
                })
                .await?;
            let deleted = if is_virtual_mfa(serial) {
                this.call(ops::DELETE_VIRTUAL_MFA_DEVICE, || {
                    iam.delete_virtual_mfa_device(serial)
                })
                .await?
            } else {
                false
            };
            Ok::<bool, AwsError>(deactivated || deleted)
        }))
        .await;
        let mut first_error = None;
        for (serial, outcome) in serials.iter().zip(outcomes) {
            match outcome {
                Ok(true) => self.removed.push(format!("mfa-device:{serial}")),
                Ok(false) => {}
                Err(err) => {
                    first_error.get_or_insert(err);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

fn is_virtual_mfa(serial: &str) -> bool {
    serial.starts_with("arn:") && serial.contains(":mfa/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_mfa_serials_are_arns() {
        assert!(is_virtual_mfa("arn:aws:iam::123456789012:mfa/alice"));
        assert!(!is_virtual_mfa("GAHT12345678"));
        assert!(!is_virtual_mfa(
            "arn:aws:iam::123456789012:u2f/user/alice/x"
        ));
    }
}
