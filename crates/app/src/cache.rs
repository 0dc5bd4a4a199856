//! Short-lived, in-process caches of what nearly every request reads: who a token belongs to
//! (with the rules of its roles) and a dynamic secret with its target.
//!
//! Why: without them a `gateway-get-producer` made seven sequential database round trips
//! (token, role links, roles, rules, producer, target, rotation schedule) and a
//! `get-dynamic-secret-value` six before its first AWS call; on two cores that capped the
//! control plane at a few thousand requests per second (docs/benchmarks.md).
//!
//! Why it is safe:
//! - **Short-lived**: an entry is used for at most `cache_ttl` (`MAYFLY_CACHE_TTL`, 2 s by
//!   default; `0` turns caching off). A change made through *another* gateway of the cluster
//!   (a revoked token, a removed role, an updated target) is therefore seen here within that
//!   time, as issue 6 allows ("caches are fine if they are invalidated or short-lived").
//! - **Invalidated**: every request that changes configuration on *this* gateway (targets,
//!   producers, auth methods, roles, rules, associations, tokens, rotations) empties all
//!   caches when it ends, so a change is seen at once by the gateway that made it. An entry
//!   loaded while an invalidation happened is not stored (the generation check below), so a
//!   slow load cannot put pre-change data back.
//! - **Never past the token's life**: a cached caller is dropped when its token expires.
//! - **Misses are not cached**: an unknown token or item always goes to the database, so a
//!   token or item created on another gateway works here at once.
//! - **Bounded**: at most `capacity` entries; when full, stale entries go first, then all.
//! - **One load per key at a time**: when an entry expires under load, the requests that
//!   miss it wait for one database read instead of all making their own (which, at 32
//!   concurrent clients, put a 15 ms spike into the gateway's p99 every `cache_ttl`).
//!
//! A dynamic secret deleted (or moved to another target) through another gateway cannot get
//! a new credential from a stale entry: its lease is written only while the producer row
//! still exists with that target (`leases::insert`), and the request otherwise
//! gets 404 and drops the entry.
//!
//! Admin-key rotation deletes the previous AWS key only after `cache_ttl` has passed since
//! the new key was stored, so no gateway still holding the old target in its cache uses a
//! deleted key (see `rotation::admin`).

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, RwLock,
    },
    time::{Duration, Instant},
};

