//! `--authorization kubernetes`: the cluster's RBAC decides.
//!
//! Who the caller is comes from a TokenReview of the (already verified) ID
//! token, or with `--kube-identity claims` from the token's claims mapped
//! like the API server's `--oidc-*` flags. What they may do comes from a
//! SubjectAccessReview on the virtual resource `secrets` in
//! `--kube-api-group`, with the verb and subresource of [`attributes`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReviewSpec};
use kiss_proto::Rpc;
use serde_json::Value;

use super::ttl::TtlCache;
use super::{ApiError, ClusterApi, count_cache};
use crate::auth::Identity;
use crate::auth::cache::{Digest, digest};
use crate::metrics::metrics;
use crate::pipeline::{Access, Authorizer, Verdict};

/// Longest a TokenReview's answer is kept (and never past the token's `exp`).
pub const MAX_IDENTITY_TTL: Duration = Duration::from_secs(600);

/// How long the namespace list for WhoAmI is kept.
pub const NAMESPACE_LIST_TTL: Duration = Duration::from_secs(30);

/// Reviews WhoAmI runs at once for one caller.
pub const NAMESPACE_REVIEWS_AT_ONCE: usize = 8;

/// Where the caller's Kubernetes user comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeIdentity {
    /// A TokenReview: the API server applies its own OIDC settings.
    TokenReview,
    /// The token's claims, mapped here like the API server's `--oidc-*` flags.
    Claims {
        /// `--kube-username-claim`.
        username_claim: String,
        /// `--kube-username-prefix`.
        username_prefix: String,
        /// `--kube-groups-claim`.
        groups_claim: String,
        /// `--kube-groups-prefix`.
        groups_prefix: String,
    },
}

/// The `kubernetes` mode's settings.
#[derive(Debug, Clone)]
pub struct ReviewSettings {
    /// Where the user comes from.
    pub identity: KubeIdentity,
    /// The API group of the virtual resource `secrets`.
    pub api_group: String,
    /// How long an allow is kept.
    pub allowed_ttl: Duration,
    /// How long a denial is kept.
    pub denied_ttl: Duration,
}

/// The caller as the cluster sees them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KubeUser {
    /// The username.
    pub username: String,
    /// The uid, if the authenticator gives one.
    pub uid: Option<String>,
    /// The groups.
    pub groups: Vec<String>,
    /// Extra attributes.
    pub extra: BTreeMap<String, Vec<String>>,
}

/// The verb and subresource an RPC needs on `secrets` (the table in
/// docs/authorization.md and kiss.proto). WhoAmI needs none.
pub fn attributes(rpc: Rpc, reads_value: bool) -> Option<(&'static str, Option<&'static str>)> {
    Some(match rpc {
        Rpc::Ping | Rpc::ListSecrets | Rpc::ListDeletedSecrets => ("list", None),
        Rpc::GetSecret if reads_value => ("get", Some("value")),
        Rpc::GetSecret | Rpc::ListSecretVersions => ("get", None),
        Rpc::CreateSecret => ("create", None),
        Rpc::UpdateSecret | Rpc::RestoreSecret | Rpc::RollbackSecret => ("update", None),
        Rpc::DeleteSecret => ("delete", None),
        Rpc::CreateSecretIamPolicy => ("create", Some("policy")),
        Rpc::DeleteSecretIamPolicy => ("delete", Some("policy")),
        Rpc::BindSecret => ("create", Some("bindings")),
        Rpc::UnbindSecret => ("delete", Some("bindings")),
        Rpc::WhoAmI => return None,
    })
}

/// A review's answer, as kept.
#[derive(Debug, Clone)]
struct Decision {
    allowed: bool,
    reason: Option<String>,
}

/// What a TokenReview said, as kept: the user, or why not.
type Reviewed = Result<KubeUser, String>;

/// The `kubernetes` authorizer.
pub struct KubernetesAuthorizer {
    api: ClusterApi,
    settings: ReviewSettings,
    users: TtlCache<Digest, Reviewed, ApiError>,
    decisions: TtlCache<String, Decision, ApiError>,
    namespace_list: TtlCache<(), Arc<Vec<String>>, ApiError>,
}

impl KubernetesAuthorizer {
    /// An authorizer asking the cluster through `api`.
    pub fn new(api: ClusterApi, settings: ReviewSettings) -> KubernetesAuthorizer {
        KubernetesAuthorizer {
            api,
            settings,
            users: TtlCache::default(),
            decisions: TtlCache::default(),
            namespace_list: TtlCache::default(),
        }
    }

