//! Who a store operation is done for, without a parameter on every
//! [`super::SecretStore`] method: the pipeline runs each store operation
//! inside [`scope`] with the caller's identifier, and a backend that acts on
//! someone's behalf (the AWS store with `--source-identity-role-arn`) reads
//! it with [`current`]. Nothing else should depend on it: who may do what is
//! decided before the store is reached, and the audit record names the
//! caller from the verified token, not from here.
//!
//! A tokio task-local does not cross `tokio::spawn`: work a store operation
//! hands to a task of its own must take the caller along with [`carry`].

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static CALLER: Option<Arc<str>>;
}

/// Runs `f` as done for `identifier` (the caller's identifier claim), or for
/// nobody in particular (the server itself) with `None`.
pub async fn scope<F: Future>(identifier: Option<Arc<str>>, f: F) -> F::Output {
    CALLER.scope(identifier, f).await
}

/// The identifier of the caller the running store operation is done for,
/// if any.
pub fn current() -> Option<Arc<str>> {
    CALLER.try_with(Clone::clone).ok().flatten()
}

/// `f`, to be run as done for the caller in scope where `carry` is called:
/// for work spawned as a task of its own.
pub fn carry<F: Future>(f: F) -> impl Future<Output = F::Output> {
    scope(current(), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_caller_is_seen_in_scope_and_carried_across_a_spawn() {
        assert_eq!(current(), None);
        let alice: Arc<str> = Arc::from("alice@example.com");
        let (inside, lost, carried) = scope(Some(alice.clone()), async {
            let inside = current();
            let lost = tokio::spawn(async { current() }).await.unwrap();
            let carried = tokio::spawn(carry(async { current() })).await.unwrap();
            (inside, lost, carried)
        })
        .await;
        assert_eq!(inside.as_deref(), Some("alice@example.com"));
        assert_eq!(lost, None, "a task-local does not cross tokio::spawn");
        assert_eq!(carried.as_deref(), Some("alice@example.com"));
        // The server's own work, inside a caller's scope.
        let none = scope(Some(alice), scope(None, async { current() })).await;
        assert_eq!(none, None);
    }
}
