//! The master keys that seal stored secrets: from configuration, or from the key file
//! `DATA_DIR/master.key` (generated with mode 0600 on first start).
//!
//! Both hold a list of keys, the first one current (it seals) and the rest previous ones
//! (they still open). A master key rotation (`mayfly-gateway rotate-master-key`) puts a new
//! key first and re-seals every stored secret under it while gateways keep serving, so a
//! running gateway must learn new keys without a restart:
//!
//! - **open**: a value sealed with a key id the gateway does not know makes it re-read the
//!   key file (at most once per [`MIN_RELOAD_GAP`]) and try once more;
//! - **seal**: at most every [`SEAL_CHECK_INTERVAL`] the file's size, time and inode are
//!   compared with the last load, so new values are sealed with the new key soon after the
//!   file changed.
//!
//! Neither reads the file on every request. A reload never forgets a key the process already
//! had (they stay as previous keys), so a half-finished rotation or a key removed too early
//! cannot make a running gateway lose access; a restart forgets removed keys. Keys from
//! configuration (`MAYFLY_MASTER_KEY`) are read once at start: new ones need a restart.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, RwLock},
    time::{Duration, Instant, SystemTime},
};

use mayfly_crypto::{CryptoError, KeyList, KeyRing, MasterKey};
use secrecy::ExposeSecret;

use crate::files;

/// Name of the generated key file in the data directory.
pub const KEY_FILE_NAME: &str = "master.key";

/// Shortest time between two reloads caused by unknown key ids (a value sealed with a key
/// that really is gone must not turn every request into a file read).
pub const MIN_RELOAD_GAP: Duration = Duration::from_secs(1);

/// How often sealing checks whether the key file changed.
pub const SEAL_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// Problems with the key file. Messages never contain key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: line {line}: {source}")]
    Key {
        path: PathBuf,
        line: usize,
        source: mayfly_crypto::KeyError,
    },
    #[error("{path}: holds no key")]
    Empty { path: PathBuf },
    #[error("{path}: {source}")]
    Ring {
        path: PathBuf,
        source: mayfly_crypto::KeyError,
    },
}

/// Parses key file text: one `keyid:BASE64` per line, the first current. Blank lines and
/// lines starting with `#` are ignored.
pub fn parse_key_file(path: &Path, text: &str) -> Result<KeyList, KeyFileError> {
    let mut keys = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let key = MasterKey::parse(line).map_err(|source| KeyFileError::Key {
            path: path.to_owned(),
            line: index + 1,
            source,
        })?;
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(KeyFileError::Empty {
            path: path.to_owned(),
        });
    }
    KeyList::new(keys).map_err(|source| KeyFileError::Ring {
        path: path.to_owned(),
        source,
    })
}

/// Reads and parses the key file.
pub fn read_key_file(path: &Path) -> Result<KeyList, KeyFileError> {
    let text = fs::read_to_string(path).map_err(|source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_key_file(path, &text)
}

/// Replaces the key file atomically with `keys` (the first current): a temporary file with
/// mode 0600 is written and synced, renamed over the old one, and the directory synced, so
/// a crash leaves either the old file or the new one, never a mix.
pub fn write_key_file(path: &Path, keys: &KeyList) -> Result<(), KeyFileError> {
    let io_err = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| KEY_FILE_NAME.to_owned());
    let temp = dir.join(format!(".{name}.tmp"));
    // A previous run killed while writing leaves its temporary file behind.
    match fs::remove_file(&temp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err(e)),
    }
    let mut file = files::create_with_mode(&temp, 0o600).map_err(io_err)?;
    for key in keys.keys() {
        writeln!(file, "{}", key.encode().expose_secret()).map_err(io_err)?;
    }
    file.sync_all().map_err(io_err)?;
    drop(file);
    fs::rename(&temp, path).map_err(io_err)?;
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err)?;
    Ok(())
}

