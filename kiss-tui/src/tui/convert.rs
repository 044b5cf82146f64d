//! From the wire and the token files to the app's own types.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kiss_proto::pb;
use tonic::Code;

use crate::app::action::{
    CallError, DeletedRow, Details, ErrorKind, Identity, SecretRow, Sensitive, VersionRow,
};
use crate::client::ClientError;

/// A protobuf timestamp as a `SystemTime`; `None` when unset.
pub fn time(t: Option<pb_time::Timestamp>) -> Option<SystemTime> {
    let t = t?;
    let nanos = u32::try_from(t.nanos).unwrap_or(0);
    if t.seconds >= 0 {
        Some(UNIX_EPOCH + Duration::new(t.seconds as u64, nanos))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(t.seconds.unsigned_abs()))
    }
}

mod pb_time {
    pub use kiss_proto::Timestamp;
}

/// A failed call as the app sees it: a kind to act on and a sentence.
pub fn call_error(e: &ClientError) -> CallError {
    let kind = match (e, e.code()) {
        (ClientError::InvalidToken, _) => ErrorKind::Unauthenticated,
        (_, None) => ErrorKind::Unreachable,
        (_, Some(code)) => match code {
            Code::Unavailable => ErrorKind::Unreachable,
            Code::Unauthenticated => ErrorKind::Unauthenticated,
            Code::PermissionDenied => ErrorKind::PermissionDenied,
            Code::Aborted => ErrorKind::Conflict,
            Code::NotFound => ErrorKind::NotFound,
            Code::AlreadyExists => ErrorKind::AlreadyExists,
            Code::InvalidArgument | Code::OutOfRange => ErrorKind::Invalid,
            Code::FailedPrecondition => ErrorKind::FailedPrecondition,
            Code::DeadlineExceeded => ErrorKind::Timeout,
            _ => ErrorKind::Other,
        },
    };
    // The app adds its own advice to a refused token (the refresh hint of
    // the token directory in use, the key that picks another): the
    // client's, meant for the verbs, would say it twice.
    let message = match e {
        ClientError::Unauthenticated { message } => {
            format!(
                "the server refused the token: {}",
                message.trim_end_matches('.')
            )
        }
        other => other.to_string(),
    };
    CallError::new(kind, sentence(&message)).with_reason(e.reason())
}

pub use crate::app::format::sentence;

/// WhoAmI's answer.
pub fn identity(r: pb::WhoAmIResponse) -> Identity {
    Identity {
        identifier: r.identifier,
        namespaces: r.namespaces,
        admin: r.admin,
        expires_at: time(r.expires_at),
        issuer: r.issuer,
        recovery_days: r.deletion_recovery_days,
    }
}

/// ListSecrets' answer; older servers send only names.
pub fn secret_rows(r: pb::ListSecretsResponse) -> Vec<SecretRow> {
    if r.entries.is_empty() {
        return r
            .secrets
            .into_iter()
            .map(|name| SecretRow {
                name,
                created: None,
                last_changed: None,
            })
            .collect();
    }
    r.entries
        .into_iter()
        .map(|e| SecretRow {
            name: e.name,
            created: time(e.created),
            last_changed: time(e.last_changed),
        })
        .collect()
}

/// GetSecret's answer.
pub fn details(d: pb::SecretDetails) -> Details {
    Details {
        name: d.name,
        aws_name: d.aws_name,
        arn: d.arn,
        created: time(d.created),
        last_changed: time(d.last_changed),
        last_accessed: time(d.last_accessed),
        version_id: d.version_id,
        has_read_policy: d.has_read_policy,
        bound_service_accounts: d.bound_service_accounts,
        value: d.value.map(Sensitive),
    }
}

/// ListDeletedSecrets' answer.
pub fn deleted_rows(r: pb::ListDeletedSecretsResponse) -> Vec<DeletedRow> {
    r.secrets
        .into_iter()
        .map(|d| DeletedRow {
            name: d.name,
            deleted: time(d.deleted),
            deletion_date: time(d.deletion_date),
        })
        .collect()
}

/// A secret's versions, as the server sent them (newest first).
pub fn version_rows(r: pb::ListSecretVersionsResponse) -> Vec<VersionRow> {
    r.versions
        .into_iter()
        .map(|v| VersionRow {
            version_id: v.version_id,
            created: time(v.created),
            author: v.author,
            labels: v.labels,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_sentences_of_the_right_kind() {
        let e = call_error(&ClientError::Server {
            code: Code::Aborted,
            message: "secret 'a' changed since version v1".into(),
            reason: Some(kiss_proto::reasons::VERSION_CONFLICT.into()),
        });
        assert_eq!(e.reason.as_deref(), Some("version_conflict"));
        assert_eq!(e.kind, ErrorKind::Conflict);
        assert_eq!(e.message, "Secret 'a' changed since version v1.");
        let e = call_error(&ClientError::Unreachable {
            addr: "localhost:1".into(),
            detail: "refused".into(),
        });
        assert_eq!(e.kind, ErrorKind::Unreachable);
        assert!(
            e.message
                .starts_with("Cannot reach kiss-server at localhost:1")
        );
        assert_eq!(
            call_error(&ClientError::InvalidToken).kind,
            ErrorKind::Unauthenticated
        );
        let refused = call_error(&ClientError::Unauthenticated {
            message: "Token has expired.".into(),
        });
        assert_eq!(refused.kind, ErrorKind::Unauthenticated);
        assert_eq!(
            refused.message, "The server refused the token: Token has expired.",
            "the app adds the advice itself, once"
        );
        assert_eq!(
            call_error(&ClientError::PermissionDenied {
                message: "no".into()
            })
            .kind,
            ErrorKind::PermissionDenied
        );
        assert_eq!(sentence("done!"), "Done!");
    }

    #[test]
    fn timestamps_convert_both_sides_of_the_epoch() {
        let t = |seconds, nanos| time(Some(kiss_proto::Timestamp { seconds, nanos }));
        assert_eq!(t(0, 0), Some(UNIX_EPOCH));
        assert_eq!(t(10, 5), Some(UNIX_EPOCH + Duration::new(10, 5)));
        assert_eq!(t(-10, 0), Some(UNIX_EPOCH - Duration::from_secs(10)));
        assert_eq!(t(10, -1), Some(UNIX_EPOCH + Duration::from_secs(10)));
        assert_eq!(time(None), None);
    }

    #[test]
    fn old_servers_list_names_only() {
        let rows = secret_rows(pb::ListSecretsResponse {
            secrets: vec!["a".into()],
            entries: vec![],
        });
        assert_eq!(rows[0].name, "a");
        assert_eq!(rows[0].created, None);
    }
}
