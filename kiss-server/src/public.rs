//! Health (`grpc.health.v1`) and reflection: the services anyone can reach
//! without a token, so bounded like everything a stranger can make the
//! server hold. Their messages are small (a request declaring more than
//! [`MAX_PUBLIC_REQUEST_BYTES`] is refused from its 5-byte header, before
//! any of it is buffered), their requests must be sent within the read
//! deadline, and only so many health `Watch` streams may be open at once
//! across all connections (each connection also has its stream cap).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;
use tonic::codegen::Bytes;
use tonic::server::NamedService;
use tower::{Layer, Service};

use crate::metrics::metrics;
use crate::pipeline::deadline::DeadlineBody;

/// Largest health or reflection request: a service name or a symbol.
pub const MAX_PUBLIC_REQUEST_BYTES: usize = 4 * 1024;
/// Largest health reply.
pub const MAX_HEALTH_REPLY_BYTES: usize = 4 * 1024;
/// Largest reflection reply: the file descriptors kiss publishes.
pub const MAX_REFLECTION_REPLY_BYTES: usize = 256 * 1024;
/// Health `Watch` streams open at once, by default.
pub const MAX_WATCH_STREAMS: usize = 256;

const WATCH_PATH: &str = "/grpc.health.v1.Health/Watch";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps health and reflection in their bounds.
#[derive(Clone)]
pub struct PublicLayer {
    read_deadline: Duration,
    watches: Arc<Semaphore>,
    max_watches: usize,
}

impl PublicLayer {
    /// Requests read within `read_deadline`; at most `max_watches` Watch
    /// streams at once.
    pub fn new(read_deadline: Duration, max_watches: usize) -> PublicLayer {
        PublicLayer {
            read_deadline,
            watches: Arc::new(Semaphore::new(max_watches)),
            max_watches,
        }
    }
}

impl<S> Layer<S> for PublicLayer {
    type Service = PublicService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PublicService {
            inner,
            bounds: self.clone(),
        }
    }
}

/// A public service inside its bounds.
#[derive(Clone)]
pub struct PublicService<S> {
    inner: S,
    bounds: PublicLayer,
}

impl<S: NamedService> NamedService for PublicService<S> {
    const NAME: &'static str = S::NAME;
}

impl<S, B> Service<http::Request<B>> for PublicService<S>
where
    S: Service<http::Request<DeadlineBody<B>>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let permit = if req.uri().path() == WATCH_PATH {
            match self.bounds.watches.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    metrics().limited.with_label_values(&["watch"]).inc();
                    let status = Status::resource_exhausted(format!(
                        "kiss-server already has its maximum of {} health Watch streams; use Check, or retry later",
                        self.bounds.max_watches
                    ));
                    return Box::pin(std::future::ready(Ok(status.into_http())));
                }
            }
        } else {
            None
        };
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let deadline = self.bounds.read_deadline;
        let future = inner.call(req.map(|body| DeadlineBody::new(body, deadline)));
        Box::pin(async move {
            let response = future.await?;
            Ok(match permit {
                // The permit lives as long as the stream's body.
                Some(permit) => response.map(|body| {
                    tonic::body::Body::new(Held {
                        body,
                        _permit: permit,
                    })
                }),
                None => response,
            })
        })
    }
}

/// A response body holding a Watch permit until it ends or is dropped.
struct Held {
    body: tonic::body::Body,
    _permit: OwnedSemaphorePermit,
}

impl Body for Held {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
