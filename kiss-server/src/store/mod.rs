//! The storage seam: every handler talks to a [`SecretStore`], never to AWS.
//!
//! A store knows nothing about tokens. It receives a namespace the caller has
//! already been authorized for, and it must itself guarantee that a secret is
//! only ever seen or changed through the namespace its tags say it belongs to.

pub mod authors;
#[cfg(feature = "aws")]
pub mod aws;
pub mod caller;
pub mod coalesce;
pub mod local;
pub mod naming;
pub mod rules;

use std::time::SystemTime;

use async_trait::async_trait;

pub use naming::Naming;

/// A secret as addressed by a caller: its namespace and its kiss name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretRef {
    /// The Kubernetes namespace that owns the secret.
    pub namespace: String,
    /// The secret's name within the namespace.
    pub name: String,
}

impl SecretRef {
    /// Builds a reference; the names must already be validated.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// One secret in a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretEntry {
    /// The kiss name of the secret.
    pub name: String,
    /// When the secret was created.
    pub created: Option<SystemTime>,
    /// When its value or metadata last changed.
    pub last_changed: Option<SystemTime>,
}

/// A secret scheduled for deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedEntry {
    /// The kiss name of the secret.
    pub name: String,
    /// When deletion was requested.
    pub deleted: Option<SystemTime>,
    /// When the secret will be gone for good.
    pub deletion_date: Option<SystemTime>,
}

/// One version of a secret's value, as a history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    /// The version id.
    pub version_id: String,
    /// When it was written.
    pub created: Option<SystemTime>,
    /// Its staging labels (AWSCURRENT, AWSPREVIOUS, ...).
    pub labels: Vec<String>,
    /// Who wrote it through kiss (the identifier), if known.
    pub author: Option<String>,
}

/// The staging label of the current version.
pub const CURRENT: &str = "AWSCURRENT";
/// The staging label of the version the current one replaced.
pub const PREVIOUS: &str = "AWSPREVIOUS";

/// The versions a backend keeps: AWS drops unlabelled versions beyond about
/// 100 (never ones younger than 24 hours); the local backend keeps as many.
pub const MAX_VERSIONS: usize = 100;

/// Everything a store knows about one secret.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretDetails {
    /// The kiss name.
    pub name: String,
    /// The owning namespace.
    pub namespace: String,
    /// The backend's name for the secret (the AWS secret name).
    pub aws_name: String,
    /// The backend's identifier (the AWS ARN).
    pub arn: String,
    /// When it was created.
    pub created: Option<SystemTime>,
    /// When it last changed.
    pub last_changed: Option<SystemTime>,
    /// When it was last read (AWS keeps the day only).
    pub last_accessed: Option<SystemTime>,
    /// The current version id.
    pub version_id: String,
    /// The ARN of the read policy, if one exists.
    pub policy_arn: Option<String>,
    /// ServiceAccounts in the namespace whose role holds the read policy.
    pub bound_service_accounts: Vec<String>,
    /// The value, only when asked for.
    pub value: Option<String>,
}

