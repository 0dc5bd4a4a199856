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
//!   default; `0` turns caching off), counted from when its load started reading. A change made through *another* gateway of the cluster
//!   (a revoked token, a removed role, an updated target) is therefore seen here within that
//!   time, as issue 6 allows ("caches are fine if they are invalidated or short-lived").
//! - **Invalidated**: every request that changes configuration on *this* gateway (targets,
//!   producers, auth methods, roles, rules, associations, tokens, rotations) empties all
//!   caches when it ends, so a change is seen at once by the gateway that made it. Entries are
//!   keyed by the cache's generation, which an invalidation bumps, so a load that started
//!   before it is stored (if at all) where no later lookup looks: a slow load cannot put
//!   pre-change data back, and no request after the change waits for such a load.
//! - **Never past the token's life**: a cached caller is dropped when its token expires.
//! - **Misses are not cached**: an unknown token or item always goes to the database, so a
//!   token or item created on another gateway works here at once.
//! - **Bounded**: at most `capacity` entries; when full, the least recently used go.
//! - **One load per key at a time, its outcome shared**: when an entry expires under load,
//!   the requests that miss it wait for one database read instead of all making their own
//!   (which, at 32 concurrent clients, put a 15 ms spike into the gateway's p99 every
//!   `cache_ttl`). The waiters get that read's outcome whatever it is: the value, "not
//!   found", or the error. A failing load (the database down) is therefore tried once per
//!   burst of waiters, not once by each in turn, and a burst fails together and fast. Errors
//!   and misses are not stored: the next request after them loads again.
//!
//! The cache itself is moka's (`future::Cache::try_get_with` does the one-load-per-key and
//! shares an error with its waiters); this module adds the generations, the TTL from load
//! time and the not-found outcome.
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
    future::Future,
    hash::Hash,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use moka::{future::Cache, policy::EvictionPolicy, Expiry};

/// One cache: values by key, each for at most `ttl`, all dropped on [`TtlCache::invalidate`].
pub struct TtlCache<K, V> {
    generation: AtomicU64,
    /// `None` when `ttl` is zero: nothing is kept, every call loads.
    entries: Option<Cache<(u64, K), Entry<V>>>,
}

struct Entry<V> {
    value: Arc<V>,
    /// When its load started: the entry lives `ttl` from then, not from when it was stored.
    loaded_at: Instant,
}

impl<V> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Entry {
            value: self.value.clone(),
            loaded_at: self.loaded_at,
        }
    }
}

/// An entry expires `ttl` after its load started.
struct SinceLoad(Duration);

impl<K, V> Expiry<K, Entry<V>> for SinceLoad {
    fn expire_after_create(
        &self,
        _key: &K,
        value: &Entry<V>,
        created_at: Instant,
    ) -> Option<Duration> {
        Some(
            self.0
                .saturating_sub(created_at.saturating_duration_since(value.loaded_at)),
        )
    }
}

/// How a load ended without a value to store, as its waiters see it.
enum Unstored<E> {
    NotFound,
    Failed(E),
}

