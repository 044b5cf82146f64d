//! A [`SecretStore`] wrapper that merges identical concurrent listings.
//!
//! ListSecrets has a low account-wide quota, and a team opening the same
//! namespace at once asks the same question many times. One backend list
//! answers every caller waiting for that namespace, and its answer serves
//! later callers for a short time (about a second). Any write through this
//! wrapper drops every cached answer, so a caller always sees its own
//! changes; changes made through another replica show within the window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use super::{
    DeletedEntry, SecretDetails, SecretEntry, SecretRef, SecretStore, StoreResult, VersionEntry,
    caller,
};

/// How long a finished listing answers later callers by default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(1);

/// A listing still in flight after this long is no longer joined: a hung
/// backend call must not hold every later caller of that namespace.
const MAX_IN_FLIGHT: Duration = Duration::from_secs(30);

/// Beyond this many namespaces held, expired entries are dropped before a
/// new one is added, so listing many namespaces cannot grow the map.
const PRUNE_ABOVE: usize = 1024;

type Listing<T> = Shared<BoxFuture<'static, StoreResult<Vec<T>>>>;

/// The listings of one kind, by namespace: in flight or recently finished.
struct Listings<T> {
    by_namespace: Mutex<HashMap<String, (Listing<T>, Instant)>>,
}

impl<T: Clone + Send + Sync + 'static> Listings<T> {
    fn new() -> Self {
        Self {
            by_namespace: Mutex::new(HashMap::new()),
        }
    }

    /// Joins the listing of `namespace` in flight or finished within `ttl`,
    /// or starts one with `start`. Failures are never reused.
    ///
    /// The backend call runs as a task of its own, not inside the first
    /// caller's future: a caller that gives up (its deadline, a cancelled
    /// request) must not leave the listing unpolled for the next one, and
    /// a panic in it is an error for its callers, not for every later one.
    ///
    /// `start` carries the caller into that task ([`caller::carry`]): a
    /// shared listing is made as the caller who started it, and answers the
    /// others who join it (with --source-identity-role-arn, CloudTrail names
    /// only the first for that one ListSecrets).
    fn join(
        &self,
        namespace: &str,
        ttl: Duration,
        start: impl FnOnce() -> BoxFuture<'static, StoreResult<Vec<T>>>,
    ) -> Listing<T> {
        let mut map = self
            .by_namespace
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((listing, started)) = map.get(namespace)
            && usable(listing, *started, ttl)
        {
            return listing.clone();
        }
        if map.len() >= PRUNE_ABOVE {
            map.retain(|_, (listing, started)| usable(listing, *started, ttl));
        }
        let task = tokio::spawn(start());
        let listing = async move {
            task.await.unwrap_or_else(|_| {
                Err(super::StoreError::Internal(
                    "the listing stopped before it finished".into(),
                ))
            })
        }
        .boxed()
        .shared();
        map.insert(namespace.to_owned(), (listing.clone(), Instant::now()));
        listing
    }

    fn clear(&self) {
        self.by_namespace
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }
}

/// Whether a listing started at `started` may answer a caller now.
fn usable<T: Clone>(listing: &Listing<T>, started: Instant, ttl: Duration) -> bool {
    match listing.peek() {
        None => started.elapsed() < MAX_IN_FLIGHT,
        Some(Ok(_)) => started.elapsed() < ttl,
        Some(Err(_)) => false,
    }
}

/// Wraps a store so that identical concurrent `list` and `list_deleted`
/// calls cost one backend call. Build it with [`Coalescing::new`] around
/// the store the server would otherwise use.
pub struct Coalescing<S> {
    inner: Arc<S>,
    ttl: Duration,
    live: Listings<SecretEntry>,
    deleted: Listings<DeletedEntry>,
}

impl<S: SecretStore> Coalescing<S> {
    /// Wraps `inner`, reusing finished listings for [`DEFAULT_TTL`].
    pub fn new(inner: S) -> Self {
        Self::with_ttl(inner, DEFAULT_TTL)
    }

    /// Wraps `inner`, reusing finished listings for `ttl` (zero: only
    /// listings still in flight are shared).
    pub fn with_ttl(inner: S, ttl: Duration) -> Self {
        Self {
            inner: Arc::new(inner),
            ttl,
            live: Listings::new(),
            deleted: Listings::new(),
        }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Forgets every listing, finished or in flight, once a write has
    /// ended (whatever its result), so that the next listing starts after it.
    fn written<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        self.live.clear();
        self.deleted.clear();
        result
    }
}

#[async_trait]
impl<S: SecretStore> SecretStore for Coalescing<S> {
    async fn create_as(
        &self,
        secret: &SecretRef,
        value: &str,
        author: Option<&str>,
    ) -> StoreResult<String> {
        self.written(self.inner.create_as(secret, value, author).await)
    }

    fn recovery_days(&self) -> u32 {
        self.inner.recovery_days()
    }
    async fn list(&self, namespace: &str) -> StoreResult<Vec<SecretEntry>> {
        let listing = self.live.join(namespace, self.ttl, || {
            let (inner, namespace) = (self.inner.clone(), namespace.to_owned());
            caller::carry(async move { inner.list(&namespace).await }).boxed()
        });
        listing.await
    }

