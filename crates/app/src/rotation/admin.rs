//! Rotating the access key of a target's IAM user (Vault's `rotate-root`, Akeyless's admin
//! rotation).
//!
//! The order makes every interruption harmless: whatever step fails or is cut off, the key
//! stored in the target works.
//!
//! 1. **Claim** the target (a conditional update with an expiry), so two gateways never
//!    rotate one target at once.
//! 2. **Who am I**: `sts:GetCallerIdentity` with the stored key gives the IAM user's name.
//! 3. **Clean up**: the user's keys that are neither stored in a target nor just created by
//!    a running rotation are left-overs of an interrupted rotation; they are deleted. That
//!    also frees the slot when the user already has two keys (AWS's limit).
//! 4. **Create** the new key and record its id on the claim (so no other rotation takes it
//!    for a left-over).
//! 5. **Verify** the new key with `sts:GetCallerIdentity`, retrying for a short while (a new
//!    IAM key takes a few seconds to be accepted everywhere). Failure deletes the new key;
//!    the old one is still stored and still works.
//! 6. **Store** it: sealed, with a conditional update on the version read in step 2. A
//!    concurrent change of the target wins: the new key is deleted again.
//! 7. **Delete** the old key, unless another target stores it too. If that fails, the new
//!    key is stored and works; the next rotation deletes the old one in step 3.

use std::{collections::BTreeSet, time::Duration};

use mayfly_aws::{AwsClients, AwsError, RetryPolicy};
use mayfly_store::{now_millis, rotation as store, targets, Millis, TargetId};
use tokio::time::Instant;

use crate::targets::{open, seal};

use crate::{error::AppError, leases::base_clients_for};

use crate::state::AppState;

/// Time limits of one rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How long a new key may take to be accepted by STS.
    pub verify_for: Duration,
    /// Pause between verification attempts.
    pub verify_every: Duration,
    /// How long a claim holds; a rotation is cut off before it ends.
    pub claim_for: Duration,
    /// When a scheduled rotation failed, the next attempt waits this long.
    pub retry_after_failure: Duration,
    /// How long the previous key is kept after the new one is stored: gateways may serve a
    /// target from their cache for `cache_ttl` (see `crate::cache`), so the old key must
    /// keep working that long.
    pub old_key_grace: Duration,
}

impl Timing {
    /// The default timing, keeping the previous key for the gateway's cache lifetime plus a
    /// second for requests already under way.
    pub fn for_cache_ttl(cache_ttl: Duration) -> Timing {
        Timing {
            old_key_grace: if cache_ttl.is_zero() {
                Duration::ZERO
            } else {
                cache_ttl + Duration::from_secs(1)
            },
            ..Timing::default()
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            verify_for: Duration::from_secs(30),
            verify_every: Duration::from_secs(2),
            claim_for: Duration::from_secs(10 * 60),
            retry_after_failure: Duration::from_secs(30 * 60),
            old_key_grace: Duration::from_secs(3),
        }
    }
}

/// What a successful rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotated {
    pub target_id: TargetId,
    pub target_name: String,
    pub iam_user: String,
    pub previous_access_key_id: String,
    pub access_key_id: String,
    /// Whether the previous key was deleted (`false`: it is left for the next rotation, or
    /// another target still uses it).
    pub previous_key_deleted: bool,
    /// Keys of the user deleted as left-overs of earlier, interrupted rotations.
    pub stale_keys_deleted: Vec<String>,
    /// Something the caller should know about (never a secret).
    pub warning: Option<String>,
    pub rotated_at: Millis,
    pub next_rotation_at: Option<Millis>,
}

