//! The accept loop: a cap on open connections, a deadline for a new
//! connection to open its HTTP/2 session, and back-off (with a log line,
//! rate limited) when accepting fails, e.g. out of file descriptors.
//!
//! A connection past the cap is accepted and closed at once, so its client
//! sees the refusal instead of hanging in the listen backlog; the permit of
//! an admitted one is held by its socket and given back when tonic drops
//! it. A connection that has not sent its first [`HANDSHAKE_BYTES`] (the
//! HTTP/2 preface and the SETTINGS frame header; the TLS ClientHello under
//! TLS) within the handshake timeout fails its next read, so hyper closes it.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo};

use crate::metrics::metrics;

/// Connections open at once, by default (`--max-connections`).
pub const MAX_CONNECTIONS: usize = 1024;
/// How long a new connection has to open its HTTP/2 session, by default.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes a connection must send within the handshake timeout: the 24-byte
/// HTTP/2 preface and the 9-byte header of its SETTINGS frame.
pub const HANDSHAKE_BYTES: usize = 33;
/// Longest pause after a failed accept.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Least time between two log lines about the same kind of trouble.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// One accepted connection, holding its place under the cap.
pub struct Conn {
    tcp: TcpStream,
    _permit: OwnedSemaphorePermit,
    /// Until the handshake bytes have arrived: the deadline and the count.
    handshake: Option<(Pin<Box<tokio::time::Sleep>>, usize)>,
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.tcp.connect_info()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        let Some((deadline, seen)) = &mut this.handshake else {
            return polled;
        };
        match polled {
            Poll::Ready(Ok(())) => {
                *seen += buf.filled().len() - before;
                if *seen >= HANDSHAKE_BYTES {
                    this.handshake = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    metrics().limited.with_label_values(&["handshake"]).inc();
                    Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client did not open its HTTP/2 session in time",
                    )))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

/// A log line at most every [`LOG_EVERY`], saying how many it stands for.
struct Throttled {
    last: Option<Instant>,
    skipped: u64,
}

impl Throttled {
    fn new() -> Throttled {
        Throttled {
            last: None,
            skipped: 0,
        }
    }

    /// Whether to log now, and how many occurrences went unlogged before.
    fn due(&mut self) -> Option<u64> {
        if self.last.is_some_and(|t| t.elapsed() < LOG_EVERY) {
            self.skipped += 1;
            return None;
        }
        self.last = Some(Instant::now());
        Some(std::mem::take(&mut self.skipped))
    }
}

struct Acceptor {
    listener: TcpListener,
    permits: Arc<Semaphore>,
    max: usize,
    handshake_timeout: Duration,
    backoff: Duration,
    over_cap: Throttled,
    failing: Throttled,
}

impl Acceptor {
    async fn next(&mut self) -> Conn {
        loop {
            match self.listener.accept().await {
                Ok((tcp, peer)) => {
                    self.backoff = Duration::ZERO;
                    if let Some(conn) = self.admit(tcp, peer) {
                        return conn;
                    }
                }
                // The client gave up before we accepted: nothing to wait for.
                Err(e) if per_connection(&e) => {}
                Err(e) => {
                    self.backoff = (self.backoff * 2)
                        .max(Duration::from_millis(5))
                        .min(MAX_BACKOFF);
                    if let Some(skipped) = self.failing.due() {
                        tracing::warn!(
                            error = %e,
                            backoff = ?self.backoff,
                            more_since_last = skipped,
                            "cannot accept connections (out of file descriptors?); backing off"
                        );
                    }
                    tokio::time::sleep(self.backoff).await;
                }
            }
        }
    }

    fn admit(&mut self, tcp: TcpStream, peer: SocketAddr) -> Option<Conn> {
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            metrics().limited.with_label_values(&["connections"]).inc();
            if let Some(skipped) = self.over_cap.due() {
                tracing::warn!(
                    %peer,
                    max = self.max,
                    more_since_last = skipped,
                    "connection refused: the server has its maximum of connections open"
                );
            }
            // Dropping it closes it: the client sees the refusal at once.
            return None;
        };
        let _ = tcp.set_nodelay(true);
        Some(Conn {
            tcp,
            _permit: permit,
            handshake: Some((Box::pin(tokio::time::sleep(self.handshake_timeout)), 0)),
        })
    }
}

/// Errors of one connection (not of the listener): try the next at once.
fn per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// The connections `listener` accepts, at most `max` open at once, each
/// given `handshake_timeout` to open its session. Never yields an error.
pub fn incoming(
    listener: TcpListener,
    max: usize,
    handshake_timeout: Duration,
) -> impl Stream<Item = Result<Conn, io::Error>> + Send + 'static {
    let max = max.max(1);
    let acceptor = Acceptor {
        listener,
        permits: Arc::new(Semaphore::new(max)),
        max,
        handshake_timeout,
        backoff: Duration::ZERO,
        over_cap: Throttled::new(),
        failing: Throttled::new(),
    };
    futures::stream::unfold(acceptor, |mut a| async move {
        let conn = a.next().await;
        Some((Ok(conn), a))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_throttled_and_count_what_they_stand_for() {
        let mut t = Throttled::new();
        assert_eq!(t.due(), Some(0));
        assert_eq!(t.due(), None);
        assert_eq!(t.due(), None);
        t.last = Some(Instant::now() - LOG_EVERY);
        assert_eq!(t.due(), Some(2));
    }
}
