//! The handler's half of the pipeline. A handler declares its call (RPC,
//! namespace, name, service account) and hands over the store operation as
//! a closure; the pipeline validates the names, asks the authorizer, takes
//! the shared permit and only then gives the closure the store.

use std::sync::Arc;

use kiss_proto::Rpc;
use kiss_proto::names;
use kiss_proto::pb;
use kiss_proto::reasons;
use tonic::{Request, Status};

use super::{Access, Admitted, Authorizer, FactsSlot, Pipeline, Verdict};
use crate::auth::Identity;
use crate::metrics::metrics;
use crate::status::{status_of, with_reason};
use crate::store::{SecretRef, SecretStore, StoreError};

/// The answer to a state-changing call while audit records cannot be written.
pub const AUDIT_DOWN: &str = "audit records cannot be written; no change was made. \
     Try again later, and tell your platform team if it persists";

/// The reason recorded (and counted) for such a refusal.
pub const AUDIT_UNAVAILABLE: &str = "audit_unavailable";

/// What a call is, as its handler declares it.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    rpc: Rpc,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
    service_account: Option<&'a str>,
    version: Option<&'a str>,
    version_required: bool,
    expected_version: Option<&'a str>,
    reads_value: bool,
}

impl<'a> Call<'a> {
    /// A call of `rpc` that acts on no namespace (WhoAmI).
    pub fn new(rpc: Rpc) -> Self {
        Call {
            rpc,
            namespace: None,
            name: None,
            service_account: None,
            version: None,
            version_required: false,
            expected_version: None,
            reads_value: false,
        }
    }

    /// Names one version of the secret (empty: none).
    pub fn version(mut self, version_id: &'a str) -> Self {
        self.version = Some(version_id).filter(|v| !v.is_empty());
        self
    }

    /// Names the version the call acts on, which it cannot do without.
    pub fn required_version(self, version_id: &'a str) -> Self {
        Self {
            version_required: true,
            ..self.version(version_id)
        }
    }

    /// Is based on version `version_id` of the secret (empty: on none), which
    /// the store refuses if it is no longer current.
    pub fn expected_version(mut self, version_id: &'a str) -> Self {
        self.expected_version = Some(version_id).filter(|v| !v.is_empty());
        self
    }

    /// Acts on the namespace of the request's metadata (which must be granted).
    pub fn namespace(mut self, meta: Option<&'a pb::ClientMeta>) -> Self {
        self.namespace = Some(meta.map_or("", |m| m.namespace.as_str()));
        self
    }

    /// Names one secret.
    pub fn name(mut self, name: &'a str) -> Self {
        self.name = Some(name);
        self
    }

    /// Names one ServiceAccount.
    pub fn service_account(mut self, service_account: &'a str) -> Self {
        self.service_account = Some(service_account);
        self
    }

    /// Reads a secret's value when `yes`.
    pub fn reads_value(mut self, yes: bool) -> Self {
        self.reads_value = yes;
        self
    }

    /// The first field that is not well-formed, as a sentence for the caller.
    fn validate(&self) -> Result<(), String> {
        self.validate_names().map_err(|e| e.to_string())?;
        if let Some(expected) = self.expected_version
            && let Err(names::NameError::BadVersionId { id }) = names::validate_version_id(expected)
        {
            return Err(format!(
                "the expected version '{id}' is not a version id: version ids are 32 to 64 \
                 letters, digits and '-'; send the id of the version the change is based on \
                 (list the secret's versions to see them), or none to skip the check"
            ));
        }
        Ok(())
    }

    fn validate_names(&self) -> Result<(), names::NameError> {
        if let Some(ns) = self.namespace {
            names::validate_namespace(ns)?;
        }
        if let Some(name) = self.name {
            names::validate_secret_name(name)?;
        }
        if let Some(sa) = self.service_account {
            names::validate_service_account(sa)?;
        }
        match self.version {
            Some(version) => names::validate_version_id(version)?,
            None if self.version_required => return Err(names::NameError::MissingVersionId),
            None => {}
        }
        Ok(())
    }
}

/// What a store operation gets once its call is allowed.
pub struct Allowed {
    /// The backend.
    pub store: Arc<dyn SecretStore>,
    /// The secret the call names (an empty name when it names none).
    pub secret: SecretRef,
    /// The caller.
    pub identity: Identity,
    /// The authorizer, for calls that report what the caller may do.
    pub authorizer: Arc<dyn Authorizer>,
    facts: FactsSlot,
}

impl Allowed {
    /// Records in the call's audit record the version it wrote.
    pub fn wrote(&self, version_id: &str) {
        self.facts
            .update(|f| f.new_version_id = Some(version_id.to_owned()));
    }
}

