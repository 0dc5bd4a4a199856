//! A list of master keys: what `MAYFLY_MASTER_KEY` and the key file hold.

use crate::{KeyError, KeyRing, MasterKey};

/// A non-empty list of master keys with distinct ids, the first one current, and the ring
/// built from them.
#[derive(Clone)]
pub struct KeyList {
    keys: Vec<MasterKey>,
    ring: KeyRing,
}

impl KeyList {
    /// Fails on an empty list or a repeated key id.
    pub fn new(keys: Vec<MasterKey>) -> Result<Self, KeyError> {
        let mut rest = keys.iter().cloned();
        let current = rest.next().ok_or(KeyError::Format)?;
        let ring = KeyRing::new(current, rest.collect())?;
        Ok(KeyList { keys, ring })
    }

    /// Parses `keyid:BASE64,keyid:BASE64,...` (the form of `MAYFLY_MASTER_KEY`). Errors
    /// name the position of the bad key, never its text.
    pub fn parse_comma_separated(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let count = parts.len();
        let mut keys = Vec::with_capacity(count);
        for (i, part) in parts.into_iter().enumerate() {
            let key = MasterKey::parse(part).map_err(|e| {
                if count > 1 {
                    format!("key {} of {count}: {e}", i + 1)
                } else {
                    e.to_string()
                }
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err("no key given".into());
        }
        KeyList::new(keys).map_err(|e| e.to_string())
    }

    pub fn current(&self) -> &MasterKey {
        &self.keys[0]
    }

    /// Every key, the current one first.
    pub fn keys(&self) -> &[MasterKey] {
        &self.keys
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(MasterKey::id).collect()
    }

    pub fn contains_id(&self, id: &str) -> bool {
        self.keys.iter().any(|k| k.id() == id)
    }

    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// This list with `key` in front as the new current key.
    pub fn with_new_current(&self, key: MasterKey) -> Result<Self, KeyError> {
        KeyList::new(
            std::iter::once(key)
                .chain(self.keys.iter().cloned())
                .collect(),
        )
    }

    /// An id for a new key that no key of the list has: `k<N+1>` after the highest `k<N>`.
    pub fn next_key_id(&self) -> String {
        let highest = self
            .keys
            .iter()
            .filter_map(|k| k.id().strip_prefix('k')?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let mut n = highest.saturating_add(1);
        while self.contains_id(&format!("k{n}")) {
            n = n.saturating_add(1);
        }
        format!("k{n}")
    }

    /// `self`'s keys (its current key current), then the keys of `old` that `self` lacks.
    pub fn merged_with(&self, old: &[MasterKey]) -> KeyList {
        let mut keys = self.keys.clone();
        for key in old {
            if !keys.iter().any(|k| k.id() == key.id()) {
                keys.push(key.clone());
            }
        }
        // Only ids that were absent were added, so the ids stay distinct.
        KeyList::new(keys).unwrap_or_else(|_| self.clone())
    }
}

impl std::fmt::Debug for KeyList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyList").field("ids", &self.ids()).finish()
    }
}
