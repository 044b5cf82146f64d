//! Wiring: the store, the auth layer, health and reflection, TLS, and
//! graceful shutdown.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use kiss_proto::pb::kiss_server::KissServer;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tonic::transport::{Identity as TlsIdentity, Server, ServerTlsConfig};
use tonic_health::ServingStatus;
use tower::Layer;

use crate::audit::Audit;
use crate::auth::{self, AuthMode, AuthSettings, Authenticator, Jwks, NamespaceRule};
use crate::config::{Backend, Config};
use crate::pipeline::layer::PipelineLayer;
use crate::pipeline::{Authorizer, ClaimsAuthorizer, Limits, Pipeline};
use crate::public::{
    MAX_HEALTH_REPLY_BYTES, MAX_PUBLIC_REQUEST_BYTES, MAX_REFLECTION_REPLY_BYTES, PublicLayer,
};
use crate::service::KissService;
use crate::store::SecretStore;
use crate::store::local::LocalStore;

/// Largest request message accepted: a 64 KiB value plus room for names.
pub const MAX_REQUEST_BYTES: usize = 128 * 1024;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A flag's value is unusable.
    #[error("{0}")]
    Config(String),
    /// The storage backend could not be opened.
    #[error("cannot open the {backend} backend: {source}")]
    Store {
        /// Which backend.
        backend: &'static str,
        /// Why.
        source: crate::store::StoreError,
    },
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}; is another process using the port?")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The gRPC transport failed.
    #[error("the gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Everything the running server is made of.
pub struct Parts {
    /// The backend.
    pub store: Arc<dyn SecretStore>,
    /// How tokens are checked.
    pub auth: AuthMode,
    /// Who may do what.
    pub authorizer: Arc<dyn Authorizer>,
    /// Where audit records go.
    pub audit: Arc<Audit>,
    /// Proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// TLS, if configured.
    pub tls: Option<ServerTlsConfig>,
    /// How long in-flight calls get after shutdown is requested.
    pub shutdown_grace: Duration,
    /// Admission bounds (rate and concurrency).
    pub limits: Limits,
}

/// A server running in the background.
pub struct Running {
    /// The address it listens on.
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServeError>>,
    /// Tasks that live as long as the server (the JWKS refresher).
    background: Vec<JoinHandle<()>>,
    /// Health, served again beside the metrics for probes.
    probes: axum::Router,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.background {
            task.abort();
        }
    }
}

impl Running {
    /// Asks the server to stop (health goes NOT_SERVING, in-flight calls get
    /// the grace period) and waits until it has.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.wait().await
    }

    /// Waits until the server stops on its own.
    pub async fn wait(&mut self) -> Result<(), ServeError> {
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(ServeError::Config(format!("the server task failed: {e}"))),
        }
    }

    /// Serves `/metrics` on `addr` for as long as the server runs, and
    /// `grpc.health.v1` beside it (HTTP/2 without TLS), so that probes do
    /// not compete with clients for the main listener's connections.
    pub async fn serve_metrics(&mut self, addr: SocketAddr) -> Result<SocketAddr, ServeError> {
        let (bound, task) = crate::metrics::serve(addr, self.probes.clone())
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        tracing::info!(addr = %bound, "metrics on /metrics, and gRPC health for probes");
        self.background.push(task);
        Ok(bound)
    }

    /// A handle that triggers shutdown, for signal handlers.
    pub fn take_shutdown(&mut self) -> Option<oneshot::Sender<()>> {
        self.shutdown.take()
    }
}