/// The keys of this process: a ring that seals and opens, reloaded from the key file when a
/// value names a key it does not know. Cheap to share (`AppState` holds one).
pub struct MasterKeys {
    loaded: RwLock<Arc<Loaded>>,
    /// `None`: keys from configuration, fixed for the life of the process.
    file: Option<KeyFile>,
}

/// A ring and the keys it was built from (empty when only the ring was given).
struct Loaded {
    ring: KeyRing,
    keys: Vec<MasterKey>,
}

impl From<KeyList> for Loaded {
    fn from(list: KeyList) -> Self {
        Loaded {
            ring: list.ring().clone(),
            keys: list.keys().to_vec(),
        }
    }
}

struct KeyFile {
    path: PathBuf,
    state: Mutex<FileState>,
}

#[derive(Default)]
struct FileState {
    /// The file as it was when last loaded.
    stamp: Option<FileStamp>,
    /// When sealing last compared the file with `stamp`.
    checked_at: Option<Instant>,
    /// When an unknown key id last caused a reload.
    reloaded_at: Option<Instant>,
}

/// What tells a changed file from an unchanged one without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileStamp {
    len: u64,
    modified: Option<SystemTime>,
    inode: u64,
}

impl FileStamp {
    fn of(path: &Path) -> io::Result<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(path)?;
        Ok(FileStamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode: meta.ino(),
        })
    }
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeys")
            .field("current", &self.current_id())
            .field("file", &self.file.as_ref().map(|f| &f.path))
            .finish()
    }
}

impl From<KeyList> for MasterKeys {
    fn from(keys: KeyList) -> Self {
        MasterKeys::fixed(keys)
    }
}

impl From<KeyRing> for MasterKeys {
    /// A ring alone (tests): it seals and opens; its ids are not listed.
    fn from(ring: KeyRing) -> Self {
        MasterKeys::from_ring(ring)
    }
}

impl MasterKeys {
    /// Keys that never change (configuration).
    pub fn fixed(keys: KeyList) -> Self {
        MasterKeys {
            loaded: RwLock::new(Arc::new(keys.into())),
            file: None,
        }
    }

    /// A ring that never changes (tests).
    pub fn from_ring(ring: KeyRing) -> Self {
        MasterKeys {
            loaded: RwLock::new(Arc::new(Loaded {
                ring,
                keys: Vec::new(),
            })),
            file: None,
        }
    }

    /// Keys loaded from `path`, reloaded from it when needed.
    pub fn from_file(path: &Path) -> Result<Self, KeyFileError> {
        let stamp = FileStamp::of(path).ok();
        let keys = read_key_file(path)?;
        Ok(MasterKeys {
            loaded: RwLock::new(Arc::new(keys.into())),
            file: Some(KeyFile {
                path: path.to_owned(),
                state: Mutex::new(FileState {
                    stamp,
                    ..FileState::default()
                }),
            }),
        })
    }

    /// The key file these keys come from, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }

    /// The keys now (a snapshot: a reload replaces it, never changes it).
    fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn current_id(&self) -> String {
        self.loaded().ring.current_id().to_owned()
    }

