//! Revoking STS credentials before they expire (issue #14 item 1).
//!
//! AWS cannot take back an STS credential, but it can be told to refuse it: a deny in an
//! inline policy of the role (`assume_role`) or of the IAM user that issued it
//! (`federation_token`, `session_token`) conditioned on the session's `aws:userid` (one
//! credential, by its unique session name) or on `aws:TokenIssueTime` (every credential
//! issued before now). The statements and their pruning are `mayfly_domain::sts_revocation`;
//! this module reads and writes the policy in AWS, one gateway at a time per role or user
//! (`mayfly_store::session_denials`), and keeps the leases' states in step.

use std::time::Duration;

use mayfly_aws::{ops, AwsClients, RetryPolicy};
use mayfly_domain::sts_revocation::{self, Rendered, RevocationPolicy, POLICY_NAME};
use mayfly_store::{
    entity::target,
    leases::{self, Lease, LeaseMode},
    now_millis, session_denials, targets, ProducerId,
};
use tokio::time::Instant;

use super::clients_for;
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    time::rfc3339,
};

/// How long one gateway may hold a principal's lock: far longer than a read and a write.
const LOCK_HOLD: Duration = Duration::from_secs(30);
/// How long a request waits for another gateway's change of the same policy.
const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Past a credential's expiry, its denial is kept this long more (clocks differ).
const EXPIRY_MARGIN_SECS: i64 = 300;
/// Principals pruned per housekeeping round.
const PRUNE_BATCH: u64 = 50;

/// Whose inline policy holds the denials.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Principal {
    Role { name: String, arn: String },
    User { name: String, arn: String },
}

impl Principal {
    fn from_arn(arn: &str) -> AppResult<Principal> {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
        let name = resource.rsplit('/').next().unwrap_or_default().to_owned();
        match resource.split('/').next() {
            Some("role") if !name.is_empty() => Ok(Principal::Role {
                name,
                arn: arn.to_owned(),
            }),
            Some("user") if !name.is_empty() => Ok(Principal::User {
                name,
                arn: arn.to_owned(),
            }),
            _ => Err(AppError::invalid(format!(
                "{arn} is neither an IAM role nor an IAM user; session revocation puts its deny on one of those"
            ))),
        }
    }

    fn arn(&self) -> &str {
        match self {
            Principal::Role { arn, .. } | Principal::User { arn, .. } => arn,
        }
    }

    /// What the target's identity needs, for error messages.
    fn needs(&self) -> String {
        match self {
            Principal::Role { arn, .. } => {
                format!("iam:GetRolePolicy, iam:PutRolePolicy and iam:DeleteRolePolicy on {arn}")
            }
            Principal::User { arn, .. } => {
                format!("iam:GetUserPolicy, iam:PutUserPolicy and iam:DeleteUserPolicy on {arn}")
            }
        }
    }
}

/// What a change of a principal's policy did.
struct Changed {
    /// Per-session denials had to become issue-time denies (the policy was full).
    merged: bool,
}

/// The principal whose policy decides about `lease`'s credential: its role, or the target's
/// IAM user (asked of AWS: a key names no user).
async fn principal_of(
    state: &AppState,
    target: &target::Model,
    mode: LeaseMode,
    role_arn: Option<&str>,
) -> AppResult<Principal> {
    match (mode, role_arn) {
        (LeaseMode::AssumeRole | LeaseMode::AssumedRole, Some(arn)) => Principal::from_arn(arn),
        (LeaseMode::AssumeRole | LeaseMode::AssumedRole, None) => Err(AppError::internal(
            "an assume_role credential without its role",
        )),
        _ => {
            let clients = clients_for(state, target)?;
            let deadline = Instant::now() + Duration::from_secs(10);
            let id = mayfly_aws::with_retries(
                &RetryPolicy::default(),
                deadline,
                ops::GET_CALLER_IDENTITY,
                || clients.sts.get_caller_identity(),
            )
            .await?;
            Principal::from_arn(&id.arn)
        }
    }
}

