//! First start: create the administrator's API key on an empty database.

use mayfly_crypto::{generate_access_id, generate_access_key, hash_secret};
use mayfly_store::{auth, now_millis, DatabaseConnection, StoreError};
use secrecy::{ExposeSecret, SecretString};

use crate::config::AdminSeed;

/// The name of the bootstrap auth method.
pub const ADMIN_AUTH_METHOD: &str = "/admin";

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
    };
    match auth::insert_auth_method(db, new, now_millis()).await {
        Ok(_) if generated => Ok(AdminBootstrap::Generated {
            access_id,
            access_key,
        }),
        Ok(_) => Ok(AdminBootstrap::FromEnvironment { access_id }),
        Err(StoreError::Conflict(_)) => Ok(AdminBootstrap::Existing),
        Err(e) => Err(e),
    }
}
