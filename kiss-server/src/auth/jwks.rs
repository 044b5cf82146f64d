//! The identity provider's signing keys, cached.
//!
//! An unknown `kid` may trigger a refetch, but concurrent refetches merge
//! into one and refetches happen at most once per interval, so a flood of
//! tokens with random `kid`s never becomes a flood of requests to the IdP.
//! When the IdP is unreachable the last good key set keeps working.
//!
//! A request with an unknown `kid` never queues: inside the interval it is
//! refused at once; while a fetch is under way at most [`MAX_WAITERS`]
//! requests wait (briefly) for it and the rest are refused at once, so a
//! flood of made-up `kid`s holds neither tasks nor capacity for long.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use tokio::sync::{Mutex, watch};

/// The least time between two fetches triggered by unknown `kid`s.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(10);
/// How often keys are refreshed in the background, for key rotation.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(15 * 60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a request with an unknown kid waits for a fetch in progress.
const MAX_WAIT_FOR_FETCH: Duration = Duration::from_millis(500);
/// Requests with an unknown kid that may wait for a fetch under way at
/// once; the others are answered at once, as if the fetch had not found it.
pub const MAX_WAITERS: usize = 8;
const MAX_JWKS_BYTES: usize = 1 << 20;

/// Why a key set could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request failed.
    #[error("cannot fetch the JWKS from {url}: {message}")]
    Http {
        /// The JWKS URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The body is not a JWKS.
    #[error("the JWKS at {url} is not a valid key set: {message}")]
    Invalid {
        /// The JWKS URL.
        url: String,
        /// What went wrong.
        message: String,
    },
}

#[derive(Clone)]
struct Key {
    decoding: DecodingKey,
    alg: Option<Algorithm>,
}

#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Key>,
    all: Vec<Key>,
    /// The keys used, serialised and sorted: equal for equal key sets.
    fingerprint: Vec<String>,
}

impl KeySet {
    fn from_jwks(set: &JwkSet) -> KeySet {
        let mut out = KeySet::default();
        for jwk in &set.keys {
            if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
                continue;
            }
            let Ok(decoding) = DecodingKey::from_jwk(jwk) else {
                tracing::warn!(kid = ?jwk.common.key_id, "skipping a JWKS key kiss cannot use");
                continue;
            };
            let alg = jwk.common.key_algorithm.and_then(key_algorithm);
            out.fingerprint
                .push(serde_json::to_string(jwk).unwrap_or_default());
            let key = Key { decoding, alg };
            if let Some(kid) = &jwk.common.key_id {
                out.by_kid.insert(kid.clone(), key.clone());
            }
            out.all.push(key);
        }
        out.fingerprint.sort();
        out
    }

    fn find(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let fits = |k: &&Key| k.alg.is_none_or(|a| a == alg) && k.decoding.family() == alg.family();
        match kid {
            Some(kid) => self
                .by_kid
                .get(kid)
                .filter(fits)
                .map(|k| k.decoding.clone()),
            // Without a kid, only an unambiguous key will do.
            None => {
                let mut candidates = self.all.iter().filter(fits);
                match (candidates.next(), candidates.next()) {
                    (Some(k), None) => Some(k.decoding.clone()),
                    _ => None,
                }
            }
        }
    }
}

fn key_algorithm(a: KeyAlgorithm) -> Option<Algorithm> {
    Some(match a {
        KeyAlgorithm::RS256 => Algorithm::RS256,
        KeyAlgorithm::RS384 => Algorithm::RS384,
        KeyAlgorithm::RS512 => Algorithm::RS512,
        KeyAlgorithm::PS256 => Algorithm::PS256,
        KeyAlgorithm::PS384 => Algorithm::PS384,
        KeyAlgorithm::PS512 => Algorithm::PS512,
        KeyAlgorithm::ES256 => Algorithm::ES256,
        KeyAlgorithm::ES384 => Algorithm::ES384,
        KeyAlgorithm::EdDSA => Algorithm::EdDSA,
        _ => return None,
    })
}

