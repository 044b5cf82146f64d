//! The KISS gRPC service. Each handler declares its call (RPC, namespace,
//! name, service account) and the store operation; the [`Pipeline`] does
//! everything else, and handlers never hold the store themselves.

use std::sync::Arc;
use std::time::SystemTime;

use kiss_proto::Rpc;
use kiss_proto::pb::{self, kiss_server::Kiss};
use tonic::{Request, Response, Status};

use crate::pipeline::{Call, Pipeline};
use crate::store::StoreError;

/// The KISS service.
pub struct KissService {
    pipeline: Arc<Pipeline>,
}

impl KissService {
    /// The service, running every call through `pipeline`.
    pub fn new(pipeline: Arc<Pipeline>) -> Self {
        Self { pipeline }
    }
}

fn timestamp(t: Option<SystemTime>) -> Option<prost_types::Timestamp> {
    t.map(prost_types::Timestamp::from)
}

#[tonic::async_trait]
impl Kiss for KissService {
    async fn ping(
        &self,
        req: Request<pb::PingRequest>,
    ) -> Result<Response<pb::PingResponse>, Status> {
        let call = Call::new(Rpc::Ping).namespace(req.get_ref().metadata.as_ref());
        self.pipeline.run(&req, call, |_| async { Ok(()) }).await?;
        Ok(Response::new(pb::PingResponse {}))
    }

