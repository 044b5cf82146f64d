//! Prometheus metrics, served on their own port (`--metrics-addr`).
//!
//! One process-wide registry, so that every layer (auth, handlers, stores,
//! the JWKS cache) records without plumbing.

use std::net::SocketAddr;
use std::sync::OnceLock;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The kiss-server metrics.
pub struct Metrics {
    registry: Registry,
    /// Requests by RPC and gRPC status code.
    pub requests: IntCounterVec,
    /// Request latency by RPC, seconds.
    pub latency: HistogramVec,
    /// Refused tokens by reason.
    pub auth_failures: IntCounterVec,
    /// Authorization denials by reason.
    pub denials: IntCounterVec,
    /// Backend calls by API and outcome (ok, throttled, error, ...).
    pub aws_calls: IntCounterVec,
    /// JWKS fetches by outcome.
    pub jwks_fetches: IntCounterVec,
    /// Requests refused by the rate limit or the concurrency cap.
    pub limited: IntCounterVec,
    /// Audit records (or notices) that could not be written.
    pub audit_write_failures: IntCounterVec,
    /// Refusal records left out of the audit log, summarised per client.
    pub audit_suppressed: IntCounterVec,
    /// Kubernetes API calls of the `kubernetes` and `rolebinding` modes, by
    /// kind (token_review, access_review, rolebinding, namespaces) and
    /// outcome (allowed, denied, authenticated, unauthenticated, found,
    /// missing, listed, error).
    pub kube_reviews: IntCounterVec,
    /// Answers of those modes' caches, by kind and result (hit, miss).
    pub kube_cache: IntCounterVec,
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    registry
        .register(Box::new(c.clone()))
        .expect("unique metric name");
    c
}

impl Metrics {
    fn new() -> Metrics {
        let registry = Registry::new();
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "kiss_request_duration_seconds",
                "Time to answer a KISS call.",
            )
            .buckets(vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["rpc"],
        )
        .expect("valid metric definition");
        registry
            .register(Box::new(latency.clone()))
            .expect("unique metric name");
        Metrics {
            requests: counter(
                &registry,
                "kiss_requests_total",
                "KISS calls by RPC and status code.",
                &["rpc", "code"],
            ),
            latency,
            auth_failures: counter(
                &registry,
                "kiss_auth_failures_total",
                "Refused tokens by reason.",
                &["reason"],
            ),
            denials: counter(
                &registry,
                "kiss_authorization_denials_total",
                "Calls refused after authentication, by reason.",
                &["reason"],
            ),
            aws_calls: counter(
                &registry,
                "kiss_aws_calls_total",
                "AWS API calls by API and outcome.",
                &["api", "outcome"],
            ),
            jwks_fetches: counter(
                &registry,
                "kiss_jwks_fetches_total",
                "JWKS fetches by outcome.",
                &["outcome"],
            ),
            limited: counter(
                &registry,
                "kiss_limited_total",
                "Calls refused by the rate limit or the concurrency cap.",
                &["limit"],
            ),
            audit_write_failures: counter(
                &registry,
                "kiss_audit_write_failures_total",
                "Audit records that could not be written (readiness is NOT_SERVING meanwhile).",
                &[],
            ),
            audit_suppressed: counter(
                &registry,
                "kiss_audit_suppressed_total",
                "Refusal records left out past a client's audit budget, counted in summary records.",
                &[],
            ),
            kube_reviews: counter(
                &registry,
                "kiss_kube_reviews_total",
                "Kubernetes API calls made to authorize, by kind and outcome.",
                &["kind", "outcome"],
            ),
            kube_cache: counter(
                &registry,
                "kiss_kube_cache_total",
                "Authorization cache answers, by kind and result (hit or miss).",
                &["kind", "result"],
            ),
            registry,
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        // Encoding into a Vec cannot fail for the text format.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// The process-wide metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Serves `/metrics` on `addr` in the background, with `also` (the
/// server's gRPC health, for probes) beside it: HTTP/1.1 for scrapers,
/// HTTP/2 without TLS for gRPC. Returns the bound address.
pub async fn serve(
    addr: SocketAddr,
    also: axum::Router,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = also.route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                metrics().render(),
            )
        }),
    );
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics endpoint stopped");
        }
    });
    Ok((bound, task))
}
