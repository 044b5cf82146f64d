//! One user's gRPC client: every RPC as one call with the user's token, so
//! that tests say what a user does (`alice.create("team", "db", "v")`)
//! rather than spelling out the request messages each time. Tests that
//! send malformed requests on purpose build them by hand.

use kiss_proto::pb::{self, kiss_client::KissClient};
use tonic::Status;
use tonic::transport::Channel;

use crate::authorized;

/// A plain-text channel to a kiss-server listening on `addr`, connected
/// now; calls give up after 30 s rather than hang a test.
pub async fn connect(addr: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a loopback URI")
        .timeout(std::time::Duration::from_secs(30))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("no kiss-server at {addr}: {e}"))
}

/// `namespace` as the request's client metadata.
pub fn meta(namespace: &str) -> Option<pb::ClientMeta> {
    Some(pb::ClientMeta {
        namespace: namespace.into(),
    })
}

/// A client that sends every call with one bearer token.
#[derive(Clone)]
pub struct Caller {
    client: KissClient<Channel>,
    token: String,
}

impl Caller {
    /// Connects to `addr` and calls with `token`.
    pub async fn connect(addr: std::net::SocketAddr, token: impl Into<String>) -> Self {
        Self::new(connect(addr).await, token)
    }

    /// Calls through `channel` with `token`.
    pub fn new(channel: Channel, token: impl Into<String>) -> Self {
        Self {
            client: KissClient::new(channel),
            token: token.into(),
        }
    }

    /// The same channel, another user.
    pub fn as_user(&self, token: impl Into<String>) -> Self {
        Self {
            client: self.client.clone(),
            token: token.into(),
        }
    }

    /// The underlying client, for requests built by hand.
    pub fn client(&mut self) -> &mut KissClient<Channel> {
        &mut self.client
    }

    /// `message` carrying this caller's token.
    pub fn request<T>(&self, message: T) -> tonic::Request<T> {
        authorized(&self.token, message)
    }

    pub async fn ping(&mut self, namespace: &str) -> Result<(), Status> {
        let request = self.request(pb::PingRequest {
            metadata: meta(namespace),
        });
        self.client.ping(request).await.map(drop)
    }

    pub async fn who_am_i(&mut self) -> Result<pb::WhoAmIResponse, Status> {
        let request = self.request(pb::WhoAmIRequest {});
        Ok(self.client.who_am_i(request).await?.into_inner())
    }

    /// The names in `namespace`.
    pub async fn list(&mut self, namespace: &str) -> Result<Vec<String>, Status> {
        Ok(self.list_entries(namespace).await?.secrets)
    }

    /// The whole listing of `namespace`, entries included.
    pub async fn list_entries(
        &mut self,
        namespace: &str,
    ) -> Result<pb::ListSecretsResponse, Status> {
        let request = self.request(pb::ListSecretsRequest {
            metadata: meta(namespace),
        });
        Ok(self.client.list_secrets(request).await?.into_inner())
    }

    /// The secret's details; its value only when `include_value`.
    pub async fn get(
        &mut self,
        namespace: &str,
        name: &str,
        include_value: bool,
    ) -> Result<pb::SecretDetails, Status> {
        self.get_version(namespace, name, "", include_value).await
    }

    /// The secret as of `version` (empty: the current one).
    pub async fn get_version(
        &mut self,
        namespace: &str,
        name: &str,
        version: &str,
        include_value: bool,
    ) -> Result<pb::SecretDetails, Status> {
        let request = self.request(pb::GetSecretRequest {
            metadata: meta(namespace),
            name: name.into(),
            include_value,
            version_id: version.into(),
        });
        let reply = self.client.get_secret(request).await?.into_inner();
        reply
            .secret
            .ok_or_else(|| Status::internal("GetSecret answered without a secret"))
    }