/// One cache: values by key, each for at most `ttl`, all dropped on [`TtlCache::invalidate`].
pub struct TtlCache<K, V> {
    ttl: Duration,
    capacity: usize,
    generation: AtomicU64,
    entries: RwLock<HashMap<K, Entry<V>>>,
    /// Keys being loaded, each with the lock its loader holds.
    loading: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

struct Entry<V> {
    value: Arc<V>,
    loaded_at: Instant,
    generation: u64,
}

impl<K: Eq + Hash + Clone, V> TtlCache<K, V> {
    /// A cache keeping entries for `ttl` (zero: nothing is ever kept).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            ttl,
            capacity: capacity.max(1),
            generation: AtomicU64::new(0),
            entries: RwLock::new(HashMap::new()),
            loading: Mutex::new(HashMap::new()),
        }
    }

    /// The value for `key` if one was loaded less than `ttl` ago and no invalidation came
    /// since.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        if self.ttl.is_zero() {
            return None;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|e| e.generation == generation && e.loaded_at.elapsed() < self.ttl)
            .map(|e| e.value.clone())
    }

    /// The cached value, or the one `load` returns (stored unless an invalidation happened
    /// while it loaded). `load` returning `Ok(None)` (not found) is passed on and not cached.
    pub async fn get_or_load<E, F, Fut>(&self, key: &K, load: F) -> Result<Option<Arc<V>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(hit) = self.get(key) {
            return Ok(Some(hit));
        }
        if self.ttl.is_zero() {
            return load().await.map(|v| v.map(Arc::new));
        }
        // One loader per key: the others wait for it, then find its result cached.
        let gate = {
            let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
            if loading.len() >= self.capacity {
                // Keys whose loaders were all cancelled (clients that hung up) linger here.
                loading.retain(|_, g| Arc::strong_count(g) > 1);
            }
            loading.entry(key.clone()).or_default().clone()
        };
        let _turn = gate.lock().await;
        let result = self.load_and_store(key, load).await;
        {
            let mut loading = self.loading.lock().unwrap_or_else(|p| p.into_inner());
            // Only the last waiter's handle (plus the map's) remains: forget the key.
            if Arc::strong_count(&gate) <= 2 {
                loading.remove(key);
            }
        }
        result
    }

    async fn load_and_store<E, F, Fut>(&self, key: &K, load: F) -> Result<Option<Arc<V>>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(hit) = self.get(key) {
            return Ok(Some(hit));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let loaded_at = Instant::now();
        let Some(value) = load().await? else {
            return Ok(None);
        };
        let value = Arc::new(value);
        self.store(key.clone(), value.clone(), generation, loaded_at);
        Ok(Some(value))
    }

    fn store(&self, key: K, value: Arc<V>, generation: u64, loaded_at: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock: `invalidate` bumps the generation before it takes the lock,
        // so either it clears this entry or this check sees its new generation.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let current = generation;
            let ttl = self.ttl;
            entries.retain(|_, e| e.generation == current && e.loaded_at.elapsed() < ttl);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                loaded_at,
                generation,
            },
        );
    }

    /// Drops every entry, and keeps loads that started before this call from being stored.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// How many entries are held (fresh or not).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.read().unwrap_or_else(|p| p.into_inner()).len()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(ttl_ms: u64) -> TtlCache<String, u32> {
        TtlCache::new(Duration::from_millis(ttl_ms), 3)
    }

    async fn load(c: &TtlCache<String, u32>, key: &str, value: Option<u32>) -> Option<u32> {
        c.get_or_load(&key.to_owned(), || async { Ok::<_, ()>(value) })
            .await
            .unwrap()
            .map(|v| *v)
    }

    #[tokio::test]
    async fn a_loaded_value_is_served_until_it_expires() {
        let c = cache(60);
        assert_eq!(load(&c, "a", Some(1)).await, Some(1));
        // Cached: the loader's new answer is not asked for.
        assert_eq!(load(&c, "a", Some(2)).await, Some(1));
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(load(&c, "a", Some(3)).await, Some(3));
    }

    #[tokio::test]
    async fn misses_are_not_cached() {
        let c = cache(10_000);
        assert_eq!(load(&c, "a", None).await, None);
        assert_eq!(load(&c, "a", Some(1)).await, Some(1));
    }

    #[tokio::test]
    async fn invalidation_drops_everything() {
        let c = cache(10_000);
        load(&c, "a", Some(1)).await;
        c.invalidate();
        assert!(c.is_empty());
        assert_eq!(load(&c, "a", Some(2)).await, Some(2));
    }

    #[tokio::test]
    async fn a_load_overtaken_by_an_invalidation_is_not_stored() {
        let c = cache(10_000);
        let key = "a".to_owned();
        let got = c
            .get_or_load(&key, || async {
                // The configuration changes while the old value is being read.
                c.invalidate();
                Ok::<_, ()>(Some(1))
            })
            .await
            .unwrap();
        assert_eq!(
            got.map(|v| *v),
            Some(1),
            "the caller still gets what it read"
        );
        assert!(c.get(&key).is_none(), "but it is not kept");
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_load() {
        let c = Arc::new(cache(10_000));
        let loads = Arc::new(AtomicU64::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (c, loads) = (c.clone(), loads.clone());
                tokio::spawn(async move {
                    c.get_or_load(&"k".to_owned(), || async {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(Some(7))
                    })
                    .await
                    .unwrap()
                    .map(|v| *v)
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Some(7));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
        assert!(c.loading.lock().unwrap().is_empty(), "no key left behind");
    }

    #[tokio::test]
    async fn a_zero_ttl_keeps_nothing() {
        let c = cache(0);
        assert_eq!(load(&c, "a", Some(1)).await, Some(1));
        assert_eq!(load(&c, "a", Some(2)).await, Some(2));
        assert!(c.is_empty());
    }

    #[tokio::test]
    async fn the_cache_stays_within_its_capacity() {
        let c = cache(10_000);
        for (i, k) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            load(&c, k, Some(i as u32)).await;
            assert!(c.len() <= 3);
        }
        assert_eq!(c.get(&"e".to_owned()).map(|v| *v), Some(4));
    }
}