impl Pipeline {
    /// Runs `call`: names, authorization, the shared permit, then `op` with
    /// the store, bounded by the call's deadline unless the call may change
    /// AWS (which, once started, runs to its end so that its outcome is the
    /// one recorded).
    pub async fn run<R, T, F, Fut>(
        &self,
        req: &Request<R>,
        call: Call<'_>,
        op: F,
    ) -> Result<T, Status>
    where
        F: FnOnce(Allowed) -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let Some(admitted) = req.extensions().get::<Admitted>().cloned() else {
            // Only reachable if the service were mounted without its layer.
            return Err(Status::internal(
                "the request did not pass kiss-server's pipeline",
            ));
        };
        let facts = &admitted.facts;
        facts.update(|f| {
            f.handled = true;
            f.namespace = call.namespace.map(str::to_owned);
            f.secret = call.name.map(str::to_owned);
            f.service_account = call.service_account.map(str::to_owned);
            f.version_id = call.version.map(str::to_owned);
            f.value_read = call.reads_value;
        });
        let refuse = |status: Status, reason: &'static str| {
            metrics().denials.with_label_values(&[reason]).inc();
            facts.update(|f| f.reason = Some(reason));
            status
        };
        if let Err(e) = call.validate() {
            let status = with_reason(Status::invalid_argument(e), reasons::INVALID);
            return Err(refuse(status, "invalid_name"));
        }
        facts.update(|f| f.authorization = Some(self.authorizer.mode()));
        let verdict = match call.namespace {
            Some(namespace) => {
                crate::telemetry::record_namespace(namespace);
                let access = Access {
                    rpc: call.rpc,
                    namespace,
                    name: call.name,
                    reads_value: call.reads_value,
                };
                self.authorizer.authorize(&admitted.identity, &access).await
            }
            None => self.authorizer.admit(&admitted.identity).await,
        };
        match verdict {
            Verdict::Allow => {}
            Verdict::Deny { reason, detail } => {
                let mut message = match call.namespace {
                    Some(namespace) => format!(
                        "user '{}' is not authorized for namespace '{namespace}'",
                        admitted.identity.user
                    ),
                    None => format!("user '{}' is not authorized", admitted.identity.user),
                };
                if let Some(detail) = &detail {
                    message.push_str(": ");
                    message.push_str(detail);
                }
                facts.update(|f| f.detail = detail);
                let status = with_reason(
                    Status::permission_denied(message),
                    reasons::PERMISSION_DENIED,
                );
                return Err(refuse(status, reason));
            }
            Verdict::Unavailable(message) => {
                facts.update(|f| f.detail = Some(message.clone()));
                let status = with_reason(Status::unavailable(message), reasons::UNAVAILABLE);
                return Err(refuse(status, "authorizer_unavailable"));
            }
            Verdict::Unauthenticated(message) => {
                facts.update(|f| f.detail = Some(message.clone()));
                let status =
                    with_reason(Status::unauthenticated(message), reasons::UNAUTHENTICATED);
                return Err(refuse(status, "cluster_unauthenticated"));
            }
        }
        let _permit = self
            .admission
            .shared()
            .map_err(|(status, reason)| refuse(status, reason))?;
        let remaining = admitted.deadline.saturating_sub(admitted.started.elapsed());
        if remaining.is_zero() {
            let status = Status::deadline_exceeded(
                "the call's deadline passed before it could start; nothing was done",
            );
            return Err(refuse(status, "deadline"));
        }
        if call.rpc.changes_state() && !self.audit.is_healthy() {
            // A change must never reach AWS without its record: while audit
            // records cannot be written, state-changing calls stop here.
            let status = with_reason(Status::unavailable(AUDIT_DOWN), reasons::UNAVAILABLE);
            return Err(refuse(status, AUDIT_UNAVAILABLE));
        }
        facts.update(|f| f.allowed = true);
        // The store sees who it acts for through a task-local, not a
        // parameter (with --source-identity-role-arn, the AWS store acts as
        // the caller); see store::caller.
        let caller = Some(Arc::from(admitted.identity.user.as_str()));
        let op = op(Allowed {
            store: self.store.clone(),
            secret: SecretRef::new(
                call.namespace.unwrap_or_default(),
                call.name.unwrap_or_default(),
            ),
            identity: admitted.identity.clone(),
            authorizer: self.authorizer.clone(),
            facts: facts.clone(),
        });
        let op = crate::store::caller::scope(caller, op);
        let outcome = if call.rpc.changes_state() {
            Ok(op.await)
        } else {
            tokio::time::timeout(remaining, op).await
        };
        match outcome {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if matches!(
                    e,
                    StoreError::Internal(_)
                        | StoreError::AccessDenied(_)
                        | StoreError::Unavailable(_)
                ) {
                    tracing::warn!(rpc = call.rpc.name(), namespace = call.namespace, error = %e, "store call failed");
                }
                facts.update(|f| f.reason = Some(e.reason()));
                Err(status_of(&e))
            }
            Err(_) => {
                facts.update(|f| f.reason = Some("deadline"));
                Err(Status::deadline_exceeded(format!(
                    "the secret store did not answer within {:.1} s; try again",
                    remaining.as_secs_f64()
                )))
            }
        }
    }
}