    /// The secret's versions, newest first.
    pub async fn versions(
        &mut self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<pb::SecretVersion>, Status> {
        let request = self.request(pb::ListSecretVersionsRequest {
            metadata: meta(namespace),
            name: name.into(),
        });
        Ok(self
            .client
            .list_secret_versions(request)
            .await?
            .into_inner()
            .versions)
    }

    /// Rolls back to `version`, expecting `expected_version` when not
    /// empty; the new version id.
    pub async fn rollback(
        &mut self,
        namespace: &str,
        name: &str,
        version: &str,
        expected_version: &str,
    ) -> Result<String, Status> {
        let request = self.request(pb::RollbackSecretRequest {
            metadata: meta(namespace),
            name: name.into(),
            version_id: version.into(),
            expected_version_id: expected_version.into(),
        });
        Ok(self
            .client
            .rollback_secret(request)
            .await?
            .into_inner()
            .version_id)
    }

    /// Creates a secret; its version id.
    pub async fn create(
        &mut self,
        namespace: &str,
        name: &str,
        value: &str,
    ) -> Result<String, Status> {
        let request = self.request(pb::CreateSecretRequest {
            metadata: meta(namespace),
            name: name.into(),
            value: value.into(),
        });
        Ok(self
            .client
            .create_secret(request)
            .await?
            .into_inner()
            .version_id)
    }

    /// Updates a secret, expecting `expected_version` when not empty.
    pub async fn update(
        &mut self,
        namespace: &str,
        name: &str,
        value: &str,
        expected_version: &str,
    ) -> Result<pb::UpdateSecretResponse, Status> {
        let request = self.request(pb::UpdateSecretRequest {
            metadata: meta(namespace),
            name: name.into(),
            value: value.into(),
            expected_version_id: expected_version.into(),
        });
        Ok(self.client.update_secret(request).await?.into_inner())
    }

    pub async fn delete(
        &mut self,
        namespace: &str,
        name: &str,
    ) -> Result<pb::DeleteSecretResponse, Status> {
        let request = self.request(pb::DeleteSecretRequest {
            metadata: meta(namespace),
            name: name.into(),
        });
        Ok(self.client.delete_secret(request).await?.into_inner())
    }

    pub async fn list_deleted(
        &mut self,
        namespace: &str,
    ) -> Result<Vec<pb::DeletedSecret>, Status> {
        let request = self.request(pb::ListDeletedSecretsRequest {
            metadata: meta(namespace),
        });
        Ok(self
            .client
            .list_deleted_secrets(request)
            .await?
            .into_inner()
            .secrets)
    }

    pub async fn restore(&mut self, namespace: &str, name: &str) -> Result<(), Status> {
        let request = self.request(pb::RestoreSecretRequest {
            metadata: meta(namespace),
            name: name.into(),
        });
        self.client.restore_secret(request).await.map(drop)
    }

    /// Creates the secret's read policy; its ARN.
    pub async fn create_policy(&mut self, namespace: &str, name: &str) -> Result<String, Status> {
        let request = self.request(pb::CreateSecretIamPolicyRequest {
            metadata: meta(namespace),
            name: name.into(),
        });
        Ok(self
            .client
            .create_secret_iam_policy(request)
            .await?
            .into_inner()
            .policy_arn)
    }

    pub async fn delete_policy(
        &mut self,
        namespace: &str,
        name: &str,
        unbind: bool,
    ) -> Result<pb::DeleteSecretIamPolicyResponse, Status> {
        let request = self.request(pb::DeleteSecretIamPolicyRequest {
            metadata: meta(namespace),
            name: name.into(),
            unbind,
        });
        Ok(self
            .client
            .delete_secret_iam_policy(request)
            .await?
            .into_inner())
    }

    pub async fn bind(
        &mut self,
        namespace: &str,
        name: &str,
        service_account: &str,
    ) -> Result<(), Status> {
        let request = self.request(pb::BindSecretRequest {
            metadata: meta(namespace),
            name: name.into(),
            service_account_name: service_account.into(),
        });
        self.client.bind_secret(request).await.map(drop)
    }

    pub async fn unbind(
        &mut self,
        namespace: &str,
        name: &str,
        service_account: &str,
    ) -> Result<(), Status> {
        let request = self.request(pb::UnbindSecretRequest {
            metadata: meta(namespace),
            name: name.into(),
            service_account_name: service_account.into(),
        });
        self.client.unbind_secret(request).await.map(drop)
    }
}
