//! Machine-readable reasons a KISS call failed, sent beside the status in the
//! [`METADATA_KEY`] trailer.
//!
//! The server's message describes the state ("the secret has no read policy
//! yet"); a client looks at the reason to add its own advice (which key to
//! press, which verb to run), so neither has to parse the other's sentences.

/// The response metadata key holding one of the reasons below.
pub const METADATA_KEY: &str = "kiss-reason";

/// No secret of that name in the namespace.
pub const NOT_FOUND: &str = "not_found";
/// The name is taken by a live secret.
pub const ALREADY_EXISTS: &str = "already_exists";
/// The name is held by a secret scheduled for deletion.
pub const SCHEDULED_FOR_DELETION: &str = "scheduled_for_deletion";
/// Restore asked for a secret that is not deleted.
pub const NOT_DELETED: &str = "not_deleted";
/// The update was based on a version that is no longer current.
pub const VERSION_CONFLICT: &str = "version_conflict";
/// The secret exists but the backend no longer holds the version asked for.
pub const VERSION_NOT_FOUND: &str = "version_not_found";
/// The secret has no read policy (bind, delete-policy).
pub const POLICY_MISSING: &str = "policy_missing";
/// The secret already has a read policy.
pub const POLICY_EXISTS: &str = "policy_exists";
/// The read policy is still attached to ServiceAccount roles.
pub const POLICY_ATTACHED: &str = "policy_attached";
/// A policy of the read policy's name exists but was not made by kiss.
pub const POLICY_FOREIGN: &str = "policy_foreign";
/// The ServiceAccount's IAM role does not exist.
pub const ROLE_NOT_FOUND: &str = "role_not_found";
/// The ServiceAccount is not bound to the secret.
pub const NOT_BOUND: &str = "not_bound";
/// A backend limit or quota is reached.
pub const LIMIT_REACHED: &str = "limit_reached";
/// A name or value breaks a rule or a backend limit.
pub const INVALID: &str = "invalid";
/// The backend cannot be reached or is throttling.
pub const UNAVAILABLE: &str = "unavailable";
/// The server's own credentials lack a permission.
pub const ACCESS_DENIED: &str = "access_denied";
/// Anything else that went wrong on the server.
pub const INTERNAL: &str = "internal";
/// The token was refused.
pub const UNAUTHENTICATED: &str = "unauthenticated";
/// The caller may not act on the namespace.
pub const PERMISSION_DENIED: &str = "permission_denied";
/// A rate limit or capacity bound refused the call.
pub const LIMITED: &str = "limited";

/// The reason carried by a status, if the server sent one.
pub fn of(status: &tonic::Status) -> Option<&str> {
    status.metadata().get(METADATA_KEY)?.to_str().ok()
}
