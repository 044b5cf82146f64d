//! One structured audit record per request, allowed or denied: who, what,
//! which namespace, from where, the decision and the outcome. Never a secret
//! value, never a token.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Mutex;

use serde::Serialize;

/// The tracing target audit records are logged under, for routing.
pub const TARGET: &str = "kiss::audit";

/// Whether the request was let through to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Authenticated and authorized.
    Allow,
    /// Refused before reaching the store.
    Deny,
}

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct Record<'a> {
    /// RFC 3339 time of the decision.
    pub time: String,
    /// Always true; lets log pipelines route these lines.
    pub audit: bool,
    /// The RPC name, e.g. `CreateSecret`.
    pub rpc: &'a str,
    /// The identifier claim, when the token was valid.
    pub user: Option<&'a str>,
    /// The `sub` claim, when the token was valid.
    pub subject: Option<&'a str>,
    /// The namespace acted on.
    pub namespace: Option<&'a str>,
    /// The secret acted on.
    pub secret: Option<&'a str>,
    /// The ServiceAccount, for bind and unbind.
    pub service_account: Option<&'a str>,
    /// The client's address.
    pub client: &'a str,
    /// Allow or deny.
    pub decision: Decision,
    /// The gRPC status code returned, e.g. `OK`, `NOT_FOUND`.
    pub outcome: &'a str,
    /// Why it was denied or failed, as a short reason.
    pub reason: Option<&'a str>,
}

/// Audit records could not be written; the request must fail.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the audit record: {0}")]
pub struct AuditError(String);

enum Sink {
    Log,
    File(Mutex<std::fs::File>),
}

/// Where audit records go.
pub struct Audit {
    sink: Sink,
}

impl Audit {
    /// Records go to the server's log, marked with target [`TARGET`] and `audit=true`.
    pub fn to_log() -> Audit {
        Audit { sink: Sink::Log }
    }

    /// Records are appended to `path` as JSON lines.
    pub fn to_file(path: &Path) -> std::io::Result<Audit> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Audit {
            sink: Sink::File(Mutex::new(file)),
        })
    }

    /// Writes one record.
    pub fn write(&self, rec: &Record<'_>) -> Result<(), AuditError> {
        match &self.sink {
            Sink::Log => {
                tracing::info!(
                    target: TARGET,
                    audit = true,
                    rpc = rec.rpc,
                    user = rec.user,
                    subject = rec.subject,
                    namespace = rec.namespace,
                    secret = rec.secret,
                    service_account = rec.service_account,
                    client = rec.client,
                    decision = ?rec.decision,
                    outcome = rec.outcome,
                    reason = rec.reason,
                    "audit"
                );
                Ok(())
            }
            Sink::File(file) => {
                let mut line = serde_json::to_vec(rec).map_err(|e| AuditError(e.to_string()))?;
                line.push(b'\n');
                let mut f = file.lock().unwrap_or_else(|e| e.into_inner());
                f.write_all(&line)
                    .and_then(|()| f.flush())
                    .map_err(|e| AuditError(e.to_string()))
            }
        }
    }
}

/// The current time, RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The client's address. Behind trusted proxies it is the right-most
/// X-Forwarded-For address that is not itself a trusted proxy: proxies
/// append what they saw, so anything further left is the client's own claim.
pub fn client_address(
    peer: Option<SocketAddr>,
    forwarded_for: Option<&str>,
    trusted: &[IpAddr],
) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted.contains(&peer.ip()) {
        return peer.ip().to_string();
    }
    let hops: Vec<IpAddr> = forwarded_for
        .unwrap_or_default()
        .split(',')
        .filter_map(|h| h.trim().parse().ok())
        .collect();
    hops.iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .or(hops.first())
        .unwrap_or(&peer.ip())
        .to_string()
}

/// The canonical upper-case name of a gRPC code.
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let trusted = ["10.0.0.1".parse().unwrap()];
        assert_eq!(
            client_address(Some(proxy), Some("1.2.3.4, 10.0.0.1"), &trusted),
            "1.2.3.4"
        );
        assert_eq!(
            client_address(Some(proxy), Some("1.2.3.4"), &[]),
            "10.0.0.1"
        );
        assert_eq!(
            client_address(Some(proxy), Some("garbage"), &trusted),
            "10.0.0.1"
        );
        assert_eq!(client_address(None, None, &[]), "unknown");
    }

    #[test]
    fn file_records_are_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let audit = Audit::to_file(&path).unwrap();
        let rec = Record {
            time: now_rfc3339(),
            audit: true,
            rpc: "Ping",
            user: Some("a@b"),
            subject: None,
            namespace: Some("ns"),
            secret: None,
            service_account: None,
            client: "127.0.0.1",
            decision: Decision::Allow,
            outcome: "OK",
            reason: None,
        };
        audit.write(&rec).unwrap();
        audit.write(&rec).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["decision"], "allow");
        assert_eq!(lines[0]["rpc"], "Ping");
    }
}
