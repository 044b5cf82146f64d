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
    /// The `sub` claim, when the token was valid: with `issuer`, who it
    /// really was (the identifier claim may be editable by its holder).
    pub subject: Option<&'a str>,
    /// The `iss` claim, when the token was valid.
    pub issuer: Option<&'a str>,
    /// The namespace acted on.
    pub namespace: Option<&'a str>,
    /// The secret acted on.
    pub secret: Option<&'a str>,
    /// The ServiceAccount, for bind and unbind.
    pub service_account: Option<&'a str>,
    /// Whether the call read a secret's value.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub value_read: bool,
    /// The client's address.
    pub client: &'a str,
    /// Allow or deny.
    pub decision: Decision,
    /// The gRPC status code returned, e.g. `OK`, `NOT_FOUND`.
    pub outcome: &'a str,
    /// Why it was denied or failed, as a short reason.
    pub reason: Option<&'a str>,
    /// The `--authorization` mode that decided (absent for calls refused
    /// before authorization was asked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<&'a str>,
    /// What the authority said when it refused or could not be asked (a
    /// SubjectAccessReview's reason, say); never a token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'a str>,
    /// The version the call named: the one read (GetSecret of an earlier
    /// version) or copied (RollbackSecret).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<&'a str>,
    /// The version the call wrote (CreateSecret, UpdateSecret,
    /// RollbackSecret), so the record and the history name the same one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_version_id: Option<&'a str>,
}

/// Audit records could not be written; the request must fail.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the audit record: {0}")]
pub struct AuditError(String);

enum Sink {
    Log,
    File(Mutex<Box<dyn Write + Send>>),
}

/// Where audit records go, and whether they can be written right now.
///
/// A record that cannot be written (a full disk, say) fails its request,
/// counts in `kiss_audit_write_failures_total` and turns [`Audit::healthy`]
/// false, which readiness follows; the first write that works again (a
/// call's record, or [`Audit::probe`]'s notice of how many were lost) turns
/// it back.
pub struct Audit {
    sink: Sink,
    healthy: tokio::sync::watch::Sender<bool>,
    /// Records lost since the sink last worked.
    lost: std::sync::atomic::AtomicU64,
}

/// A line in the audit log that is not a call's record: a gap in the log,
/// or refusals left out (see [`Notice`]'s kinds).
#[derive(Debug, Clone, Serialize)]
pub struct Notice<'a> {
    /// RFC 3339 time.
    pub time: String,
    /// Always true, like [`Record::audit`].
    pub audit: bool,
    /// `audit_resumed` (records were lost before it) or
    /// `refusals_suppressed` (refusals of one client past its budget).
    pub notice: &'a str,
    /// The client the suppressed refusals came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<&'a str>,
    /// How many records are missing before this line.
    pub count: u64,
    /// The interval the suppressed refusals fell in, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<u64>,
}

impl Audit {
    /// Records go to the server's log, marked with target [`TARGET`] and `audit=true`.
    pub fn to_log() -> Audit {
        Audit::with_sink(Sink::Log)
    }