    async fn create_secret(
        &self,
        req: Request<pb::CreateSecretRequest>,
    ) -> Result<Response<pb::CreateSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(Rpc::CreateSecret)
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let version_id = self
            .pipeline
            .run(&req, call, |a| async move {
                let author = Some(a.identity.user.as_str());
                let version = a.store.create_as(&a.secret, &r.value, author).await?;
                a.wrote(&version);
                Ok(version)
            })
            .await?;
        Ok(Response::new(pb::CreateSecretResponse { version_id }))
    }

    async fn list_secrets(
        &self,
        req: Request<pb::ListSecretsRequest>,
    ) -> Result<Response<pb::ListSecretsResponse>, Status> {
        let call = Call::new(Rpc::ListSecrets).namespace(req.get_ref().metadata.as_ref());
        let entries = self
            .pipeline
            .run(&req, call, |a| async move {
                a.store.list(&a.secret.namespace).await
            })
            .await?;
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
        let call = Call::new(Rpc::DeleteSecret)
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let when = self
            .pipeline
            .run(
                &req,
                call,
                |a| async move { a.store.delete(&a.secret).await },
            )
            .await?;
        Ok(Response::new(pb::DeleteSecretResponse {
            deletion_date: timestamp(when),
        }))
    }

    async fn update_secret(
        &self,
        req: Request<pb::UpdateSecretRequest>,
    ) -> Result<Response<pb::UpdateSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(Rpc::UpdateSecret)
            .namespace(r.metadata.as_ref())
            .name(&r.name)
            .expected_version(&r.expected_version_id);
        let expected = Some(r.expected_version_id.as_str()).filter(|v| !v.is_empty());
        let version_id = self
            .pipeline
            .run(&req, call, |a| async move {
                let author = Some(a.identity.user.as_str());
                let version = a
                    .store
                    .update_as(&a.secret, &r.value, expected, author)
                    .await?;
                a.wrote(&version);
                Ok(version)
            })
            .await?;
        Ok(Response::new(pb::UpdateSecretResponse { version_id }))
    }

    async fn bind_secret(
        &self,
        req: Request<pb::BindSecretRequest>,
    ) -> Result<Response<pb::BindSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(Rpc::BindSecret)
            .namespace(r.metadata.as_ref())
            .name(&r.name)
            .service_account(&r.service_account_name);
        self.pipeline
            .run(&req, call, |a| async move {
                a.store.bind(&a.secret, &r.service_account_name).await
            })
            .await?;
        Ok(Response::new(pb::BindSecretResponse {}))
    }

    async fn create_secret_iam_policy(
        &self,
        req: Request<pb::CreateSecretIamPolicyRequest>,
    ) -> Result<Response<pb::CreateSecretIamPolicyResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(Rpc::CreateSecretIamPolicy)
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let policy_arn = self
            .pipeline
            .run(&req, call, |a| async move {
                a.store.create_policy(&a.secret).await
            })
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
        let call = Call::new(Rpc::DeleteSecretIamPolicy)
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let unbound = self
            .pipeline
            .run(&req, call, |a| async move {
                a.store.delete_policy(&a.secret, r.unbind).await
            })
            .await?;
        Ok(Response::new(pb::DeleteSecretIamPolicyResponse {
            unbound_service_accounts: unbound,
        }))
    }

    async fn who_am_i(
        &self,
        req: Request<pb::WhoAmIRequest>,
    ) -> Result<Response<pb::WhoAmIResponse>, Status> {
        let (id, namespaces, recovery_days) = self
            .pipeline
            .run(&req, Call::new(Rpc::WhoAmI), |a| async move {
                let namespaces = a
                    .authorizer
                    .namespaces(&a.identity)
                    .await
                    .map_err(StoreError::Unavailable)?;
                Ok((a.identity, namespaces, a.store.recovery_days()))
            })
            .await?;
        Ok(Response::new(pb::WhoAmIResponse {
            identifier: id.user,
            subject: id.subject,
            namespaces,
            admin: id.admin,
            expires_at: id.expires_at.map(|s| prost_types::Timestamp {
                seconds: s,
                nanos: 0,
            }),
            issuer: id.issuer,
            deletion_recovery_days: Some(recovery_days),
        }))
    }

    async fn get_secret(
        &self,
        req: Request<pb::GetSecretRequest>,
    ) -> Result<Response<pb::GetSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(Rpc::GetSecret)
            .namespace(r.metadata.as_ref())
            .name(&r.name)
            .version(&r.version_id)
            .reads_value(r.include_value);
        let d = self
            .pipeline
            .run(&req, call, |a| async move {
                match r.version_id.as_str() {
                    "" => a.store.get(&a.secret, r.include_value).await,
                    v => a.store.get_version(&a.secret, v, r.include_value).await,
                }
            })
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
        let call = Call::new(Rpc::ListDeletedSecrets).namespace(req.get_ref().metadata.as_ref());
        let entries = self
            .pipeline
            .run(&req, call, |a| async move {
                a.store.list_deleted(&a.secret.namespace).await
            })
            .await?;
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
        let call = Call::new(Rpc::UnbindSecret)
            .namespace(r.metadata.as_ref())
            .name(&r.name)
            .service_account(&r.service_account_name);
        self.pipeline
            .run(&req, call, |a| async move {
                a.store.unbind(&a.secret, &r.service_account_name).await
            })
            .await?;
        Ok(Response::new(pb::UnbindSecretResponse {}))
    }

    async fn restore_secret(
        &self,
        req: Request<pb::RestoreSecretRequest>,
    ) -> Result<Response<pb::RestoreSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(Rpc::RestoreSecret)
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        self.pipeline
            .run(
                &req,
                call,
                |a| async move { a.store.restore(&a.secret).await },
            )
            .await?;
        Ok(Response::new(pb::RestoreSecretResponse {}))
    }

    async fn list_secret_versions(
        &self,
        req: Request<pb::ListSecretVersionsRequest>,
    ) -> Result<Response<pb::ListSecretVersionsResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(Rpc::ListSecretVersions)
            .namespace(r.metadata.as_ref())
            .name(&r.name);
        let versions = self
            .pipeline
            .run(
                &req,
                call,
                |a| async move { a.store.versions(&a.secret).await },
            )
            .await?;
        Ok(Response::new(pb::ListSecretVersionsResponse {
            versions: versions
                .into_iter()
                .map(|v| pb::SecretVersion {
                    version_id: v.version_id,
                    created: timestamp(v.created),
                    labels: v.labels,
                    author: v.author.unwrap_or_default(),
                })
                .collect(),
        }))
    }

    async fn rollback_secret(
        &self,
        req: Request<pb::RollbackSecretRequest>,
    ) -> Result<Response<pb::RollbackSecretResponse>, Status> {
        let r = req.get_ref();
        let call = Call::new(Rpc::RollbackSecret)
            .namespace(r.metadata.as_ref())
            .name(&r.name)
            .required_version(&r.version_id)
            .expected_version(&r.expected_version_id);
        let expected = Some(r.expected_version_id.as_str()).filter(|v| !v.is_empty());
        let version_id = self
            .pipeline
            .run(&req, call, |a| async move {
                let author = Some(a.identity.user.as_str());
                let version = a
                    .store
                    .rollback(&a.secret, &r.version_id, expected, author)
                    .await?;
                a.wrote(&version);
                Ok(version)
            })
            .await?;
        Ok(Response::new(pb::RollbackSecretResponse { version_id }))
    }
}
