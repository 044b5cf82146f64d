//! The transport half of the pipeline: a tower layer in front of the KISS
//! service. It gives every call a task of its own (so that a client that
//! goes away cannot cut a change short or lose its record), runs admission
//! and the token check, bounds the request read, and, when the answer is
//! ready, has [`Pipeline::finish`] count it and write its one audit record.
//! Health and reflection are separate services and never pass through it.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use kiss_proto::Rpc;
use tonic::server::NamedService;
use tonic::{Code, Status};
use tower::{Layer, Service};
use tracing::Instrument;

use super::deadline::{DeadlineBody, call_deadline};
use super::{Admitted, Facts, FactsSlot, Pipeline};
use crate::audit;
use crate::auth::{AuthMode, Identity};
use crate::metrics::metrics;

/// Builds [`PipelineService`]s.
#[derive(Clone)]
pub struct PipelineLayer {
    pipeline: Arc<Pipeline>,
}

impl PipelineLayer {
    /// A layer running calls through `pipeline`.
    pub fn new(pipeline: Arc<Pipeline>) -> Self {
        Self { pipeline }
    }
}

impl<S> Layer<S> for PipelineLayer {
    type Service = PipelineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PipelineService {
            inner,
            pipeline: self.pipeline.clone(),
        }
    }
}

/// The KISS service behind the pipeline.
#[derive(Clone)]
pub struct PipelineService<S> {
    inner: S,
    pipeline: Arc<Pipeline>,
}

impl<S: NamedService> NamedService for PipelineService<S> {
    const NAME: &'static str = S::NAME;
}

/// The gRPC code of a response: a trailers-only (error) answer carries it in
/// its headers; a unary answer without one is a success.
fn response_code<B>(response: &http::Response<B>) -> Code {
    response
        .headers()
        .get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map_or(Code::Ok, Code::from_i32)
}

impl Pipeline {
    /// Admission and the token: the identity the call runs as, or the
    /// refusal with its short reason.
    async fn admit(
        &self,
        headers: &http::HeaderMap,
        client: &str,
    ) -> Result<(Identity, super::admission::IdentitySlot), (Status, &'static str)> {
        let authorization = headers
            .get(http::header::AUTHORIZATION)
            .map(|v| v.to_str().unwrap_or("\u{0}invalid"));
        let identity = match &self.auth {
            AuthMode::Fixed(id) => Identity::clone(id),
            AuthMode::Verify(auth) => auth.authenticate(authorization).await.map_err(|err| {
                metrics()
                    .auth_failures
                    .with_label_values(&[err.reason()])
                    .inc();
                if let Err(wait) = self.refusals.charge(client) {
                    // This address is refused faster than its budget refills.
                    metrics().limited.with_label_values(&["address"]).inc();
                    let mut status = Status::resource_exhausted(format!(
                        "too many refused requests from {client}; retry in {:.1} s",
                        wait.as_secs_f64()
                    ));
                    if let Ok(v) = wait.as_millis().to_string().parse() {
                        status.metadata_mut().insert("retry-after-ms", v);
                    }
                    return (
                        crate::status::with_reason(status, kiss_proto::reasons::LIMITED),
                        "address_rate_limited",
                    );
                }
                let status = crate::status::with_reason(
                    Status::unauthenticated(err.to_string()),
                    kiss_proto::reasons::UNAUTHENTICATED,
                );
                (status, err.reason())
            })?,
        };
        let slot = self
            .admission
            .identity(&identity)
            .inspect_err(|e| metrics().denials.with_label_values(&[e.1]).inc())?;
        Ok((identity, slot))
    }
}

impl<S, B> Service<http::Request<B>> for PipelineService<S>
where
    S: Service<http::Request<DeadlineBody<B>>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        // The clone that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let pipeline = self.pipeline.clone();
        let started = Instant::now();
        let rpc = Rpc::from_path(req.uri().path());
        let span = crate::telemetry::rpc_span(rpc);
        let call_span = span.clone();
        let client = audit::client_address(
            crate::listener::peer_of(&req),
            req.headers().get_all("x-forwarded-for").iter(),
            &pipeline.trusted_proxies,
        );
        // Shared with the task, so that if it panics its record can still
        // say what was known.
        let slot = FactsSlot::default();
        let task_slot = slot.clone();
        let task_pipeline = pipeline.clone();
        let task_client = client.clone();
        let task = async move {
            let (pipeline, client, slot) = (task_pipeline, task_client, task_slot);
            let mut facts = Facts::default();
            let response = match pipeline.admit(req.headers(), &client).await {
                Err((status, reason)) => {
                    // Strangers choose how many of these there are: at most
                    // one line every 10 s, with the count of the others.
                    let due = pipeline
                        .logs
                        .refused
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .due();
                    if let Some(skipped) = due {
                        tracing::info!(rpc = rpc.map_or("unknown", Rpc::name), %client, reason, more_since_last = skipped, "call refused before it was read");
                    }
                    facts.reason = Some(reason);
                    status.into_http()
                }
                Ok((identity, _identity_slot)) => {
                    crate::telemetry::record_user(&call_span, &identity.user);
                    facts.identify(&identity);
                    slot.update(|f| *f = facts.clone());
                    let deadline = call_deadline(req.headers());
                    let read_deadline = pipeline.admission.read_deadline();
                    let mut req = req.map(|body| DeadlineBody::new(body, read_deadline));
                    req.extensions_mut().insert(Admitted {
                        identity,
                        started,
                        deadline,
                        facts: slot.clone(),
                    });
                    let response = inner.call(req).await?;
                    facts = slot.get();
                    response
                }
            };
            let code = response_code(&response);
            crate::telemetry::record_code(&call_span, code);
            // From here on the record is this task's to write, not the
            // panic handler's.
            slot.update(|f| f.recorded = true);
            match pipeline.finish(rpc, &client, &facts, started, code) {
                Ok(()) => Ok(response),
                Err(status) => Ok(status.into_http()),
            }
        };
        let handle = tokio::spawn(task.instrument(span));
        Box::pin(async move {
            match handle.await {
                Ok(result) => result,
                Err(e) => {
                    tracing::error!(error = %e, "a call's task failed");
                    let mut facts = slot.get();
                    let status = Status::internal(
                        "kiss-server failed while handling the call; tell your platform team",
                    );
                    if !facts.recorded {
                        // Still exactly one record: what was known, INTERNAL.
                        facts.reason = Some("internal_error");
                        if let Err(lost) =
                            pipeline.finish(rpc, &client, &facts, started, Code::Internal)
                        {
                            return Ok(lost.into_http());
                        }
                    }
                    Ok(status.into_http())
                }
            }
        })
    }
}
