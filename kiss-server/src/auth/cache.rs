//! Tokens already verified, so a client that sends the same token on every
//! call pays for the signature check once, not per call.
//!
//! Entries are keyed by the SHA-256 of the whole token, live no longer than
//! the token itself (`exp` plus the leeway), and are ignored once the key
//! set changes, so a key the IdP withdrew stops being honoured at the next
//! fetch. Only successes are cached: a refused token is checked every time.

use std::collections::HashMap;
use std::sync::RwLock;

use super::Identity;

/// How many tokens are remembered before the cache starts over.
pub const CAPACITY: usize = 10_000;

/// A token's digest.
pub type Digest = [u8; 32];

struct Entry {
    identity: Identity,
    valid_until: i64,
    key_generation: u64,
}

/// The verified-token cache.
#[derive(Default)]
pub struct VerifiedCache {
    entries: RwLock<HashMap<Digest, Entry>>,
}

/// The SHA-256 of a token.
pub fn digest(token: &str) -> Digest {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl VerifiedCache {
    /// The identity of a token verified earlier, if still valid at `now`
    /// (seconds since the epoch) under key set `key_generation`.
    pub fn get(&self, token: &Digest, now: i64, key_generation: u64) -> Option<Identity> {
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(token)
            .filter(|e| e.key_generation == key_generation && now < e.valid_until)
            .map(|e| e.identity.clone())
    }

    /// Remembers a verified token until `valid_until`.
    pub fn insert(&self, token: Digest, identity: Identity, valid_until: i64, key_generation: u64) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            // Starting over is cheap and bounds memory without bookkeeping.
            entries.clear();
        }
        entries.insert(
            token,
            Entry {
                identity,
                valid_until,
                key_generation,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Identity {
        Identity {
            user: "u".into(),
            subject: "s".into(),
            namespaces: ["a".to_owned()].into(),
            admin: false,
            expires_at: Some(100),
            issuer: "i".into(),
            credential: Default::default(),
        }
    }

    #[test]
    fn hits_until_expiry_or_key_change() {
        let cache = VerifiedCache::default();
        let t = digest("token");
        cache.insert(t, id(), 160, 1);
        assert_eq!(cache.get(&t, 100, 1), Some(id()));
        assert_eq!(cache.get(&t, 160, 1), None, "expired");
        assert_eq!(cache.get(&t, 100, 2), None, "keys changed since");
        assert_eq!(cache.get(&digest("other"), 100, 1), None);
    }

    #[test]
    fn bounded() {
        let cache = VerifiedCache::default();
        for i in 0..CAPACITY + 5 {
            cache.insert(digest(&i.to_string()), id(), 1000, 1);
        }
        assert!(cache.entries.read().unwrap().len() <= CAPACITY);
    }
}