    /// Records are appended to `path` as JSON lines.
    pub fn to_file(path: &Path) -> std::io::Result<Audit> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(Audit::to_writer(Box::new(file)))
    }

    /// Records are written to `out` as JSON lines, each flushed (tests use
    /// a writer that fails on demand).
    pub fn to_writer(out: Box<dyn Write + Send>) -> Audit {
        Audit::with_sink(Sink::File(Mutex::new(out)))
    }

    fn with_sink(sink: Sink) -> Audit {
        Audit {
            sink,
            healthy: tokio::sync::watch::channel(true).0,
            lost: Default::default(),
        }
    }

    /// True while records can be written; readiness follows it.
    pub fn healthy(&self) -> tokio::sync::watch::Receiver<bool> {
        self.healthy.subscribe()
    }

    /// Whether the last write worked (see [`Audit::healthy`]).
    pub fn is_healthy(&self) -> bool {
        *self.healthy.borrow()
    }

    /// Writes one record.
    pub fn write(&self, rec: &Record<'_>) -> Result<(), AuditError> {
        let written = self.write_record(rec);
        self.note(&written);
        written
    }

    /// While records cannot be written, tries to write the notice of how
    /// many were lost; when it works, the sink is healthy again.
    pub fn probe(&self) {
        if *self.healthy.borrow() {
            return;
        }
        if let Sink::File(out) = &self.sink {
            let written = self.append(out, None::<&Notice<'_>>);
            if written.is_ok() {
                self.note(&written);
            }
        }
    }

    /// Writes a notice; a failure is counted like a record's.
    pub fn notice(&self, notice: &Notice<'_>) {
        let written = match &self.sink {
            Sink::Log => {
                tracing::info!(
                    target: TARGET,
                    audit = true,
                    notice = notice.notice,
                    client = notice.client,
                    count = notice.count,
                    interval_s = notice.interval_s,
                    "audit notice"
                );
                Ok(())
            }
            Sink::File(out) => self.append(out, Some(notice)),
        };
        self.note(&written);
    }

    /// Keeps health, the failure metric and the lost count in step with
    /// the last write.
    fn note(&self, written: &Result<(), AuditError>) {
        use std::sync::atomic::Ordering;
        match written {
            Ok(()) => {
                if !*self.healthy.borrow() {
                    // The gap itself was marked in the log by the write.
                    tracing::warn!("audit records are written again; readiness back to SERVING");
                    self.healthy.send_replace(true);
                }
            }
            Err(e) => {
                crate::metrics::metrics()
                    .audit_write_failures
                    .with_label_values(&[] as &[&str])
                    .inc();
                self.lost.fetch_add(1, Ordering::SeqCst);
                if *self.healthy.borrow() {
                    tracing::error!(
                        error = %e,
                        "audit records cannot be written; calls fail and readiness is NOT_SERVING until they can"
                    );
                    self.healthy.send_replace(false);
                }
            }
        }
    }

    fn write_record(&self, rec: &Record<'_>) -> Result<(), AuditError> {
        match &self.sink {
            Sink::Log => {
                tracing::info!(
                    target: TARGET,
                    audit = true,
                    rpc = rec.rpc,
                    user = rec.user,
                    subject = rec.subject,
                    issuer = rec.issuer,
                    namespace = rec.namespace,
                    secret = rec.secret,
                    service_account = rec.service_account,
                    value_read = rec.value_read,
                    client = rec.client,
                    decision = ?rec.decision,
                    outcome = rec.outcome,
                    reason = rec.reason,
                    authorization = rec.authorization,
                    detail = rec.detail,
                    "audit"
                );
                Ok(())
            }
            Sink::File(out) => self.append(out, Some(rec)),
        }
    }
}

/// `value` as one JSON line.
fn json_line(value: &impl Serialize) -> Result<Vec<u8>, AuditError> {
    let mut line = serde_json::to_vec(value).map_err(|e| AuditError(e.to_string()))?;
    line.push(b'\n');
    Ok(line)
}

impl Audit {
    /// Appends `value` as one JSON line and flushes it. If records were
    /// lost since the last write that worked, the `audit_resumed` notice
    /// of how many goes first, in the same locked write, so no record
    /// follows a gap unmarked. `None`: only that notice (the probe).
    fn append(
        &self,
        out: &Mutex<Box<dyn Write + Send>>,
        value: Option<&impl Serialize>,
    ) -> Result<(), AuditError> {
        use std::sync::atomic::Ordering;
        let value = value.map(json_line).transpose()?;
        let mut f = out.lock().unwrap_or_else(|e| e.into_inner());
        let lost = self.lost.swap(0, Ordering::SeqCst);
        let mut lines = Vec::new();
        if lost > 0 || value.is_none() {
            lines = json_line(&Notice {
                time: now_rfc3339(),
                audit: true,
                notice: "audit_resumed",
                client: None,
                count: lost,
                interval_s: None,
            })?;
        }
        lines.extend(value.unwrap_or_default());
        let written = f
            .write_all(&lines)
            .and_then(|()| f.flush())
            .map_err(|e| AuditError(e.to_string()));
        if written.is_err() {
            // Still missing: the next write that works reports them.
            self.lost.fetch_add(lost, Ordering::SeqCst);
        }
        written
    }
}

/// The current time, RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Longest field value an audit record holds as it is.
pub const MAX_FIELD_CHARS: usize = 253;

/// A field value as an audit record may hold it: as it is when short and
/// printable (every valid name is), else its first characters with control
/// characters replaced and a mark that says it was cut. Callers choose these
/// values, so they must not be able to make records large or forge lines.
pub fn bounded(value: &str) -> std::borrow::Cow<'_, str> {
    let printable = |c: char| !c.is_control();
    if value.len() <= MAX_FIELD_CHARS && value.chars().all(printable) {
        return value.into();
    }
    let head: String = value
        .chars()
        .take(64)
        .map(|c| if printable(c) { c } else { '\u{fffd}' })
        .collect();
    format!("{head}…[cut: {} bytes]", value.len()).into()
}

/// One `X-Forwarded-For` hop: an address, optionally with a port
/// (`1.2.3.4:5678`, `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Ok(sock) = hop.parse::<SocketAddr>() {
        return Some(sock.ip());
    }
    hop.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .and_then(|h| h.parse().ok())
}

/// Most `X-Forwarded-For` hops looked at; the right-most count.
const MAX_HOPS: usize = 32;

