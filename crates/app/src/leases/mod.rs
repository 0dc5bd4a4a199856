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
pub mod teardown;

use mayfly_aws::{AwsClients, AwsConnection};
use mayfly_store::entity::target;

use crate::targets::open;

use crate::error::AppResult;

use crate::state::AppState;

/// The tags that mark an IAM user as this cluster's, and which lease owns it.
pub const TAG_CLUSTER: &str = "mayfly:cluster";
pub const TAG_PRODUCER: &str = "mayfly:producer";
pub const TAG_LEASE: &str = "mayfly:lease";

/// AWS clients for a target, built from its unsealed credentials.
pub fn clients_for(state: &AppState, target: &target::Model) -> AppResult<AwsClients> {
    let creds = open(state, target)?;
    let conn = AwsConnection {
        credentials: mayfly_aws::ConnectionCredentials::Keys {
            access_key_id: creds.access_key_id,
            secret_access_key: creds.secret_access_key,
            session_token: creds.session_token,
        },
        region: target.region.clone(),
        iam_endpoint: target.iam_endpoint.clone(),
        sts_endpoint: target.sts_endpoint.clone(),
    };
    Ok(state
        .aws()
        .clients((target.id.get(), target.version), &conn))
}