    /// The caller's Kubernetes user, or the verdict that ends the call.
    async fn user(&self, identity: &Identity) -> Result<KubeUser, Verdict> {
        let Some(presented) = identity.credential.presented() else {
            // Only reachable if the authenticator was built without keeping
            // credentials: a wiring bug, not the caller's fault.
            return Err(Verdict::Unavailable(
                "kiss-server cannot ask the cluster about this call (the token was not kept); \
                 tell your platform team"
                    .into(),
            ));
        };
        match &self.settings.identity {
            KubeIdentity::Claims {
                username_claim,
                username_prefix,
                groups_claim,
                groups_prefix,
            } => user_from_claims(
                &presented.claims,
                username_claim,
                username_prefix,
                groups_claim,
                groups_prefix,
            )
            .map_err(Verdict::Unauthenticated),
            KubeIdentity::TokenReview => {
                let token = presented.token.clone();
                let api = self.api.clone();
                let denied_ttl = self.settings.denied_ttl;
                let token_ttl = identity
                    .expires_at
                    .map(|exp| {
                        let left = exp.saturating_sub(now());
                        Duration::from_secs(u64::try_from(left).unwrap_or(0))
                    })
                    .unwrap_or(MAX_IDENTITY_TTL)
                    .min(MAX_IDENTITY_TTL);
                let (result, source) = self
                    .users
                    .get_or_fetch(
                        &digest(&presented.token),
                        move || async move {
                            let status = api.token_review(&token).await?;
                            Ok(reviewed(status))
                        },
                        |r: &Reviewed| if r.is_ok() { token_ttl } else { denied_ttl },
                    )
                    .await;
                count_cache("token_review", source);
                match result {
                    Ok(Ok(user)) => Ok(user),
                    Ok(Err(why)) => Err(Verdict::Unauthenticated(why)),
                    Err(e) => Err(Verdict::Unavailable(e.to_string())),
                }
            }
        }
    }

    /// One decision, from the cache or a SubjectAccessReview.
    async fn decide(
        &self,
        user: &KubeUser,
        attrs: ResourceAttributes,
    ) -> Result<Decision, ApiError> {
        let spec = SubjectAccessReviewSpec {
            user: Some(user.username.clone()),
            uid: user.uid.clone(),
            groups: Some(user.groups.clone()),
            extra: (!user.extra.is_empty()).then(|| user.extra.clone()),
            resource_attributes: Some(attrs),
            non_resource_attributes: None,
        };
        // The spec's JSON is the key: two calls that would send the same
        // review share its answer.
        let key = serde_json::to_string(&spec).unwrap_or_default();
        let api = self.api.clone();
        let (allowed_ttl, denied_ttl) = (self.settings.allowed_ttl, self.settings.denied_ttl);
        let (result, source) = self
            .decisions
            .get_or_fetch(
                &key,
                move || async move {
                    let status = api.access_review(spec).await?;
                    let outcome = if status.allowed { "allowed" } else { "denied" };
                    metrics()
                        .kube_reviews
                        .with_label_values(&["access_review", outcome])
                        .inc();
                    let reason = status
                        .reason
                        .filter(|r| !r.trim().is_empty())
                        .or(status.evaluation_error.filter(|r| !r.trim().is_empty()));
                    Ok(Decision {
                        allowed: status.allowed,
                        reason,
                    })
                },
                |d: &Decision| if d.allowed { allowed_ttl } else { denied_ttl },
            )
            .await;
        count_cache("access_review", source);
        result
    }

    fn resource(
        &self,
        namespace: &str,
        name: Option<&str>,
        verb: &str,
        sub: Option<&str>,
    ) -> ResourceAttributes {
        ResourceAttributes {
            namespace: Some(namespace.to_owned()),
            group: Some(self.settings.api_group.clone()),
            resource: Some("secrets".into()),
            subresource: sub.map(str::to_owned),
            name: name.map(str::to_owned),
            verb: Some(verb.to_owned()),
            ..Default::default()
        }
    }

