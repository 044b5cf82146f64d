//! The gRPC channel to kiss-server, with the token on every call.
//!
//! [`Client::connect`] never waits on the network (the channel connects on
//! the first call), so the TUI can build one without freezing. Every RPC has a
//! wrapper method that turns a failed call into a [`ClientError`] whose
//! message tells the user what to do next.

use std::error::Error as _;
use std::path::PathBuf;
use std::time::Duration;

use kiss_proto::pb;
use kiss_proto::pb::kiss_client::KissClient;
use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request, Status};

use crate::settings::Settings;
use crate::tokens::REFRESH_HINT;

/// The generated KISS client with the token interceptor in front.
pub type KissGrpc = KissClient<InterceptedService<Channel, AuthInterceptor>>;

/// Why a call (or setting up the client) failed. `Display` says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// `--server-addr` is not a usable address.
    #[error(
        "'{addr}' is not a valid server address ({reason}); give host:port, e.g. localhost:10000"
    )]
    InvalidAddress {
        /// The address as given.
        addr: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The CA file could not be read or holds no certificate.
    #[error("cannot use the CA file {}: {reason}; check --ca-file", path.display())]
    CaFile {
        /// The CA file as given.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// TLS could not be set up (e.g. no system roots).
    #[error(
        "cannot set up TLS to {addr}: {reason}; give a CA bundle with --ca-file, or --secure=false for a plaintext server"
    )]
    Tls {
        /// The server address.
        addr: String,
        /// What went wrong.
        reason: String,
    },
    /// The token holds characters that cannot travel in a header.
    #[error(
        "the token cannot be sent (it holds characters not allowed in a header); choose another token file"
    )]
    InvalidToken,
    /// No connection could be made.
    #[error(
        "cannot reach kiss-server at {addr}: {detail}; check --server-addr and whether it uses TLS (--secure=false for plaintext)"
    )]
    Unreachable {
        /// The server address.
        addr: String,
        /// What the transport said.
        detail: String,
    },
    /// The call did not finish within the deadline.
    #[error("kiss-server at {addr} did not answer within {}; try again, or raise --timeout", crate::duration::format_go(*timeout))]
    Timeout {
        /// The server address.
        addr: String,
        /// The deadline that passed.
        timeout: Duration,
    },
    /// The server did not accept the token (missing, expired, not trusted).
    #[error("the server refused the token: {message}; if it has expired, {REFRESH_HINT}")]
    Unauthenticated {
        /// The server's message.
        message: String,
    },
    /// The token does not grant the namespace; the server's message verbatim.
    #[error("{message}")]
    PermissionDenied {
        /// The server's message, e.g. `user 'x' is not authorized for namespace 'y'`.
        message: String,
    },
    /// Any other refusal or failure reported by the server.
    #[error("{message}")]
    Server {
        /// The gRPC status code.
        code: Code,
        /// The server's message (or the code's description when it sent none).
        message: String,
        /// The machine-readable reason ([`kiss_proto::reasons`]); `None`
        /// from servers older than the reasons contract.
        reason: Option<String>,
    },
}

impl ClientError {
    /// The gRPC status code behind the error, when the call got that far.
    /// `UNAVAILABLE` for an unreachable server and `DEADLINE_EXCEEDED` for a timeout.
    pub fn code(&self) -> Option<Code> {
        match self {
            ClientError::Unreachable { .. } => Some(Code::Unavailable),
            ClientError::Timeout { .. } => Some(Code::DeadlineExceeded),
            ClientError::Unauthenticated { .. } => Some(Code::Unauthenticated),
            ClientError::PermissionDenied { .. } => Some(Code::PermissionDenied),
            ClientError::Server { code, .. } => Some(*code),
            ClientError::InvalidAddress { .. }
            | ClientError::CaFile { .. }
            | ClientError::Tls { .. }
            | ClientError::InvalidToken => None,
        }
    }

