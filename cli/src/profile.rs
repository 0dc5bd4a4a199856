//! Named profiles in one TOML file, written by `mayfly configure`.
//!
//! The file is `$MAYFLY_CONFIG_DIR/profiles.toml`, else `~/.mayfly/profiles.toml`; one table
//! per profile:
//!
//! ```toml
//! [default]
//! gateway_url = "https://localhost:8000"
//! access_id = "p-..."
//! access_key = "..."
//! ca_cert = "/home/me/mayfly-ca.pem"
//! ```
//!
//! It holds an API key, so it is written with mode 0600 (directory 0700), through a temporary
//! file and a rename so that a crash never leaves half a file. Saving one profile keeps the
//! other tables, and unknown keys, exactly as they were.

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The file name inside the configuration directory.
pub const PROFILE_FILE_NAME: &str = "profiles.toml";

/// One profile. Every field is optional: flags and environment variables can fill the gaps.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<PathBuf>,
}

impl Profile {
    /// Overwrites the fields that `update` sets and keeps the others, so that
    /// `mayfly configure --ca-cert new.pem` does not forget the stored key.
    pub fn merge(&mut self, update: Profile) {
        if update.gateway_url.is_some() {
            self.gateway_url = update.gateway_url;
        }
        if update.access_id.is_some() {
            self.access_id = update.access_id;
        }
        if update.access_key.is_some() {
            self.access_key = update.access_key;
        }
        if update.ca_cert.is_some() {
            self.ca_cert = update.ca_cert;
        }
    }
}

/// Hand-written so that a profile can be logged or asserted on without showing its key.
impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("gateway_url", &self.gateway_url)
            .field("access_id", &self.access_id)
            .field("access_key", &self.access_key.as_ref().map(|_| "***"))
            .field("ca_cert", &self.ca_cert)
            .finish()
    }
}

/// The profile file on disk.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    path: PathBuf,
}

impl ProfileStore {
    /// The store at an explicit file path (tests, and callers that already resolved it).
    pub fn at(path: impl Into<PathBuf>) -> Self {
        ProfileStore { path: path.into() }
    }

    /// Locates the file from `MAYFLY_CONFIG_DIR` (a directory) or the home directory.
    pub fn locate(config_dir: Option<OsString>, home: Option<OsString>) -> Result<Self, CliError> {
        let dir = match (config_dir, home) {
            (Some(dir), _) if !dir.is_empty() => PathBuf::from(dir),
            (_, Some(home)) if !home.is_empty() => PathBuf::from(home).join(".mayfly"),
            _ => {
                return Err(CliError::usage(
                    "cannot find the profile file: neither MAYFLY_CONFIG_DIR nor HOME is set",
                ))
            }
        };
        Ok(ProfileStore::at(dir.join(PROFILE_FILE_NAME)))
    }

    /// [`ProfileStore::locate`] with the process environment.
    pub fn from_env() -> Result<Self, CliError> {
        Self::locate(
            std::env::var_os("MAYFLY_CONFIG_DIR"),
            std::env::var_os("HOME"),
        )
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The named profile, or `None` when the file or the profile does not exist.
    pub fn load(&self, name: &str) -> Result<Option<Profile>, CliError> {
        let Some(table) = self.read_table()? else {
            return Ok(None);
        };
        let Some(value) = table.get(name) else {
            return Ok(None);
        };
        let profile = value
            .clone()
            .try_into::<Profile>()
            .map_err(|e| self.format_error(format!("profile [{name}]: {e}")))?;
        Ok(Some(profile))
    }

    /// Merges `update` into the named profile (creating it and the file if needed) and writes
    /// the file back with mode 0600. Returns the profile as stored.
    pub fn save_merged(&self, name: &str, update: Profile) -> Result<Profile, CliError> {
        if name.trim().is_empty() {
            return Err(CliError::usage("the profile name must not be empty"));
        }
        let mut table = self.read_table()?.unwrap_or_default();
        let mut profile = match table.get(name) {
            Some(value) => value
                .clone()
                .try_into::<Profile>()
                .map_err(|e| self.format_error(format!("profile [{name}]: {e}")))?,
            None => Profile::default(),
        };
        profile.merge(update);

        // Keep keys this version does not know about (written by a newer mayfly, or by hand).
        let mut entry = match table.remove(name) {
            Some(toml::Value::Table(existing)) => existing,
            _ => toml::Table::new(),
        };
        let toml::Value::Table(fields) = toml::Value::try_from(&profile)
            .map_err(|e| self.format_error(format!("cannot encode profile: {e}")))?
        else {
            return Err(self.format_error("a profile must encode as a table".into()));
        };
        entry.extend(fields);
        table.insert(name.to_owned(), toml::Value::Table(entry));

        let text = toml::to_string(&table)
            .map_err(|e| self.format_error(format!("cannot encode profiles: {e}")))?;
        self.write_private(text.as_bytes())?;
        Ok(profile)
    }

    fn read_table(&self) -> Result<Option<toml::Table>, CliError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CliError::File {
                    action: "cannot read profile file",
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| self.format_error(e.message().to_owned()))?;
        Ok(Some(table))
    }

