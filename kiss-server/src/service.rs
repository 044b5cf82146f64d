//! The KISS gRPC service: one handler per RPC, each doing
//! validate -> authorize -> store -> audit, and mapping errors to statuses.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use kiss_proto::names::{self, NameError};
use kiss_proto::pb::{self, kiss_server::Kiss};
use tonic::{Code, Request, Response, Status};

use crate::audit::{self, Audit, Decision, Record};
use crate::auth::Identity;
use crate::auth::layer::{Audited, ClientAddr, RequestStart};
use crate::limits::RateLimiter;
use crate::metrics::metrics;
use crate::store::{SecretRef, SecretStore, StoreError};

/// Store calls never run longer than this, whatever the client's deadline.
pub const MAX_CALL_TIME: Duration = Duration::from_secs(30);

/// The KISS service.
pub struct KissService {
    store: Arc<dyn SecretStore>,
    audit: Arc<Audit>,
    limiter: RateLimiter,
}

impl KissService {
    /// A service over `store`, auditing to `audit`, limiting each identity
    /// with `limiter`.
    pub fn new(store: Arc<dyn SecretStore>, audit: Arc<Audit>, limiter: RateLimiter) -> Self {
        Self {
            store,
            audit,
            limiter,
        }
    }
}

/// One request on its way through the handler.
struct Call {
    rpc: &'static str,
    started: std::time::Instant,
    audited: Audited,
    identity: Identity,
    client: String,
    deadline: Duration,
    namespace: String,
    name: Option<String>,
    service_account: Option<String>,
}

impl Call {
    fn new<T>(rpc: &'static str, req: &Request<T>) -> Result<Self, Status> {
        let identity = req.extensions().get::<Identity>().cloned().ok_or_else(|| {
            // Only reachable if the service were mounted without its auth layer.
            Status::unauthenticated("no verified identity on this request")
        })?;
        let client = req
            .extensions()
            .get::<ClientAddr>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.clone());
        let deadline = req
            .metadata()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_grpc_timeout)
            .map_or(MAX_CALL_TIME, |d| d.min(MAX_CALL_TIME));
        let started = req
            .extensions()
            .get::<RequestStart>()
            .map_or_else(std::time::Instant::now, |s| s.0);
        let audited = req
            .extensions()
            .get::<Audited>()
            .cloned()
            .unwrap_or_default();
        Ok(Call {
            rpc,
            started,
            audited,
            identity,
            client,
            deadline,
            namespace: String::new(),
            name: None,
            service_account: None,
        })
    }

    fn namespace(mut self, meta: Option<&pb::ClientMeta>) -> Self {
        self.namespace = meta.map(|m| m.namespace.clone()).unwrap_or_default();
        self
    }

    fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    fn service_account(mut self, sa: &str) -> Self {
        self.service_account = Some(sa.to_owned());
        self
    }

    fn secret(&self) -> SecretRef {
        SecretRef::new(&self.namespace, self.name.as_deref().unwrap_or_default())
    }

    /// Names valid and namespace granted, or the status that says why not.
    fn authorize(&self, needs_namespace: bool) -> Result<(), (Status, &'static str)> {
        let invalid = |e: NameError| (Status::invalid_argument(e.to_string()), "invalid_name");
        if needs_namespace {
            names::validate_namespace(&self.namespace).map_err(invalid)?;
        }
        if let Some(name) = &self.name {
            names::validate_secret_name(name).map_err(invalid)?;
        }
        if let Some(sa) = &self.service_account {
            names::validate_service_account(sa).map_err(invalid)?;
        }
        if needs_namespace && !self.identity.may_access(&self.namespace) {
            return Err((
                Status::permission_denied(format!(
                    "user '{}' is not authorized for namespace '{}'",
                    self.identity.user, self.namespace
                )),
                "namespace_not_granted",
            ));
        }
        Ok(())
    }
}