enum Source {
    Url {
        client: reqwest::Client,
        url: String,
    },
    Fixed,
}

/// The key cache.
pub struct Jwks {
    source: Source,
    keys: RwLock<Arc<KeySet>>,
    /// Bumped when a fetch installs a key set that differs from the last
    /// one, so verified tokens are re-checked only when keys changed.
    generation: AtomicU64,
    /// Bumped on every successful fetch, so waiters can tell that the fetch
    /// they queued for has already happened.
    fetched: AtomicU64,
    last_attempt: Mutex<Option<Instant>>,
    min_interval: Duration,
    ready: watch::Sender<bool>,
    fetches: AtomicU64,
    /// Requests waiting for a fetch under way, and the most there ever were.
    waiting: AtomicUsize,
    peak_waiting: AtomicUsize,
}

/// A place among the [`MAX_WAITERS`]; given back on drop.
struct WaitSlot<'a>(&'a AtomicUsize);

impl Drop for WaitSlot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Jwks {
    /// A cache that fetches from `url`. It holds no keys until the first
    /// successful [`Jwks::refresh`].
    pub fn from_url(url: &str) -> Result<Arc<Jwks>, FetchError> {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| FetchError::Http {
                url: url.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self::new(Source::Url {
            client,
            url: url.to_owned(),
        }))
    }

    /// A cache with a fixed key set (dev mode, tests, benchmarks).
    pub fn fixed(set: &JwkSet) -> Arc<Jwks> {
        let jwks = Self::new(Source::Fixed);
        jwks.install(KeySet::from_jwks(set));
        jwks
    }

    fn new(source: Source) -> Arc<Jwks> {
        Arc::new(Jwks {
            source,
            keys: RwLock::new(Arc::new(KeySet::default())),
            generation: AtomicU64::new(0),
            fetched: AtomicU64::new(0),
            last_attempt: Mutex::new(None),
            min_interval: MIN_REFETCH_INTERVAL,
            ready: watch::channel(false).0,
            fetches: AtomicU64::new(0),
            waiting: AtomicUsize::new(0),
            peak_waiting: AtomicUsize::new(0),
        })
    }

    /// Overrides the least time between refetches (tests use a short one).
    pub fn with_min_interval(self: Arc<Self>, interval: Duration) -> Arc<Self> {
        match Arc::try_unwrap(self) {
            Ok(mut j) => {
                j.min_interval = interval;
                Arc::new(j)
            }
            Err(shared) => shared,
        }
    }