    /// The server's machine-readable reason for a refusal, one of
    /// [`kiss_proto::reasons`], so advice never depends on its wording.
    pub fn reason(&self) -> Option<&str> {
        match self {
            ClientError::Server { reason, .. } => reason.as_deref(),
            _ => None,
        }
    }

    /// Whether picking another token may help (expired or refused token).
    pub fn is_token_problem(&self) -> bool {
        matches!(
            self,
            ClientError::Unauthenticated { .. } | ClientError::InvalidToken
        )
    }

    /// Classifies a failed call.
    pub fn from_status(status: &Status, addr: &str, timeout: Duration) -> ClientError {
        let message = if status.message().is_empty() {
            status.code().description().to_owned()
        } else {
            status.message().to_owned()
        };
        // Transport failures come back as statuses too; their source chain
        // says whether the call ever reached a server.
        let mut source = status.source();
        while let Some(err) = source {
            if err.is::<tonic::TimeoutExpired>() {
                return ClientError::Timeout {
                    addr: addr.to_owned(),
                    timeout,
                };
            }
            if err.is::<tonic::ConnectError>() {
                return ClientError::Unreachable {
                    addr: addr.to_owned(),
                    detail: innermost(err),
                };
            }
            source = err.source();
        }
        match status.code() {
            Code::Unauthenticated => ClientError::Unauthenticated { message },
            Code::PermissionDenied => ClientError::PermissionDenied { message },
            Code::DeadlineExceeded => ClientError::Timeout {
                addr: addr.to_owned(),
                timeout,
            },
            // No grpc-status from a server, only a broken transport: most
            // often a plaintext client talking to a TLS port or the reverse.
            Code::Unknown | Code::Internal | Code::Unavailable if status.source().is_some() => {
                ClientError::Unreachable {
                    addr: addr.to_owned(),
                    detail: message,
                }
            }
            code => ClientError::Server {
                code,
                message,
                reason: kiss_proto::reasons::of(status).map(str::to_owned),
            },
        }
    }
}

/// The deepest message of an error chain: "Connection refused (os error 111)"
/// says more than "tcp connect error".
fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err;
    while let Some(next) = last.source() {
        last = next;
    }
    let deepest = last.to_string().trim_end_matches('.').to_owned();
    let top = err.to_string().trim_end_matches('.').to_owned();
    if deepest == top || top.contains(&deepest) {
        top
    } else {
        format!("{top}: {deepest}")
    }
}

/// Puts `authorization: Bearer <token>` and the deadline on every call.
#[derive(Clone)]
pub struct AuthInterceptor {
    header: AsciiMetadataValue,
    timeout: Duration,
}

impl Interceptor for AuthInterceptor {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.header.clone());
        // Tells the server the deadline as well, so it can give up in time.
        request.set_timeout(self.timeout);
        Ok(request)
    }
}

