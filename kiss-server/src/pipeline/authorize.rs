//! Authorization: the one seam that decides whether an identity may make a
//! call on a namespace. The pipeline asks it after the names are valid and
//! before anything touches the store.

use async_trait::async_trait;
use kiss_proto::Rpc;

use crate::auth::Identity;

/// What a call wants to do, as the authorizer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access<'a> {
    /// The method.
    pub rpc: Rpc,
    /// The namespace acted on (already a valid name).
    pub namespace: &'a str,
    /// The secret, for calls that name one.
    pub name: Option<&'a str>,
    /// Whether the call reads a secret's value (a right of its own).
    pub reads_value: bool,
}

/// An authorizer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allow,
    /// Refused: PERMISSION_DENIED. `reason` is short and stable, for audit
    /// and metrics; `detail`, when given, is added to the user's message.
    Deny {
        /// Why, e.g. `namespace_not_granted`.
        reason: &'static str,
        /// More for the user, e.g. the reason a review gave.
        detail: Option<String>,
    },
    /// The authority could not be asked: UNAVAILABLE, never a silent allow.
    Unavailable(String),
    /// The authority does not accept the caller's token (a TokenReview said
    /// not authenticated): UNAUTHENTICATED with this sentence.
    Unauthenticated(String),
}

/// Decides calls. One implementation per `--authorization` mode.
#[async_trait]
pub trait Authorizer: Send + Sync + 'static {
    /// The mode's name, for audit records.
    fn mode(&self) -> &'static str;

    /// May `identity` do `access`?
    async fn authorize(&self, identity: &Identity, access: &Access<'_>) -> Verdict;

    /// For calls on no namespace (WhoAmI): is `identity` someone the
    /// authority knows? Allow by default.
    async fn admit(&self, identity: &Identity) -> Verdict {
        let _ = identity;
        Verdict::Allow
    }

    /// The namespaces to offer `identity` (WhoAmI), sorted.
    async fn namespaces(&self, identity: &Identity) -> Result<Vec<String>, String>;
}

/// `claims` mode: the namespaces the token grants, the admin namespace
/// granting all.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClaimsAuthorizer;

#[async_trait]
impl Authorizer for ClaimsAuthorizer {
    fn mode(&self) -> &'static str {
        "claims"
    }

    async fn authorize(&self, identity: &Identity, access: &Access<'_>) -> Verdict {
        if identity.may_access(access.namespace) {
            Verdict::Allow
        } else {
            Verdict::Deny {
                reason: "namespace_not_granted",
                detail: None,
            }
        }
    }

    async fn namespaces(&self, identity: &Identity) -> Result<Vec<String>, String> {
        Ok(identity.namespaces.iter().cloned().collect())
    }
}