/// The token rules the flags describe; fails on a bad regex or algorithm.
pub fn auth_settings(config: &Config) -> Result<AuthSettings, ServeError> {
    let namespaces = NamespaceRule::new(&config.namespaces_key, config.namespaces_regex.as_deref())
        .map_err(|e| ServeError::Config(e.to_string()))?;
    let algorithms = auth::parse_algorithms(&config.algorithms)
        .map_err(|e| ServeError::Config(format!("--algorithms: {e}")))?;
    if algorithms.is_empty() {
        return Err(ServeError::Config("--algorithms lists no algorithm".into()));
    }
    if let Some(admin) = &config.admin_namespace {
        kiss_proto::names::validate_namespace(admin)
            .map_err(|e| ServeError::Config(format!("--admin-namespace: {e}")))?;
    }
    Ok(AuthSettings {
        algorithms,
        issuer: config.issuer.clone().filter(|s| !s.is_empty()),
        audiences: config
            .audiences
            .iter()
            .filter(|a| !a.is_empty())
            .cloned()
            .collect(),
        required_claims: config.required_claims.clone(),
        leeway: config.leeway,
        identifier_key: config.identifier_key.clone(),
        require_verified_email: !config.allow_unverified_email,
        namespaces,
        admin_namespace: config.admin_namespace.clone(),
    })
}

/// The authorizer `--authorization` selects. For the Kubernetes modes the
/// client configuration is loaded here (files only; nothing is sent), so
/// `--check-config` and start-up fail alike on a configuration that cannot
/// work.
#[cfg_attr(
    not(feature = "kubernetes"),
    allow(
        unused_variables,
        reason = "only the Kubernetes modes read the claim rules"
    )
)]
pub async fn authorizer(
    config: &Config,
    settings: &AuthSettings,
) -> Result<Arc<dyn Authorizer>, ServeError> {
    use crate::config::Authorization;
    match config.authorization() {
        Authorization::Claims => Ok(Arc::new(ClaimsAuthorizer)),
        #[cfg(feature = "kubernetes")]
        mode => {
            use crate::cluster::{self, ClusterApi, KubeIdentity, ReviewSettings};
            use crate::config::KubeIdentitySource;
            let kube = cluster::load_config(config.kubeconfig.as_deref())
                .await
                .map_err(ServeError::Config)?;
            let url = kube.cluster_url.to_string();
            let api = ClusterApi::new(kube, Duration::from_secs(config.kube_timeout))
                .map_err(ServeError::Config)?;
            if mode == Authorization::Rolebinding {
                let prefix = config.rolebinding_prefix.clone().unwrap_or_default();
                tracing::info!(api_server = %url, prefix = %prefix, "authorization: rolebinding (the Go kiss 0.1 rule)");
                return Ok(Arc::new(cluster::RoleBindingAuthorizer::new(
                    api,
                    &prefix,
                    settings.namespaces.clone(),
                )));
            }
            let identity = match config.kube_identity {
                KubeIdentitySource::TokenReview => KubeIdentity::TokenReview,
                KubeIdentitySource::Claims => KubeIdentity::Claims {
                    username_claim: config.kube_username_claim.clone(),
                    username_prefix: config.kube_username_prefix.clone(),
                    groups_claim: config
                        .kube_groups_claim
                        .clone()
                        .unwrap_or_else(|| config.namespaces_key.clone()),
                    groups_prefix: config.kube_groups_prefix.clone(),
                },
            };
            tracing::info!(api_server = %url, api_group = %config.kube_api_group, identity = ?config.kube_identity, "authorization: kubernetes (the cluster's RBAC)");
            Ok(Arc::new(cluster::KubernetesAuthorizer::new(
                api,
                ReviewSettings {
                    identity,
                    api_group: config.kube_api_group.clone(),
                    allowed_ttl: Duration::from_secs(config.kube_allowed_ttl),
                    denied_ttl: Duration::from_secs(config.kube_denied_ttl),
                },
            )))
        }
        #[cfg(not(feature = "kubernetes"))]
        mode => Err(ServeError::Config(format!(
            "--authorization {}: this build of kiss-server has no Kubernetes support; use --authorization claims",
            mode.name()
        ))),
    }
}

