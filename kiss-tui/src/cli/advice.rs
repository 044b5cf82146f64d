//! What to run next after the server refused a verb: the command, with
//! `-namespace` and `-name` filled in, picked by the refusal's machine-readable
//! reason ([`kiss_proto::reasons`]). The server's sentence describes the
//! state and is shown whole; it is never split or reworded here.

use kiss_proto::reasons;

use super::CliError;
use crate::client::ClientError;

/// The secret a verb acted on, for the commands the advice names.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The namespace (`-namespace`).
    pub namespace: &'a str,
    /// The secret (`-name`).
    pub name: &'a str,
}

/// The server's message followed by the command that resolves it. Without a
/// reason (a server older than the contract) the message is shown as is.
pub fn advise(e: ClientError, target: Target<'_>) -> CliError {
    match e.reason().and_then(|r| advice(r, target)) {
        Some(advice) => CliError::Failed(format!("{e}; {advice}")),
        None => e.into(),
    }
}

/// The next step for a reason, or `None` when the message is all there is
/// to say (or there is nothing a user can run).
pub fn advice(reason: &str, Target { namespace, name }: Target<'_>) -> Option<String> {
    let on = format!("-namespace {namespace} -name {name}");
    Some(match reason {
        reasons::POLICY_MISSING => {
            format!("create it first with: kiss-tui create-policy {on}")
        }
        reasons::POLICY_ATTACHED => format!(
            "nothing was deleted. Unbind each ServiceAccount (kiss-tui unbind {on} -service-account <name>) or detach them all (kiss-tui delete-policy {on} -unbind)"
        ),
        reasons::SCHEDULED_FOR_DELETION => {
            format!("restore it with: kiss-tui restore {on}")
        }
        reasons::ALREADY_EXISTS => {
            format!("change its value with: kiss-tui update {on}")
        }
        reasons::VERSION_CONFLICT => {
            format!("see the current value with: kiss-tui get {on} -show-value")
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use tonic::Code;

    use super::*;

    fn refused(reason: Option<&str>) -> ClientError {
        ClientError::Server {
            code: Code::FailedPrecondition,
            message: "secret 'db' has no read policy yet".into(),
            reason: reason.map(str::to_owned),
        }
    }

    const DB: Target<'static> = Target {
        namespace: "team-a",
        name: "db",
    };

    #[test]
    fn a_reason_adds_the_exact_command() {
        assert_eq!(
            advise(refused(Some(reasons::POLICY_MISSING)), DB).to_string(),
            "secret 'db' has no read policy yet; create it first with: kiss-tui create-policy -namespace team-a -name db"
        );
    }

    #[test]
    fn without_a_reason_the_message_is_kept_whole() {
        let old = "secret 'db' has no read policy yet; create it first (`kiss-tui create-policy`)";
        let e = ClientError::Server {
            code: Code::FailedPrecondition,
            message: old.into(),
            reason: None,
        };
        assert_eq!(advise(e, DB).to_string(), old);
        assert_eq!(
            advise(refused(Some(reasons::INTERNAL)), DB).to_string(),
            "secret 'db' has no read policy yet"
        );
    }
}