/// The client's address. Behind trusted proxies it is the right-most
/// X-Forwarded-For address that is not itself a trusted proxy, over every
/// header field in order: proxies append what they saw, so anything further
/// left is the client's own claim.
pub fn client_address<'h>(
    peer: Option<SocketAddr>,
    forwarded_for: impl IntoIterator<Item = &'h http::HeaderValue>,
    trusted: &[IpAddr],
) -> String {
    let Some(peer) = peer else {
        return "unknown".into();
    };
    if !trusted.contains(&peer.ip()) {
        return peer.ip().to_string();
    }
    let mut hops: Vec<&str> = forwarded_for
        .into_iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    if hops.len() > MAX_HOPS {
        hops.drain(..hops.len() - MAX_HOPS);
    }
    // Walk from the right: the first hop that is not a trusted proxy is the
    // client; an unparsable one is where the trustworthy part ends.
    let mut client = peer.ip();
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(ip) if trusted.contains(&ip) => client = ip,
            Some(ip) => return ip.to_string(),
            None => break,
        }
    }
    client.to_string()
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

    fn xff(values: &[&str]) -> Vec<http::HeaderValue> {
        values
            .iter()
            .map(|v| http::HeaderValue::from_str(v).unwrap())
            .collect()
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let trusted = ["10.0.0.1".parse().unwrap()];
        let addr = |values: &[&str], trusted: &[IpAddr]| {
            client_address(Some(proxy), &xff(values), trusted)
        };
        assert_eq!(addr(&["1.2.3.4, 10.0.0.1"], &trusted), "1.2.3.4");
        assert_eq!(addr(&["1.2.3.4"], &[]), "10.0.0.1");
        assert_eq!(addr(&["garbage"], &trusted), "10.0.0.1");
        assert_eq!(client_address(None, &xff(&[]), &[]), "unknown");
    }

    #[test]
    fn forwarded_for_cannot_be_spoofed_through_a_trusted_proxy() {
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let trusted = ["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()];
        let addr = |values: &[&str]| client_address(Some(proxy), &xff(values), &trusted);
        // The client's own header comes first; the proxy adds a second field.
        assert_eq!(addr(&["6.6.6.6", "1.2.3.4"]), "1.2.3.4");
        // Hops with ports, IPv4 and IPv6, are read, not skipped.
        assert_eq!(addr(&["6.6.6.6, 1.2.3.4:5555"]), "1.2.3.4");
        assert_eq!(addr(&["6.6.6.6, [2001:db8::7]:443"]), "2001:db8::7");
        assert_eq!(addr(&["6.6.6.6, 2001:db8::7"]), "2001:db8::7");
        // Trusted hops on the right are passed over.
        assert_eq!(addr(&["6.6.6.6, 1.2.3.4, 10.0.0.2"]), "1.2.3.4");
        // Garbage on the right stops the walk at the last trusted hop.
        assert_eq!(addr(&["1.2.3.4, junk"]), "10.0.0.1");
    }

    #[test]
    fn fields_callers_choose_are_bounded_and_printable() {
        assert_eq!(bounded("team-a"), "team-a");
        let long = "\u{1b}[2J".repeat(10_000);
        let cut = bounded(&long);
        assert!(cut.chars().count() < 100, "{}", cut.len());
        assert!(!cut.chars().any(char::is_control));
        assert!(cut.ends_with("[cut: 40000 bytes]"), "{cut}");
    }

    /// A writer that fails while `full` is set.
    #[derive(Clone, Default)]
    struct Disk {
        full: std::sync::Arc<std::sync::atomic::AtomicBool>,
        written: std::sync::Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Disk {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.full.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(std::io::Error::from_raw_os_error(28));
            }
            self.written.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_first_line_after_a_gap_is_the_notice_of_it() {
        use std::sync::atomic::Ordering;
        let disk = Disk::default();
        let audit = Audit::to_writer(Box::new(disk.clone()));
        let line = |client| Notice {
            time: now_rfc3339(),
            audit: true,
            notice: "refusals_suppressed",
            client: Some(client),
            count: 1,
            interval_s: Some(10),
        };
        disk.full.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            audit.notice(&line("lost"));
        }
        assert!(!audit.is_healthy());
        disk.full.store(false, Ordering::SeqCst);
        // A write, not the probe, is the first to work again.
        audit.notice(&line("after"));
        audit.notice(&line("later"));
        assert!(audit.is_healthy());
        let text = String::from_utf8(disk.written.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(lines[0]["notice"], "audit_resumed", "{text}");
        assert_eq!(lines[0]["count"], 3, "{text}");
        assert_eq!(lines[1]["client"], "after", "{text}");
        assert_eq!(lines[2]["client"], "later", "{text}");
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
            issuer: None,
            namespace: Some("ns"),
            secret: None,
            service_account: None,
            value_read: false,
            client: "127.0.0.1",
            decision: Decision::Allow,
            outcome: "OK",
            reason: None,
            authorization: Some("claims"),
            detail: None,
            version_id: None,
            new_version_id: None,
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
