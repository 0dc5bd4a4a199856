//! The master key that seals stored secrets: from configuration, or generated into the data
//! directory (mode 0600) on first start of the embedded default.

use std::path::Path;

use mayfly_crypto::{KeyRing, MasterKey};
use secrecy::ExposeSecret;

use crate::{config::Config, files};

/// The key ring for this process, and whether its key was generated just now.
pub fn load_key_ring(config: &Config) -> anyhow::Result<(KeyRing, bool)> {
    if let Some(key) = &config.master_key {
        return Ok((KeyRing::single(key.clone()), false));
    }
    let path = config.data_dir.join("master.key");
    let (key, generated) = load_or_generate(&path)?;
    Ok((KeyRing::single(key), generated))
}

fn load_or_generate(path: &Path) -> anyhow::Result<(MasterKey, bool)> {
    if let Some(text) = files::read_if_exists(path)? {
        let key = MasterKey::parse(text.trim())
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        return Ok((key, false));
    }
    if let Some(dir) = path.parent() {
        files::create_private_dir(dir)?;
    }
    let key = MasterKey::generate("k1")?;
    let mut file = files::create_with_mode(path, 0o600)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
    use std::io::Write;
    writeln!(file, "{}", key.encode().expose_secret())?;
    file.sync_all()?;
    Ok((key, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("master.key");
        let (first, generated) = load_or_generate(&path).unwrap();
        assert!(generated);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (second, generated) = load_or_generate(&path).unwrap();
        assert!(!generated);
        assert_eq!(
            first.encode().expose_secret(),
            second.encode().expose_secret()
        );
    }
}
