//! Load run: authenticated Ping over loopback with many calls in flight,
//! against the same server with the auth layer switched off, in one run;
//! and (with the `kubernetes` feature, the default) the same Ping under
//! `--authorization kubernetes` against kiss-testkit's Kubernetes API test
//! server, caches warm, beside claims mode: the cost of asking the cluster
//! once its answers are cached. It also counts the reviews the cold path
//! sends: one TokenReview per token and one SubjectAccessReview per
//! (identity, namespace, verb), none after.
//!
//! Run: `cargo bench -p kiss-server --bench load`
//! Knobs (environment): KISS_LOAD_CONCURRENCY (default 64),
//! KISS_LOAD_SECONDS per phase (default 5), KISS_LOAD_CONNECTIONS (default 4).
//! Traffic goes to 127.0.0.1 only and stops by itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_server::audit::Audit;
use kiss_server::auth::{AuthMode, Authenticator, Identity, Jwks};
use kiss_server::dev::{self, DevKey};
use kiss_server::pipeline::{ClaimsAuthorizer, Limits};
use kiss_server::server::{self, Parts};
use kiss_server::store::Naming;
use kiss_server::store::local::LocalStore;
use tonic::transport::Channel;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn serve(mode: AuthMode, dir: &std::path::Path) -> server::Running {
    serve_with(mode, Arc::new(ClaimsAuthorizer), dir).await
}

async fn serve_with(
    mode: AuthMode,
    authorizer: Arc<dyn kiss_server::pipeline::Authorizer>,
    dir: &std::path::Path,
) -> server::Running {
    let store = LocalStore::open(dir, Naming::default(), 7).expect("store");
    let parts = Parts {
        store: Arc::new(store),
        auth: mode,
        authorizer,
        // Audit records go to the log, which has no subscriber here: the
        // cost of building them is measured, not the cost of a terminal.
        audit: Arc::new(Audit::to_log()),
        trusted_proxies: Vec::new(),
        tls: None,
        shutdown_grace: Duration::from_secs(1),
        limits: Limits::unlimited(),
    };
    let listener = server::bind("127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind");
    // Keys are fixed, so the server is ready at once.
    let (_, ready) = tokio::sync::watch::channel(true);
    server::start(parts, listener, ready).await.expect("start")
}