/// Parses gRPC's `grpc-timeout` header (`<digits><unit>`).
fn parse_grpc_timeout(v: &str) -> Option<Duration> {
    if v.len() < 2 {
        return None;
    }
    let (digits, unit) = v.split_at(v.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The status a store error is answered with.
pub fn status_of(err: &StoreError) -> Status {
    let code = match err {
        StoreError::NotFound { .. }
        | StoreError::RoleNotFound { .. }
        | StoreError::NotBound { .. } => Code::NotFound,
        StoreError::AlreadyExists { .. } | StoreError::PolicyExists { .. } => Code::AlreadyExists,
        StoreError::ScheduledForDeletion { .. }
        | StoreError::NotDeleted { .. }
        | StoreError::PolicyMissing { .. }
        | StoreError::PolicyAttached { .. } => Code::FailedPrecondition,
        StoreError::VersionConflict { .. } => Code::Aborted,
        StoreError::LimitReached(_) => Code::ResourceExhausted,
        StoreError::Invalid(_) => Code::InvalidArgument,
        StoreError::Unavailable(_) => Code::Unavailable,
        StoreError::AccessDenied(_) | StoreError::Internal(_) => Code::Internal,
    };
    Status::new(code, err.to_string())
}

fn timestamp(t: Option<SystemTime>) -> Option<prost_types::Timestamp> {
    t.map(prost_types::Timestamp::from)
}

impl KissService {
    fn record(
        &self,
        call: &Call,
        decision: Decision,
        code: Code,
        reason: Option<&str>,
    ) -> Result<(), Status> {
        call.audited
            .0
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.audit
            .write(&Record {
                time: audit::now_rfc3339(),
                audit: true,
                rpc: call.rpc,
                user: Some(&call.identity.user),
                subject: Some(&call.identity.subject),
                namespace: Some(&call.namespace).filter(|n| !n.is_empty()).map(String::as_str),
                secret: call.name.as_deref(),
                service_account: call.service_account.as_deref(),
                client: &call.client,
                decision,
                outcome: audit::code_name(code),
                reason,
            })
            .map_err(|e| {
                tracing::error!(error = %e, rpc = call.rpc, "audit record lost; failing the request");
                Status::internal(format!("{e}; the request was refused or its outcome is unrecorded, tell your platform team"))
            })
    }

    fn observe(&self, call: &Call, code: Code) {
        let m = metrics();
        m.requests
            .with_label_values(&[call.rpc, audit::code_name(code)])
            .inc();
        m.latency
            .with_label_values(&[call.rpc])
            .observe(call.started.elapsed().as_secs_f64());
    }

    /// Authorizes `call`, runs `op` under the deadline, audits the outcome.
    async fn run<T, F>(&self, call: Call, needs_namespace: bool, op: F) -> Result<T, Status>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        // Only a well-formed namespace goes on the span: callers choose it.
        if names::validate_namespace(&call.namespace).is_ok() {
            crate::telemetry::record_namespace(&call.namespace);
        }
        let refused = call.authorize(needs_namespace).err().or_else(|| {
            let wait = self.limiter.check(&call.identity.user).err()?;
            let mut status = Status::resource_exhausted(format!(
                "too many requests from '{}'; retry in {:.1} s",
                call.identity.user,
                wait.as_secs_f64()
            ));
            if let Ok(v) = wait.as_millis().to_string().parse() {
                status.metadata_mut().insert("retry-after-ms", v);
            }
            metrics().limited.with_label_values(&["rate"]).inc();
            Some((status, "rate_limited"))
        });
        if let Some((status, reason)) = refused {
            metrics().denials.with_label_values(&[reason]).inc();
            self.observe(&call, status.code());
            self.record(&call, Decision::Deny, status.code(), Some(reason))?;
            return Err(status);
        }
        let result = match tokio::time::timeout(call.deadline, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if matches!(
                    e,
                    StoreError::Internal(_)
                        | StoreError::AccessDenied(_)
                        | StoreError::Unavailable(_)
                ) {
                    tracing::warn!(rpc = call.rpc, namespace = %call.namespace, error = %e, "store call failed");
                }
                Err(status_of(&e))
            }
            Err(_) => Err(Status::deadline_exceeded(format!(
                "the secret store did not answer within {:?}; try again",
                call.deadline
            ))),
        };
        let code = result.as_ref().map_or_else(Status::code, |_| Code::Ok);
        self.observe(&call, code);
        self.record(&call, Decision::Allow, code, None)?;
        tracing::debug!(rpc = call.rpc, user = %call.identity.user, namespace = %call.namespace, outcome = audit::code_name(code), "handled");
        result
    }
}