/// Reads the TLS key pair, if configured.
pub fn tls_config(config: &Config) -> Result<Option<ServerTlsConfig>, ServeError> {
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Ok(None);
    };
    let read = |p: &std::path::Path, what: &str| {
        std::fs::read(p).map_err(|e| {
            ServeError::Config(format!("cannot read the TLS {what} {}: {e}", p.display()))
        })
    };
    let identity = TlsIdentity::from_pem(read(cert, "certificate")?, read(key, "key")?);
    Ok(Some(ServerTlsConfig::new().identity(identity)))
}

/// Opens the backend the flags select.
pub async fn open_store(config: &Config) -> Result<Arc<dyn SecretStore>, ServeError> {
    match config.backend {
        Backend::Local => {
            let store = LocalStore::open(
                &config.data_dir,
                config.naming(),
                config.deletion_recovery_days,
            )
            .map_err(|source| ServeError::Store {
                backend: "local",
                source,
            })?;
            tracing::info!(file = %store.path().display(), "local backend");
            Ok(Arc::new(store))
        }
        #[cfg(feature = "aws")]
        Backend::Aws => {
            let store = crate::store::aws::AwsStore::connect(config)
                .await
                .map_err(|source| ServeError::Store {
                    backend: "aws",
                    source,
                })?;
            // ListSecrets has a low quota shared by the whole account: a
            // team opening one namespace at once must cost one listing.
            Ok(Arc::new(crate::store::coalesce::Coalescing::new(store)))
        }
        #[cfg(not(feature = "aws"))]
        Backend::Aws => Err(ServeError::Config(
            "this build of kiss-server has no AWS backend; use --backend local".into(),
        )),
    }
}

/// Opens the audit sink the flags select.
pub fn open_audit(config: &Config) -> Result<Arc<Audit>, ServeError> {
    match &config.audit_log {
        None => Ok(Arc::new(Audit::to_log())),
        Some(path) => Audit::to_file(path).map(Arc::new).map_err(|e| {
            ServeError::Config(format!("cannot open the audit log {}: {e}", path.display()))
        }),
    }
}

/// Streams one connection may have open at once.
pub const MAX_STREAMS_PER_CONNECTION: u32 = 64;

/// What one connection may make the server hold, whoever is on the other
/// end: streams, header bytes, silent or vanished peers, and its age.
fn transport_bounds(builder: Server) -> Server {
    builder
        .http2_max_header_list_size(64 * 1024)
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        // A peer that stops answering pings is gone: close its connection.
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .tcp_keepalive(Some(Duration::from_secs(60)))
        // Streams reset before the server saw them (rapid reset) and errors
        // the server had to answer are bounded per connection.
        .http2_max_pending_accept_reset_streams(Some(32))
        .http2_max_local_error_reset_streams(Some(256))
        // Even a busy, well-behaved connection is renewed now and then, so
        // nothing it holds can accumulate for ever.
        .max_connection_age(Duration::from_secs(30 * 60))
        .max_connection_age_grace(Duration::from_secs(60))
}

/// Binds `addr`.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, ServeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })
}

