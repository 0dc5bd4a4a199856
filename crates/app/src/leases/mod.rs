//! Issuing credentials and ending them.
//!
//! - [`issue`]: `get-dynamic-secret-value` in the four modes; the lease row comes first.
//! - [`teardown`]: ending one claimed lease (shared by revoke requests, the revoker and the
//!   reconciler).
//! - [`revoker`]: the worker that ends expired credentials on time.
//! - [`reconciler`]: the worker that finishes stuck leases and deletes untracked IAM users.

pub mod issue;
pub mod reconciler;
pub mod revoker;
pub mod sessions;
pub mod teardown;

use mayfly_aws::AwsClients;
use mayfly_store::entity::target;

use crate::error::AppResult;

use crate::state::AppState;

/// The tags that mark an IAM user as this cluster's, and which lease owns it.
pub const TAG_CLUSTER: &str = "mayfly:cluster";
pub const TAG_PRODUCER: &str = "mayfly:producer";
pub const TAG_LEASE: &str = "mayfly:lease";

/// AWS clients for a target: its key or the gateway's identity, through its role if it
/// names one; cached per target version by the source.
pub fn clients_for(state: &AppState, target: &target::Model) -> AppResult<AwsClients> {
    let spec = crate::targets::spec_for(state, target)?;
    Ok(state
        .aws()
        .clients((target.id.get(), target.version), &spec))
}

/// AWS clients for a target's base credentials, without its role (admin key rotation
/// rotates the base key): the target's own cached clients without a role, else fresh ones.
pub fn base_clients_for(state: &AppState, target: &target::Model) -> AppResult<AwsClients> {
    if crate::targets::access_of(target)?.role.is_none() {
        return clients_for(state, target);
    }
    let spec = crate::targets::base_spec_for(state, target)?;
    Ok(state.aws().uncached(&spec))
}

/// Who a keyless or chained target acts as in AWS (`sts:GetCallerIdentity` through its
/// connection, role included): the ARN, or why it cannot be told (never a secret). `None`
/// for a plain keyed target: its key names it, and no AWS call is made.
pub async fn identity_of(
    state: &AppState,
    row: &target::Model,
) -> AppResult<Option<Result<String, String>>> {
    if crate::targets::access_of(row)? == Default::default() {
        return Ok(None);
    }
    Ok(Some(caller_identity(state, row).await))
}

async fn caller_identity(state: &AppState, row: &target::Model) -> Result<String, String> {
    let clients = clients_for(state, row).map_err(|e| e.to_string())?;
    let retry = mayfly_aws::RetryPolicy::default();
    // A details read must not hang on AWS: a short deadline, then the reason is shown.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(8);
    mayfly_aws::with_retries(
        &retry,
        deadline,
        mayfly_aws::ops::GET_CALLER_IDENTITY,
        || clients.sts.get_caller_identity(),
    )
    .await
    .map(|id| id.arn)
    .map_err(|e| crate::error::AppError::from(e).to_string())
}