    /// Seals under the current key, first picking up a changed key file (checked at most
    /// every [`SEAL_CHECK_INTERVAL`]).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> String {
        self.refresh_if_file_changed();
        self.loaded().ring.seal(plaintext, aad)
    }

    /// Opens a sealed value. A value sealed with a key id this process does not know makes
    /// it reload the key file once and retry: another process (a rotation) may have added
    /// the key since this one started.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let seen = self.loaded();
        match seen.ring.open(sealed, aad) {
            Err(CryptoError::UnknownKeyId(id)) => {
                if self.reload_for_unknown(&seen) {
                    self.loaded().ring.open(sealed, aad)
                } else {
                    Err(CryptoError::UnknownKeyId(id))
                }
            }
            other => other,
        }
    }

    /// Whether `sealed` is sealed with the current key.
    pub fn sealed_with_current(&self, sealed: &str) -> bool {
        self.loaded().ring.sealed_with_current(sealed)
    }

    /// Reloads the key file now. `Ok(false)`: keys from configuration, nothing to reload.
    pub fn reload(&self) -> Result<bool, KeyFileError> {
        let Some(file) = &self.file else {
            return Ok(false);
        };
        let mut state = file.lock();
        self.reload_locked(file, &mut state)?;
        Ok(true)
    }

    /// After `seen` failed to open a value: reloads unless another thread already replaced
    /// the ring or a reload happened within [`MIN_RELOAD_GAP`]. Whether the ring is now a
    /// different one (worth a retry).
    fn reload_for_unknown(&self, seen: &Arc<Loaded>) -> bool {
        let Some(file) = &self.file else {
            return false;
        };
        let mut state = file.lock();
        if !Arc::ptr_eq(seen, &self.loaded()) {
            return true;
        }
        if state
            .reloaded_at
            .is_some_and(|at| at.elapsed() < MIN_RELOAD_GAP)
        {
            return false;
        }
        state.reloaded_at = Some(Instant::now());
        match self.reload_locked(file, &mut state) {
            Ok(()) => !Arc::ptr_eq(seen, &self.loaded()),
            Err(e) => {
                tracing::warn!(error = %e, "could not reload the master key file; keeping the keys already loaded");
                false
            }
        }
    }

    fn refresh_if_file_changed(&self) {
        let Some(file) = &self.file else {
            return;
        };
        let mut state = file.lock();
        if state
            .checked_at
            .is_some_and(|at| at.elapsed() < SEAL_CHECK_INTERVAL)
        {
            return;
        }
        state.checked_at = Some(Instant::now());
        let stamp = FileStamp::of(&file.path).ok();
        if stamp.is_none() || stamp == state.stamp {
            return;
        }
        if let Err(e) = self.reload_locked(file, &mut state) {
            tracing::warn!(error = %e, "could not reload the changed master key file; keeping the keys already loaded");
        }
    }

    /// Reads the file and installs its keys, keeping every key of the old ring the file no
    /// longer names as a previous key.
    fn reload_locked(&self, file: &KeyFile, state: &mut FileState) -> Result<(), KeyFileError> {
        let stamp = FileStamp::of(&file.path).ok();
        let loaded = read_key_file(&file.path)?;
        let mut current = self
            .loaded
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let changed_current = loaded.current().id() != current.ring.current_id();
        *current = Arc::new(loaded.merged_with(&current.keys).into());
        drop(current);
        state.stamp = stamp;
        if changed_current {
            tracing::info!(current_key = %loaded.current().id(), "master key file reloaded: new values are sealed with a new key");
        } else {
            tracing::debug!("master key file reloaded");
        }
        Ok(())
    }
}