/// Reads the principal's policy, applies `change` to it (with Mayfly's own record of its
/// statements, so an IAM read that lags a write never drops one), prunes what has expired,
/// and writes it back, holding the principal's lock throughout.
async fn change_policy(
    state: &AppState,
    target: &target::Model,
    principal: &Principal,
    at: i64,
    change: impl FnOnce(&mut RevocationPolicy),
) -> AppResult<Changed> {
    let owner = state.instance_id().to_owned();
    let waited_until = Instant::now() + LOCK_WAIT;
    let record = loop {
        let now = now_millis();
        let hold = now + i64::try_from(LOCK_HOLD.as_millis()).unwrap_or(30_000);
        if let Some(r) =
            session_denials::lock(state.db(), target.id, principal.arn(), &owner, now, hold).await?
        {
            break r;
        }
        if Instant::now() >= waited_until {
            return Err(AppError::conflict(format!(
                "another gateway is changing the session denials of {} right now; retry in a moment",
                principal.arn()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let result = write_policy(state, target, principal, &record.statements, at, change).await;
    match result {
        Ok((own, next, changed)) => {
            let saved = session_denials::save_and_unlock(
                state.db(),
                &record.id,
                &owner,
                &own,
                next,
                now_millis(),
            )
            .await?;
            if !saved {
                // The lock lapsed mid-change: another gateway may have written over us.
                return Err(AppError::conflict(format!(
                    "changing the session denials of {} took longer than the lock allows; retry",
                    principal.arn()
                )));
            }
            Ok(changed)
        }
        Err(e) => {
            if let Err(u) = session_denials::unlock(state.db(), &record.id, &owner).await {
                tracing::warn!(error = %u, "could not release a session-denials lock; it lapses on its own");
            }
            Err(e)
        }
    }
}

/// The AWS half of [`change_policy`]: returns Mayfly's statements to record, when the first
/// of them stops mattering (Unix millis), and what changed.
async fn write_policy(
    state: &AppState,
    target: &target::Model,
    principal: &Principal,
    recorded: &str,
    at: i64,
    change: impl FnOnce(&mut RevocationPolicy),
) -> AppResult<(String, Option<i64>, Changed)> {
    let clients = clients_for(state, target)?;
    let retry = RetryPolicy::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let context = |e: mayfly_aws::AwsError| {
        let denied = matches!(e, mayfly_aws::AwsError::AccessDenied { .. });
        let err = AppError::from(e);
        if denied {
            AppError::Aws(format!(
                "{err}. Revoking STS credentials needs {} for the target's identity",
                principal.needs()
            ))
        } else {
            err
        }
    };
    let current = read_policy(&clients, principal, &retry, deadline)
        .await
        .map_err(context)?;
    let mut policy = RevocationPolicy::parse(current.as_deref()).map_err(|e| {
        AppError::conflict(format!(
            "{e} (on {}); fix or delete that inline policy: Mayfly keeps its session denials there",
            principal.arn()
        ))
    })?;
    let ours = RevocationPolicy::parse(Some(recorded).filter(|r| !r.is_empty()))
        .map_err(AppError::internal)?;
    policy.absorb(&ours);
    change(&mut policy);
    policy.prune(at.div_euclid(1000));
    let rendered = policy.render(&rfc3339(at));
    let merged = match &rendered {
        Rendered::Empty => {
            mayfly_aws::with_retries(&retry, deadline, delete_op(principal), || {
                delete_policy(&clients, principal)
            })
            .await
            .map_err(context)?;
            false
        }
        Rendered::Document { json, merged } => {
            mayfly_aws::with_retries(&retry, deadline, put_op(principal), || {
                put_policy(&clients, principal, json)
            })
            .await
            .map_err(context)?;
            *merged
        }
    };
    let own = if policy.has_own_statements() {
        policy.own_document()
    } else {
        String::new()
    };
    let next = policy
        .next_expiry()
        .map(|s| s.saturating_mul(1000).saturating_add(1));
    Ok((own, next, Changed { merged }))
}

async fn read_policy(
    clients: &AwsClients,
    principal: &Principal,
    retry: &RetryPolicy,
    deadline: Instant,
) -> Result<Option<String>, mayfly_aws::AwsError> {
    match principal {
        Principal::Role { name, .. } => {
            mayfly_aws::with_retries(retry, deadline, ops::GET_ROLE_POLICY, || {
                clients.iam.get_role_policy(name, POLICY_NAME)
            })
            .await
        }
        Principal::User { name, .. } => {
            mayfly_aws::with_retries(retry, deadline, ops::GET_USER_POLICY, || {
                clients.iam.get_user_policy(name, POLICY_NAME)
            })
            .await
        }
    }
}

fn put_op(principal: &Principal) -> &'static str {
    match principal {
        Principal::Role { .. } => ops::PUT_ROLE_POLICY,
        Principal::User { .. } => ops::PUT_USER_POLICY,
    }
}

fn delete_op(principal: &Principal) -> &'static str {
    match principal {
        Principal::Role { .. } => ops::DELETE_ROLE_POLICY,
        Principal::User { .. } => ops::DELETE_USER_POLICY,
    }
}

async fn put_policy(
    clients: &AwsClients,
    principal: &Principal,
    json: &str,
) -> Result<(), mayfly_aws::AwsError> {
    match principal {
        Principal::Role { name, .. } => clients.iam.put_role_policy(name, POLICY_NAME, json).await,
        Principal::User { name, .. } => clients.iam.put_user_policy(name, POLICY_NAME, json).await,
    }
}

async fn delete_policy(
    clients: &AwsClients,
    principal: &Principal,
) -> Result<(), mayfly_aws::AwsError> {
    match principal {
        Principal::Role { name, .. } => clients.iam.delete_role_policy(name, POLICY_NAME).await,
        Principal::User { name, .. } => {
            match clients.iam.delete_user_policy(name, POLICY_NAME).await {
                Err(e) if e.is_no_such_entity() => Ok(()),
                other => other,
            }
        }
    }
}

/// Until when (Unix seconds) a denial of a credential expiring at `expires_at` matters.
fn until(expires_at: i64) -> i64 {
    expires_at.div_euclid(1000) + 1 + EXPIRY_MARGIN_SECS
}

async fn target_of(state: &AppState, lease: &Lease) -> AppResult<target::Model> {
    targets::find_by_id(state.db(), lease.target_id)
        .await?
        .ok_or_else(|| AppError::internal(format!("tmp creds {} have no target row", lease.id)))
}

/// Has AWS refuse one revocable STS credential from now on, then marks it revoked.
pub async fn revoke_one(state: &AppState, lease: &Lease) -> AppResult<()> {
    if lease.mode == LeaseMode::SessionToken {
        return Err(AppError::invalid(
            "AWS gives a session token no name of its own, so one cannot be refused without refusing every session token of the target's IAM user; revoke them all with revoke-all",
        ));
    }
    let Some(session) = lease.session_name.as_deref() else {
        return Err(AppError::internal(
            "revoke_one on a credential without a session name",
        ));
    };
    let target = target_of(state, lease).await?;
    let principal = principal_of(state, &target, lease.mode, lease.role_arn.as_deref()).await?;
    let changed = change_policy(state, &target, &principal, now_millis(), |p| {
        p.revoke_session(session, until(lease.expires_at));
    })
    .await?;
    leases::mark_session_revoked(state.db(), &lease.id, now_millis()).await?;
    record(
        state,
        lease.producer_name.clone(),
        "lease-revoked",
        format!(
            "tmp creds {} (session {session} denied on {}){}",
            lease.id,
            principal.arn(),
            merged_note(&changed)
        ),
    )
    .await;
    tracing::info!(lease = %lease.id, principal = principal.arn(), "STS credential revoked");
    Ok(())
}

/// What a revoke-all of an STS producer did.
#[derive(Debug, Default)]
pub struct RevokedAll {
    /// Credentials now refused by AWS (and marked revoked).
    pub revoked: u64,
    /// Live credentials it could not reach: issued before the producer had
    /// `session-revocation`, so their session names are not the producer's.
    pub unreachable: u64,
}

/// Has AWS refuse every live STS credential of a producer issued until now: per role (or
/// the target's user), a deny on `aws:TokenIssueTime` narrowed to the producer's session
/// names (or, for session tokens, which have no names, every session token of the user).
pub async fn revoke_all(
    state: &AppState,
    producer_id: ProducerId,
    producer_name: &str,
    target: &target::Model,
    mode: LeaseMode,
) -> AppResult<RevokedAll> {
    let now = now_millis();
    let live = leases::live_sessions(state.db(), producer_id, now).await?;
    let by_name = mode != LeaseMode::SessionToken;
    let (reachable, unreachable): (Vec<&Lease>, Vec<&Lease>) = live
        .iter()
        .partition(|l| !by_name || l.session_name.is_some());
    if reachable.is_empty() {
        return Ok(RevokedAll {
            revoked: 0,
            unreachable: unreachable.len() as u64,
        });
    }
    // AWS's TokenIssueTime has whole seconds: the bound is the next second, so a credential
    // issued in the same second as this call is covered.
    let before_millis = (now.div_euclid(1000) + 1) * 1000;
    let before = rfc3339(before_millis);
    let marker = by_name.then(|| sts_revocation::producer_marker(producer_id.get()));
    // One principal per role (or the target's user): resolved once each, not per lease (a
    // federation or session token's user costs a GetCallerIdentity).
    let mut by_role: Vec<(Option<&str>, LeaseMode, i64)> = Vec::new();
    for lease in &reachable {
        let u = until(lease.expires_at);
        let role = lease.role_arn.as_deref();
        match by_role.iter_mut().find(|(r, _, _)| *r == role) {
            Some((_, _, max)) => *max = (*max).max(u),
            None => by_role.push((role, lease.mode, u)),
        }
    }
    let mut principals: Vec<(Principal, i64)> = Vec::new();
    for (role, mode, u) in by_role {
        principals.push((principal_of(state, target, mode, role).await?, u));
    }
    let mut merged = false;
    for (principal, until) in &principals {
        let changed = change_policy(state, target, principal, now_millis(), |p| {
            p.revoke_all(marker.as_deref(), &before, *until);
        })
        .await?;
        merged |= changed.merged;
    }
    let revoked = leases::mark_sessions_revoked_before(
        state.db(),
        producer_id,
        before_millis,
        by_name,
        now_millis(),
    )
    .await?;
    let arns: Vec<&str> = principals.iter().map(|(p, _)| p.arn()).collect();
    record(
        state,
        producer_name.to_owned(),
        "lease-revoked-all",
        format!(
            "{revoked} STS credentials issued before {before} denied on {}{}",
            arns.join(", "),
            merged_note(&Changed { merged })
        ),
    )
    .await;
    Ok(RevokedAll {
        revoked,
        unreachable: unreachable.len() as u64,
    })
}

fn merged_note(changed: &Changed) -> &'static str {
    if changed.merged {
        "; the revocation policy was full, so its per-session denials were merged into a deny of every session of the same producer issued before now"
    } else {
        ""
    }
}

async fn record(state: &AppState, item: String, operation: &str, detail: String) {
    let me = state.instance_id().to_owned();
    state
        .auditor()
        .record(
            state.db(),
            mayfly_store::audit::NewAuditEvent {
                identity: String::new(),
                at: now_millis(),
                request_id: String::new(),
                access_id: format!("gateway:{me}"),
                operation: operation.to_owned(),
                item,
                outcome: "ok".to_owned(),
                status: 200,
                client_address: String::new(),
                detail,
            },
        )
        .await;
}

/// Drops the denials whose credentials have all expired (housekeeping): per principal, once
/// its first statement stops mattering; the inline policy goes with the last one.
pub async fn prune_expired(state: &AppState) {
    prune_expired_at(state, now_millis()).await;
}

/// [`prune_expired`] as if it were `at` (Unix millis): tests cannot wait for an STS
/// credential's 15-minute minimum life.
pub async fn prune_expired_at(state: &AppState, at: i64) {
    let due = match session_denials::due_for_prune(state.db(), at, PRUNE_BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the session denials due for pruning");
            return;
        }
    };
    for row in due {
        let target = match targets::find_by_id(state.db(), row.target_id).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                // The target is gone and with it the way into AWS; the statements left there
                // deny only expired credentials.
                tracing::warn!(principal = %row.principal_arn, "session denials of a deleted target forgotten; their statements deny only expired credentials");
                forget(state, &row).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read a target for pruning");
                continue;
            }
        };
        let principal = match Principal::from_arn(&row.principal_arn) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "session denials of an unknown principal forgotten");
                forget(state, &row).await;
                continue;
            }
        };
        match change_policy(state, &target, &principal, at, |_| {}).await {
            Ok(_) => {
                tracing::info!(
                    principal = principal.arn(),
                    "expired session denials pruned"
                )
            }
            Err(e) => {
                tracing::warn!(principal = principal.arn(), error = %e, "could not prune session denials; retried next round")
            }
        }
    }
}

async fn forget(state: &AppState, row: &session_denials::SessionDenials) {
    let owner = state.instance_id().to_owned();
    let now = now_millis();
    let hold = now + 30_000;
    if let Ok(Some(r)) = session_denials::lock(
        state.db(),
        row.target_id,
        &row.principal_arn,
        &owner,
        now,
        hold,
    )
    .await
    {
        let _ = session_denials::save_and_unlock(state.db(), &r.id, &owner, "", None, now).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_read_from_arns() {
        assert_eq!(
            Principal::from_arn("arn:aws:iam::123456789012:role/team/app").unwrap(),
            Principal::Role {
                name: "app".into(),
                arn: "arn:aws:iam::123456789012:role/team/app".into()
            }
        );
        assert!(matches!(
            Principal::from_arn("arn:aws-us-gov:iam::123456789012:user/ci").unwrap(),
            Principal::User { .. }
        ));
        assert!(Principal::from_arn("arn:aws:sts::123456789012:assumed-role/app/s").is_err());
        assert!(Principal::from_arn("nonsense").is_err());
    }

    #[test]
    fn denials_outlive_their_credentials_by_a_margin() {
        assert_eq!(until(1_000_500), 1_001 + EXPIRY_MARGIN_SECS);
    }
}
