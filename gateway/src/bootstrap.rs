//! First start: create the administrator's API key on an empty database.

use mayfly_crypto::{generate_access_id, generate_access_key, hash_secret};
use mayfly_store::{access, auth, now_millis, DatabaseConnection, StoreError, TransactionTrait};
use sea_orm::ConnectionTrait;

use crate::authz::{ResourceKind, ALL_CAPABILITIES};
use secrecy::{ExposeSecret, SecretString};

use crate::config::AdminSeed;

/// The name of the bootstrap auth method.
pub const ADMIN_AUTH_METHOD: &str = "/admin";
/// The name of the bootstrap administrator's role.
pub const ADMIN_ROLE: &str = "/admin";

/// What first start did about the admin key.
pub enum AdminBootstrap {
    /// The database already had auth methods.
    Existing,
    /// Created from `MAYFLY_ADMIN_ACCESS_ID`/`MAYFLY_ADMIN_ACCESS_KEY`.
    FromEnvironment { access_id: String },
    /// Generated: the key must be shown once, now, and is never retrievable again.
    Generated {
        access_id: String,
        access_key: SecretString,
    },
}

/// Creates the admin auth method if the database has none.
///
/// Several gateways may start together on a fresh PostgreSQL database: the unique name makes
/// all but one insert fail, and those report [`AdminBootstrap::Existing`].
pub async fn ensure_admin(
    db: &DatabaseConnection,
    seed: Option<&AdminSeed>,
) -> Result<AdminBootstrap, StoreError> {
    if auth::count_auth_methods(db).await? > 0 {
        return Ok(AdminBootstrap::Existing);
    }
    let (access_id, access_key, generated) = match seed {
        Some(seed) => (seed.access_id.clone(), seed.access_key.clone(), false),
        None => (generate_access_id(), generate_access_key(), true),
    };
    let new = auth::NewAuthMethod {
        name: ADMIN_AUTH_METHOD.into(),
        access_id: access_id.clone(),
        key_hash: hash_secret(access_key.expose_secret()),
        description: "the administrator's API key (created at first start)".into(),
        delete_protection: true,
    };
    let txn = db.begin().await?;
    let method = match auth::insert_auth_method(&txn, new, now_millis()).await {
        Ok(m) => m,
        Err(StoreError::Conflict(_)) => return Ok(AdminBootstrap::Existing),
        Err(e) => return Err(e),
    };
    grant_admin_role(&txn, &method.id).await?;
    txn.commit().await?;
    Ok(if generated {
        AdminBootstrap::Generated {
            access_id,
            access_key,
        }
    } else {
        AdminBootstrap::FromEnvironment { access_id }
    })
}

/// The administrator's role: every capability on `/*` for every rule type, all audit events.
async fn grant_admin_role(
    db: &impl ConnectionTrait,
    auth_method_id: &str,
) -> Result<(), StoreError> {
    let now = now_millis();
    let role = access::insert_role(
        db,
        ADMIN_ROLE,
        "every right on everything (created at first start)",
        "all",
        true,
        now,
    )
    .await?;
    let caps: Vec<&str> = ALL_CAPABILITIES.iter().map(|c| c.as_str()).collect();
    for kind in [
        ResourceKind::Item,
        ResourceKind::Target,
        ResourceKind::AuthMethod,
        ResourceKind::Role,
    ] {
        access::set_rule(db, &role.id, kind.rule_type(), "/*", &caps.join(","), now).await?;
    }
    access::associate(db, &role.id, auth_method_id, now).await?;
    Ok(())
}
