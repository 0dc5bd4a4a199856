//! First start: create the administrator's API key on an empty database.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use mayfly_crypto::{generate_access_id, generate_access_key, hash_secret};
use mayfly_store::{access, auth, now_millis, DatabaseConnection, StoreError};
use sea_orm::ConnectionTrait;

use mayfly_app::access::{ResourceKind, ALL_CAPABILITIES};
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

/// The file, in the data directory, that receives a generated admin key.
pub const ADMIN_CREDENTIALS_FILE: &str = "admin-credentials";

/// Creates the admin auth method if the database has none.
///
/// A generated key is handed to `save_generated` before the new auth method is committed:
/// if it cannot be saved, nothing is created (and the next start tries again), so there is
/// never an admin whose key nobody has.
///
/// Several gateways may start together on a fresh PostgreSQL database: the unique name makes
/// all but one insert fail, and those report [`AdminBootstrap::Existing`].
pub async fn ensure_admin(
    db: &DatabaseConnection,
    seed: Option<&AdminSeed>,
    save_generated: impl FnOnce(&str, &SecretString) -> Result<(), String>,
) -> Result<AdminBootstrap, anyhow::Error> {
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
        kind: mayfly_domain::AuthMethodKind::ApiKey.as_str().into(),
        key_hash: hash_secret(access_key.expose_secret()),
        settings: String::new(),
        description: "the administrator's API key (created at first start)".into(),
        delete_protection: true,
    };
    let txn = mayfly_store::begin_write(db)
        .await
        .map_err(StoreError::from)?;
    let method = match auth::insert_auth_method(&txn, new, now_millis()).await {
        Ok(m) => m,
        Err(StoreError::Conflict(_)) => return Ok(AdminBootstrap::Existing),
        Err(e) => return Err(e.into()),
    };
    grant_admin_role(&txn, &method.id).await?;
    if generated {
        save_generated(&access_id, &access_key).map_err(anyhow::Error::msg)?;
    }
    txn.commit().await.map_err(StoreError::from)?;
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
    auth_method_id: &mayfly_store::AuthMethodId,
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
    access::associate(db, &role.id, auth_method_id, "", true, now).await?;
    Ok(())
}

/// Writes a generated admin key to `DATA_DIR/admin-credentials`, readable by the gateway's
/// user only (0600 from creation), atomically: the key goes to a new temporary file in the
/// same directory, which is synced and then renamed over any file left by an earlier
/// installation (its key belonged to a database that no longer exists). A reader never sees
/// a half-written file. Returns the file's path.
pub fn write_admin_credentials(
    data_dir: &Path,
    access_id: &str,
    access_key: &SecretString,
) -> std::io::Result<PathBuf> {
    mayfly_app::files::create_private_dir(data_dir)?;
    let path = data_dir.join(ADMIN_CREDENTIALS_FILE);
    let tmp = data_dir.join(format!(
        ".{ADMIN_CREDENTIALS_FILE}.{}.tmp",
        std::process::id()
    ));
    match std::fs::remove_file(&tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let written = (|| {
        let mut file = mayfly_app::files::create_with_mode(&tmp, 0o600)?;
        write!(
            file,
            "# Mayfly admin API key, generated at first start. Store it (e.g. in a password\n\
             # manager or `mayfly configure`), then delete this file. Rotate it with\n\
             # `mayfly reset-access-key --name /admin`.\n\
             MAYFLY_ADMIN_ACCESS_ID={access_id}\n\
             MAYFLY_ADMIN_ACCESS_KEY={}\n",
            access_key.expose_secret()
        )?;
        file.sync_all()?;
        std::fs::rename(&tmp, &path)?;
        // Make the rename itself durable.
        std::fs::File::open(data_dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_credentials_file_is_owner_only_and_replaces_a_stale_one() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(ADMIN_CREDENTIALS_FILE);
        std::fs::write(&stale, "old").unwrap();
        std::fs::set_permissions(&stale, std::fs::Permissions::from_mode(0o644)).unwrap();
        let key = SecretString::from("k".repeat(44));
        let path = write_admin_credentials(dir.path(), "p-abc", &key).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("MAYFLY_ADMIN_ACCESS_ID=p-abc\n"), "{text}");
        assert!(text.contains(&format!("MAYFLY_ADMIN_ACCESS_KEY={}\n", "k".repeat(44))));
        assert!(!text.contains("old"));
    }
}
