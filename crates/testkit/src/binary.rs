//! Finding the `mayfly-gateway` executable, building it once if it is missing.
//!
//! Tests of the gateway package could use `CARGO_BIN_EXE_mayfly-gateway`, but tests of other
//! packages (the CLI) get no such variable, so the testkit looks in cargo's target directory,
//! the same place `scripts/test.sh` builds into. An explicit `MAYFLY_GATEWAY_BIN` wins, so CI
//! or a developer can point at any build.
//!
//! When the file is absent we run `cargo build -p mayfly-gateway` once per test process: cargo
//! releases its build lock before running tests, so the nested build does not deadlock.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::TestkitError;

/// Name of the gateway executable in cargo's output directory.
pub const GATEWAY_BIN_NAME: &str = "mayfly-gateway";

/// Environment variable that names the gateway binary explicitly.
pub const GATEWAY_BIN_ENV: &str = "MAYFLY_GATEWAY_BIN";

/// The workspace root: this crate lives in `<root>/crates/testkit`.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("..").join("..");
    root.canonicalize().unwrap_or(root)
}

/// Where the gateway binary is expected, and whether the location was chosen explicitly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryLocation {
    pub path: PathBuf,
    /// True when the path came from `MAYFLY_GATEWAY_BIN`: then it is never built for you.
    pub explicit: bool,
}

/// Decides where the (debug) gateway binary should be, from the values of `MAYFLY_GATEWAY_BIN`
/// and `CARGO_TARGET_DIR` (passed in so this stays a pure function). A relative target directory
/// is taken relative to the workspace root, where `scripts/test.sh` runs cargo.
pub fn resolve_binary_location(
    override_path: Option<OsString>,
    cargo_target_dir: Option<OsString>,
    workspace_root: &Path,
) -> BinaryLocation {
    resolve_profile_binary_location("debug", override_path, cargo_target_dir, workspace_root)
}

/// [`resolve_binary_location`] for any cargo profile directory (`"debug"`, `"release"`): the
/// benchmarks measure the release build.
pub fn resolve_profile_binary_location(
    profile: &str,
    override_path: Option<OsString>,
    cargo_target_dir: Option<OsString>,
    workspace_root: &Path,
) -> BinaryLocation {
    if let Some(path) = override_path.filter(|p| !p.is_empty()) {
        return BinaryLocation {
            path: PathBuf::from(path),
            explicit: true,
        };
    }
    let target_dir = match cargo_target_dir.filter(|p| !p.is_empty()) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root.join(dir)
            }
        }
        None => workspace_root.join("target"),
    };
    BinaryLocation {
        path: target_dir.join(profile).join(format!(
            "{GATEWAY_BIN_NAME}{}",
            std::env::consts::EXE_SUFFIX
        )),
        explicit: false,
    }
}

/// Where the gateway binary of cargo profile `profile` is expected, from this process's
/// `MAYFLY_GATEWAY_BIN` and `CARGO_TARGET_DIR`. Nothing is checked or built.
pub fn gateway_binary_location(profile: &str) -> BinaryLocation {
    resolve_profile_binary_location(
        profile,
        std::env::var_os(GATEWAY_BIN_ENV),
        std::env::var_os("CARGO_TARGET_DIR"),
        &workspace_root(),
    )
}

/// The gateway binary for this test process: from `MAYFLY_GATEWAY_BIN`, else cargo's target
/// directory, building it (once per process) when it is not there yet.
pub fn gateway_binary() -> Result<PathBuf, TestkitError> {
    let root = workspace_root();
    let location = gateway_binary_location("debug");
    if location.path.is_file() {
        return Ok(location.path);
    }
    if location.explicit {
        return Err(TestkitError::BinaryOverrideMissing(location.path));
    }
    build_once(&root, &location.path)
}

/// Runs `cargo build -p mayfly-gateway --bin mayfly-gateway` at most once per process and
/// remembers the outcome, so a broken build fails every test quickly instead of rebuilding.
fn build_once(root: &Path, expected: &Path) -> Result<PathBuf, TestkitError> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| build(root, expected))
        .clone()
        .map_err(TestkitError::Build)
}

fn build(root: &Path, expected: &Path) -> Result<PathBuf, String> {
    // Inside `cargo test`, CARGO names the cargo that is running us: use the same toolchain.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let status = Command::new(&cargo)
        .args(["build", "-p", "mayfly-gateway", "--bin", GATEWAY_BIN_NAME])
        .current_dir(root)
        .status()
        .map_err(|e| format!("could not run {cargo:?} in {}: {e}", root.display()))?;
    if !status.success() {
        return Err(format!(
            "`cargo build -p mayfly-gateway --bin {GATEWAY_BIN_NAME}` in {} ended with {status}",
            root.display()
        ));
    }
    if expected.is_file() {
        Ok(expected.to_path_buf())
    } else {
        Err(format!(
            "cargo succeeded but {} does not exist (is CARGO_TARGET_DIR set differently for \
             cargo and for the tests?)",
            expected.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        PathBuf::from("/work/repo")
    }

    fn bin(dir: &str) -> PathBuf {
        PathBuf::from(dir)
            .join("debug")
            .join(format!("mayfly-gateway{}", std::env::consts::EXE_SUFFIX))
    }

    #[test]
    fn explicit_override_wins() {
        let location = resolve_binary_location(
            Some("/opt/mayfly-gateway".into()),
            Some("/elsewhere".into()),
            &root(),
        );
        assert_eq!(
            location,
            BinaryLocation {
                path: PathBuf::from("/opt/mayfly-gateway"),
                explicit: true
            }
        );
    }

    #[test]
    fn empty_override_is_ignored() {
        let location = resolve_binary_location(Some("".into()), None, &root());
        assert!(!location.explicit);
        assert_eq!(location.path, bin("/work/repo/target"));
    }

    #[test]
    fn absolute_cargo_target_dir_is_used_as_is() {
        let location = resolve_binary_location(None, Some("/tmp/tgt".into()), &root());
        assert_eq!(location.path, bin("/tmp/tgt"));
        assert!(!location.explicit);
    }

    #[test]
    fn relative_cargo_target_dir_is_relative_to_the_workspace_root() {
        let location = resolve_binary_location(None, Some("build/out".into()), &root());
        assert_eq!(location.path, bin("/work/repo/build/out"));
    }

    #[test]
    fn other_profiles_live_next_to_debug() {
        let location =
            resolve_profile_binary_location("release", None, Some("build/out".into()), &root());
        assert_eq!(
            location.path,
            PathBuf::from("/work/repo/build/out/release")
                .join(format!("mayfly-gateway{}", std::env::consts::EXE_SUFFIX))
        );
        assert!(!location.explicit);
        let explicit = resolve_profile_binary_location(
            "release",
            Some("/opt/mayfly-gateway".into()),
            None,
            &root(),
        );
        assert!(explicit.explicit);
        assert_eq!(explicit.path, PathBuf::from("/opt/mayfly-gateway"));
    }

    #[test]
    fn default_is_the_workspace_target_dir() {
        let location = resolve_binary_location(None, None, &root());
        assert_eq!(location.path, bin("/work/repo/target"));
    }

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml"))
            .expect("workspace Cargo.toml");
        assert!(manifest.contains("[workspace]"));
        assert!(manifest.contains("crates/testkit"));
    }
}
