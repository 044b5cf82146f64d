//! Time bounds of a call: the client's `grpc-timeout`, capped, and a
//! deadline on reading the request, so that a stream whose body never comes
//! does not hold anything for long.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use tonic::codegen::Bytes;

/// Store calls never run longer than this, whatever the client's deadline.
pub const MAX_CALL_TIME: Duration = Duration::from_secs(30);

/// Parses gRPC's `grpc-timeout` header (`<digits><unit>`).
pub fn parse_grpc_timeout(v: &str) -> Option<Duration> {
    if v.len() < 2 || v.len() > 9 {
        return None;
    }
    let (digits, unit) = v.split_at(v.len() - 1);
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// The time a call may take: the client's deadline, at most [`MAX_CALL_TIME`].
pub fn call_deadline(headers: &http::HeaderMap) -> Duration {
    headers
        .get("grpc-timeout")
        .and_then(|v| v.to_str().ok())
        .and_then(parse_grpc_timeout)
        .map_or(MAX_CALL_TIME, |d| d.min(MAX_CALL_TIME))
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A request body that fails once `deadline` has passed before it ended.
/// tonic then answers the call with the status inside, and the handler
/// never runs.
pub struct DeadlineBody<B> {
    inner: Pin<Box<B>>,
    timer: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
    done: bool,
}

impl<B> DeadlineBody<B> {
    /// `inner`, which must be read completely within `limit`.
    pub fn new(inner: B, limit: Duration) -> Self {
        DeadlineBody {
            inner: Box::pin(inner),
            timer: Box::pin(tokio::time::sleep(limit)),
            limit,
            done: false,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if !this.done && this.timer.as_mut().poll(cx).is_ready() {
            this.done = true;
            let status = tonic::Status::deadline_exceeded(format!(
                "the request was not sent within {} s",
                this.limit.as_secs()
            ));
            return Poll::Ready(Some(Err(Box::new(status))));
        }
        match this.inner.as_mut().poll_frame(cx) {
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(r)) => Poll::Ready(Some(r.map_err(Into::into))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_parse() {
        assert_eq!(parse_grpc_timeout("10S"), Some(Duration::from_secs(10)));
        assert_eq!(parse_grpc_timeout("500m"), Some(Duration::from_millis(500)));
        assert_eq!(parse_grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("10x"), None);
        assert_eq!(parse_grpc_timeout("1234567890S"), None, "at most 8 digits");
    }
}
