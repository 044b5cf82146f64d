//! `kiss_kube_reviews_total{kind,outcome}` and `kiss_kube_cache_total{kind,result}`
//! move as the `kubernetes` mode's calls say they should, scraped from the
//! server's metrics port. A test binary of its own, with one test: the
//! metrics registry is per process, so no other test's calls count here.

#![cfg(feature = "kubernetes")]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kiss_server::audit::Audit;
use kiss_server::auth::{AuthMode, AuthSettings, Authenticator, Jwks, NamespaceRule};
use kiss_server::config::Config;
use kiss_server::dev::{self, DevKey};
use kiss_server::pipeline::Limits;
use kiss_server::server::{self, Parts};
use kiss_server::store::Naming;
use kiss_server::store::local::LocalStore;
use kiss_testkit::Caller;
use kiss_testkit::kube::{KubeApi, Rule};
use tonic::Code;

/// The sum of `metric`'s samples whose labels include every one of `labels`.
fn sample(metrics: SocketAddr, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let text = kiss_testkit::http_get(metrics, "/metrics").unwrap();
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Every counter of the two families, as `(kind, label, value)`.
fn snapshot(metrics: SocketAddr) -> Vec<(String, String, String, f64)> {
    let mut out = Vec::new();
    for (metric, second) in [
        ("kiss_kube_reviews_total", "outcome"),
        ("kiss_kube_cache_total", "result"),
    ] {
        for kind in ["token_review", "access_review", "namespaces"] {
            let values: &[&str] = if second == "result" {
                &["hit", "miss"]
            } else {
                &[
                    "allowed",
                    "denied",
                    "authenticated",
                    "unauthenticated",
                    "listed",
                    "error",
                ]
            };
            for v in values {
                let n = sample(metrics, metric, &[("kind", kind), (second, v)]);
                out.push((metric.to_string(), kind.to_string(), v.to_string(), n));
            }
        }
    }
    out
}

/// [`snapshot`] off the runtime (the scrape blocks; the server runs here).
async fn scrape(metrics: SocketAddr) -> Vec<(String, String, String, f64)> {
    tokio::task::spawn_blocking(move || snapshot(metrics))
        .await
        .unwrap()
}

/// What moved between two snapshots, as `metric{kind,label} +n`, sorted.
fn moved(
    before: &[(String, String, String, f64)],
    after: &[(String, String, String, f64)],
) -> Vec<String> {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| a.3 != b.3)
        .map(|(b, a)| format!("{}{{{},{}}} +{}", b.0, b.1, b.2, a.3 - b.3))
        .collect()
}

#[tokio::test]
async fn reviews_and_cache_answers_are_counted() {
    let kube = KubeApi::start().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = kube.kubeconfig();
    let config = Config::try_parse_args([
        "kiss-server",
        "--jwks-url",
        "http://127.0.0.1:9/unused",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--authorization",
        "kubernetes",
        "--kube-timeout",
        "3",
    ])
    .unwrap();
    config.validate().unwrap();
    let settings = AuthSettings {
        namespaces: NamespaceRule::new(dev::GROUPS_CLAIM, None).unwrap(),
        ..dev::dev_auth_settings()
    };
    let authorizer = server::authorizer(&config, &settings).await.unwrap();
    let key = DevKey::generate().unwrap();
    let jwks = Jwks::fixed(key.key_set());
    let ready = jwks.ready();
    let parts = Parts {
        store: Arc::new(LocalStore::open(dir.path(), Naming::default(), 7).unwrap()),
        auth: AuthMode::Verify(Arc::new(
            Authenticator::new(settings, jwks).keeping_credentials(),
        )),
        authorizer,
        audit: Arc::new(Audit::to_file(&dir.path().join("audit.jsonl")).unwrap()),
        trusted_proxies: Vec::new(),
        tls: None,
        shutdown_grace: Duration::from_secs(1),
        limits: Limits::unlimited(),
    };
    let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut running = server::start(parts, listener, ready).await.unwrap();
    let metrics = running
        .serve_metrics("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();

    let token = key.mint("alice@example.com", &["team-a"], 3600);
    kube.token(&token, "oidc:alice", "uid-alice", &["oidc:team-a"], &[]);
    kube.allow(Rule::user("oidc:alice").namespace("team-a"));
    kube.namespaces(&["team-a", "team-b"]);
    let mut alice = Caller::connect(running.addr, token).await;

    // A cold call: one TokenReview and one SubjectAccessReview, both misses.
    let s0 = scrape(metrics).await;
    alice.ping("team-a").await.unwrap();
    let s1 = scrape(metrics).await;
    assert_eq!(
        moved(&s0, &s1),
        [
            "kiss_kube_reviews_total{token_review,authenticated} +1",
            "kiss_kube_reviews_total{access_review,allowed} +1",
            "kiss_kube_cache_total{token_review,miss} +1",
            "kiss_kube_cache_total{access_review,miss} +1",
        ]
    );

    // Warm: two more calls are cache hits and no review.
    alice.ping("team-a").await.unwrap();
    alice.ping("team-a").await.unwrap();
    let s2 = scrape(metrics).await;
    assert_eq!(
        moved(&s1, &s2),
        [
            "kiss_kube_cache_total{token_review,hit} +2",
            "kiss_kube_cache_total{access_review,hit} +2",
        ]
    );

    // A denial: one review, denied.
    let denied = alice.ping("team-b").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let s3 = scrape(metrics).await;
    assert_eq!(
        moved(&s2, &s3),
        [
            "kiss_kube_reviews_total{access_review,denied} +1",
            "kiss_kube_cache_total{token_review,hit} +1",
            "kiss_kube_cache_total{access_review,miss} +1",
        ]
    );

    // WhoAmI: one namespace list, and each namespace's `list` review from
    // the cache (both were just decided); the caller's user is looked up
    // twice (authorization, then the namespace checks), both hits.
    let who = alice.who_am_i().await.unwrap();
    assert_eq!(who.namespaces, ["team-a"]);
    let s4 = scrape(metrics).await;
    assert_eq!(
        moved(&s3, &s4),
        [
            "kiss_kube_reviews_total{namespaces,listed} +1",
            "kiss_kube_cache_total{token_review,hit} +2",
            "kiss_kube_cache_total{access_review,hit} +2",
            "kiss_kube_cache_total{namespaces,miss} +1",
        ]
    );

    // A token the cluster does not know: one TokenReview, unauthenticated.
    let stranger = key.mint("mallory@example.com", &["team-a"], 3600);
    let mut mallory = Caller::connect(running.addr, stranger).await;
    let refused = mallory.ping("team-a").await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    let s5 = scrape(metrics).await;
    assert_eq!(
        moved(&s4, &s5),
        [
            "kiss_kube_reviews_total{token_review,unauthenticated} +1",
            "kiss_kube_cache_total{token_review,miss} +1",
        ]
    );

    // The API server down: a new decision is an error, counted as one.
    kube.go_down();
    let down = alice.get("team-a", "db", false).await.unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    let s6 = scrape(metrics).await;
    assert_eq!(
        moved(&s5, &s6),
        [
            "kiss_kube_reviews_total{access_review,error} +1",
            "kiss_kube_cache_total{token_review,hit} +1",
            "kiss_kube_cache_total{access_review,miss} +1",
        ]
    );
}
