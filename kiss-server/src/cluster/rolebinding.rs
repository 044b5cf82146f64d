//! `--authorization rolebinding`: the Go kiss 0.1.x rule, for migration.
//!
//! A call on namespace N is allowed when the RoleBinding `<prefix>N` in N
//! has a subject whose name, with the prefix stripped and
//! `--namespaces-regex` applied as to the token's groups, is one of the
//! token's namespaces; the admin namespace still grants everything. Unlike
//! the Go server: the RoleBinding is cached (30 s) instead of fetched on
//! every call, a subject that does not match the regex is skipped instead
//! of failing the call, an empty prefix strips nothing, and a missing
//! RoleBinding is a PERMISSION_DENIED that names it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use k8s_openapi::api::rbac::v1::RoleBinding;

use super::ttl::TtlCache;
use super::{ApiError, ClusterApi, count_cache};
use crate::auth::{Identity, NamespaceRule};
use crate::metrics::metrics;
use crate::pipeline::{Access, Authorizer, Verdict};

/// How long a RoleBinding (or its absence) is kept.
pub const ROLEBINDING_TTL: Duration = Duration::from_secs(30);

/// The `rolebinding` authorizer.
pub struct RoleBindingAuthorizer {
    api: ClusterApi,
    prefix: String,
    rule: NamespaceRule,
    bindings: TtlCache<String, Option<Arc<Vec<String>>>, ApiError>,
}

impl RoleBindingAuthorizer {
    /// Looks for RoleBindings named `<prefix><namespace>` through `api`,
    /// reading subjects with `rule` (the token's namespace rule).
    pub fn new(api: ClusterApi, prefix: &str, rule: NamespaceRule) -> RoleBindingAuthorizer {
        RoleBindingAuthorizer {
            api,
            prefix: prefix.to_owned(),
            rule,
            bindings: TtlCache::default(),
        }
    }

    /// The subject names of RoleBinding `name` in `namespace`, `None` when
    /// it does not exist.
    async fn subjects(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Arc<Vec<String>>>, ApiError> {
        let api = self.api.clone();
        let (ns, n) = (namespace.to_owned(), name.to_owned());
        let (result, source) = self
            .bindings
            .get_or_fetch(
                &format!("{namespace}/{name}"),
                move || async move {
                    let found = api.rolebinding(&ns, &n).await?;
                    let outcome = if found.is_some() { "found" } else { "missing" };
                    metrics()
                        .kube_reviews
                        .with_label_values(&["rolebinding", outcome])
                        .inc();
                    Ok(found.map(|b| Arc::new(subject_names(&b))))
                },
                |_| ROLEBINDING_TTL,
            )
            .await;
        count_cache("rolebinding", source);
        result
    }
}

fn subject_names(binding: &RoleBinding) -> Vec<String> {
    binding
        .subjects
        .iter()
        .flatten()
        .map(|s| s.name.clone())
        .collect()
}

/// The namespace a subject's name grants: the name with the prefix
/// stripped as the Go server did (what follows its last occurrence; an
/// empty prefix strips nothing), then the namespace rule applied.
pub fn granted_namespace(subject: &str, prefix: &str, rule: &NamespaceRule) -> Option<String> {
    let stripped = if prefix.is_empty() {
        subject
    } else {
        subject.rsplit(prefix).next().unwrap_or(subject)
    };
    rule.namespace_of(stripped)
}

#[async_trait]
impl Authorizer for RoleBindingAuthorizer {
    fn mode(&self) -> &'static str {
        "rolebinding"
    }

    async fn authorize(&self, identity: &Identity, access: &Access<'_>) -> Verdict {
        if identity.admin {
            return Verdict::Allow;
        }
        let name = format!("{}{}", self.prefix, access.namespace);
        let subjects = match self.subjects(access.namespace, &name).await {
            Ok(Some(subjects)) => subjects,
            Ok(None) => {
                return Verdict::Deny {
                    reason: "rolebinding_missing",
                    detail: Some(format!(
                        "there is no RoleBinding '{name}' in namespace '{}', which kiss looks \
                         for to decide; ask your platform team to create it",
                        access.namespace
                    )),
                };
            }
            Err(e) => return Verdict::Unavailable(e.to_string()),
        };
        let granted = subjects
            .iter()
            .filter_map(|s| granted_namespace(s, &self.prefix, &self.rule))
            .any(|ns| identity.namespaces.contains(&ns));
        if granted {
            Verdict::Allow
        } else {
            Verdict::Deny {
                reason: "rolebinding_no_subject",
                detail: Some(format!(
                    "no subject of the RoleBinding '{name}' in namespace '{}' is one of your groups",
                    access.namespace
                )),
            }
        }
    }

    async fn namespaces(&self, identity: &Identity) -> Result<Vec<String>, String> {
        Ok(identity.namespaces.iter().cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_are_stripped_then_matched_like_token_groups() {
        let plain = NamespaceRule::new("groups", None).unwrap();
        let regex = NamespaceRule::new("groups", Some("kaluza:([0-9a-z-]{1,63})")).unwrap();
        assert_eq!(
            granted_namespace("kiss-team-a", "kiss-", &plain).as_deref(),
            Some("team-a")
        );
        assert_eq!(
            granted_namespace("team-a", "", &plain).as_deref(),
            Some("team-a"),
            "an empty prefix strips nothing (Go kept only the last character)"
        );
        assert_eq!(
            granted_namespace("kiss-kaluza:team-a", "kiss-", &regex).as_deref(),
            Some("team-a")
        );
        assert_eq!(
            granted_namespace("kiss-someone@example.com", "kiss-", &regex),
            None,
            "a subject that does not match is skipped"
        );
        assert_eq!(
            granted_namespace("team-b", "kiss-", &plain).as_deref(),
            Some("team-b"),
            "without the prefix the whole name is used, as Go's Split did"
        );
    }
}