async fn drive(
    addr: std::net::SocketAddr,
    token: Arc<str>,
    concurrency: u64,
    connections: u64,
    secs: u64,
) -> (u64, u64) {
    let mut channels = Vec::new();
    for _ in 0..connections {
        channels.push(
            Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                .expect("connect"),
        );
    }
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for i in 0..concurrency {
        let mut client = KissClient::new(channels[(i % connections) as usize].clone());
        let (ok, failed, token) = (ok.clone(), failed.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let mut req = tonic::Request::new(pb::PingRequest {
                    metadata: Some(pb::ClientMeta {
                        namespace: "team-a".into(),
                    }),
                });
                req.metadata_mut()
                    .insert("authorization", token.parse().unwrap());
                match client.ping(req).await {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}

#[tokio::main]
async fn main() {
    // `cargo test --benches` runs bench targets with no `--bench`: skip.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let concurrency = env_or("KISS_LOAD_CONCURRENCY", 64);
    let secs = env_or("KISS_LOAD_SECONDS", 5);
    let connections = env_or("KISS_LOAD_CONNECTIONS", 4).max(1);
    let key = DevKey::generate().expect("key");
    let token: Arc<str> = format!("Bearer {}", key.mint("load@kiss.dev", &["team-a"], 3600)).into();
    let dir = tempfile::tempdir().expect("tempdir");

    let auth = Authenticator::new(dev::dev_auth_settings(), Jwks::fixed(key.key_set()));
    let with_auth = serve(AuthMode::Verify(Arc::new(auth)), &dir.path().join("a")).await;
    let identity = Identity {
        user: "load@kiss.dev".into(),
        subject: "load".into(),
        namespaces: ["team-a".to_owned()].into(),
        admin: false,
        expires_at: None,
        issuer: dev::ISSUER.into(),
        credential: Default::default(),
    };
    let without = serve(AuthMode::Fixed(Arc::new(identity)), &dir.path().join("b")).await;

    // Warm up both, then measure each for the same time.
    drive(with_auth.addr, token.clone(), concurrency, connections, 1).await;
    drive(without.addr, token.clone(), concurrency, connections, 1).await;
    let (a_ok, a_err) = drive(
        with_auth.addr,
        token.clone(),
        concurrency,
        connections,
        secs,
    )
    .await;
    let (n_ok, n_err) = drive(without.addr, token.clone(), concurrency, connections, secs).await;
    let a_rate = a_ok as f64 / secs as f64;
    let n_rate = n_ok as f64 / secs as f64;
    println!(
        "load: Ping over loopback, {concurrency} calls in flight on {connections} connections, {secs} s per phase"
    );
    println!("  with auth    : {a_rate:>10.0} req/s ({a_ok} ok, {a_err} failed)");
    println!("  auth disabled: {n_rate:>10.0} req/s ({n_ok} ok, {n_err} failed)");
    println!(
        "  ratio        : {:.1}% of unauthenticated throughput",
        100.0 * a_rate / n_rate.max(1.0)
    );
    let _ = with_auth.shutdown().await;
    let _ = without.shutdown().await;
    #[cfg(feature = "kubernetes")]
    kubernetes_mode(&key, &token, concurrency, connections, secs, dir.path()).await;
}

/// Claims mode against kubernetes mode, warm, one phase each after a warm-up.
#[cfg(feature = "kubernetes")]
async fn kubernetes_mode(
    key: &DevKey,
    token: &Arc<str>,
    concurrency: u64,
    connections: u64,
    secs: u64,
    dir: &std::path::Path,
) {
    use kiss_server::auth::{AuthSettings, NamespaceRule};
    use kiss_server::config::Config;
    use kiss_testkit::kube::{KubeApi, Rule};

    let kube = KubeApi::start().await;
    let raw = token.trim_start_matches("Bearer ");
    kube.token(raw, "oidc:load", "uid-load", &["oidc:team-a"], &[]);
    kube.allow(Rule::user("oidc:load").namespace("team-a"));
    let kubeconfig = kube.kubeconfig();
    let config = Config::try_parse_args([
        "kiss-server",
        "--jwks-url",
        "http://127.0.0.1:9/unused",
        "--kubeconfig",
        kubeconfig.to_str().expect("a UTF-8 path"),
        "--authorization",
        "kubernetes",
    ])
    .expect("kubernetes-mode flags");
    let settings = AuthSettings {
        namespaces: NamespaceRule::new(dev::GROUPS_CLAIM, None).expect("rule"),
        ..dev::dev_auth_settings()
    };
    let authorizer = server::authorizer(&config, &settings)
        .await
        .expect("the kubernetes authorizer");
    let auth = Authenticator::new(settings, Jwks::fixed(key.key_set())).keeping_credentials();
    let kube_mode = serve_with(AuthMode::Verify(Arc::new(auth)), authorizer, &dir.join("k")).await;
    let claims_auth = Authenticator::new(dev::dev_auth_settings(), Jwks::fixed(key.key_set()));
    let claims = serve(AuthMode::Verify(Arc::new(claims_auth)), &dir.join("c")).await;

    // The cold path: the first calls of one identity on one namespace.
    drive(kube_mode.addr, token.clone(), 1, 1, 1).await;
    let cold = (kube.token_reviews().len(), kube.access_reviews().len());
    drive(claims.addr, token.clone(), concurrency, connections, 1).await;
    drive(kube_mode.addr, token.clone(), concurrency, connections, 1).await;
    let (c_ok, c_err) = drive(claims.addr, token.clone(), concurrency, connections, secs).await;
    kube.clear_received();
    let (k_ok, k_err) = drive(
        kube_mode.addr,
        token.clone(),
        concurrency,
        connections,
        secs,
    )
    .await;
    let warm = (kube.token_reviews().len(), kube.access_reviews().len());
    let (c_rate, k_rate) = (c_ok as f64 / secs as f64, k_ok as f64 / secs as f64);
    println!("load: the same Ping, claims mode against kubernetes mode (caches warm)");
    println!("  claims       : {c_rate:>10.0} req/s ({c_ok} ok, {c_err} failed)");
    println!("  kubernetes   : {k_rate:>10.0} req/s ({k_ok} ok, {k_err} failed)");
    println!(
        "  ratio        : {:.2} (kubernetes / claims)",
        k_rate / c_rate.max(1.0)
    );
    println!(
        "  reviews      : cold path {} TokenReview + {} SubjectAccessReview; in the measured phase {} + {} (the decision cache expires after 30 s)",
        cold.0, cold.1, warm.0, warm.1
    );
    let _ = kube_mode.shutdown().await;
    let _ = claims.shutdown().await;
}