/// Why a rotation did not happen. Each leaves the stored key working.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    #[error("target {0} no longer exists")]
    Gone(TargetId),
    #[error("a rotation of target {0} is already running; try again later")]
    Busy(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{step}: {source}")]
    Aws {
        step: &'static str,
        #[source]
        source: AwsError,
    },
    #[error("the new access key {key_id} was not accepted by AWS within {secs} s ({last}); it was deleted and the old key is still in use")]
    NotVerified {
        key_id: String,
        secs: u64,
        last: String,
    },
    #[error("target {0} changed while its key was being rotated; the new key was deleted and the target keeps its current credentials")]
    Changed(String),
    #[error("the rotation took longer than {0} s and was stopped; the stored key still works, and the next rotation cleans up")]
    TimedOut(u64),
    #[error("{0}")]
    App(#[from] AppError),
    #[error("{0}")]
    Store(#[from] mayfly_store::StoreError),
}

impl RotationError {
    fn aws(step: &'static str) -> impl FnOnce(AwsError) -> RotationError {
        move |source| RotationError::Aws { step, source }
    }
}

impl From<RotationError> for AppError {
    fn from(e: RotationError) -> Self {
        match e {
            RotationError::Gone(_) => AppError::not_found(e.to_string()),
            RotationError::Busy(_) | RotationError::Changed(_) => AppError::conflict(e.to_string()),
            RotationError::Unsupported(_) => AppError::invalid(e.to_string()),
            RotationError::Aws { step, source } => {
                let mapped = AppError::from(source);
                match mapped {
                    AppError::Aws(m) => AppError::Aws(format!("{step}: {m}")),
                    AppError::AwsUnavailable(m) => AppError::AwsUnavailable(format!("{step}: {m}")),
                    AppError::AwsTimeout(m) => AppError::AwsTimeout(format!("{step}: {m}")),
                    other => other,
                }
            }
            RotationError::NotVerified { .. } => AppError::Aws(e.to_string()),
            RotationError::TimedOut(_) => AppError::AwsTimeout(e.to_string()),
            RotationError::App(app) => app,
            RotationError::Store(store) => store.into(),
        }
    }
}

/// Rotates target `target_id`'s access key: claims it, rotates, releases the claim. A
/// failure is recorded on the target (and, for a scheduled target, delays the next attempt
/// by [`Timing::retry_after_failure`]).
pub async fn rotate_target(
    state: &AppState,
    target_id: TargetId,
    timing: &Timing,
) -> Result<Rotated, RotationError> {
    let db = state.db();
    let me = state.instance_id();
    let now = now_millis();
    if !store::claim(db, target_id, me, now, now + millis(timing.claim_for)).await? {
        return match targets::find_by_id(db, target_id).await? {
            None => Err(RotationError::Gone(target_id)),
            Some(row) => Err(RotationError::Busy(row.name)),
        };
    }
    // Cut off well before the claim ends, so no other gateway starts while this one works.
    let budget = timing.claim_for.mul_f64(0.8);
    let outcome = match tokio::time::timeout(budget, rotate_claimed(state, target_id, timing)).await
    {
        Ok(outcome) => outcome,
        Err(_) => Err(RotationError::TimedOut(budget.as_secs())),
    };
    let (error, retry_at) = match &outcome {
        Ok(_) => (None, None),
        Err(e) => {
            let scheduled = store::find(db, target_id)
                .await
                .ok()
                .flatten()
                .is_some_and(|s| s.rotation_interval_days > 0);
            (
                Some(e.to_string()),
                scheduled.then(|| now_millis() + millis(timing.retry_after_failure)),
            )
        }
    };
    if let Err(e) = store::release(db, target_id, me, error.as_deref(), retry_at).await {
        tracing::warn!(target_id = target_id.get(), error = %e, "could not release the rotation claim; it expires on its own");
    }
    match &outcome {
        Ok(r) => tracing::info!(
            target_id = target_id.get(),
            target_name = %r.target_name,
            iam_user = %r.iam_user,
            previous_access_key_id = %r.previous_access_key_id,
            access_key_id = %r.access_key_id,
            previous_key_deleted = r.previous_key_deleted,
            "admin access key rotated"
        ),
        Err(e) => {
            tracing::warn!(target_id = target_id.get(), error = %e, "admin access key rotation failed")
        }
    }
    outcome
}

async fn rotate_claimed(
    state: &AppState,
    target_id: TargetId,
    timing: &Timing,
) -> Result<Rotated, RotationError> {
    let db = state.db();
    let me = state.instance_id();
    let row = targets::find_by_id(db, target_id)
        .await?
        .ok_or(RotationError::Gone(target_id))?;
    if row.sealed_credentials.is_empty() {
        return Err(RotationError::Unsupported(format!(
            "target {}: {}",
            row.name,
            crate::targets::NO_KEY_TO_ROTATE
        )));
    }
    let creds = open(state, &row)?;
    if creds.session_token.is_some() {
        return Err(RotationError::Unsupported(format!(
            "target {} holds temporary STS credentials (with a session token), which cannot be rotated; give it an IAM user's access key",
            row.name
        )));
    }
    let old_key_id = creds.access_key_id.clone();
    // The base key's own clients: a role the target assumes is not the key's user.
    let old = base_clients_for(state, &row)?;
    let policy = RetryPolicy::default();
    let deadline = || Instant::now() + Duration::from_secs(30);

    // 2. Who the stored key belongs to.
    let sts = old.sts.clone();
    let identity = mayfly_aws::with_retries(&policy, deadline(), "sts:GetCallerIdentity", || {
        sts.get_caller_identity()
    })
    .await
    .map_err(RotationError::aws("checking the stored key"))?;
    let user = iam_user_name(&identity.arn).ok_or_else(|| {
        RotationError::Unsupported(format!(
            "target {}'s credentials belong to {}, not an IAM user; only an IAM user's access key can be rotated",
            row.name, identity.arn
        ))
    })?;

    // 3. Left-overs of interrupted rotations.
    let iam = old.iam.clone();
    let existing = mayfly_aws::with_retries(&policy, deadline(), "iam:ListAccessKeys", || {
        iam.list_access_keys(&user)
    })
    .await
    .map_err(RotationError::aws("listing the user's access keys"))?;
    let in_use = keys_in_use(state, row.id).await?;
    let mut stale_deleted = Vec::new();
    let mut kept = Vec::new();
    for key in existing {
        if key == old_key_id {
            continue;
        }
        if in_use.contains(&key) {
            kept.push(key);
            continue;
        }
        let iam = old.iam.clone();
        let deleted = mayfly_aws::with_retries(&policy, deadline(), "iam:DeleteAccessKey", || {
            iam.delete_access_key(&user, &key)
        })
        .await;
        match deleted {
            Ok(()) => {}
            Err(e) if e.is_no_such_entity() => {}
            Err(e) => return Err(RotationError::aws("deleting a left-over access key")(e)),
        }
        tracing::info!(target_id = target_id.get(), iam_user = %user, access_key_id = %key, "deleted a left-over access key of an interrupted rotation");
        stale_deleted.push(key);
    }
    if !kept.is_empty() {
        return Err(RotationError::Unsupported(format!(
            "IAM user {user} already has a second access key ({}) that another target uses; AWS allows two keys per user, so this target's key cannot be rotated while both are in use",
            kept.join(", ")
        )));
    }

    // 4. The new key. One attempt: a retried CreateAccessKey could leave a key whose secret
    // was never seen (the next rotation deletes such a key in step 3).
    let new_key = old
        .iam
        .create_access_key(&user)
        .await
        .map_err(RotationError::aws("creating the new access key"))?;
    let new_key_id = new_key.access_key_id.clone();
    if !store::record_pending_key(db, row.id, me, &new_key_id).await? {
        discard(&old, &user, &new_key_id).await;
        return Err(RotationError::Busy(row.name));
    }

    // 5. Does it work?
    let new_conn = mayfly_aws::ConnectionSpec {
        base: mayfly_aws::BaseCredentials::Keys {
            access_key_id: new_key_id.clone(),
            secret_access_key: new_key.secret_access_key.clone(),
            session_token: None,
        },
        region: row.region.clone(),
        iam_endpoint: row.iam_endpoint.clone(),
        sts_endpoint: row.sts_endpoint.clone(),
        role: None,
    };
    // A cache key no real target uses (negative id), unique per attempt (a failed attempt's
    // clients, with its deleted key, must not be reused); the source keeps one per target.
    let new = state
        .aws()
        .clients((-row.id.get(), attempt_id()), &new_conn);
    if let Err(e) = verify(&new, &identity.arn, &new_key_id, timing).await {
        discard(&old, &user, &new_key_id).await;
        return Err(e);
    }

    // 6. Store it.
    let mut new_creds = creds.clone();
    new_creds.access_key_id = new_key_id.clone();
    new_creds.secret_access_key = new_key.secret_access_key.clone();
    new_creds.session_token = None;
    let sealed = seal(state, row.id, &row.uid, &new_creds)?;
    let now = now_millis();
    let interval = store::find(db, row.id)
        .await?
        .map_or(0, |s| s.rotation_interval_days);
    let next_due = (interval > 0).then(|| now + interval.saturating_mul(store::DAY_MS));
    let stored = store::store_rotated(db, row.id, row.version, me, &sealed, now, next_due).await;
    match stored {
        Ok(true) => {}
        Ok(false) => {
            discard(&new, &user, &new_key_id).await;
            return Err(RotationError::Changed(row.name));
        }
        Err(e) => {
            // A key is deleted only when it is known not to be stored: read the row back.
            match targets::find_by_id(db, row.id).await {
                Ok(Some(now_row)) if now_row.sealed_credentials == sealed => {}
                Ok(_) => {
                    discard(&old, &user, &new_key_id).await;
                    return Err(e.into());
                }
                Err(_) => return Err(e.into()),
            }
        }
    }

    // This gateway serves the new key from now on; others within `old_key_grace`.
    state.invalidate_caches();
    if !timing.old_key_grace.is_zero() {
        tokio::time::sleep(timing.old_key_grace).await;
    }

    // 7. The old key goes, unless another target stores it too.
    let mut warning = None;
    let shared = keys_in_use(state, row.id).await?.contains(&old_key_id);
    let previous_key_deleted = if shared {
        warning = Some(format!(
            "the previous key {old_key_id} is also stored in another target and was kept"
        ));
        false
    } else {
        let iam = old.iam.clone();
        match mayfly_aws::with_retries(&policy, deadline(), "iam:DeleteAccessKey", || {
            iam.delete_access_key(&user, &old_key_id)
        })
        .await
        {
            Ok(()) => true,
            Err(e) if e.is_no_such_entity() => true,
            Err(e) => {
                tracing::warn!(target_id = target_id.get(), iam_user = %user, access_key_id = %old_key_id, error = %e, "could not delete the previous access key; the next rotation deletes it");
                warning = Some(format!(
                    "the new key is stored and works, but deleting the previous key {old_key_id} failed ({e}); the next rotation deletes it"
                ));
                false
            }
        }
    };
    Ok(Rotated {
        target_id: row.id,
        target_name: row.name,
        iam_user: user,
        previous_access_key_id: old_key_id,
        access_key_id: new_key_id,
        previous_key_deleted,
        stale_keys_deleted: stale_deleted,
        warning,
        rotated_at: now,
        next_rotation_at: next_due,
    })
}

/// Waits until the new key authenticates as the same principal, within `timing.verify_for`.
async fn verify(
    new: &AwsClients,
    expected_arn: &str,
    key_id: &str,
    timing: &Timing,
) -> Result<(), RotationError> {
    let until = Instant::now() + timing.verify_for;
    loop {
        let last = match new.sts.get_caller_identity().await {
            Ok(identity) if identity.arn == expected_arn => return Ok(()),
            Ok(identity) => {
                return Err(RotationError::Unsupported(format!(
                    "the new access key {key_id} authenticates as {}, not {expected_arn}",
                    identity.arn
                )))
            }
            // Not (yet) accepted, or a transient failure: both may pass.
            Err(e @ AwsError::AccessDenied { .. }) => e,
            Err(e) if e.is_retryable() => e,
            Err(e) => {
                return Err(RotationError::NotVerified {
                    key_id: key_id.to_owned(),
                    secs: 0,
                    last: e.to_string(),
                })
            }
        };
        if Instant::now() + timing.verify_every > until {
            return Err(RotationError::NotVerified {
                key_id: key_id.to_owned(),
                secs: timing.verify_for.as_secs(),
                last: last.to_string(),
            });
        }
        tokio::time::sleep(timing.verify_every).await;
    }
}

/// Deletes a key this rotation created and will not store. Best effort: if it fails, the
/// key is a left-over the next rotation deletes.
async fn discard(clients: &AwsClients, user: &str, key_id: &str) {
    let iam = clients.iam.clone();
    let deadline = Instant::now() + Duration::from_secs(20);
    match mayfly_aws::with_retries(
        &RetryPolicy::default(),
        deadline,
        "iam:DeleteAccessKey",
        || iam.delete_access_key(user, key_id),
    )
    .await
    {
        Ok(()) => {}
        Err(e) if e.is_no_such_entity() => {}
        Err(e) => {
            tracing::warn!(iam_user = %user, access_key_id = %key_id, error = %e, "could not delete an unused new access key; the next rotation deletes it")
        }
    }
}

/// Access key ids that must not be deleted as left-overs: stored in a target other than
/// `except_target`, or created by a rotation still running.
async fn keys_in_use(
    state: &AppState,
    except_target: TargetId,
) -> Result<BTreeSet<String>, RotationError> {
    let mut in_use: BTreeSet<String> = store::pending_keys(state.db(), now_millis())
        .await?
        .into_iter()
        .collect();
    for row in store::all_sealed(state.db()).await? {
        if row.id == except_target {
            continue;
        }
        match open(state, &row) {
            Ok(creds) => {
                in_use.insert(creds.access_key_id);
            }
            Err(e) => {
                tracing::warn!(target_name = %row.name, error = %e, "cannot read a target's key id while looking for keys in use")
            }
        }
    }
    Ok(in_use)
}

/// The user name in an IAM user ARN (`arn:aws:iam::123456789012:user/path/name`); `None`
/// for anything else (the root user, an assumed role, a federated user).
pub fn iam_user_name(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", _account, resource] if partition.starts_with("aws") => {
            let path_and_name = resource.strip_prefix("user/")?;
            let name = path_and_name.rsplit('/').next()?;
            (!name.is_empty()).then(|| name.to_owned())
        }
        _ => None,
    }
}

/// Distinct for every rotation attempt of a process (microseconds since the epoch, bumped
/// if the clock has not moved).
fn attempt_id() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = chrono::Utc::now().timestamp_micros();
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn user_names_come_from_iam_user_arns_only() {
        assert_eq!(
            iam_user_name("arn:aws:iam::123456789012:user/admin").as_deref(),
            Some("admin")
        );
        assert_eq!(
            iam_user_name("arn:aws:iam::123456789012:user/division/team/ci-admin").as_deref(),
            Some("ci-admin")
        );
        assert_eq!(
            iam_user_name("arn:aws-cn:iam::123456789012:user/x").as_deref(),
            Some("x")
        );
        for other in [
            "arn:aws:iam::123456789012:root",
            "arn:aws:sts::123456789012:assumed-role/role/session",
            "arn:aws:sts::123456789012:federated-user/bob",
            "arn:aws:iam::123456789012:user/",
            "not an arn",
        ] {
            assert_eq!(iam_user_name(other), None, "{other}");
        }
    }
}
