//! A small cache of answers from the Kubernetes API: each answer lives for
//! a time that depends on the answer (an allow longer than a denial), and
//! callers asking for the same key while its answer is being fetched wait
//! for that one fetch instead of making their own. Failures are shared with
//! the callers that waited for them but never kept.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use tokio::time::Instant;

/// How many answers are kept before expired ones are dropped (and, if that
/// is not enough, all of them).
pub const CAPACITY: usize = 10_000;

type Pending<V, E> = Shared<BoxFuture<'static, Result<V, E>>>;

enum Slot<V, E> {
    Ready { value: V, until: Instant },
    Fetching { id: u64, fetch: Pending<V, E> },
}

/// The cache. `V` and `E` are cloned for every caller.
pub struct TtlCache<K, V, E> {
    slots: Mutex<HashMap<K, Slot<V, E>>>,
    next_id: AtomicU64,
}

impl<K, V, E> Default for TtlCache<K, V, E> {
    fn default() -> Self {
        TtlCache {
            slots: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
        }
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Kept from an earlier fetch.
    Hit,
    /// Fetched for this caller, or by a concurrent caller it waited for.
    Fetched,
}

impl<K, V, E> TtlCache<K, V, E>
where
    K: Hash + Eq + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
    E: Clone + Send + Sync + 'static,
{
    /// The answer for `key`: kept, being fetched, or fetched now with
    /// `fetch`; a fetched answer is kept for `ttl(&value)` (zero: not kept).
    pub async fn get_or_fetch<Fut>(
        &self,
        key: &K,
        fetch: impl FnOnce() -> Fut,
        ttl: impl FnOnce(&V) -> Duration,
    ) -> (Result<V, E>, Source)
    where
        Fut: Future<Output = Result<V, E>> + Send + 'static,
    {
        let (id, pending) = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            match slots.get(key) {
                Some(Slot::Ready { value, until }) if Instant::now() < *until => {
                    return (Ok(value.clone()), Source::Hit);
                }
                Some(Slot::Fetching { id, fetch }) => (*id, fetch.clone()),
                _ => {
                    if slots.len() >= CAPACITY {
                        let now = Instant::now();
                        slots.retain(|_, s| match s {
                            Slot::Ready { until, .. } => now < *until,
                            Slot::Fetching { .. } => true,
                        });
                        if slots.len() >= CAPACITY {
                            slots.retain(|_, s| matches!(s, Slot::Fetching { .. }));
                        }
                    }
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let pending = fetch().boxed().shared();
                    slots.insert(
                        key.clone(),
                        Slot::Fetching {
                            id,
                            fetch: pending.clone(),
                        },
                    );
                    (id, pending)
                }
            }
        };
        let result = pending.await;
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        // The first waiter to finish settles the slot; the others find it settled.
        if matches!(slots.get(key), Some(Slot::Fetching { id: current, .. }) if *current == id) {
            match &result {
                Ok(value) => {
                    let ttl = ttl(value);
                    if ttl.is_zero() {
                        slots.remove(key);
                    } else {
                        slots.insert(
                            key.clone(),
                            Slot::Ready {
                                value: value.clone(),
                                until: Instant::now() + ttl,
                            },
                        );
                    }
                }
                Err(_) => {
                    slots.remove(key);
                }
            }
        }
        (result, Source::Fetched)
    }

    /// Forgets every answer.
    pub fn clear(&self) {
        self.slots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, s| matches!(s, Slot::Fetching { .. }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn answers_live_for_their_ttl_and_failures_not_at_all() {
        let cache: TtlCache<&str, bool, String> = TtlCache::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let ask = |answer: Result<bool, String>| {
            let calls = calls.clone();
            move || async move {
                calls.fetch_add(1, Ordering::SeqCst);
                answer
            }
        };
        // Allows are kept, denials (here) not at all.
        let ttl = |v: &bool| Duration::from_secs(if *v { 3600 } else { 0 });
        let (r, s) = cache.get_or_fetch(&"a", ask(Ok(true)), ttl).await;
        assert_eq!((r, s), (Ok(true), Source::Fetched));
        let (r, s) = cache.get_or_fetch(&"a", ask(Ok(false)), ttl).await;
        assert_eq!((r, s), (Ok(true), Source::Hit));
        let (r, _) = cache.get_or_fetch(&"b", ask(Ok(false)), ttl).await;
        assert_eq!(r, Ok(false));
        let (r, s) = cache.get_or_fetch(&"b", ask(Err("down".into())), ttl).await;
        assert_eq!((r, s), (Err("down".into()), Source::Fetched));
        let (r, _) = cache.get_or_fetch(&"b", ask(Ok(true)), ttl).await;
        assert_eq!(r, Ok(true), "a failure is not kept");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        cache.clear();
        let (_, s) = cache.get_or_fetch(&"a", ask(Ok(true)), ttl).await;
        assert_eq!(s, Source::Fetched);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let cache: Arc<TtlCache<u8, u8, ()>> = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (cache, calls, gate) = (cache.clone(), calls.clone(), gate.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_fetch(
                        &1,
                        move || async move {
                            calls.fetch_add(1, Ordering::SeqCst);
                            gate.notified().await;
                            Ok(7)
                        },
                        |_| Duration::from_secs(30),
                    )
                    .await
                    .0
            }));
        }
        while calls.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // Let every task reach the shared fetch before it finishes.
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        gate.notify_waiters();
        gate.notify_one();
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
