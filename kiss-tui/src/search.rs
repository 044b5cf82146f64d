//! Listing secrets across namespaces: every namespace the token grants
//! (WhoAmI), one ListSecrets per namespace with at most [`MAX_IN_FLIGHT`]
//! calls at once. A namespace that refuses is kept aside with its error
//! and the others still count. Written once for the verbs
//! (`list -all-namespaces`) and the app's search.

use std::future::Future;

use futures::StreamExt as _;
use kiss_proto::{Timestamp, pb};

use crate::client::{Client, ClientError};

/// ListSecrets calls in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;

/// One secret found, with its namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The namespace it is in.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// When it was created (older servers send no dates).
    pub created: Option<Timestamp>,
    /// When its value last changed.
    pub last_changed: Option<Timestamp>,
}

/// What a search found, sorted by namespace then name.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// The namespaces searched, sorted.
    pub namespaces: Vec<String>,
    /// The secrets of the namespaces that answered.
    pub found: Vec<Found>,
    /// The namespaces that refused or failed, with why, sorted.
    pub failed: Vec<(String, ClientError)>,
}

impl Search {
    /// The secrets whose name contains `needle` (case-insensitive); all of
    /// them for an empty one.
    pub fn matching<'a>(&'a self, needle: &'a str) -> impl Iterator<Item = &'a Found> + 'a {
        let needle = needle.to_lowercase();
        self.found
            .iter()
            .filter(move |f| needle.is_empty() || f.name.to_lowercase().contains(&needle))
    }
}

/// Lists every namespace in `namespaces` with `list`, at most `in_flight`
/// (at least 1) at once.
pub async fn across<F, Fut>(namespaces: &[String], in_flight: usize, list: F) -> Search
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<pb::ListSecretsResponse, ClientError>>,
{
    let mut namespaces = namespaces.to_vec();
    namespaces.sort();
    namespaces.dedup();
    let results: Vec<(String, Result<pb::ListSecretsResponse, ClientError>)> =
        futures::stream::iter(namespaces.iter().cloned())
            .map(|ns| {
                let call = list(ns.clone());
                async move { (ns, call.await) }
            })
            .buffer_unordered(in_flight.max(1))
            .collect()
            .await;
    let mut search = Search {
        namespaces,
        ..Search::default()
    };
    for (ns, result) in results {
        match result {
            Ok(resp) => search.found.extend(entries(&ns, resp)),
            Err(e) => search.failed.push((ns, e)),
        }
    }
    search
        .found
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    search.failed.sort_by(|a, b| a.0.cmp(&b.0));
    search
}

/// A ListSecrets answer as [`Found`]s; older servers send only names.
fn entries(ns: &str, resp: pb::ListSecretsResponse) -> Vec<Found> {
    if resp.entries.is_empty() {
        resp.secrets
            .into_iter()
            .map(|name| Found {
                namespace: ns.to_owned(),
                name,
                created: None,
                last_changed: None,
            })
            .collect()
    } else {
        resp.entries
            .into_iter()
            .map(|e| Found {
                namespace: ns.to_owned(),
                name: e.name,
                created: e.created,
                last_changed: e.last_changed,
            })
            .collect()
    }
}

/// Every namespace the client's token grants (WhoAmI), searched with
/// [`MAX_IN_FLIGHT`] calls at once. Also returns the WhoAmI answer (an
/// admin's token may act on namespaces it does not name: only the named
/// ones are searched).
pub async fn all_namespaces(client: &Client) -> Result<(pb::WhoAmIResponse, Search), ClientError> {
    let who = client.whoami().await?;
    let search = across(&who.namespaces, MAX_IN_FLIGHT, |ns| {
        let client = client.clone();
        async move { client.list(&ns).await }
    })
    .await;
    Ok((who, search))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_refusing_namespace_is_set_aside_and_the_rest_are_listed_a_few_at_a_time() {
        let namespaces: Vec<String> = (1..=20).rev().map(|i| format!("ns-{i:02}")).collect();
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let search = across(&namespaces, 8, |ns| {
            let (now, peak) = (&now, &peak);
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(n, Ordering::SeqCst);
                tokio::task::yield_now().await;
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                if ns == "ns-13" {
                    return Err(ClientError::PermissionDenied {
                        message: format!("user 'me' is not authorized for namespace '{ns}'"),
                    });
                }
                let old = ns == "ns-02";
                Ok(pb::ListSecretsResponse {
                    secrets: vec![format!("{ns}-b"), format!("{ns}-a")],
                    entries: if old {
                        Vec::new()
                    } else {
                        vec![
                            pb::SecretEntry {
                                name: format!("{ns}-b"),
                                created: None,
                                last_changed: Some(Timestamp {
                                    seconds: 1,
                                    nanos: 0,
                                }),
                            },
                            pb::SecretEntry {
                                name: format!("{ns}-a"),
                                created: None,
                                last_changed: None,
                            },
                        ]
                    },
                })
            }
        })
        .await;
        assert_eq!(search.namespaces.len(), 20);
        assert_eq!(search.namespaces[0], "ns-01");
        assert_eq!(search.found.len(), 38, "19 namespaces with 2 secrets each");
        assert!(search.found.iter().all(|f| f.namespace != "ns-13"));
        assert_eq!(search.found[0].name, "ns-01-a", "sorted");
        assert_eq!(search.failed.len(), 1);
        assert_eq!(search.failed[0].0, "ns-13");
        assert!(search.failed[0].1.to_string().contains("not authorized"));
        let p = peak.load(Ordering::SeqCst);
        assert!(p <= 8, "at most 8 in flight, saw {p}");
        assert!(p > 1, "in parallel, saw {p}");
        assert_eq!(search.matching("NS-05-").count(), 2);
        assert_eq!(search.matching("").count(), 38);
    }
}
