//! The one request pipeline every KISS call goes through, in this order:
//!
//! 1. **admission** ([`admission`]): per-identity bounds (rate, calls in
//!    flight) before any capacity shared with other users;
//! 2. **token** (in [`layer`]): verified once into an [`Identity`];
//! 3. **request read** under a deadline ([`deadline`]), decoded by tonic
//!    within the size limit;
//! 4. **names** validated with kiss-proto's rules and **authorization**
//!    through the one [`Authorizer`] seam ([`call`]);
//! 5. the shared **concurrency** permit, then the **store operation**, which
//!    only the pipeline can start (handlers never hold the store) and which,
//!    if it may change AWS, runs to its end whatever the client does;
//! 6. **metrics** and exactly **one audit record** per call, refusals of
//!    every kind included ([`Pipeline::finish`]); only past a client
//!    address's refusal budget are refusals counted into one summary line
//!    per interval instead ([`refusals`]), so the log cannot be flooded.
//!
//! The call runs in a task of its own from the moment it arrives, so a
//! client that cancels or sets a short deadline cannot stop a change half
//! way or make its record disappear.

pub mod admission;
pub mod authorize;
pub mod call;
pub mod deadline;
pub mod layer;
pub mod refusals;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use kiss_proto::Rpc;
use tonic::Code;

pub use admission::{Admission, Limits};
pub use authorize::{Access, Authorizer, ClaimsAuthorizer, Verdict};
pub use call::Call;

use crate::audit::{self, Audit, Decision, Record};
use crate::auth::{AuthMode, Identity};
use crate::listener::Throttled;
use crate::metrics::metrics;
use crate::store::SecretStore;

/// Everything the pipeline needs, shared by the layer and the handlers.
pub struct Pipeline {
    auth: AuthMode,
    authorizer: Arc<dyn Authorizer>,
    store: Arc<dyn SecretStore>,
    audit: Arc<Audit>,
    admission: Admission,
    refusals: refusals::Refusals,
    trusted_proxies: Vec<IpAddr>,
    logs: Logs,
}

/// Log lines one per call would make floodable, throttled.
#[derive(Default)]
struct Logs {
    /// "call refused before it was read".
    refused: Mutex<Throttled>,
    /// "audit record lost".
    audit_lost: Mutex<Throttled>,
}

impl Pipeline {
    /// A pipeline that authenticates with `auth`, decides with `authorizer`,
    /// acts on `store`, records to `audit` and admits within `limits`.
    pub fn new(
        auth: AuthMode,
        authorizer: Arc<dyn Authorizer>,
        store: Arc<dyn SecretStore>,
        audit: Arc<Audit>,
        limits: Limits,
        trusted_proxies: Vec<IpAddr>,
    ) -> Pipeline {
        Pipeline {
            auth,
            authorizer,
            store,
            audit,
            admission: Admission::new(limits),
            refusals: refusals::Refusals::new(
                limits.refusals_per_second,
                limits.refusal_burst,
                limits.audited_refusals,
                limits.audit_interval,
            ),
            trusted_proxies,
            logs: Logs::default(),
        }
    }

    /// Writes the summary of every client whose audit interval ended with
    /// refusals left out; the server calls it once per interval.
    pub fn flush_refusal_summaries(&self) {
        for summary in self.refusals.due(Instant::now()) {
            self.write_summary(&summary);
        }
    }

    /// Writes every pending refusal summary, ended interval or not; the
    /// server calls it once it has stopped serving.
    pub fn flush_all_refusal_summaries(&self) {
        for summary in self.refusals.drain() {
            self.write_summary(&summary);
        }
    }

    /// The interval of the refusal summaries.
    pub fn refusal_interval(&self) -> std::time::Duration {
        self.refusals.interval()
    }

    fn write_summary(&self, summary: &refusals::Summary) {
        tracing::warn!(
            client = %summary.client,
            suppressed = summary.suppressed,
            "refusals from one client past its audit budget were summarised"
        );
        self.audit.notice(&audit::Notice {
            time: audit::now_rfc3339(),
            audit: true,
            notice: "refusals_suppressed",
            client: Some(&summary.client),
            count: summary.suppressed,
            interval_s: Some(self.refusals.interval().as_secs().max(1)),
        });
    }

