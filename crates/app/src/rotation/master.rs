//! `mayfly-gateway rotate-master-key`: put a new master key in charge and re-seal every
//! stored secret under it, without stopping the gateways and without losing anything if the
//! command is interrupted.
//!
//! Order of events, and why each step is safe to interrupt:
//!
//! 1. Every stored value is checked to be sealed with a key the command knows; otherwise it
//!    stops before changing anything (a key was dropped from the list too early).
//! 2. With the generated key file, a new key is generated and the file is rewritten
//!    atomically with the new key first and every old key after it. Running gateways keep
//!    all their keys; when they meet a value sealed with the new key id they re-read the
//!    file. A crash before the rename leaves the old file; after it, the new one.
//!    With keys from configuration, the operator has already put the new key first on every
//!    gateway; the command only re-seals.
//! 3. Each value not sealed with the current key is opened, sealed again, and written back
//!    with a conditional update (same id, version and sealed text as read), so a concurrent
//!    change is never overwritten; such rows are simply read again in the next pass.
//!
//! Rerunning finishes the job: if values are still sealed with an older key, the command
//! completes that re-seal instead of generating yet another key.

use std::{collections::BTreeMap, fmt, path::PathBuf, time::Duration};

use mayfly_crypto::{KeyList, MasterKey};
use mayfly_store::rotation as store;
use sea_orm::DatabaseConnection;
use secrecy::zeroize::Zeroizing;

use super::sealed_key_id;
use crate::k8s_configs::aad as k8s_config_aad;
use crate::keys;
use crate::targets::{aad as target_aad, legacy_aad};
use mayfly_store::TargetId;

/// Environment variable of a test hook: milliseconds to wait before writing each re-sealed
/// value, so a test can kill the command in the middle of its work. Not for production.
pub const TEST_DELAY_ENV: &str = "MAYFLY_TEST_RESEAL_DELAY_MS";

/// Passes over the table at most; a value changed by a concurrent update in one pass is
/// read again in the next.
const MAX_PASSES: u32 = 5;

/// How the re-seal runs.
#[derive(Debug, Clone, Default)]
pub struct ResealOptions {
    /// Pause before each write (test hook [`TEST_DELAY_ENV`]).
    pub delay_per_value: Duration,
}

impl ResealOptions {
    /// Options from the environment: only the test hook.
    pub fn from_env() -> Self {
        let delay_ms = std::env::var(TEST_DELAY_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        ResealOptions {
            delay_per_value: Duration::from_millis(delay_ms),
        }
    }
}

/// Where the current key came from in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// A new key was generated and written first into the key file.
    Generated { file: PathBuf },
    /// The key file's current key was kept: a previous run had not finished re-sealing.
    Resumed { file: PathBuf },
    /// Keys from configuration: the first one is current.
    Configured,
}

/// What the re-seal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResealCounts {
    /// Values looked at.
    pub total: usize,
    /// Values re-sealed under the current key by this run.
    pub resealed: usize,
    /// Values found already sealed with the current key.
    pub already_current: usize,
    /// Values still not sealed with the current key at the end (changed concurrently in
    /// every pass, or failed).
    pub remaining: usize,
    /// Values that could not be re-sealed, with the reason (never a secret).
    pub failures: Vec<String>,
}

/// The outcome of `rotate-master-key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    pub current_key_id: String,
    pub previous_key_ids: Vec<String>,
    pub change: KeyChange,
    pub counts: ResealCounts,
}

impl RotationReport {
    /// Whether every stored value is now sealed with the current key.
    pub fn complete(&self) -> bool {
        self.counts.remaining == 0 && self.counts.failures.is_empty()
    }
}

impl fmt::Display for RotationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.current_key_id;
        match &self.change {
            KeyChange::Generated { file } => writeln!(
                f,
                "generated master key {key} and wrote it first into {}",
                file.display()
            )?,
            KeyChange::Resumed { file } => writeln!(
                f,
                "a previous rotation to key {key} ({}) was not finished; finishing it",
                file.display()
            )?,
            KeyChange::Configured => writeln!(f, "current master key {key} (from configuration)")?,
        }
        let c = &self.counts;
        writeln!(
            f,
            "re-sealed {} of {} stored values; {} were already sealed with {key}; {} remain under older keys",
            c.resealed, c.total, c.already_current, c.remaining
        )?;
        for failure in &c.failures {
            writeln!(f, "failed: {failure}")?;
        }
        if self.complete() {
            if self.previous_key_ids.is_empty() {
                writeln!(f, "done: every value is sealed with {key}")?;
            } else {
                writeln!(
                    f,
                    "done: every value is sealed with {key}; the previous keys ({}) can be removed once every gateway runs with {key} (run this command again first: it must report 0 re-sealed)",
                    self.previous_key_ids.join(", ")
                )?;
            }
        } else {
            writeln!(
                f,
                "not finished: run rotate-master-key again to complete it; keep every key until then"
            )?;
        }
        Ok(())
    }
}