impl std::fmt::Debug for SecretDetails {
    // Derived Debug would print the value into any log or panic message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretDetails")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("aws_name", &self.aws_name)
            .field("version_id", &self.version_id)
            .field("policy_arn", &self.policy_arn)
            .field("bound_service_accounts", &self.bound_service_accounts)
            .field("value", &self.value.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Why a store operation failed. The service maps each to a gRPC status; the
/// messages are shown to users, so they never name another namespace.
///
/// Messages describe the state only; clients add their own advice (which
/// key, which verb) from [`StoreError::reason`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No secret of that name in that namespace (also when the name is held
    /// by another namespace: the owner is never revealed).
    #[error("secret '{name}' does not exist in namespace '{namespace}'")]
    NotFound {
        /// The namespace asked for.
        namespace: String,
        /// The secret asked for.
        name: String,
    },
    /// The name is taken.
    #[error("a secret named '{name}' already exists")]
    AlreadyExists {
        /// The secret asked for.
        name: String,
    },
    /// The name is held by a secret scheduled for deletion.
    #[error(
        "secret '{name}' is scheduled for deletion and keeps its name until it is restored or deleted for good"
    )]
    ScheduledForDeletion {
        /// The secret asked for.
        name: String,
    },
    /// The secret is not scheduled for deletion, so it cannot be restored.
    #[error("secret '{name}' is not scheduled for deletion")]
    NotDeleted {
        /// The secret asked for.
        name: String,
    },
    /// The secret exists, but not the version asked for (any more).
    #[error("secret '{name}' has no version {version}; it may be older than the versions kept")]
    VersionNotFound {
        /// The secret asked for.
        name: String,
        /// The version asked for.
        version: String,
    },
    /// The update was based on a version that is no longer current.
    #[error("secret '{name}' has changed since version {expected}")]
    VersionConflict {
        /// The secret asked for.
        name: String,
        /// The version the caller started from.
        expected: String,
    },
    /// Bind needs the read policy, which does not exist yet.
    #[error("secret '{name}' has no read policy yet")]
    PolicyMissing {
        /// The secret asked for.
        name: String,
    },
    /// The read policy exists already.
    #[error("secret '{name}' already has a read policy")]
    PolicyExists {
        /// The secret asked for.
        name: String,
    },
    /// The read policy is still attached to ServiceAccount roles.
    #[error(
        "the read policy of secret '{name}' is still bound to service account(s) {}",
        service_accounts.join(", ")
    )]
    PolicyAttached {
        /// The secret asked for.
        name: String,
        /// The ServiceAccounts still holding it.
        service_accounts: Vec<String>,
    },
    /// A policy has the read policy's name but kiss did not make it for this
    /// secret (other tags, or a document granting more than reading it), so
    /// kiss neither reports, attaches nor deletes it.
    #[error(
        "the IAM policy '{policy}' has the name of secret '{name}''s read policy but is not a kiss read policy of it"
    )]
    PolicyForeign {
        /// The secret asked for.
        name: String,
        /// The policy's name.
        policy: String,
    },
    /// The ServiceAccount's IAM role does not exist.
    #[error("service account '{service_account}' has no IAM role: '{role}' does not exist")]
    RoleNotFound {
        /// The ServiceAccount asked for.
        service_account: String,
        /// The role name that should exist.
        role: String,
    },
    /// The service account is not bound to the secret.
    #[error("service account '{service_account}' is not bound to secret '{name}'")]
    NotBound {
        /// The secret asked for.
        name: String,
        /// The ServiceAccount asked for.
        service_account: String,
    },
    /// A backend limit (role policy count, quota) is reached.
    #[error("{0}")]
    LimitReached(String),
    /// The request breaks a backend limit on names or sizes.
    #[error("{0}")]
    Invalid(String),
    /// The backend could not be reached or is throttling; retrying may help.
    #[error("{0}")]
    Unavailable(String),
    /// The server's own credentials lack a permission.
    #[error("{0}")]
    AccessDenied(String),
    /// Anything else; the message is safe to show.
    #[error("{0}")]
    Internal(String),
}