    async fn list_deleted(&self, namespace: &str) -> StoreResult<Vec<DeletedEntry>> {
        let listing = self.deleted.join(namespace, self.ttl, || {
            let (inner, namespace) = (self.inner.clone(), namespace.to_owned());
            caller::carry(async move { inner.list_deleted(&namespace).await }).boxed()
        });
        listing.await
    }

    async fn get(&self, secret: &SecretRef, include_value: bool) -> StoreResult<SecretDetails> {
        self.inner.get(secret, include_value).await
    }

    async fn update_as(
        &self,
        secret: &SecretRef,
        value: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String> {
        let result = self
            .inner
            .update_as(secret, value, expected_version, author)
            .await;
        self.written(result)
    }

    async fn rollback(
        &self,
        secret: &SecretRef,
        version_id: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String> {
        let result = self
            .inner
            .rollback(secret, version_id, expected_version, author)
            .await;
        self.written(result)
    }

    async fn versions(&self, secret: &SecretRef) -> StoreResult<Vec<VersionEntry>> {
        self.inner.versions(secret).await
    }

    async fn get_version(
        &self,
        secret: &SecretRef,
        version_id: &str,
        include_value: bool,
    ) -> StoreResult<SecretDetails> {
        self.inner
            .get_version(secret, version_id, include_value)
            .await
    }

    async fn delete(&self, secret: &SecretRef) -> StoreResult<Option<SystemTime>> {
        self.written(self.inner.delete(secret).await)
    }

    async fn restore(&self, secret: &SecretRef) -> StoreResult<()> {
        self.written(self.inner.restore(secret).await)
    }

    // Policies and bindings do not show in listings; they pass through.
    async fn create_policy(&self, secret: &SecretRef) -> StoreResult<String> {
        self.inner.create_policy(secret).await
    }

    async fn delete_policy(&self, secret: &SecretRef, unbind: bool) -> StoreResult<Vec<String>> {
        self.inner.delete_policy(secret, unbind).await
    }

    async fn bind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        self.inner.bind(secret, service_account).await
    }

    async fn unbind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        self.inner.unbind(secret, service_account).await
    }

