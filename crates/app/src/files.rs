//! Creating files and folders that hold secrets, with owner-only permissions from the start
//! (never created world-readable and then narrowed).

use std::{
    fs::{self, DirBuilder, File, OpenOptions, Permissions},
    io,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

/// Creates `dir` (and parents) with mode 0700 if missing.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Makes `path` owner-only (`mode`, e.g. 0700 for a folder, 0600 for a file) if it exists
/// and group or others have any right on it. Returns the previous mode when it changed it, so
/// the caller can say so: an operator who made the data directory world-readable by hand (or
/// a volume created with 0755) should learn that the gateway narrowed it.
pub fn tighten(path: &Path, mode: u32) -> io::Result<Option<u32>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let current = meta.permissions().mode() & 0o7777;
    if current & 0o077 == 0 {
        return Ok(None);
    }
    fs::set_permissions(path, Permissions::from_mode(mode))?;
    Ok(Some(current))
}

/// Narrows the data directory to 0700 and the SQLite files to 0600 at start-up (they hold
/// the sealed secrets, token hashes and the audit trail), saying in the log what it changed.
pub fn secure_data_files(data_dir: &Path, database_url: &str) -> anyhow::Result<()> {
    if let Some(old) = tighten(data_dir, 0o700).map_err(|e| {
        anyhow::anyhow!(
            "data_dir: cannot make {} owner-only: {e}",
            data_dir.display()
        )
    })? {
        tracing::warn!(path = %data_dir.display(), old_mode = %format!("{old:o}"), "data directory was open to other users; narrowed it to 0700");
    }
    if let Some(file) = sqlite_file(database_url) {
        let narrowed = prepare_sqlite_file(&file).map_err(|e| {
            anyhow::anyhow!("database: cannot make {} owner-only: {e}", file.display())
        })?;
        for (path, old) in narrowed {
            tracing::warn!(path = %path.display(), old_mode = %format!("{old:o}"), "database file was open to other users; narrowed it to 0600");
        }
    }
    Ok(())
}

/// The file of a `sqlite://PATH?...` URL, or `None` for another database (or in-memory).
pub fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

/// Gets a SQLite database ready to hold secrets: the file is created 0600 before SQLite opens
/// it (SQLite creates a missing file with the process umask, typically 0644, and gives its
/// `-wal` and `-shm` files the database file's mode), and an existing database and its
/// companions are narrowed to 0600. Returns the files it narrowed, with their old modes.
pub fn prepare_sqlite_file(path: &Path) -> io::Result<Vec<(PathBuf, u32)>> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    match create_with_mode(path, 0o600) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let mut narrowed = Vec::new();
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = PathBuf::from(name);
        if let Some(old) = tighten(&file, 0o600)? {
            narrowed.push((file, old));
        }
    }
    Ok(narrowed)
}

/// Creates a new file with `mode`; fails if it already exists, so nothing is overwritten.
pub fn create_with_mode(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
}

/// Reads a small text file if it exists.
pub fn read_if_exists(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/mayfly/mayfly.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/mayfly/mayfly.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:data/m.db"),
            Some(PathBuf::from("data/m.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }

    #[test]
    fn a_new_database_file_is_owner_only_and_an_open_one_is_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sub").join("m.db");
        assert!(prepare_sqlite_file(&db).unwrap().is_empty());
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(db.parent().unwrap()), 0o700);

        fs::set_permissions(&db, Permissions::from_mode(0o644)).unwrap();
        let wal = dir.path().join("sub").join("m.db-wal");
        fs::write(&wal, b"").unwrap();
        fs::set_permissions(&wal, Permissions::from_mode(0o664)).unwrap();
        let narrowed = prepare_sqlite_file(&db).unwrap();
        assert_eq!(narrowed, vec![(db.clone(), 0o644), (wal.clone(), 0o664)]);
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
    }

    #[test]
    fn tighten_leaves_private_paths_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), Permissions::from_mode(0o700)).unwrap();
        assert_eq!(tighten(dir.path(), 0o700).unwrap(), None);
        fs::set_permissions(dir.path(), Permissions::from_mode(0o755)).unwrap();
        assert_eq!(tighten(dir.path(), 0o700).unwrap(), Some(0o755));
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(tighten(&dir.path().join("missing"), 0o600).unwrap(), None);
    }
}