impl StoreError {
    /// The machine-readable reason sent to clients beside the status
    /// ([`kiss_proto::reasons`]), so they can add their own advice.
    pub fn reason(&self) -> &'static str {
        use kiss_proto::reasons as r;
        match self {
            StoreError::NotFound { .. } => r::NOT_FOUND,
            StoreError::AlreadyExists { .. } => r::ALREADY_EXISTS,
            StoreError::ScheduledForDeletion { .. } => r::SCHEDULED_FOR_DELETION,
            StoreError::NotDeleted { .. } => r::NOT_DELETED,
            StoreError::VersionConflict { .. } => r::VERSION_CONFLICT,
            StoreError::VersionNotFound { .. } => r::VERSION_NOT_FOUND,
            StoreError::PolicyMissing { .. } => r::POLICY_MISSING,
            StoreError::PolicyExists { .. } => r::POLICY_EXISTS,
            StoreError::PolicyAttached { .. } => r::POLICY_ATTACHED,
            StoreError::PolicyForeign { .. } => r::POLICY_FOREIGN,
            StoreError::RoleNotFound { .. } => r::ROLE_NOT_FOUND,
            StoreError::NotBound { .. } => r::NOT_BOUND,
            StoreError::LimitReached(_) => r::LIMIT_REACHED,
            StoreError::Invalid(_) => r::INVALID,
            StoreError::Unavailable(_) => r::UNAVAILABLE,
            StoreError::AccessDenied(_) => r::ACCESS_DENIED,
            StoreError::Internal(_) => r::INTERNAL,
        }
    }
}

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// A backend that keeps secrets, read policies and bindings.
///
/// Every method that addresses one secret must verify that the secret is
/// managed by kiss and tagged with exactly this namespace and name, and
/// answer [`StoreError::NotFound`] otherwise.
#[async_trait]
pub trait SecretStore: Send + Sync + 'static {
    /// Creates a secret. The name must be free (not even held by a deleted
    /// secret). Returns the version id. `author` (the caller's identifier)
    /// is recorded as the version's writer.
    async fn create_as(
        &self,
        secret: &SecretRef,
        value: &str,
        author: Option<&str>,
    ) -> StoreResult<String>;
    /// [`SecretStore::create_as`] by nobody known.
    async fn create(&self, secret: &SecretRef, value: &str) -> StoreResult<String> {
        self.create_as(secret, value, None).await
    }
    /// How many days a deleted secret stays restorable; 0 when a delete is
    /// immediate and permanent.
    fn recovery_days(&self) -> u32;
    /// Lists the namespace's live secrets, sorted by name.
    async fn list(&self, namespace: &str) -> StoreResult<Vec<SecretEntry>>;
    /// Lists the namespace's secrets scheduled for deletion, sorted by name.
    async fn list_deleted(&self, namespace: &str) -> StoreResult<Vec<DeletedEntry>>;
    /// Describes one secret, with its value when `include_value` is set.
    async fn get(&self, secret: &SecretRef, include_value: bool) -> StoreResult<SecretDetails>;
    /// Describes one secret as of `version_id` (its id and value are the
    /// version's; the rest is the secret's now).
    async fn get_version(
        &self,
        secret: &SecretRef,
        version_id: &str,
        include_value: bool,
    ) -> StoreResult<SecretDetails>;
    /// The versions the backend holds, newest first.
    async fn versions(&self, secret: &SecretRef) -> StoreResult<Vec<VersionEntry>>;
    /// Stores a new value; refuses if `expected_version` is set and stale.
    /// Returns the new version id.
    async fn update_as(
        &self,
        secret: &SecretRef,
        value: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String>;
    /// [`SecretStore::update_as`] by nobody known.
    async fn update(
        &self,
        secret: &SecretRef,
        value: &str,
        expected_version: Option<&str>,
    ) -> StoreResult<String> {
        self.update_as(secret, value, expected_version, None).await
    }
    /// Writes `version_id`'s value as a new current version (refused if
    /// `expected_version` is set and stale). Returns the new version id.
    async fn rollback(
        &self,
        secret: &SecretRef,
        version_id: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String>;
    /// Schedules deletion (or deletes at once with a zero recovery window).
    /// Returns when the secret will be gone for good, if scheduled.
    async fn delete(&self, secret: &SecretRef) -> StoreResult<Option<SystemTime>>;
    /// Cancels a scheduled deletion.
    async fn restore(&self, secret: &SecretRef) -> StoreResult<()>;
    /// Creates the read policy. Returns its ARN.
    async fn create_policy(&self, secret: &SecretRef) -> StoreResult<String>;
    /// Deletes the read policy; with `unbind`, detaches it first and returns
    /// the ServiceAccounts it was detached from.
    async fn delete_policy(&self, secret: &SecretRef, unbind: bool) -> StoreResult<Vec<String>>;
    /// Attaches the read policy to the ServiceAccount's role.
    async fn bind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()>;
    /// Detaches the read policy from the ServiceAccount's role.
    async fn unbind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()>;
    /// Whether the backend is usable; used for readiness.
    async fn ready(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_describe_the_state_and_leave_advice_to_clients() {
        let name = || "db".to_owned();
        let errors = [
            StoreError::AlreadyExists { name: name() },
            StoreError::ScheduledForDeletion { name: name() },
            StoreError::NotDeleted { name: name() },
            StoreError::VersionConflict {
                name: name(),
                expected: "v1".into(),
            },
            StoreError::PolicyMissing { name: name() },
            StoreError::PolicyAttached {
                name: name(),
                service_accounts: vec!["app".into()],
            },
            StoreError::PolicyForeign {
                name: name(),
                policy: "k8s-secret_ns_db".into(),
            },
            StoreError::RoleNotFound {
                service_account: "app".into(),
                role: "k8s-sa_ns_app".into(),
            },
        ];
        for err in errors {
            let msg = err.to_string();
            for advice in ["kiss-tui", "`", " in the app", "first", "; "] {
                assert!(!msg.contains(advice), "{msg}");
            }
            assert_ne!(err.reason(), kiss_proto::reasons::INTERNAL, "{msg}");
        }
    }
}