#[tonic::async_trait]
impl Kiss for KissService {
    async fn ping(
        &self,
        req: Request<pb::PingRequest>,
    ) -> Result<Response<pb::PingResponse>, Status> {
        let call = Call::new("Ping", &req)?.namespace(req.get_ref().metadata.as_ref());
        self.run(call, true, async { Ok(()) }).await?;
        Ok(Response::new(pb::PingResponse {}))
    }

    async fn create_secret(
        &self,
        req: Request<pb::CreateSecretRequest>,
    ) -> Result<Response<pb::CreateSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new("CreateSecret", &req)?
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let secret = call.secret();
        let version_id = self
            .run(call, true, self.store.create(&secret, &r.value))
            .await?;
        Ok(Response::new(pb::CreateSecretResponse { version_id }))
    }

    async fn list_secrets(
        &self,
        req: Request<pb::ListSecretsRequest>,
    ) -> Result<Response<pb::ListSecretsResponse>, Status> {
        let call = Call::new("ListSecrets", &req)?.namespace(req.get_ref().metadata.as_ref());
        let ns = call.namespace.clone();
        let entries = self.run(call, true, self.store.list(&ns)).await?;
        Ok(Response::new(pb::ListSecretsResponse {
            secrets: entries.iter().map(|e| e.name.clone()).collect(),
            entries: entries
                .into_iter()
                .map(|e| pb::SecretEntry {
                    name: e.name,
                    created: timestamp(e.created),
                    last_changed: timestamp(e.last_changed),
                })
                .collect(),
        }))
    }

    async fn delete_secret(
        &self,
        req: Request<pb::DeleteSecretRequest>,
    ) -> Result<Response<pb::DeleteSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new("DeleteSecret", &req)?
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let secret = call.secret();
        let when = self.run(call, true, self.store.delete(&secret)).await?;
        Ok(Response::new(pb::DeleteSecretResponse {
            deletion_date: timestamp(when),
        }))
    }

    async fn update_secret(
        &self,
        req: Request<pb::UpdateSecretRequest>,
    ) -> Result<Response<pb::UpdateSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new("UpdateSecret", &req)?
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let secret = call.secret();
        let expected = Some(r.expected_version_id.as_str()).filter(|v| !v.is_empty());
        let version_id = self
            .run(call, true, self.store.update(&secret, &r.value, expected))
            .await?;
        Ok(Response::new(pb::UpdateSecretResponse { version_id }))
    }

    async fn bind_secret(
        &self,
        req: Request<pb::BindSecretRequest>,
    ) -> Result<Response<pb::BindSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new("BindSecret", &req)?
            .namespace(r.metadata.as_ref())
            .name(&r.name)
            .service_account(&r.service_account_name);
        let secret = call.secret();
        self.run(
            call,
            true,
            self.store.bind(&secret, &r.service_account_name),
        )
        .await?;
        Ok(Response::new(pb::BindSecretResponse {}))
    }

    async fn create_secret_iam_policy(
        &self,
        req: Request<pb::CreateSecretIamPolicyRequest>,
    ) -> Result<Response<pb::CreateSecretIamPolicyResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new("CreateSecretIAMPolicy", &req)?
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let secret = call.secret();
        let policy_arn = self
            .run(call, true, self.store.create_policy(&secret))
            .await?;
        Ok(Response::new(pb::CreateSecretIamPolicyResponse {
            policy_arn,
        }))
    }

    async fn delete_secret_iam_policy(
        &self,
        req: Request<pb::DeleteSecretIamPolicyRequest>,
    ) -> Result<Response<pb::DeleteSecretIamPolicyResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new("DeleteSecretIAMPolicy", &req)?
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let secret = call.secret();
        let unbound = self
            .run(call, true, self.store.delete_policy(&secret, r.unbind))
            .await?;
        Ok(Response::new(pb::DeleteSecretIamPolicyResponse {
            unbound_service_accounts: unbound,
        }))
    }

    async fn who_am_i(
        &self,
        req: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let call = Call::new("WhoAmI", &req)?;
        let id = call.identity.clone();
        self.run(call, false, async { Ok(()) }).await?;
        Ok(Response::new(pb::WhoAmIResponse {
            identifier: id.user,
            subject: id.subject,
            namespaces: id.namespaces.into_iter().collect(),
            admin: id.admin,
            expires_at: id.expires_at.map(|s| prost_types::Timestamp {
                seconds: s,
                nanos: 0,
            }),
            issuer: id.issuer,
        }))
    }

    async fn get_secret(
        &self,
        req: Request<pb::GetSecretRequest>,
    ) -> Result<Response<pb::GetSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(
            if r.include_value {
                "GetSecretValue"
            } else {
                "GetSecret"
            },
            &req,
        )?
        .namespace(r.metadata.as_ref())
        .name(&r.name);
        let secret = call.secret();
        let d = self
            .run(call, true, self.store.get(&secret, r.include_value))
            .await?;
        Ok(Response::new(pb::GetSecretResponse {
            secret: Some(pb::SecretDetails {
                name: d.name,
                namespace: d.namespace,
                aws_name: d.aws_name,
                arn: d.arn,
                created: timestamp(d.created),
                last_changed: timestamp(d.last_changed),
                last_accessed: timestamp(d.last_accessed),
                version_id: d.version_id,
                has_read_policy: d.policy_arn.is_some(),
                bound_service_accounts: d.bound_service_accounts,
                value: d.value,
                policy_arn: d.policy_arn.unwrap_or_default(),
            }),
        }))
    }

    async fn list_deleted_secrets(
        &self,
        req: Request<pb::ListDeletedSecretsRequest>,
    ) -> Result<Response<pb::ListDeletedSecretsResponse>, Status> {
        let call =
            Call::new("ListDeletedSecrets", &req)?.namespace(req.get_ref().metadata.as_ref());
        let ns = call.namespace.clone();
        let entries = self.run(call, true, self.store.list_deleted(&ns)).await?;
        Ok(Response::new(pb::ListDeletedSecretsResponse {
            secrets: entries
                .into_iter()
                .map(|e| pb::DeletedSecret {
                    name: e.name,
                    deleted: timestamp(e.deleted),
                    deletion_date: timestamp(e.deletion_date),
                })
                .collect(),
        }))
    }

    async fn unbind_secret(
        &self,
        req: Request<pb::UnbindSecretRequest>,
    ) -> Result<Response<pb::UnbindSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new("UnbindSecret", &req)?
            .namespace(r.metadata.as_ref())
            .name(&r.name)
            .service_account(&r.service_account_name);
        let secret = call.secret();
        self.run(
            call,
            true,
            self.store.unbind(&secret, &r.service_account_name),
        )
        .await?;
        Ok(Response::new(pb::UnbindSecretResponse {}))
    }

    async fn restore_secret(
        &self,
        req: Request<pb::RestoreSecretRequest>,
    ) -> Result<Response<pb::RestoreSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new("RestoreSecret", &req)?
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let secret = call.secret();
        self.run(call, true, self.store.restore(&secret)).await?;
        Ok(Response::new(pb::RestoreSecretResponse {}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(parse_grpc_timeout("10S"), Some(Duration::from_secs(10)));
        assert_eq!(parse_grpc_timeout("500m"), Some(Duration::from_millis(500)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("10x"), None);
    }
}