    /// The last step of every call: counts it and writes its one audit
    /// record. `code` is the status the client gets. An audit record that
    /// cannot be written turns the answer into INTERNAL, so no call is
    /// answered as done without its record.
    fn finish(
        &self,
        rpc: Option<Rpc>,
        client: &str,
        facts: &Facts,
        started: Instant,
        code: Code,
    ) -> Result<(), tonic::Status> {
        let rpc_name = rpc.map_or("unknown", Rpc::name);
        let outcome = audit::code_name(code);
        let m = metrics();
        m.requests.with_label_values(&[rpc_name, outcome]).inc();
        m.latency
            .with_label_values(&[rpc_name])
            .observe(started.elapsed().as_secs_f64());
        let decision = if facts.allowed {
            Decision::Allow
        } else {
            Decision::Deny
        };
        // Denials of calls that passed authentication are always recorded
        // (the identity's rate limit bounds them, and a summary could not
        // say who they were). A client whose calls are refused before that
        // cannot flood the log: past its budget, its refusals are counted,
        // then summarised.
        if decision == Decision::Deny && facts.subject.is_none() {
            let (verdict, summaries) = self.refusals.audit(client, Instant::now());
            for summary in &summaries {
                self.write_summary(summary);
            }
            if verdict == refusals::Verdict::Suppress {
                m.audit_suppressed.with_label_values(&[] as &[&str]).inc();
                return Ok(());
            }
        }
        let reason = facts
            .reason
            .or_else(|| (!facts.handled).then_some("request_not_decoded"));
        fn bounded(v: &Option<String>) -> Option<std::borrow::Cow<'_, str>> {
            v.as_deref().map(audit::bounded)
        }
        let detail = bounded(&facts.detail);
        let version_id = bounded(&facts.version_id);
        let (namespace, secret, service_account) = (
            bounded(&facts.namespace),
            bounded(&facts.secret),
            bounded(&facts.service_account),
        );
        // Claims are signed, but chosen by whoever controls the IdP account.
        let (user, subject, issuer) = (
            bounded(&facts.user),
            bounded(&facts.subject),
            bounded(&facts.issuer),
        );
        let written = self.audit.write(&Record {
            time: audit::now_rfc3339(),
            audit: true,
            rpc: rpc_name,
            user: user.as_deref(),
            subject: subject.as_deref(),
            issuer: issuer.as_deref(),
            namespace: namespace.as_deref(),
            secret: secret.as_deref(),
            service_account: service_account.as_deref(),
            value_read: facts.value_read,
            client,
            decision,
            outcome,
            reason,
            authorization: facts.authorization,
            detail: detail.as_deref(),
            version_id: version_id.as_deref(),
            new_version_id: facts.new_version_id.as_deref(),
        });
        if written.is_err() && reason == Some(call::AUDIT_UNAVAILABLE) {
            // Refused because audit is down: nothing was done, and the
            // answer already says so; the loss is counted by the sink.
            return Ok(());
        }
        written.map_err(|e| {
            // One line per call would flood the log while the sink is down:
            // at most one every 10 s, with the count of the others.
            if let Some(skipped) = self.logs.audit_lost.lock().unwrap_or_else(|e| e.into_inner()).due() {
                tracing::error!(error = %e, rpc = rpc_name, more_since_last = skipped, "audit record lost; failing the request");
            }
            tonic::Status::internal(format!(
                "{e}; the request was refused or its outcome is unrecorded, tell your platform team"
            ))
        })
    }
}

/// What the audit record of one call says, filled in as the call moves
/// through the pipeline.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    user: Option<String>,
    subject: Option<String>,
    issuer: Option<String>,
    namespace: Option<String>,
    secret: Option<String>,
    service_account: Option<String>,
    value_read: bool,
    allowed: bool,
    /// The handler saw the call (tonic decoded the request).
    handled: bool,
    reason: Option<&'static str>,
    /// The authorization mode that decided the call.
    authorization: Option<&'static str>,
    /// What the authority said, when it refused or could not be asked.
    detail: Option<String>,
    /// The version the call named (as sent: bounded when written).
    version_id: Option<String>,
    /// The version the call wrote (made by the server).
    new_version_id: Option<String>,
    /// The call's task has reached its audit step (so a panic after it
    /// must not write a second record).
    recorded: bool,
}

impl Facts {
    fn identify(&mut self, identity: &Identity) {
        self.user = Some(identity.user.clone());
        self.subject = Some(identity.subject.clone());
        self.issuer = Some(identity.issuer.clone());
    }
}

/// The facts of a call in flight, written by the handler's half of the
/// pipeline and read by the layer's once the answer is ready.
#[derive(Debug, Clone, Default)]
struct FactsSlot(Arc<Mutex<Facts>>);

impl FactsSlot {
    fn update(&self, f: impl FnOnce(&mut Facts)) {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()));
    }

    fn get(&self) -> Facts {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Put in a request's extensions once admission and the token check passed:
/// what the handler's half of the pipeline starts from.
#[derive(Debug, Clone)]
pub struct Admitted {
    identity: Identity,
    started: Instant,
    deadline: std::time::Duration,
    facts: FactsSlot,
}