impl KeyFile {
    fn lock(&self) -> MutexGuard<'_, FileState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The key ring for this process, and whether its key was generated just now.
///
/// `configured`: keys from configuration (`MAYFLY_MASTER_KEY`); without them the key file in
/// `data_dir` is used, generated on first start.
pub fn load_key_ring(
    configured: Option<&KeyList>,
    data_dir: &Path,
) -> anyhow::Result<(MasterKeys, bool)> {
    if let Some(keys) = configured {
        return Ok((MasterKeys::fixed(keys.clone()), false));
    }
    let path = key_file_path(data_dir);
    let generated = generate_if_missing(&path)?;
    let keys = MasterKeys::from_file(&path).map_err(|e| anyhow::anyhow!("master key: {e}"))?;
    Ok((keys, generated))
}

/// Where the generated key file lives.
pub fn key_file_path(data_dir: &Path) -> PathBuf {
    data_dir.join(KEY_FILE_NAME)
}

/// Writes a new key file with one generated key `k1` unless the file exists. Whether it
/// generated one.
fn generate_if_missing(path: &Path) -> anyhow::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        files::create_private_dir(dir)?;
    }
    let key = MasterKey::generate("k1")?;
    let mut file = files::create_with_mode(path, 0o600)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    writeln!(file, "{}", key.encode().expose_secret())?;
    file.sync_all()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn key(id: &str) -> MasterKey {
        MasterKey::generate(id).unwrap()
    }

    fn list(keys: &[&MasterKey]) -> KeyList {
        KeyList::new(keys.iter().map(|k| (*k).clone()).collect()).unwrap()
    }

    fn line(k: &MasterKey) -> String {
        k.encode().expose_secret().to_owned()
    }

    #[test]
    fn a_generated_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("master.key");
        assert!(generate_if_missing(&path).unwrap());
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let first = read_key_file(&path).unwrap();
        assert!(!generate_if_missing(&path).unwrap());
        let second = read_key_file(&path).unwrap();
        assert_eq!(first.ids(), ["k1"]);
        assert_eq!(
            first.current().encode().expose_secret(),
            second.current().encode().expose_secret()
        );
    }

    #[test]
    fn the_key_file_lists_the_current_key_first() {
        let (k1, k2) = (key("k1"), key("k2"));
        let text = format!("# rotated\n{}\n\n  {}  \n", line(&k2), line(&k1));
        let list = parse_key_file(Path::new("master.key"), &text).unwrap();
        assert_eq!(list.ids(), ["k2", "k1"]);
        let old = KeyRing::single(k1).seal(b"secret", b"aad");
        assert_eq!(list.ring().open(&old, b"aad").unwrap(), b"secret");
    }

    #[test]
    fn a_bad_key_file_is_refused_without_echoing_it() {
        let k1 = key("k1");
        let path = Path::new("/d/master.key");
        let bad = "k2:AAECAw==";
        let err = parse_key_file(path, &format!("{}\n{bad}\n", line(&k1)))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("/d/master.key"),
            "{err}"
        );
        assert!(!err.contains("AAECAw"), "{err}");
        let dup = parse_key_file(path, &format!("{}\n{}\n", line(&k1), line(&key("k1"))))
            .unwrap_err()
            .to_string();
        assert!(dup.contains("k1"), "{dup}");
        assert!(matches!(
            parse_key_file(path, "# nothing\n\n"),
            Err(KeyFileError::Empty { .. })
        ));
    }

    #[test]
    fn writing_replaces_the_file_atomically_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (k1, k2) = (key("k1"), key("k2"));
        write_key_file(&path, &list(&[&k1])).unwrap();
        // A temporary file left by a killed run does not get in the way.
        fs::write(dir.path().join(".master.key.tmp"), "junk").unwrap();
        write_key_file(&path, &list(&[&k2, &k1])).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(read_key_file(&path).unwrap().ids(), ["k2", "k1"]);
        assert!(!dir.path().join(".master.key.tmp").exists());
    }

    #[test]
    fn an_unknown_key_id_reloads_the_file_once_and_opens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (k1, k2) = (key("k1"), key("k2"));
        write_key_file(&path, &list(&[&k1])).unwrap();
        let keys = MasterKeys::from_file(&path).unwrap();
        let old = keys.seal(b"old", b"a");

        // Another process rotates: k2 first, then seals a value with it.
        write_key_file(&path, &list(&[&k2, &k1])).unwrap();
        let new = KeyRing::new(k2.clone(), vec![k1.clone()])
            .unwrap()
            .seal(b"new", b"a");
        assert_eq!(keys.current_id(), "k1", "no reload before it is needed");
        assert_eq!(keys.open(&new, b"a").unwrap(), b"new");
        assert_eq!(keys.current_id(), "k2");
        assert_eq!(keys.open(&old, b"a").unwrap(), b"old");

        // A key that is nowhere stays unknown, and does not cause a reload per call.
        let k9 = KeyRing::single(key("k9")).seal(b"x", b"a");
        assert_eq!(
            keys.open(&k9, b"a"),
            Err(CryptoError::UnknownKeyId("k9".into()))
        );
        fs::remove_file(&path).unwrap();
        assert_eq!(
            keys.open(&k9, b"a"),
            Err(CryptoError::UnknownKeyId("k9".into())),
            "within the reload gap the file is not read again"
        );
        assert_eq!(keys.open(&new, b"a").unwrap(), b"new");
    }

    #[test]
    fn sealing_picks_up_a_rotated_key_file_without_reading_it_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (k1, k2, k3) = (key("k1"), key("k2"), key("k3"));
        write_key_file(&path, &list(&[&k1])).unwrap();
        let keys = MasterKeys::from_file(&path).unwrap();
        write_key_file(&path, &list(&[&k2, &k1])).unwrap();
        // The first seal checks the file (never checked yet) and sees it changed.
        assert!(keys.seal(b"v", b"a").starts_with("v1.k2."));
        // Within the check interval the file is not looked at again.
        write_key_file(&path, &list(&[&k3, &k2, &k1])).unwrap();
        assert!(keys.seal(b"v", b"a").starts_with("v1.k2."));
        assert_eq!(keys.current_id(), "k2");
    }

    #[test]
    fn a_reload_keeps_keys_the_file_no_longer_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let (k1, k2) = (key("k1"), key("k2"));
        write_key_file(&path, &list(&[&k1])).unwrap();
        let keys = MasterKeys::from_file(&path).unwrap();
        let old = keys.seal(b"old", b"a");
        write_key_file(&path, &list(&[&k2])).unwrap();
        assert!(keys.reload().unwrap());
        assert_eq!(keys.current_id(), "k2");
        assert_eq!(keys.open(&old, b"a").unwrap(), b"old");
        assert!(!keys.sealed_with_current(&old));
        assert!(keys.sealed_with_current(&keys.seal(b"n", b"a")));
    }

    #[test]
    fn a_broken_file_keeps_the_loaded_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let k1 = key("k1");
        write_key_file(&path, &list(&[&k1])).unwrap();
        let keys = MasterKeys::from_file(&path).unwrap();
        let sealed = keys.seal(b"v", b"a");
        fs::write(&path, "garbage\n").unwrap();
        assert!(keys.reload().is_err());
        assert_eq!(keys.open(&sealed, b"a").unwrap(), b"v");
        assert_eq!(keys.current_id(), "k1");
    }

    #[test]
    fn configured_keys_never_touch_the_disk() {
        let keys = MasterKeys::from(KeyRing::single(key("k1")));
        assert!(!keys.reload().unwrap());
        assert!(keys.file().is_none());
        let other = KeyRing::single(key("k2")).seal(b"x", b"");
        assert_eq!(
            keys.open(&other, b""),
            Err(CryptoError::UnknownKeyId("k2".into()))
        );
    }

    #[test]
    fn new_key_ids_follow_the_highest() {
        let keys = list(&[&key("k2"), &key("k10"), &key("main")]);
        assert_eq!(keys.next_key_id(), "k11");
        assert_eq!(list(&[&key("prod")]).next_key_id(), "k1");
        let rotated = keys.with_new_current(key("k11")).unwrap();
        assert_eq!(rotated.ids(), ["k11", "k2", "k10", "main"]);
        assert!(keys.with_new_current(key("k2")).is_err());
    }

    #[test]
    fn configured_lists_are_comma_separated_and_errors_hide_the_keys() {
        let (k1, k2) = (key("k1"), key("k2"));
        let parsed =
            KeyList::parse_comma_separated(&format!(" {} , {} ", line(&k2), line(&k1))).unwrap();
        assert_eq!(parsed.ids(), ["k2", "k1"]);
        let err =
            KeyList::parse_comma_separated(&format!("{},k3:c2VjcmV0", line(&k1))).unwrap_err();
        assert!(err.starts_with("key 2 of 2"), "{err}");
        assert!(!err.contains("c2VjcmV0"), "{err}");
        let dup =
            KeyList::parse_comma_separated(&format!("{},{}", line(&k1), line(&k1))).unwrap_err();
        assert!(dup.contains("k1"), "{dup}");
        assert!(KeyList::parse_comma_separated(" , ").is_err());
    }
}
