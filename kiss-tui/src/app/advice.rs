//! What the app adds to a refusal: the key that resolves it, picked by the
//! server's machine-readable reason ([`kiss_proto::reasons`]) and by what the
//! user was doing. The server's sentence describes the state and is kept
//! whole; without a reason (an older server) it is all the user sees.

use kiss_proto::reasons;

use super::action::{CallError, ErrorKind};
use super::state::Purpose;

/// The server's message with the app's advice after it, if any applies.
pub fn advised(purpose: &Purpose, e: &CallError) -> String {
    match e.reason.as_deref().and_then(|r| advice(purpose, r)) {
        Some(advice) => format!("{} {advice}", e.message),
        None => e.message.clone(),
    }
}

/// The key that helps after a load failed: `r` only where trying again
/// can work; a refused namespace or token needs another one.
pub fn next_step(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::PermissionDenied => "Press N to pick another namespace.",
        ErrorKind::Unauthenticated => "Press T to pick another token.",
        _ => "Press r to try again.",
    }
}

/// [`next_step`] from the history, where N and T are a screen away.
pub fn next_step_in_history(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::PermissionDenied => "Press q, then N to pick another namespace.",
        ErrorKind::Unauthenticated => "Press q, then T to pick another token.",
        _ => "Press r to try again.",
    }
}

/// Whether the refusal says there is no read policy: by reason, or by code
/// from a server that sends no reason.
pub fn no_policy(e: &CallError) -> bool {
    crate::workflows::is_policy_missing(e.reason.as_deref(), e.kind == ErrorKind::NotFound)
}

/// The keys that resolve `reason` where `purpose` was refused.
fn advice(purpose: &Purpose, reason: &str) -> Option<&'static str> {
    Some(match (purpose, reason) {
        // Details said there was a policy, but it was removed meanwhile.
        (Purpose::Bind(..), reasons::POLICY_MISSING) => {
            "Close this with Esc and press p to create the read policy, then bind again."
        }
        // The dialog detaches the policy first; someone bound it meanwhile.
        (Purpose::DeletePolicy(_), reasons::POLICY_ATTACHED) => {
            "Press y to try again (it unbinds them), or Space to keep the policy and delete only the secret."
        }
        (Purpose::Create { .. }, reasons::SCHEDULED_FOR_DELETION) => {
            "Choose another name, or restore it: Esc, then D (recently deleted)."
        }
        (Purpose::Create { .. }, reasons::ALREADY_EXISTS) => {
            "Choose another name, or edit that secret with e."
        }
        (Purpose::CreatePolicy { .. }, reasons::POLICY_FOREIGN) => {
            "Ask your platform team to rename or remove that policy."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_picks_the_key_and_no_reason_keeps_the_message() {
        let e = CallError::new(
            ErrorKind::FailedPrecondition,
            "Secret 'db' has no read policy yet.",
        );
        let bind = Purpose::Bind("db".into(), "app".into());
        assert_eq!(advised(&bind, &e), "Secret 'db' has no read policy yet.");
        let e = e.with_reason(Some(reasons::POLICY_MISSING));
        assert!(
            advised(&bind, &e).ends_with("press p to create the read policy, then bind again.")
        );
        assert_eq!(
            advised(&Purpose::List, &e),
            "Secret 'db' has no read policy yet."
        );
    }
}