/// Starts serving on `listener`. Health reports NOT_SERVING until `ready`
/// turns true (the JWKS has keys), and again once shutdown begins.
pub async fn start(
    parts: Parts,
    listener: TcpListener,
    ready: watch::Receiver<bool>,
) -> Result<Running, ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    let (health, health_service) = tonic_health::server::health_reporter();
    // "" answers liveness: the process is up. The KISS service name answers
    // readiness: NOT_SERVING until the keys are loaded, so an IdP outage at
    // startup does not get pods restarted. On shutdown both go NOT_SERVING.
    health.set_service_status("", ServingStatus::Serving).await;
    health
        .set_service_status(kiss_proto::SERVICE_NAME, ServingStatus::NotServing)
        .await;
    let set_health = {
        let health = health.clone();
        move |status: ServingStatus| {
            let health = health.clone();
            async move {
                if status == ServingStatus::NotServing {
                    health.set_service_status("", status).await;
                }
                health
                    .set_service_status(kiss_proto::SERVICE_NAME, status)
                    .await;
            }
        }
    };
    // Readiness: keys loaded, audit records writable, not shutting down.
    let (stopping_flag, stopping_seen) = watch::channel(false);
    let readiness = tokio::spawn(follow_readiness(
        health.clone(),
        ready,
        parts.audit.healthy(),
        stopping_seen,
    ));

    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(kiss_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| ServeError::Config(format!("reflection: {e}")))?;

    // What anyone may reach without a token, bounded (see `public`).
    let public = PublicLayer::new(parts.limits.read_deadline, parts.limits.max_watch_streams);
    let health_service = public.layer(
        health_service
            .max_decoding_message_size(MAX_PUBLIC_REQUEST_BYTES)
            .max_encoding_message_size(MAX_HEALTH_REPLY_BYTES),
    );
    // The same statuses on the metrics address, for the kubelet's probes.
    let probes = tonic::service::Routes::new(
        public.layer(
            tonic_health::pb::health_server::HealthServer::new(
                tonic_health::server::HealthService::from_health_reporter(health.clone()),
            )
            .max_decoding_message_size(MAX_PUBLIC_REQUEST_BYTES)
            .max_encoding_message_size(MAX_HEALTH_REPLY_BYTES),
        ),
    )
    .into_axum_router();
    let reflection = public.layer(
        reflection
            .max_decoding_message_size(MAX_PUBLIC_REQUEST_BYTES)
            .max_encoding_message_size(MAX_REFLECTION_REPLY_BYTES),
    );
    let audit = parts.audit.clone();
    let pipeline = Arc::new(Pipeline::new(
        parts.auth,
        parts.authorizer,
        parts.store,
        parts.audit,
        parts.limits,
        parts.trusted_proxies.clone(),
    ));
    let upkeep = tokio::spawn(upkeep(Arc::downgrade(&pipeline), audit));
    let kiss = KissServer::new(KissService::new(pipeline.clone()))
        .max_decoding_message_size(MAX_REQUEST_BYTES);
    let kiss = PipelineLayer::new(pipeline.clone()).layer(kiss);

    let limits = &parts.limits;
    let (incoming, streams) = crate::listener::incoming(
        listener,
        crate::listener::Bounds {
            max: limits.max_connections,
            per_address: limits.max_connections_per_address,
            handshake_timeout: limits.handshake_timeout,
            idle_timeout: limits.idle_timeout,
            tls: parts.tls.is_some(),
            trusted: parts.trusted_proxies.clone(),
        },
    );
    // Room for headers past the token cap, so an oversized token gets our
    // explanation rather than a bare HTTP 431 from the transport.
    let mut builder = transport_bounds(Server::builder());
    if let Some(tls) = parts.tls {
        // A stalled TLS handshake is bounded like a stalled preface.
        builder = builder.tls_config(tls.timeout(limits.handshake_timeout))?;
    }
    let router = builder
        .layer(streams)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(kiss);

    let (tx, rx) = oneshot::channel::<()>();
    let grace = parts.shutdown_grace;
    let last_words = pipeline.clone();
    let task = tokio::spawn(async move {
        let (stopping_tx, stopping_rx) = oneshot::channel::<()>();
        let signal = async move {
            let _ = rx.await;
            stopping_flag.send_replace(true);
            set_health(ServingStatus::NotServing).await;
            tracing::info!(grace = ?grace, "shutting down; in-flight calls may finish");
            let _ = stopping_tx.send(());
        };
        let serve = router.serve_with_incoming_shutdown(incoming, signal);
        tokio::pin!(serve);
        let served = tokio::select! {
            r = &mut serve => r.map_err(ServeError::from),
            _ = stopping_rx => match tokio::time::timeout(grace, serve).await {
                Ok(r) => r.map_err(ServeError::from),
                Err(_) => {
                    tracing::warn!("grace period over; dropping the calls still in flight");
                    Ok(())
                }
            },
        };
        // Refusals counted but not yet summarised would go with the process.
        last_words.flush_all_refusal_summaries();
        served
    });
    Ok(Running {
        addr,
        shutdown: Some(tx),
        task,
        background: vec![readiness, upkeep],
        probes,
    })
}