impl<K, V> TtlCache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Send + Sync + 'static,
{
    /// A cache keeping entries for `ttl` (zero: nothing is ever kept).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(u64::try_from(capacity.max(1)).unwrap_or(u64::MAX))
                .eviction_policy(EvictionPolicy::lru())
                .expire_after(SinceLoad(ttl))
                .build()
        });
        TtlCache {
            generation: AtomicU64::new(0),
            entries,
        }
    }

    /// The value for `key` if one was loaded less than `ttl` ago and no invalidation came
    /// since.
    pub async fn get(&self, key: &K) -> Option<Arc<V>> {
        let entries = self.entries.as_ref()?;
        let generation = self.generation.load(Ordering::Acquire);
        entries
            .get(&(generation, key.clone()))
            .await
            .map(|e| e.value)
    }

    /// The cached value, or the one `load` returns. Concurrent calls for one key share one
    /// `load` and its outcome: the value (stored, unless an invalidation came meanwhile),
    /// `Ok(None)` for "not found" (passed on, not stored) or the error (passed on, cloned for
    /// each waiter, not stored).
    pub async fn get_or_load<E, F, Fut>(&self, key: &K, load: F) -> Result<Option<Arc<V>>, E>
    where
        E: Clone + Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<V>, E>>,
    {
        let Some(entries) = &self.entries else {
            return load().await.map(|v| v.map(Arc::new));
        };
        let generation = self.generation.load(Ordering::Acquire);
        let loading = async {
            let loaded_at = Instant::now();
            match load().await {
                Ok(Some(value)) => Ok(Entry {
                    value: Arc::new(value),
                    loaded_at,
                }),
                Ok(None) => Err(Unstored::NotFound),
                Err(e) => Err(Unstored::Failed(e)),
            }
        };
        // Boxed: moka's future and the load inside it live on the heap, so they do not add
        // to the size of every request future that resolves a caller or a producer (in a
        // debug build, the AWS credential chain's futures on top of them overflowed a
        // worker's stack).
        match Box::pin(entries.try_get_with((generation, key.clone()), loading)).await {
            Ok(entry) => Ok(Some(entry.value)),
            Err(unstored) => match &*unstored {
                Unstored::NotFound => Ok(None),
                Unstored::Failed(e) => Err(e.clone()),
            },
        }
    }

    /// Drops every entry, and keeps loads that started before this call from being found.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(entries) = &self.entries {
            entries.invalidate_all();
        }
    }

    /// How many entries are held, once pending evictions are done.
    #[cfg(test)]
    async fn len(&self) -> u64 {
        match &self.entries {
            Some(entries) => {
                entries.run_pending_tasks().await;
                entries.entry_count()
            }
            None => 0,
        }
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
    async fn the_ttl_counts_from_when_the_load_started() {
        let c = cache(100);
        let key = "slow".to_owned();
        c.get_or_load(&key, || async {
            tokio::time::sleep(Duration::from_millis(120)).await;
            Ok::<_, ()>(Some(1))
        })
        .await
        .unwrap();
        assert!(
            c.get(&key).await.is_none(),
            "read more than a TTL ago: already stale when stored"
        );
    }

    #[tokio::test]
    async fn misses_are_not_cached() {
        let c = cache(10_000);
        assert_eq!(load(&c, "a", None).await, None);
        assert_eq!(load(&c, "a", Some(1)).await, Some(1));
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let c = cache(10_000);
        let key = "a".to_owned();
        let failed = c
            .get_or_load(&key, || async { Err::<Option<u32>, _>("database down") })
            .await;
        assert_eq!(failed.err(), Some("database down"));
        assert_eq!(load(&c, "a", Some(1)).await, Some(1), "the next call loads");
    }

    #[tokio::test]
    async fn invalidation_drops_everything() {
        let c = cache(10_000);
        load(&c, "a", Some(1)).await;
        c.invalidate();
        assert!(c.get(&"a".to_owned()).await.is_none());
        assert_eq!(c.len().await, 0);
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
        assert!(c.get(&key).await.is_none(), "but it is not kept");
        assert_eq!(load(&c, "a", Some(2)).await, Some(2));
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
    }

    /// The waiters of a failing load get its error; none of them tries again in turn.
    #[tokio::test]
    async fn a_failing_load_is_made_once_and_its_error_shared_with_every_waiter() {
        let c = Arc::new(cache(10_000));
        let loads = Arc::new(AtomicU64::new(0));
        let (entered, mut first_entered) = tokio::sync::mpsc::channel::<()>(1);
        let (release, released) = tokio::sync::watch::channel(false);
        let call = |c: Arc<TtlCache<String, u32>>| {
            let (loads, entered, mut released) = (loads.clone(), entered.clone(), released.clone());
            tokio::spawn(async move {
                c.get_or_load(&"k".to_owned(), || async move {
                    let n = loads.fetch_add(1, Ordering::SeqCst) + 1;
                    let _ = entered.try_send(());
                    // The database answers only once every caller is waiting.
                    let _ = released.wait_for(|r| *r).await;
                    Err::<Option<u32>, _>(format!("database down (load {n})"))
                })
                .await
            })
        };
        let first = call(c.clone());
        first_entered.recv().await.expect("the first load started");
        let waiters: Vec<_> = (0..15).map(|_| call(c.clone())).collect();
        // Let every waiter reach the cache and queue behind the load in progress.
        tokio::time::sleep(Duration::from_millis(50)).await;
        release.send_replace(true);
        for t in std::iter::once(first).chain(waiters) {
            let outcome = t.await.unwrap();
            assert_eq!(outcome.err().as_deref(), Some("database down (load 1)"));
        }
        assert_eq!(
            loads.load(Ordering::SeqCst),
            1,
            "one load for all 16 callers"
        );
        // Not stored: the next caller loads again, and may succeed.
        assert_eq!(load(&c, "k", Some(3)).await, Some(3));
    }

    #[tokio::test]
    async fn a_zero_ttl_keeps_nothing() {
        let c = cache(0);
        assert_eq!(load(&c, "a", Some(1)).await, Some(1));
        assert_eq!(load(&c, "a", Some(2)).await, Some(2));
        assert_eq!(c.len().await, 0);
    }

    #[tokio::test]
    async fn the_cache_stays_within_its_capacity() {
        let c = cache(10_000);
        for (i, k) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            load(&c, k, Some(i as u32)).await;
            assert!(c.len().await <= 3);
        }
        assert_eq!(c.get(&"e".to_owned()).await.map(|v| *v), Some(4));
    }
}