/// Problems that stop the command before or while it works.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("no master key file at {0}: start the gateway once (it generates one), or configure MAYFLY_MASTER_KEY")]
    NoKeyFile(PathBuf),
    #[error("{0}")]
    KeyFile(#[from] keys::KeyFileError),
    #[error("stored values are sealed with master keys that are not configured: {0}; add those keys after the current one and run again")]
    UnknownKeys(String),
    #[error("cannot generate a new master key: {0}")]
    Generate(mayfly_crypto::KeyError),
    #[error("database: {0}")]
    Store(#[from] mayfly_store::StoreError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// Where the master keys come from: configuration (`MAYFLY_MASTER_KEY`), or the key file in
/// the data directory.
#[derive(Debug, Clone)]
pub struct KeySource {
    pub configured: Option<KeyList>,
    pub data_dir: std::path::PathBuf,
}

/// Runs the command against the database at `database_url` and the keys of `source`.
pub async fn rotate_master_key(
    database_url: &str,
    max_connections: u32,
    source: &KeySource,
    options: &ResealOptions,
) -> Result<RotationReport, RotateError> {
    let db = mayfly_store::connect(database_url, max_connections).await?;
    let (keys, change) = prepare_keys(source, &db).await?;
    let counts = reseal_all(&db, &keys, options).await?;
    Ok(RotationReport {
        current_key_id: keys.current().id().to_owned(),
        previous_key_ids: keys.ids()[1..].iter().map(|s| (*s).to_owned()).collect(),
        change,
        counts,
    })
}

/// Chooses the key to re-seal under: the configured first key, or (key file) a new one,
/// unless a previous run left values to finish.
pub async fn prepare_keys(
    source: &KeySource,
    db: &DatabaseConnection,
) -> Result<(KeyList, KeyChange), RotateError> {
    let (keys, file) = match &source.configured {
        Some(keys) => (keys.clone(), None),
        None => {
            let path = keys::key_file_path(&source.data_dir);
            if !path.exists() {
                return Err(RotateError::NoKeyFile(path));
            }
            (keys::read_key_file(&path)?, Some(path))
        }
    };
    let census = census(db, &keys).await?;
    if !census.unknown.is_empty() {
        let list = census
            .unknown
            .iter()
            .map(|(id, n)| format!("{id} ({n} values)"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(RotateError::UnknownKeys(list));
    }
    let Some(path) = file else {
        return Ok((keys, KeyChange::Configured));
    };
    if census.not_current > 0 {
        return Ok((keys, KeyChange::Resumed { file: path }));
    }
    let new_key = MasterKey::generate(&keys.next_key_id()).map_err(RotateError::Generate)?;
    let rotated = keys
        .with_new_current(new_key)
        .map_err(RotateError::Generate)?;
    keys::write_key_file(&path, &rotated)?;
    tracing::info!(key = %rotated.current().id(), file = %path.display(), "new master key written");
    Ok((rotated, KeyChange::Generated { file: path }))
}

/// How the stored values are sealed.
struct Census {
    not_current: usize,
    /// Key ids no configured key has, with their value counts.
    unknown: BTreeMap<String, usize>,
}

/// Whose sealed value it is, and the version it was read at (a re-seal is written back only
/// if the row did not change).
enum Owner {
    Target { id: TargetId, version: i64 },
    K8sConfig { id: String, version: i64 },
}

/// One stored secret, as read.
struct SealedValue {
    /// For messages: `target NAME (id N)`; never the secret.
    what: String,
    sealed: String,
    /// The associated data it is sealed with, and an older form it may still have.
    aad: Vec<u8>,
    legacy_aad: Option<Vec<u8>>,
    owner: Owner,
}

/// Every stored secret: target credentials and k8s auth configs' reviewer JWTs.
async fn sealed_values(db: &DatabaseConnection) -> Result<Vec<SealedValue>, RotateError> {
    let mut values = Vec::new();
    for row in store::all_sealed(db).await? {
        // A target that uses the gateway's own identity stores no key.
        if row.sealed_credentials.is_empty() {
            continue;
        }
        values.push(SealedValue {
            what: format!("target {} (id {})", row.name, row.id),
            aad: target_aad(row.id, &row.uid),
            legacy_aad: Some(legacy_aad(&row.uid)),
            sealed: row.sealed_credentials,
            owner: Owner::Target {
                id: row.id,
                version: row.version,
            },
        });
    }
    for row in mayfly_store::k8s_configs::all(db).await? {
        if row.sealed_reviewer_jwt.is_empty() {
            continue;
        }
        values.push(SealedValue {
            what: format!("k8s auth config {}", row.name),
            aad: k8s_config_aad(&row.id),
            legacy_aad: None,
            sealed: row.sealed_reviewer_jwt,
            owner: Owner::K8sConfig {
                id: row.id,
                version: row.version,
            },
        });
    }
    Ok(values)
}

async fn census(db: &DatabaseConnection, keys: &KeyList) -> Result<Census, RotateError> {
    let mut census = Census {
        not_current: 0,
        unknown: BTreeMap::new(),
    };
    for value in sealed_values(db).await? {
        let id = sealed_key_id(&value.sealed).unwrap_or("(malformed)");
        if id != keys.current().id() {
            census.not_current += 1;
        }
        if !keys.contains_id(id) {
            *census.unknown.entry(id.to_owned()).or_default() += 1;
        }
    }
    Ok(census)
}

/// Re-seals every value not sealed with `keys`' current key, in passes until none is left
/// or [`MAX_PASSES`] passes are done. Safe to run next to serving gateways and to rerun.
pub async fn reseal_all(
    db: &DatabaseConnection,
    keys: &KeyList,
    options: &ResealOptions,
) -> Result<ResealCounts, RotateError> {
    let ring = keys.ring();
    let mut counts = ResealCounts::default();
    for pass in 1..=MAX_PASSES {
        let values = sealed_values(db).await?;
        if pass == 1 {
            counts.total = values.len();
        }
        let mut changed_meanwhile = 0usize;
        let mut failures = Vec::new();
        for value in values {
            if ring.sealed_with_current(&value.sealed) {
                if pass == 1 {
                    counts.already_current += 1;
                }
                continue;
            }
            // A value sealed before the row id was bound is converted on the way.
            let opened =
                ring.open(&value.sealed, &value.aad)
                    .or_else(|e| match &value.legacy_aad {
                        Some(legacy) => ring.open(&value.sealed, legacy),
                        None => Err(e),
                    });
            let plain = match opened {
                Ok(plain) => Zeroizing::new(plain),
                Err(e) => {
                    failures.push(format!("{}: {e}", value.what));
                    continue;
                }
            };
            let resealed = ring.seal(&plain, &value.aad);
            if !options.delay_per_value.is_zero() {
                tokio::time::sleep(options.delay_per_value).await;
            }
            let written = match &value.owner {
                Owner::Target { id, version } => {
                    store::reseal_if_unchanged(db, *id, *version, &value.sealed, &resealed).await?
                }
                Owner::K8sConfig { id, version } => {
                    mayfly_store::k8s_configs::reseal_if_unchanged(
                        db,
                        id,
                        *version,
                        &value.sealed,
                        &resealed,
                    )
                    .await?
                }
            };
            if written {
                counts.resealed += 1;
                tracing::debug!(value = %value.what, key = %ring.current_id(), "value re-sealed");
            } else {
                changed_meanwhile += 1;
            }
        }
        counts.failures = failures;
        if changed_meanwhile == 0 {
            break;
        }
        tracing::info!(
            pass,
            changed_meanwhile,
            "some values changed while being re-sealed; reading them again"
        );
    }
    counts.remaining = sealed_values(db)
        .await?
        .iter()
        .filter(|value| !ring.sealed_with_current(&value.sealed))
        .count();
    Ok(counts)
}

/// Binds every target's sealed credentials to its row id: values sealed by earlier versions
/// (associated data: the `uid` column alone) are opened with that old associated data and
/// sealed again with the row's id, under the same current key, each written back with a
/// conditional update so a concurrent change wins. Runs at every start before the gateway
/// serves; after the first it finds nothing to do. Returns how many values it converted.
///
/// Values that open with neither are left alone and reported: they fail at use with a clear
/// error, as before (a lost master key, or a value copied from another row).
pub async fn bind_sealed_to_row_ids(
    db: &DatabaseConnection,
    keys: &crate::keys::MasterKeys,
) -> Result<usize, RotateError> {
    let mut converted = 0;
    for row in store::all_sealed(db).await? {
        if row.sealed_credentials.is_empty()
            || keys
                .open(&row.sealed_credentials, &target_aad(row.id, &row.uid))
                .is_ok()
        {
            continue;
        }
        let plain = match keys.open(&row.sealed_credentials, &legacy_aad(&row.uid)) {
            Ok(plain) => Zeroizing::new(plain),
            Err(e) => {
                tracing::error!(target_id = row.id.get(), target_name = %row.name, error = %e, "a target's sealed credentials open with neither this row's id nor its uid; the target fails at use");
                continue;
            }
        };
        let resealed = keys.seal(&plain, &target_aad(row.id, &row.uid));
        if store::reseal_if_unchanged(db, row.id, row.version, &row.sealed_credentials, &resealed)
            .await?
        {
            converted += 1;
        }
    }
    if converted > 0 {
        tracing::info!(
            converted,
            "bound sealed target credentials to their row ids"
        );
    }
    Ok(converted)
}