    async fn namespace_names(&self) -> Result<Arc<Vec<String>>, ApiError> {
        let api = self.api.clone();
        let (result, source) = self
            .namespace_list
            .get_or_fetch(
                &(),
                move || async move { Ok(Arc::new(api.namespaces().await?)) },
                |_| NAMESPACE_LIST_TTL,
            )
            .await;
        count_cache("namespaces", source);
        result
    }
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

fn reviewed(status: k8s_openapi::api::authentication::v1::TokenReviewStatus) -> Reviewed {
    let user = status.user.unwrap_or_default();
    match (status.authenticated, user.username) {
        (Some(true), Some(username)) if !username.is_empty() => {
            metrics()
                .kube_reviews
                .with_label_values(&["token_review", "authenticated"])
                .inc();
            Ok(KubeUser {
                username,
                uid: user.uid.filter(|u| !u.is_empty()),
                groups: user.groups.unwrap_or_default(),
                extra: user.extra.unwrap_or_default(),
            })
        }
        _ => {
            metrics()
                .kube_reviews
                .with_label_values(&["token_review", "unauthenticated"])
                .inc();
            let why: String = status
                .error
                .filter(|e| !e.trim().is_empty())
                .unwrap_or_else(|| "no reason given".into())
                .chars()
                .filter(|c| !c.is_control())
                .take(300)
                .collect();
            Err(format!(
                "the Kubernetes API server does not accept your token ({why}); \
                 log in again with the identity provider the cluster trusts"
            ))
        }
    }
}

/// The user the claims name, as the API server's `--oidc-username-claim`,
/// `--oidc-username-prefix`, `--oidc-groups-claim` and `--oidc-groups-prefix`
/// would map them.
pub fn user_from_claims(
    claims: &serde_json::Map<String, Value>,
    username_claim: &str,
    username_prefix: &str,
    groups_claim: &str,
    groups_prefix: &str,
) -> Result<KubeUser, String> {
    let username = claims
        .get(username_claim)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            format!(
                "the token has no '{username_claim}' claim, which names you to the cluster \
                 (--kube-username-claim); log in with a token that has it"
            )
        })?;
    let groups = match claims.get(groups_claim) {
        Some(Value::String(g)) => vec![g.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    Ok(KubeUser {
        username: format!("{username_prefix}{username}"),
        uid: None,
        groups: groups
            .into_iter()
            .map(|g| format!("{groups_prefix}{g}"))
            .collect(),
        extra: BTreeMap::new(),
    })
}

#[async_trait]
impl Authorizer for KubernetesAuthorizer {
    fn mode(&self) -> &'static str {
        "kubernetes"
    }

    async fn authorize(&self, identity: &Identity, access: &Access<'_>) -> Verdict {
        let user = match self.user(identity).await {
            Ok(u) => u,
            Err(verdict) => return verdict,
        };
        let Some((verb, sub)) = attributes(access.rpc, access.reads_value) else {
            return Verdict::Allow;
        };
        let attrs = self.resource(access.namespace, access.name, verb, sub);
        match self.decide(&user, attrs).await {
            Ok(Decision { allowed: true, .. }) => Verdict::Allow,
            Ok(Decision { reason, .. }) => {
                let what = match sub {
                    Some(sub) => format!("{verb} secrets/{sub}"),
                    None => format!("{verb} secrets"),
                };
                let mut detail = format!(
                    "the cluster's RBAC does not let '{}' {what} in API group {}",
                    user.username, self.settings.api_group
                );
                if let Some(reason) = reason {
                    let reason: String = reason
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(300)
                        .collect();
                    detail.push_str(&format!(" ({reason})"));
                }
                Verdict::Deny {
                    reason: "rbac_denied",
                    detail: Some(detail),
                }
            }
            Err(e) => Verdict::Unavailable(e.to_string()),
        }
    }

    async fn admit(&self, identity: &Identity) -> Verdict {
        match self.user(identity).await {
            Ok(_) => Verdict::Allow,
            Err(verdict) => verdict,
        }
    }

    async fn namespaces(&self, identity: &Identity) -> Result<Vec<String>, String> {
        let user = match self.user(identity).await {
            Ok(u) => u,
            Err(Verdict::Unavailable(m) | Verdict::Unauthenticated(m)) => return Err(m),
            Err(_) => return Ok(Vec::new()),
        };
        let names = self.namespace_names().await.map_err(|e| e.to_string())?;
        let (verb, sub) = attributes(Rpc::ListSecrets, false).unwrap_or(("list", None));
        let checks = futures::stream::iter(names.iter().cloned())
            .map(|ns| {
                let attrs = self.resource(&ns, None, verb, sub);
                let user = &user;
                async move { (ns, self.decide(user, attrs).await) }
            })
            .buffer_unordered(NAMESPACE_REVIEWS_AT_ONCE);
        let results: Vec<(String, Result<Decision, ApiError>)> = checks.collect().await;
        let mut allowed = Vec::new();
        for (ns, decision) in results {
            match decision {
                Ok(d) if d.allowed => allowed.push(ns),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        allowed.sort();
        Ok(allowed)
    }
}

impl std::fmt::Debug for KubernetesAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubernetesAuthorizer")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_rpc_has_its_verb() {
        for rpc in Rpc::ALL {
            let a = attributes(rpc, false);
            assert_eq!(a.is_none(), rpc == Rpc::WhoAmI, "{rpc:?}");
        }
        assert_eq!(
            attributes(Rpc::GetSecret, true),
            Some(("get", Some("value")))
        );
        assert_eq!(
            attributes(Rpc::RestoreSecret, false),
            Some(("update", None))
        );
        assert_eq!(
            attributes(Rpc::UnbindSecret, false),
            Some(("delete", Some("bindings")))
        );
    }

    #[test]
    fn claims_map_like_the_api_servers_oidc_flags() {
        let claims = json!({"sub": "u-1", "email": "a@b", "groups": ["team-a", "team-b"]});
        let claims = claims.as_object().unwrap();
        let u = user_from_claims(claims, "email", "oidc:", "groups", "oidc:").unwrap();
        assert_eq!(u.username, "oidc:a@b");
        assert_eq!(u.groups, ["oidc:team-a", "oidc:team-b"]);
        let u = user_from_claims(claims, "sub", "", "missing", "").unwrap();
        assert_eq!((u.username.as_str(), u.groups.len()), ("u-1", 0));
        let e = user_from_claims(claims, "preferred_username", "", "groups", "").unwrap_err();
        assert!(e.contains("'preferred_username'"), "{e}");
    }
}
