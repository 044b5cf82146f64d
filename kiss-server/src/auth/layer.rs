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

use super::{Authenticator, Identity};
use crate::audit::{self, Audit, Decision, Record};

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
}

impl AuthLayer {
    /// A layer with the given mode, audit sink and trusted proxies.
    pub fn new(mode: AuthMode, audit: Arc<Audit>, trusted_proxies: Vec<IpAddr>) -> Self {
        Self {
            mode,
            audit,
            trusted_proxies: trusted_proxies.into(),
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
        Box::pin(async move {
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
                    req.extensions_mut().insert(identity);
                    req.extensions_mut().insert(ClientAddr(client));
                    inner.call(req).await
                }
                Err(err) => {
                    let rpc = req.uri().path().rsplit('/').next().unwrap_or_default();
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
        })
    }
}