    /// Writes the whole file readable by its owner only: a temporary file created with mode
    /// 0600 in the same directory, then renamed over the old file.
    fn write_private(&self, contents: &[u8]) -> Result<(), CliError> {
        let file_error = |action: &'static str, path: &Path| {
            let path = path.to_owned();
            move |source| CliError::File {
                action,
                path,
                source,
            }
        };
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
            _ => PathBuf::from("."),
        };
        create_private_dir(&dir).map_err(file_error("cannot create directory", &dir))?;

        let tmp = dir.join(format!(".{PROFILE_FILE_NAME}.{}.tmp", std::process::id()));
        let written = open_private(&tmp)
            .and_then(|mut file| {
                file.write_all(contents)?;
                file.sync_all()
            })
            .map_err(file_error("cannot write profile file", &tmp));
        if let Err(error) = written {
            // Best effort: the temporary file holds a key, do not leave it behind.
            let _ = std::fs::remove_file(&tmp);
            return Err(error);
        }
        std::fs::rename(&tmp, &self.path).map_err(|source| {
            let _ = std::fs::remove_file(&tmp);
            CliError::File {
                action: "cannot replace profile file",
                path: self.path.clone(),
                source,
            }
        })
    }

    fn format_error(&self, message: String) -> CliError {
        CliError::ProfileFormat {
            path: self.path.clone(),
            message,
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Profile {
        Profile {
            gateway_url: Some("https://localhost:8000".into()),
            access_id: Some("p-abc".into()),
            access_key: Some("secret-key".into()),
            ca_cert: Some("/tmp/ca.pem".into()),
        }
    }

    #[test]
    fn locate_prefers_config_dir_then_home() {
        let store = ProfileStore::locate(Some("/cfg".into()), Some("/home/u".into())).unwrap();
        assert_eq!(store.path(), Path::new("/cfg/profiles.toml"));
        let store = ProfileStore::locate(None, Some("/home/u".into())).unwrap();
        assert_eq!(store.path(), Path::new("/home/u/.mayfly/profiles.toml"));
        let store = ProfileStore::locate(Some("".into()), Some("/home/u".into())).unwrap();
        assert_eq!(store.path(), Path::new("/home/u/.mayfly/profiles.toml"));
        assert!(ProfileStore::locate(None, None).is_err());
    }

    #[test]
    fn missing_file_or_profile_loads_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join("profiles.toml"));
        assert_eq!(store.load("default").unwrap(), None);
        store.save_merged("other", sample()).unwrap();
        assert_eq!(store.load("default").unwrap(), None);
    }

    #[test]
    fn save_then_load_round_trips_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join("nested/profiles.toml"));
        store.save_merged("default", sample()).unwrap();
        assert_eq!(store.load("default").unwrap(), Some(sample()));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(store.path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(dir.path().join("nested"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("nested"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, vec![std::ffi::OsString::from("profiles.toml")]);
    }

    #[test]
    fn saving_one_profile_keeps_the_others_and_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profiles.toml");
        std::fs::write(
            &path,
            "[prod]\ngateway_url = \"https://prod:8000\"\nfuture_key = 7\n\n\
             [default]\naccess_id = \"p-old\"\ncolor = \"blue\"\n",
        )
        .unwrap();
        let store = ProfileStore::at(&path);
        store
            .save_merged(
                "default",
                Profile {
                    access_key: Some("new-key".into()),
                    ..Profile::default()
                },
            )
            .unwrap();

        let prod = store.load("prod").unwrap().unwrap();
        assert_eq!(prod.gateway_url.as_deref(), Some("https://prod:8000"));
        let default = store.load("default").unwrap().unwrap();
        assert_eq!(default.access_id.as_deref(), Some("p-old"));
        assert_eq!(default.access_key.as_deref(), Some("new-key"));

        let raw: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
        assert_eq!(raw["prod"]["future_key"].as_integer(), Some(7));
        assert_eq!(raw["default"]["color"].as_str(), Some("blue"));
    }

    #[test]
    fn merge_overwrites_only_given_fields() {
        let mut profile = sample();
        profile.merge(Profile {
            gateway_url: Some("https://new:8000".into()),
            ..Profile::default()
        });
        assert_eq!(profile.gateway_url.as_deref(), Some("https://new:8000"));
        assert_eq!(profile.access_key.as_deref(), Some("secret-key"));
    }

    #[test]
    fn invalid_toml_is_reported_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("profiles.toml");
        std::fs::write(&path, "[default\n").unwrap();
        let error = ProfileStore::at(&path).load("default").unwrap_err();
        assert!(matches!(error, CliError::ProfileFormat { .. }), "{error}");
        assert!(error.to_string().contains("profiles.toml"));
    }

    #[test]
    fn debug_hides_the_access_key() {
        let text = format!("{:?}", sample());
        assert!(!text.contains("secret-key"), "{text}");
        assert!(text.contains("***"));
    }

    #[test]
    fn empty_profile_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = ProfileStore::at(dir.path().join("profiles.toml"));
        assert!(store.save_merged(" ", sample()).is_err());
    }
}