/// A connection to kiss-server that sends one token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    grpc: KissGrpc,
    addr: String,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.addr)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Prepares a channel to `settings.server_addr`; it connects on the first
    /// call, so this never waits on the network.
    ///
    /// TLS is used when `settings.secure`, trusting `settings.ca_file` if given
    /// and the system's roots otherwise. An address with an explicit
    /// `http://` or `https://` scheme decides TLS by itself.
    pub async fn connect(settings: &Settings, token: String) -> Result<Client, ClientError> {
        let addr = settings.server_addr.trim().to_owned();
        let (uri, tls) = if addr.starts_with("https://") {
            (addr.clone(), true)
        } else if addr.starts_with("http://") {
            (addr.clone(), false)
        } else if settings.secure {
            (format!("https://{addr}"), true)
        } else {
            (format!("http://{addr}"), false)
        };
        let invalid = |reason: String| ClientError::InvalidAddress {
            addr: addr.clone(),
            reason,
        };
        if addr.is_empty() {
            return Err(invalid("it is empty".into()));
        }
        let parsed: tonic::codegen::http::Uri = uri.parse().map_err(|e| invalid(format!("{e}")))?;
        if parsed.host().is_none_or(str::is_empty) {
            return Err(invalid("no host".into()));
        }
        let mut endpoint = Endpoint::from_shared(uri)
            .map_err(|e| invalid(e.to_string()))?
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .tcp_nodelay(true);
        if tls {
            // Without its own timeout a TLS handshake with a silent peer
            // outlives the per-call deadline.
            let mut config = ClientTlsConfig::new().timeout(settings.timeout);
            config = match &settings.ca_file {
                Some(path) => {
                    let pem = tokio::fs::read(path)
                        .await
                        .map_err(|e| ClientError::CaFile {
                            path: path.clone(),
                            reason: e.to_string(),
                        })?;
                    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                        return Err(ClientError::CaFile {
                            path: path.clone(),
                            reason: "it holds no PEM certificate".into(),
                        });
                    }
                    config.ca_certificate(Certificate::from_pem(pem))
                }
                None => config.with_native_roots(),
            };
            endpoint = endpoint.tls_config(config).map_err(|e| ClientError::Tls {
                addr: addr.clone(),
                reason: innermost(&e),
            })?;
        }
        let header = AsciiMetadataValue::try_from(format!("Bearer {}", token.trim()))
            .map_err(|_| ClientError::InvalidToken)?;
        let channel = endpoint.connect_lazy();
        let interceptor = AuthInterceptor {
            header,
            timeout: settings.timeout,
        };
        Ok(Client {
            grpc: KissClient::with_interceptor(channel, interceptor),
            addr,
            timeout: settings.timeout,
        })
    }

    /// The generated client, for calls the wrappers below do not cover.
    pub fn kiss(&self) -> KissGrpc {
        self.grpc.clone()
    }

    /// The server address calls go to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Awaits one call, bounded by the deadline even where the transport's
    /// own timeouts do not reach (e.g. a peer that accepts and never answers).
    async fn call<T>(
        &self,
        call: impl Future<Output = Result<tonic::Response<T>, Status>>,
    ) -> Result<T, ClientError> {
        // The margin lets the transport's own, more precise error win the race.
        match tokio::time::timeout(self.timeout + Duration::from_millis(250), call).await {
            Ok(Ok(response)) => Ok(response.into_inner()),
            Ok(Err(status)) => Err(ClientError::from_status(&status, &self.addr, self.timeout)),
            Err(_) => Err(ClientError::Timeout {
                addr: self.addr.clone(),
                timeout: self.timeout,
            }),
        }
    }

    /// `Ping`: is the server there, and does it accept the token for `namespace`?
    pub async fn ping(&self, namespace: &str) -> Result<pb::PingResponse, ClientError> {
        let req = pb::PingRequest {
            metadata: meta(namespace),
        };
        self.call(self.kiss().ping(req)).await
    }

    /// `ListSecrets`: the namespace's live secrets.
    pub async fn list(&self, namespace: &str) -> Result<pb::ListSecretsResponse, ClientError> {
        let req = pb::ListSecretsRequest {
            metadata: meta(namespace),
        };
        self.call(self.kiss().list_secrets(req)).await
    }

    /// `ListDeletedSecrets`: secrets scheduled for deletion that can be restored.
    pub async fn list_deleted(
        &self,
        namespace: &str,
    ) -> Result<pb::ListDeletedSecretsResponse, ClientError> {
        let req = pb::ListDeletedSecretsRequest {
            metadata: meta(namespace),
        };
        self.call(self.kiss().list_deleted_secrets(req)).await
    }

    /// `GetSecret`: one secret's details, with its value if `include_value`.
    pub async fn get(
        &self,
        namespace: &str,
        name: &str,
        include_value: bool,
    ) -> Result<pb::GetSecretResponse, ClientError> {
        self.get_version(namespace, name, None, include_value).await
    }

    /// `GetSecret` of one version (the current one if `None`).
    pub async fn get_version(
        &self,
        namespace: &str,
        name: &str,
        version_id: Option<&str>,
        include_value: bool,
    ) -> Result<pb::GetSecretResponse, ClientError> {
        let req = pb::GetSecretRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
            include_value,
            version_id: version_id.unwrap_or_default().to_owned(),
        };
        self.call(self.kiss().get_secret(req)).await
    }

    /// `ListSecretVersions`: the secret's versions, newest first.
    pub async fn versions(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<pb::ListSecretVersionsResponse, ClientError> {
        let req = pb::ListSecretVersionsRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
        };
        self.call(self.kiss().list_secret_versions(req)).await
    }

    /// `RollbackSecret`: `version_id`'s value as a new current version;
    /// with `expected_version_id`, refused (ABORTED) if the secret changed.
    pub async fn rollback(
        &self,
        namespace: &str,
        name: &str,
        version_id: &str,
        expected_version_id: Option<&str>,
    ) -> Result<pb::RollbackSecretResponse, ClientError> {
        let req = pb::RollbackSecretRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
            version_id: version_id.to_owned(),
            expected_version_id: expected_version_id.unwrap_or_default().to_owned(),
        };
        self.call(self.kiss().rollback_secret(req)).await
    }

    /// `CreateSecret`.
    pub async fn create(
        &self,
        namespace: &str,
        name: &str,
        value: &str,
    ) -> Result<pb::CreateSecretResponse, ClientError> {
        let req = pb::CreateSecretRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
            value: value.to_owned(),
        };
        self.call(self.kiss().create_secret(req)).await
    }

    /// `UpdateSecret`; with `expected_version_id`, refused (ABORTED) if the
    /// secret changed since that version.
    pub async fn update(
        &self,
        namespace: &str,
        name: &str,
        value: &str,
        expected_version_id: Option<&str>,
    ) -> Result<pb::UpdateSecretResponse, ClientError> {
        let req = pb::UpdateSecretRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
            value: value.to_owned(),
            expected_version_id: expected_version_id.unwrap_or_default().to_owned(),
        };
        self.call(self.kiss().update_secret(req)).await
    }

    /// `DeleteSecret`: schedules the secret for deletion.
    pub async fn delete(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<pb::DeleteSecretResponse, ClientError> {
        let req = pb::DeleteSecretRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
        };
        self.call(self.kiss().delete_secret(req)).await
    }

    /// `RestoreSecret`: cancels a scheduled deletion.
    pub async fn restore(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<pb::RestoreSecretResponse, ClientError> {
        let req = pb::RestoreSecretRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
        };
        self.call(self.kiss().restore_secret(req)).await
    }

    /// `BindSecret`: attaches the read policy to a ServiceAccount's role.
    pub async fn bind(
        &self,
        namespace: &str,
        name: &str,
        service_account: &str,
    ) -> Result<pb::BindSecretResponse, ClientError> {
        let req = pb::BindSecretRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
            service_account_name: service_account.to_owned(),
        };
        self.call(self.kiss().bind_secret(req)).await
    }

    /// `UnbindSecret`: detaches the read policy from a ServiceAccount's role.
    pub async fn unbind(
        &self,
        namespace: &str,
        name: &str,
        service_account: &str,
    ) -> Result<pb::UnbindSecretResponse, ClientError> {
        let req = pb::UnbindSecretRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
            service_account_name: service_account.to_owned(),
        };
        self.call(self.kiss().unbind_secret(req)).await
    }

    /// `CreateSecretIAMPolicy`: creates the secret's read policy.
    pub async fn create_policy(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<pb::CreateSecretIamPolicyResponse, ClientError> {
        let req = pb::CreateSecretIamPolicyRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
        };
        self.call(self.kiss().create_secret_iam_policy(req)).await
    }

    /// `DeleteSecretIAMPolicy`; with `unbind`, also detaches it from every role.
    pub async fn delete_policy(
        &self,
        namespace: &str,
        name: &str,
        unbind: bool,
    ) -> Result<pb::DeleteSecretIamPolicyResponse, ClientError> {
        let req = pb::DeleteSecretIamPolicyRequest {
            metadata: meta(namespace),
            name: name.to_owned(),
            unbind,
        };
        self.call(self.kiss().delete_secret_iam_policy(req)).await
    }

    /// `WhoAmI`: who the server says the token belongs to.
    pub async fn whoami(&self) -> Result<pb::WhoAmIResponse, ClientError> {
        self.call(self.kiss().who_am_i(pb::WhoAmIRequest {})).await
    }
}

