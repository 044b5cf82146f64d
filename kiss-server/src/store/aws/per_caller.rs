//! Something that expires, held for each caller: the AWS clients built on a
//! caller's assumed-role credentials (`--source-identity-role-arn`), reused
//! until shortly before the credentials expire.
//!
//! - Reuse: a value is handed out again while the clock is more than
//!   [`REFRESH_BEFORE`] from its expiry, so no call starts on credentials
//!   about to lapse mid-call.
//! - Single flight: the calls of one caller that find no fresh value wait
//!   for one fetch (one AssumeRole) rather than each making their own. A
//!   fetch that fails is not kept; the next call tries again.
//! - Bounded: at most `capacity` callers are held; a new one evicts the
//!   entry that expires first, preferring entries nobody is fetching.
//! - The clock is injected, so tests move time instead of waiting.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long before its expiry a value is fetched again.
pub(crate) const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// How many callers are held by default.
pub(crate) const MAX_CALLERS: usize = 1024;

/// Wall-clock time, as AWS states expiries.
pub(crate) trait Clock: Send + Sync + 'static {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A value and when it stops being usable.
struct Held<T> {
    value: T,
    expires: SystemTime,
}

/// One caller's slot. Its lock is held while its value is fetched, which
/// is what makes the caller's other calls wait for that one fetch.
struct Entry<T> {
    held: tokio::sync::Mutex<Option<Held<T>>>,
}

/// Values by caller key, each fetched once and reused until it nears expiry.
pub(crate) struct PerCaller<T> {
    clock: Arc<dyn Clock>,
    capacity: usize,
    entries: Mutex<HashMap<String, Arc<Entry<T>>>>,
}

impl<T> std::fmt::Debug for PerCaller<T> {
    // Never the values: they hold credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerCaller")
            .field("capacity", &self.capacity)
            .field("held", &self.len())
            .finish_non_exhaustive()
    }
}

