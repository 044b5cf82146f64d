//! One write at a time per secret within this server: the expected-version
//! check and the write it guards run under the secret's lock.
//!
//! Secrets Manager has no conditional PutSecretValue, so the check is a
//! DescribeSecret before the write. Without the lock, two updates based on
//! the same version (two `set-key` calls on different keys of one secret)
//! could both pass the check and the second would silently drop the first's
//! change. With it, the second sees the first's new version and is refused
//! as stale, so its client re-reads. Replicas do not share the lock; the
//! window left between them is the few milliseconds of check and write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

use crate::store::SecretRef;

type Lock = tokio::sync::Mutex<()>;

/// The lock of every secret being written, held only while in use.
#[derive(Debug, Default)]
pub(super) struct WriteLocks {
    by_secret: Mutex<HashMap<(String, String), Weak<Lock>>>,
}

impl WriteLocks {
    /// Waits for the secret's lock; writes to other secrets do not wait.
    pub(super) async fn lock(&self, secret: &SecretRef) -> OwnedMutexGuard<()> {
        let lock = {
            let mut map = self
                .by_secret
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Locks nobody holds any more are dropped, so the map stays as
            // small as the number of secrets being written at once.
            map.retain(|_, weak| weak.strong_count() > 0);
            let key = (secret.namespace.clone(), secret.name.clone());
            match map.get(&key).and_then(Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(Lock::new(()));
                    map.insert(key, Arc::downgrade(&lock));
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn writes_to_one_secret_wait_for_each_other_and_others_do_not() {
        let locks = WriteLocks::default();
        let a = SecretRef::new("team-a", "db");
        let held = locks.lock(&a).await;
        // Another secret is not held up.
        let other = locks.lock(&SecretRef::new("team-a", "api")).await;
        let waiting = tokio::time::timeout(Duration::from_millis(50), locks.lock(&a)).await;
        assert!(
            waiting.is_err(),
            "a second writer of the same secret must wait"
        );
        drop(held);
        drop(locks.lock(&a).await);
        drop(other);
        // Unused locks are dropped from the map when the next one is taken.
        let _b = locks.lock(&SecretRef::new("team-b", "x")).await;
        assert_eq!(locks.by_secret.lock().unwrap().len(), 1);
    }
}