    async fn ready(&self) -> StoreResult<()> {
        self.inner.ready().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::store::Naming;
    use crate::store::local::LocalStore;

    /// A local store that counts listings and makes each take a while, as
    /// an AWS call does.
    struct Counting {
        inner: LocalStore,
        lists: AtomicUsize,
        finished: AtomicUsize,
        /// Who each listing was made for (store::caller).
        listed_for: Mutex<Vec<Option<Arc<str>>>>,
    }

    #[async_trait]
    impl SecretStore for Counting {
        async fn create_as(
            &self,
            secret: &SecretRef,
            value: &str,
            author: Option<&str>,
        ) -> StoreResult<String> {
            self.inner.create_as(secret, value, author).await
        }
        fn recovery_days(&self) -> u32 {
            7
        }
        async fn list(&self, namespace: &str) -> StoreResult<Vec<SecretEntry>> {
            self.lists.fetch_add(1, Ordering::SeqCst);
            self.listed_for.lock().unwrap().push(caller::current());
            tokio::time::sleep(Duration::from_millis(50)).await;
            let listing = self.inner.list(namespace).await;
            self.finished.fetch_add(1, Ordering::SeqCst);
            listing
        }
        async fn list_deleted(&self, namespace: &str) -> StoreResult<Vec<DeletedEntry>> {
            self.lists.fetch_add(1, Ordering::SeqCst);
            self.inner.list_deleted(namespace).await
        }
        async fn get(&self, secret: &SecretRef, value: bool) -> StoreResult<SecretDetails> {
            self.inner.get(secret, value).await
        }
        async fn update_as(
            &self,
            s: &SecretRef,
            v: &str,
            e: Option<&str>,
            a: Option<&str>,
        ) -> StoreResult<String> {
            self.inner.update_as(s, v, e, a).await
        }
        async fn rollback(
            &self,
            s: &SecretRef,
            v: &str,
            e: Option<&str>,
            a: Option<&str>,
        ) -> StoreResult<String> {
            self.inner.rollback(s, v, e, a).await
        }
        async fn versions(&self, s: &SecretRef) -> StoreResult<Vec<VersionEntry>> {
            self.inner.versions(s).await
        }
        async fn get_version(&self, s: &SecretRef, v: &str, i: bool) -> StoreResult<SecretDetails> {
            self.inner.get_version(s, v, i).await
        }
        async fn delete(&self, secret: &SecretRef) -> StoreResult<Option<SystemTime>> {
            self.inner.delete(secret).await
        }
        async fn restore(&self, secret: &SecretRef) -> StoreResult<()> {
            self.inner.restore(secret).await
        }
        async fn create_policy(&self, secret: &SecretRef) -> StoreResult<String> {
            self.inner.create_policy(secret).await
        }
        async fn delete_policy(&self, s: &SecretRef, unbind: bool) -> StoreResult<Vec<String>> {
            self.inner.delete_policy(s, unbind).await
        }
        async fn bind(&self, secret: &SecretRef, sa: &str) -> StoreResult<()> {
            self.inner.bind(secret, sa).await
        }
        async fn unbind(&self, secret: &SecretRef, sa: &str) -> StoreResult<()> {
            self.inner.unbind(secret, sa).await
        }
    }

    fn counting(dir: &std::path::Path, ttl: Duration) -> Arc<Coalescing<Counting>> {
        let inner = LocalStore::open(dir, Naming::default(), 7).unwrap();
        Arc::new(Coalescing::with_ttl(
            Counting {
                inner,
                lists: AtomicUsize::new(0),
                finished: AtomicUsize::new(0),
                listed_for: Mutex::new(Vec::new()),
            },
            ttl,
        ))
    }

    fn lists(store: &Coalescing<Counting>) -> usize {
        store.inner().lists.load(Ordering::SeqCst)
    }

    #[tokio::test]
    async fn two_hundred_callers_cost_one_listing() {
        let dir = tempfile::tempdir().unwrap();
        let store = counting(dir.path(), DEFAULT_TTL);
        store
            .create(&SecretRef::new("ns", "db"), "v")
            .await
            .unwrap();
        let calls = (0..200).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.list("ns").await })
        });
        for call in futures::future::join_all(calls).await {
            assert_eq!(call.unwrap().unwrap().len(), 1);
        }
        assert_eq!(lists(&store), 1);
        // Other namespaces are other questions.
        assert!(store.list("other").await.unwrap().is_empty());
        assert_eq!(lists(&store), 2);
    }

    #[tokio::test]
    async fn a_shared_listing_is_made_as_the_caller_who_started_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = counting(dir.path(), DEFAULT_TTL);
        let as_caller = |who: &'static str| {
            let store = store.clone();
            caller::scope(Some(Arc::from(who)), async move { store.list("ns").await })
        };
        let first = tokio::spawn(as_caller("alice@example.com"));
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Bob joins Alice's listing, which runs in a task of its own, yet
        // as Alice: the caller in scope where it started.
        assert!(as_caller("bob").await.is_ok());
        assert!(first.await.unwrap().is_ok());
        assert_eq!(lists(&store), 1);
        let listed_for = store.inner().listed_for.lock().unwrap().clone();
        assert_eq!(listed_for, [Some(Arc::from("alice@example.com"))]);
    }

    #[tokio::test]
    async fn a_write_through_the_wrapper_is_seen_by_the_next_listing() {
        let dir = tempfile::tempdir().unwrap();
        let store = counting(dir.path(), Duration::from_secs(60));
        let db = SecretRef::new("ns", "db");
        assert!(store.list("ns").await.unwrap().is_empty());
        store.create(&db, "v").await.unwrap();
        assert_eq!(store.list("ns").await.unwrap().len(), 1);
        assert_eq!(lists(&store), 2);
        store.list("ns").await.unwrap();
        assert_eq!(lists(&store), 2, "cached within the window");
        store.delete(&db).await.unwrap();
        assert!(store.list("ns").await.unwrap().is_empty());
        assert_eq!(store.list_deleted("ns").await.unwrap().len(), 1);
        assert_eq!(lists(&store), 4);
    }

    #[tokio::test]
    async fn a_caller_that_gives_up_does_not_stall_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let store = counting(dir.path(), Duration::from_secs(60));
        store
            .create(&SecretRef::new("ns", "db"), "v")
            .await
            .unwrap();
        // The first caller's deadline ends its call mid-listing.
        let gave_up = tokio::time::timeout(Duration::from_millis(1), store.list("ns")).await;
        assert!(gave_up.is_err(), "the listing takes longer than that");
        // The listing goes on without it (an AWS answer left unread would
        // be stale by the time a later caller resumed it).
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(store.inner().finished.load(Ordering::SeqCst), 1);
        // The next caller gets its answer.
        assert_eq!(store.list("ns").await.unwrap().len(), 1);
        assert_eq!(lists(&store), 1);
    }

    #[tokio::test]
    async fn many_namespaces_do_not_grow_the_map_without_bound() {
        let dir = tempfile::tempdir().unwrap();
        let store = counting(dir.path(), Duration::from_millis(1));
        for i in 0..(PRUNE_ABOVE * 2) {
            // list_deleted: the same map kind, without the listing's delay.
            store.list_deleted(&format!("ns-{i}")).await.unwrap();
            if i == PRUNE_ABOVE {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        let held = store.deleted.by_namespace.lock().unwrap().len();
        assert!(held <= PRUNE_ABOVE + 1, "{held} namespaces held");
    }

    #[tokio::test]
    async fn finished_listings_expire() {
        let dir = tempfile::tempdir().unwrap();
        let store = counting(dir.path(), Duration::from_millis(10));
        store.list("ns").await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        store.list("ns").await.unwrap();
        assert_eq!(lists(&store), 2);
    }
}