impl<T> PerCaller<T> {
    /// How many callers are held.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Entry<T>>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: Clone> PerCaller<T> {
    /// Holds at most `capacity` (at least 1) callers, on `clock`.
    pub(crate) fn new(clock: Arc<dyn Clock>, capacity: usize) -> Self {
        PerCaller {
            clock,
            capacity: capacity.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The value held for `key` if it is still fresh, else the one `fetch`
    /// returns (with its expiry), which is then held. Concurrent calls for
    /// the same key make one fetch between them.
    pub(crate) async fn get<E, F, Fut>(&self, key: &str, fetch: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(T, SystemTime), E>>,
    {
        let entry = self.entry(key);
        let mut held = entry.held.lock().await;
        if let Some(h) = held.as_ref().filter(|h| self.fresh(h.expires)) {
            return Ok(h.value.clone());
        }
        let (value, expires) = fetch().await?;
        *held = Some(Held {
            value: value.clone(),
            expires,
        });
        Ok(value)
    }

    fn fresh(&self, expires: SystemTime) -> bool {
        self.clock.now() + REFRESH_BEFORE < expires
    }

    /// The entry of `key`, made (evicting one if full) if there is none.
    fn entry(&self, key: &str) -> Arc<Entry<T>> {
        let mut entries = self.lock();
        if let Some(entry) = entries.get(key) {
            return entry.clone();
        }
        if entries.len() >= self.capacity {
            Self::evict_one(&mut entries);
        }
        let entry = Arc::new(Entry {
            held: tokio::sync::Mutex::new(None),
        });
        entries.insert(key.to_owned(), entry.clone());
        entry
    }

    /// Drops the entry that expires first among those no call is fetching
    /// (one without a value, after a failed fetch, counts as expired); if
    /// every entry is being fetched, any one: its callers still get their
    /// value, it is just not kept.
    fn evict_one(entries: &mut HashMap<String, Arc<Entry<T>>>) {
        let idle = entries
            .iter()
            .filter_map(|(key, entry)| {
                let held = entry.held.try_lock().ok()?;
                Some((held.as_ref().map(|h| h.expires), key))
            })
            .min()
            .map(|(_, key)| key.clone());
        let victim = idle.or_else(|| entries.keys().next().cloned());
        if let Some(key) = victim {
            entries.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A clock tests move by hand.
    #[derive(Default)]
    struct FakeClock(Mutex<Duration>);

    impl FakeClock {
        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap() += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> SystemTime {
            SystemTime::UNIX_EPOCH + *self.0.lock().unwrap()
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    /// A cache on a fake clock, and a fetch that counts its calls and
    /// returns "<key>#<n>" valid for an hour.
    struct Fixture {
        clock: Arc<FakeClock>,
        cache: PerCaller<String>,
        fetches: AtomicUsize,
    }

    impl Fixture {
        fn new(capacity: usize) -> Fixture {
            let clock = Arc::new(FakeClock::default());
            Fixture {
                cache: PerCaller::new(clock.clone(), capacity),
                clock,
                fetches: AtomicUsize::new(0),
            }
        }

        async fn get(&self, key: &str) -> String {
            self.cache
                .get(key, || async {
                    let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
                    // Let concurrent callers pile up behind this fetch.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok::<_, ()>((format!("{key}#{n}"), self.clock.now() + HOUR))
                })
                .await
                .unwrap()
        }

        fn fetches(&self) -> usize {
            self.fetches.load(Ordering::SeqCst)
        }
    }

    #[tokio::test]
    async fn a_value_is_reused_until_five_minutes_before_it_expires() {
        let f = Fixture::new(MAX_CALLERS);
        assert_eq!(f.get("alice").await, "alice#1");
        f.clock
            .advance(HOUR - REFRESH_BEFORE - Duration::from_secs(1));
        assert_eq!(f.get("alice").await, "alice#1", "still fresh");
        assert_eq!(f.fetches(), 1);
        f.clock.advance(Duration::from_secs(1));
        assert_eq!(f.get("alice").await, "alice#2", "refreshed before expiry");
        assert_eq!(f.get("alice").await, "alice#2");
        assert_eq!(f.fetches(), 2);
        // Each caller has its own.
        assert_eq!(f.get("bob").await, "bob#3");
        assert_eq!(f.get("alice").await, "alice#2");
    }

    #[tokio::test]
    async fn concurrent_calls_of_one_caller_make_one_fetch() {
        let f = Fixture::new(MAX_CALLERS);
        let calls = (0..20).map(|_| f.get("alice"));
        let values = futures::future::join_all(calls).await;
        assert!(values.iter().all(|v| v == "alice#1"), "{values:?}");
        assert_eq!(f.fetches(), 1);
        // Two callers at once: one fetch each.
        let (a, b) = tokio::join!(f.get("carol"), f.get("dave"));
        assert_eq!((a.as_str(), b.as_str()), ("carol#2", "dave#3"));
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_kept() {
        let f = Fixture::new(MAX_CALLERS);
        let failed = f
            .cache
            .get("alice", || async {
                Err::<(String, SystemTime), _>("STS down")
            })
            .await;
        assert_eq!(failed, Err("STS down"));
        assert_eq!(f.get("alice").await, "alice#1");
    }

    #[tokio::test]
    async fn the_number_of_callers_is_bounded_and_the_first_to_expire_goes() {
        let f = Fixture::new(3);
        f.get("a").await;
        f.clock.advance(Duration::from_secs(60));
        f.get("b").await;
        f.get("c").await;
        f.get("a").await; // still fresh: no fetch, and not renewed
        assert_eq!(f.fetches(), 3);
        f.get("d").await; // evicts a, which expires first
        assert_eq!(f.cache.len(), 3);
        f.get("b").await;
        f.get("c").await;
        assert_eq!(f.fetches(), 4, "b and c were kept");
        assert_eq!(f.get("a").await, "a#5", "a was evicted");
        for i in 0..100 {
            f.get(&format!("user-{i}")).await;
        }
        assert_eq!(f.cache.len(), 3);
    }
}