/// Sets the readiness status (the KISS service name) to SERVING exactly
/// while the keys are loaded, audit records can be written and shutdown
/// has not begun.
async fn follow_readiness(
    health: tonic_health::server::HealthReporter,
    mut keys: watch::Receiver<bool>,
    mut audit: watch::Receiver<bool>,
    mut stopping: watch::Receiver<bool>,
) {
    let mut serving = None;
    loop {
        let now = *keys.borrow_and_update()
            && *audit.borrow_and_update()
            && !*stopping.borrow_and_update();
        if *stopping.borrow() {
            // Shutdown sets NOT_SERVING itself, liveness included.
            return;
        }
        if serving != Some(now) {
            let status = if now {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            if serving.is_some() || now {
                tracing::info!(serving = now, "readiness changed");
            }
            health
                .set_service_status(kiss_proto::SERVICE_NAME, status)
                .await;
            serving = Some(now);
        }
        // A sender that is gone never changes again; wait on the others.
        tokio::select! {
            Ok(()) = keys.changed() => {}
            Ok(()) = audit.changed() => {}
            Ok(()) = stopping.changed() => {}
            else => return,
        }
    }
}

/// What the server does between calls: once per interval, the summaries of
/// refusals left out of the audit log; every second while audit records
/// cannot be written, a try at writing again. Ends with the pipeline.
async fn upkeep(pipeline: std::sync::Weak<Pipeline>, audit: Arc<Audit>) {
    let interval = match pipeline.upgrade() {
        Some(p) => p.refusal_interval(),
        None => return,
    };
    let mut summaries = tokio::time::interval(interval);
    let mut probe = tokio::time::interval(Duration::from_secs(1));
    summaries.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = summaries.tick() => match pipeline.upgrade() {
                Some(p) => p.flush_refusal_summaries(),
                None => return,
            },
            _ = probe.tick() => audit.probe(),
        }
    }
}

/// Starts the server the flags describe, in the background. Returns it with
/// its key cache (whose fetch count metrics and tests read).
pub async fn launch(config: &Config) -> Result<(Running, Arc<Jwks>), ServeError> {
    config.validate().map_err(ServeError::Config)?;
    let settings = auth_settings(config)?;
    let tls = tls_config(config)?;
    let audit = open_audit(config)?;
    let url = config
        .jwks_url
        .clone()
        .ok_or_else(|| ServeError::Config("--jwks-url is required".into()))?;
    let jwks = Jwks::from_url(&url).map_err(|e| ServeError::Config(e.to_string()))?;
    let ready = jwks.ready();
    let refresher = tokio::spawn(jwks.clone().keep_fresh());
    let authorizer = authorizer(config, &settings).await?;
    let mut authenticator = Authenticator::new(settings, jwks.clone());
    if config.authorization() == crate::config::Authorization::Kubernetes {
        // TokenReviews send the token; --kube-identity claims reads its claims.
        authenticator = authenticator.keeping_credentials();
    }
    let store = open_store(config).await?;
    let listener = bind(config.listen_addr()).await?;
    let parts = Parts {
        store,
        auth: AuthMode::Verify(Arc::new(authenticator)),
        authorizer,
        audit,
        trusted_proxies: config.trusted_proxies.clone(),
        tls,
        shutdown_grace: config.shutdown_grace(),
        limits: config.limits(),
    };
    let mut running = start(parts, listener, ready).await?;
    running.background.push(refresher);
    if let Some(addr) = config.metrics_addr {
        running.serve_metrics(addr).await?;
    }
    tracing::info!(addr = %running.addr, backend = ?config.backend, authorization = config.authorization().name(), "kiss-server listening");
    Ok((running, jwks))
}

/// Runs the server the flags describe until SIGTERM or SIGINT.
pub async fn run(config: Config) -> Result<(), ServeError> {
    let (mut running, _jwks) = launch(&config).await?;
    let stop = running.take_shutdown();
    tokio::spawn(async move {
        wait_for_signal().await;
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
    });
    running.wait().await
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