fn meta(namespace: &str) -> Option<pb::ClientMeta> {
    Some(pb::ClientMeta {
        namespace: namespace.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(addr: &str, secure: bool) -> Settings {
        Settings {
            server_addr: addr.into(),
            secure,
            timeout: Duration::from_secs(2),
            ..Settings::default()
        }
    }

    #[tokio::test]
    async fn refuses_bad_addresses_and_tokens_before_any_call() {
        for bad in ["", "http://", "a b:1"] {
            let err = Client::connect(&settings(bad, false), "t".into())
                .await
                .unwrap_err();
            assert!(
                matches!(err, ClientError::InvalidAddress { .. }),
                "{bad}: {err}"
            );
        }
        let err = Client::connect(&settings("localhost:1", false), "bad\ntoken".into())
            .await
            .unwrap_err();
        assert_eq!(err, ClientError::InvalidToken);
        let mut s = settings("localhost:1", true);
        s.ca_file = Some("/nonexistent/ca.pem".into());
        let err = Client::connect(&s, "t".into()).await.unwrap_err();
        assert!(err.to_string().contains("--ca-file"), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_server_says_what_to_check() {
        // Port 1 on loopback: nothing listens there.
        let client = Client::connect(&settings("127.0.0.1:1", false), "t".into())
            .await
            .unwrap();
        let err = client.ping("team-a").await.unwrap_err();
        assert!(matches!(err, ClientError::Unreachable { .. }), "{err:?}");
        assert_eq!(err.code(), Some(Code::Unavailable));
        let msg = err.to_string();
        assert!(
            msg.contains("cannot reach kiss-server at 127.0.0.1:1"),
            "{msg}"
        );
        assert!(msg.contains("--server-addr"), "{msg}");
    }

    #[tokio::test]
    async fn a_peer_that_never_answers_hits_the_deadline() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        // Accepts connections and holds them open without a word.
        let holder = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((conn, _)) = listener.accept().await {
                held.push(conn);
            }
        });
        for secure in [false, true] {
            let mut s = settings(&addr, secure);
            s.timeout = Duration::from_millis(300);
            let client = Client::connect(&s, "t".into()).await.unwrap();
            let err = client.ping("team-a").await.unwrap_err();
            assert!(
                matches!(
                    err,
                    ClientError::Timeout { .. } | ClientError::Unreachable { .. }
                ),
                "secure={secure}: {err:?}"
            );
        }
        holder.abort();
    }

    #[test]
    fn server_statuses_keep_the_servers_message() {
        let addr = "x:1";
        let t = Duration::from_secs(1);
        let e = ClientError::from_status(
            &Status::permission_denied("user 'x' is not authorized for namespace 'y'"),
            addr,
            t,
        );
        assert_eq!(
            e.to_string(),
            "user 'x' is not authorized for namespace 'y'"
        );
        let e = ClientError::from_status(&Status::unauthenticated("token expired"), addr, t);
        assert!(e.to_string().contains(REFRESH_HINT));
        assert!(e.is_token_problem());
        let e = ClientError::from_status(&Status::not_found("no secret 'a'"), addr, t);
        assert_eq!(e.to_string(), "no secret 'a'");
        assert_eq!(e.code(), Some(Code::NotFound));
        let e = ClientError::from_status(&Status::deadline_exceeded(""), addr, t);
        assert!(e.to_string().contains("--timeout"), "{e}");
    }
}
