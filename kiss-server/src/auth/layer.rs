//! The tower layer in front of the KISS service: verifies the token once,
//! puts the [`Identity`] and [`ClientAddr`] in the request's extensions, and
//! answers UNAUTHENTICATED (with an audit record) when the token fails.
//! Health and reflection are separate services and never pass through it.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::server::NamedService;
use tower::{Layer, Service};
use tracing::Instrument;

use super::{Authenticator, Identity};
use crate::audit::{self, Audit, Decision, Record};

/// Set by the handler once it has written the request's audit record; a
/// request tonic answers before any handler runs (undecodable or oversized
/// message, unknown method) is audited by the layer instead.
#[derive(Debug, Clone, Default)]
pub struct Audited(pub Arc<std::sync::atomic::AtomicBool>);

/// When the request arrived, for the latency metric.
#[derive(Debug, Clone, Copy)]
pub struct RequestStart(pub std::time::Instant);

/// The caller's address as audit records show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddr(pub String);

/// How requests are authenticated.
#[derive(Clone)]
pub enum AuthMode {
    /// Verify each token.
    Verify(Arc<Authenticator>),
    /// Skip verification and treat every caller as this identity. Only for
    /// benchmarks that measure the cost of the auth layer; never reachable
    /// from the command line.
    Fixed(Arc<Identity>),
}

/// Builds [`AuthService`]s.
#[derive(Clone)]
pub struct AuthLayer {
    mode: AuthMode,
    audit: Arc<Audit>,
    trusted_proxies: Arc<[IpAddr]>,
    in_flight: Arc<tokio::sync::Semaphore>,
    max_in_flight: usize,
}

impl AuthLayer {
    /// A layer with the given mode, audit sink, trusted proxies, and cap on
    /// requests handled at once.
    pub fn new(
        mode: AuthMode,
        audit: Arc<Audit>,
        trusted_proxies: Vec<IpAddr>,
        max_in_flight: usize,
    ) -> Self {
        let max_in_flight = max_in_flight.max(1);
        Self {
            mode,
            audit,
            trusted_proxies: trusted_proxies.into(),
            in_flight: Arc::new(tokio::sync::Semaphore::new(max_in_flight)),
            max_in_flight,
        }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The KISS service behind token verification.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    layer: AuthLayer,
}

impl<S: NamedService> NamedService for AuthService<S> {
    const NAME: &'static str = S::NAME;
}

fn peer_addr<B>(req: &http::Request<B>) -> Option<SocketAddr> {
    use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
    let ext = req.extensions();
    ext.get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            ext.get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr())
        })
}

impl<S, B> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        // The clone that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        // Callers choose the path: only known method names go further.
        let rpc = kiss_proto::rpc_name(req.uri().path());
        let span = crate::telemetry::rpc_span(rpc);
        let (call_span, outcome_span) = (span.clone(), span.clone());
        let call = async move {
            let started = std::time::Instant::now();
            // Refuse rather than queue: a queue would only turn overload into timeouts.
            let Ok(_permit) = layer.in_flight.clone().try_acquire_owned() else {
                let m = crate::metrics::metrics();
                m.limited.with_label_values(&["concurrency"]).inc();
                m.requests
                    .with_label_values(&[rpc, "RESOURCE_EXHAUSTED"])
                    .inc();
                let status = tonic::Status::resource_exhausted(format!(
                    "kiss-server is handling its maximum of {} requests; retry in a moment",
                    layer.max_in_flight
                ));
                return Ok(status.into_http());
            };
            let headers = req.headers();
            let client = audit::client_address(
                peer_addr(&req),
                headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()),
                &layer.trusted_proxies,
            );
            let authorization = headers
                .get(http::header::AUTHORIZATION)
                .map(|v| v.to_str().unwrap_or("\u{0}invalid"))
                .map(str::to_owned);
            let verdict = match &layer.mode {
                AuthMode::Fixed(id) => Ok(Identity::clone(id)),
                AuthMode::Verify(auth) => auth.authenticate(authorization.as_deref()).await,
            };
            match verdict {
                Ok(identity) => {
                    crate::telemetry::record_user(&call_span, &identity.user);
                    let audited = Audited::default();
                    let (user, subject) = (identity.user.clone(), identity.subject.clone());
                    req.extensions_mut().insert(identity);
                    req.extensions_mut().insert(ClientAddr(client.clone()));
                    req.extensions_mut().insert(RequestStart(started));
                    req.extensions_mut().insert(audited.clone());
                    let response = inner.call(req).await?;
                    if audited.0.load(std::sync::atomic::Ordering::SeqCst) {
                        return Ok(response);
                    }
                    // tonic answered before the handler ran: audit it here.
                    let code = response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .map_or(tonic::Code::Unknown, tonic::Code::from_i32);
                    let outcome = audit::code_name(code);
                    let m = crate::metrics::metrics();
                    m.requests.with_label_values(&[rpc, outcome]).inc();
                    m.latency
                        .with_label_values(&[rpc])
                        .observe(started.elapsed().as_secs_f64());
                    let written = layer.audit.write(&Record {
                        time: audit::now_rfc3339(),
                        audit: true,
                        rpc,
                        user: Some(&user),
                        subject: Some(&subject),
                        namespace: None,
                        secret: None,
                        service_account: None,
                        client: &client,
                        decision: Decision::Deny,
                        outcome,
                        reason: Some("request_not_decoded"),
                    });
                    match written {
                        Ok(()) => Ok(response),
                        Err(e) => Ok(tonic::Status::internal(e.to_string()).into_http()),
                    }
                }
                Err(err) => {
                    let m = crate::metrics::metrics();
                    m.auth_failures.with_label_values(&[err.reason()]).inc();
                    m.requests
                        .with_label_values(&[rpc, "UNAUTHENTICATED"])
                        .inc();
                    m.latency
                        .with_label_values(&[rpc])
                        .observe(started.elapsed().as_secs_f64());
                    tracing::info!(rpc, %client, reason = err.reason(), "token refused");
                    let written = layer.audit.write(&Record {
                        time: audit::now_rfc3339(),
                        audit: true,
                        rpc,
                        user: None,
                        subject: None,
                        namespace: None,
                        secret: None,
                        service_account: None,
                        client: &client,
                        decision: Decision::Deny,
                        outcome: "UNAUTHENTICATED",
                        reason: Some(err.reason()),
                    });
                    let status = match written {
                        Ok(()) => tonic::Status::unauthenticated(err.to_string()),
                        Err(e) => tonic::Status::internal(e.to_string()),
                    };
                    Ok(status.into_http())
                }
            }
        };
        Box::pin(
            async move {
                let result = call.await;
                if let Ok(response) = &result {
                    crate::telemetry::record_response(&outcome_span, response);
                }
                result
            }
            .instrument(span),
        )
    }
}