    fn install(&self, set: KeySet) {
        let usable = !set.all.is_empty();
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        let changed = keys.fingerprint != set.fingerprint;
        *keys = Arc::new(set);
        drop(keys);
        if changed {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        self.fetched.fetch_add(1, Ordering::SeqCst);
        if usable {
            self.ready.send_replace(true);
        }
    }

    fn current(&self) -> Arc<KeySet> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether keys are loaded; flips to true once, on the first good fetch.
    pub fn ready(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// Whether the key set has a key with this `kid`.
    pub fn knows(&self, kid: &str) -> bool {
        self.current().by_kid.contains_key(kid)
    }

    /// Changes whenever a new key set is installed.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Whether a fetch is under way right now (for tests).
    pub fn fetching(&self) -> bool {
        self.last_attempt.try_lock().is_err()
    }

    /// How many fetches were attempted (for metrics and tests).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The most requests that ever waited at once for a fetch under way
    /// (at most [`MAX_WAITERS`]; for tests).
    pub fn peak_waiting(&self) -> usize {
        self.peak_waiting.load(Ordering::SeqCst)
    }

    /// A place among the waiters, if one is free.
    fn wait_slot(&self) -> Option<WaitSlot<'_>> {
        let n = self
            .waiting
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < MAX_WAITERS).then_some(n + 1)
            })
            .ok()?;
        self.peak_waiting.fetch_max(n + 1, Ordering::SeqCst);
        Some(WaitSlot(&self.waiting))
    }

    /// The key for `kid` and `alg`, refetching at most once per interval
    /// when the `kid` is unknown.
    pub async fn key(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let seen = self.fetched.load(Ordering::SeqCst);
        let keys = self.current();
        if let Some(k) = keys.find(kid, alg) {
            return Some(k);
        }
        // A known kid with another algorithm is the token's fault: no refetch.
        if kid.is_some_and(|k| keys.by_kid.contains_key(k)) {
            return None;
        }
        // A failed fetch keeps the last good keys; the lookup below decides.
        let _ = self.refetch(seen, false).await;
        self.current().find(kid, alg)
    }

    /// Fetches now, unless a fetch happened less than the interval ago.
    pub async fn refresh(&self) -> Result<(), FetchError> {
        let seen = self.fetched.load(Ordering::SeqCst);
        self.refetch(seen, true).await
    }

    async fn refetch(&self, seen_fetch: u64, scheduled: bool) -> Result<(), FetchError> {
        let Source::Url { client, url } = &self.source else {
            return Ok(());
        };
        // A request with an unknown kid never queues behind others: the
        // lock is free (no fetch under way) or it is one of the few that
        // wait a little for the fetch under way; the rest go at once.
        let mut last = if scheduled {
            self.last_attempt.lock().await
        } else {
            match self.last_attempt.try_lock() {
                Ok(guard) => guard,
                Err(_) => {
                    let Some(_slot) = self.wait_slot() else {
                        return Ok(());
                    };
                    match tokio::time::timeout(MAX_WAIT_FOR_FETCH, self.last_attempt.lock()).await {
                        Ok(guard) => guard,
                        Err(_) => return Ok(()),
                    }
                }
            }
        };
        if self.fetched.load(Ordering::SeqCst) != seen_fetch {
            // Someone else fetched while we waited for the lock: merged.
            return Ok(());
        }
        let due = last.is_none_or(|t| t.elapsed() >= self.min_interval);
        // Until the first keys arrive, the startup loop sets its own pace.
        let starting = scheduled && !*self.ready.borrow();
        if !due && !starting {
            return Ok(());
        }
        *last = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match fetch(client, url).await {
            Ok(set) => {
                crate::metrics::metrics()
                    .jwks_fetches
                    .with_label_values(&["ok"])
                    .inc();
                tracing::info!(keys = set.all.len(), %url, "JWKS fetched");
                self.install(set);
                Ok(())
            }
            Err(e) => {
                crate::metrics::metrics()
                    .jwks_fetches
                    .with_label_values(&["error"])
                    .inc();
                tracing::warn!(error = %e, "JWKS fetch failed; keeping the last good keys");
                Err(e)
            }
        }
    }

    /// Fetches until the first success (backing off), then refreshes every
    /// [`REFRESH_INTERVAL`]. Runs until the task is dropped.
    pub async fn keep_fresh(self: Arc<Self>) {
        let mut backoff = Duration::from_millis(500);
        while !*self.ready.borrow() {
            if self.refresh().await.is_ok() && *self.ready.borrow() {
                break;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
        loop {
            tokio::time::sleep(REFRESH_INTERVAL).await;
            let _ = self.refresh().await;
        }
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<KeySet, FetchError> {
    let http = |message: String| FetchError::Http {
        url: url.to_owned(),
        message,
    };
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| http(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(http(format!("HTTP status {}", resp.status())));
    }
    let too_big = || http(format!("the key set is over {MAX_JWKS_BYTES} bytes"));
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut body = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.map_err(|e| http(e.to_string()))? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    let set: JwkSet = serde_json::from_slice(&body).map_err(|e| FetchError::Invalid {
        url: url.to_owned(),
        message: e.to_string(),
    })?;
    let keys = KeySet::from_jwks(&set);
    if keys.all.is_empty() {
        return Err(FetchError::Invalid {
            url: url.to_owned(),
            message: "it holds no usable signing key".into(),
        });
    }
    Ok(keys)
}
