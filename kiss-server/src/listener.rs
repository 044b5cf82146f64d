//! The accept loop: a cap on open connections, overall and per client
//! address, a deadline for a new connection to open its session, an idle
//! timeout for connections with no open stream, and back-off (with a log
//! line, rate limited) when accepting fails, e.g. out of file descriptors.
//!
//! A connection past a cap is accepted and closed at once, so its client
//! sees the refusal instead of hanging in the listen backlog; the permit of
//! an admitted one is held by its socket and given back when tonic drops
//! it. Addresses are grouped the way one client holds them: an IPv4-mapped
//! IPv6 address is its IPv4 address, and IPv6 addresses count per /64;
//! `--trusted-proxy` addresses (many clients behind one) are exempt from
//! the per-address cap.
//!
//! A connection that has not sent its first [`HANDSHAKE_BYTES`] (the HTTP/2
//! preface and the SETTINGS frame header) within the handshake timeout fails
//! its next read, so hyper closes it. Under TLS those bytes only count once
//! the server has answered the ClientHello, so the deadline holds until the
//! client's second flight (which completes the TLS handshake) arrives; tonic
//! bounds the TLS handshake itself with the same timeout.
//!
//! [`StreamLayer`] counts the streams open on each connection; one that has
//! had none for the idle timeout fails its next read the same way.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::Stream;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo, TlsConnectInfo};

use crate::metrics::metrics;

/// Connections open at once, by default (`--max-connections`).
pub const MAX_CONNECTIONS: usize = 1024;
/// Connections one client address (IPv6: one /64) may have open at once,
/// by default (`--max-connections-per-address`).
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 32;
/// How long a new connection has to open its HTTP/2 session, by default.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay open with no stream, by default
/// (`--idle-timeout`).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Bytes a connection must send within the handshake timeout: the 24-byte
/// HTTP/2 preface and the 9-byte header of its SETTINGS frame.
pub const HANDSHAKE_BYTES: usize = 33;
/// Longest pause after a failed accept.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Least time between two log lines about the same kind of trouble.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// What the listener enforces, from the server's flags.
#[derive(Debug, Clone)]
pub struct Bounds {
    /// Connections open at once.
    pub max: usize,
    /// Connections one client address (IPv6: one /64) may have open at
    /// once; 0: no per-address cap.
    pub per_address: usize,
    /// How long a new connection has to open its session.
    pub handshake_timeout: Duration,
    /// How long a connection may stay open with no stream; zero: for ever.
    pub idle_timeout: Duration,
    /// Connections speak TLS: the handshake bytes are counted after the
    /// server's first answer.
    pub tls: bool,
    /// Addresses exempt from the per-address cap (`--trusted-proxy`).
    pub trusted: Vec<IpAddr>,
}

/// The address a connection counts against: IPv4-mapped IPv6 addresses as
/// IPv4, other IPv6 addresses by their /64 (what one client usually holds).
pub fn address_group(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The streams open on one connection, and since when it has had none.
#[derive(Debug)]
struct Activity {
    open: AtomicUsize,
    idle_since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            open: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
        }
    }

    /// When the connection has been idle for `timeout`: `None` while a
    /// stream is open.
    fn idle_deadline(&self, timeout: Duration) -> Option<Instant> {
        let since = *self.idle_since.lock().unwrap_or_else(|e| e.into_inner());
        (self.open.load(Ordering::SeqCst) == 0).then(|| since + timeout)
    }
}

/// The open connections by peer address, so that a stream can find its
/// connection's [`Activity`] from the request's connect info.
type Registry = Arc<Mutex<HashMap<SocketAddr, Arc<Activity>>>>;

/// Connections open per address group.
type PerAddress = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// A connection's place under the per-address cap; given back on drop.
struct AddressSlot {
    group: IpAddr,
    counts: PerAddress,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.group) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.group);
            }
        }
    }
}

/// Until the handshake bytes have arrived: the deadline and the count.
struct Handshake {
    deadline: Pin<Box<tokio::time::Sleep>>,
    seen: usize,
    /// Under TLS: whether the server has answered (bytes count from then).
    counting: bool,
}

/// The idle timer of a connection.
struct Idle {
    timeout: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

/// One accepted connection, holding its place under the caps.
pub struct Conn {
    tcp: TcpStream,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
    _address: Option<AddressSlot>,
    handshake: Option<Handshake>,
    activity: Arc<Activity>,
    registry: Registry,
    idle: Option<Idle>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        let mut registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if registry
            .get(&self.peer)
            .is_some_and(|a| Arc::ptr_eq(a, &self.activity))
        {
            registry.remove(&self.peer);
        }
    }
}

impl Connected for Conn {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> TcpConnectInfo {
        self.tcp.connect_info()
    }
}

impl Conn {
    /// While the read is pending: whether the handshake deadline or the
    /// idle timeout has passed (then the read fails and hyper closes).
    fn expired(&mut self, cx: &mut Context<'_>) -> Option<io::Error> {
        if let Some(h) = &mut self.handshake
            && h.deadline.as_mut().poll(cx).is_ready()
        {
            metrics().limited.with_label_values(&["handshake"]).inc();
            return Some(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not open its session in time",
            ));
        }
        let idle = self.idle.as_mut()?;
        while idle.timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            match self.activity.idle_deadline(idle.timeout) {
                Some(deadline) if deadline <= now => {
                    metrics().limited.with_label_values(&["idle"]).inc();
                    return Some(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the connection was idle (no stream open) for too long",
                    ));
                }
                Some(deadline) => idle.timer.as_mut().reset(deadline.into()),
                // A stream is open: look again one timeout from now.
                None => idle.timer.as_mut().reset((now + idle.timeout).into()),
            }
        }
        None
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
        match Pin::new(&mut this.tcp).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if let Some(h) = &mut this.handshake
                    && h.counting
                {
                    h.seen += buf.filled().len() - before;
                    if h.seen >= HANDSHAKE_BYTES {
                        this.handshake = None;
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.expired(cx) {
                Some(e) => Poll::Ready(Err(e)),
                None => Poll::Pending,
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
        self.answered();
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
        self.answered();
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }
}

impl Conn {
    /// The server writes: under TLS, its answer to the ClientHello, after
    /// which the client's bytes count towards the handshake.
    fn answered(&mut self) {
        if let Some(h) = &mut self.handshake {
            h.counting = true;
        }
    }
}

/// A log line at most every [`LOG_EVERY`], saying how many it stands for.
#[derive(Default)]
pub(crate) struct Throttled {
    last: Option<Instant>,
    skipped: u64,
}

impl Throttled {
    pub(crate) fn new() -> Throttled {
        Throttled {
            last: None,
            skipped: 0,
        }
    }

    /// Whether to log now, and how many occurrences went unlogged before.
    pub(crate) fn due(&mut self) -> Option<u64> {
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
    bounds: Bounds,
    per_address: PerAddress,
    registry: Registry,
    backoff: Duration,
    over_cap: Throttled,
    over_address_cap: Throttled,
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

    /// A place under the per-address cap: `Ok(None)` for an exempt
    /// address, `Err` past the cap.
    fn address_slot(&self, peer: SocketAddr) -> Result<Option<AddressSlot>, IpAddr> {
        let ip = peer.ip().to_canonical();
        let max = self.bounds.per_address;
        if max == 0 || self.bounds.trusted.iter().any(|t| t.to_canonical() == ip) {
            return Ok(None);
        }
        let group = address_group(ip);
        let mut counts = self.per_address.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(group).or_insert(0);
        if *n >= max {
            return Err(group);
        }
        *n += 1;
        Ok(Some(AddressSlot {
            group,
            counts: self.per_address.clone(),
        }))
    }

    fn admit(&mut self, tcp: TcpStream, peer: SocketAddr) -> Option<Conn> {
        let address = match self.address_slot(peer) {
            Ok(slot) => slot,
            Err(group) => {
                metrics()
                    .limited
                    .with_label_values(&["address_connections"])
                    .inc();
                if let Some(skipped) = self.over_address_cap.due() {
                    tracing::warn!(
                        %peer,
                        %group,
                        max = self.bounds.per_address,
                        more_since_last = skipped,
                        "connection refused: this client address has its maximum of connections open"
                    );
                }
                return None;
            }
        };
        let Ok(permit) = self.permits.clone().try_acquire_owned() else {
            metrics().limited.with_label_values(&["connections"]).inc();
            if let Some(skipped) = self.over_cap.due() {
                tracing::warn!(
                    %peer,
                    max = self.bounds.max,
                    more_since_last = skipped,
                    "connection refused: the server has its maximum of connections open"
                );
            }
            // Dropping it closes it: the client sees the refusal at once.
            return None;
        };
        let _ = tcp.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        self.registry
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(peer, activity.clone());
        let idle_timeout = self.bounds.idle_timeout;
        Some(Conn {
            tcp,
            peer,
            _permit: permit,
            _address: address,
            handshake: Some(Handshake {
                deadline: Box::pin(tokio::time::sleep(self.bounds.handshake_timeout)),
                seen: 0,
                counting: !self.bounds.tls,
            }),
            activity,
            registry: self.registry.clone(),
            idle: (!idle_timeout.is_zero()).then(|| Idle {
                timeout: idle_timeout,
                timer: Box::pin(tokio::time::sleep(idle_timeout)),
            }),
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

/// The connections `listener` accepts within `bounds`, and the layer that
/// tells them apart from idle ones (it must wrap every service the server
/// serves on them). The stream never yields an error.
pub fn incoming(
    listener: TcpListener,
    bounds: Bounds,
) -> (
    impl Stream<Item = Result<Conn, io::Error>> + Send + 'static,
    StreamLayer,
) {
    let max = bounds.max.max(1);
    let registry = Registry::default();
    let acceptor = Acceptor {
        listener,
        permits: Arc::new(Semaphore::new(max)),
        bounds: Bounds { max, ..bounds },
        per_address: PerAddress::default(),
        registry: registry.clone(),
        backoff: Duration::ZERO,
        over_cap: Throttled::new(),
        over_address_cap: Throttled::new(),
        failing: Throttled::new(),
    };
    let incoming = futures::stream::unfold(acceptor, |mut a| async move {
        let conn = a.next().await;
        Some((Ok(conn), a))
    });
    (incoming, StreamLayer { registry })
}

/// Counts each request as a stream open on its connection until its
/// response body is dropped, so the idle timeout spares busy connections.
#[derive(Clone)]
pub struct StreamLayer {
    registry: Registry,
}

impl<S> tower::Layer<S> for StreamLayer {
    type Service = StreamService<S>;

    fn layer(&self, inner: S) -> StreamService<S> {
        StreamService {
            inner,
            registry: self.registry.clone(),
        }
    }
}

/// A service whose requests count as open streams (see [`StreamLayer`]).
#[derive(Clone)]
pub struct StreamService<S> {
    inner: S,
    registry: Registry,
}

/// Held while a stream is open; the last one to go starts the idle clock.
struct StreamGuard(Arc<Activity>);

impl StreamGuard {
    fn open(activity: Arc<Activity>) -> StreamGuard {
        activity.open.fetch_add(1, Ordering::SeqCst);
        StreamGuard(activity)
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        // The time first, so the timer never sees none open and an old time.
        *self.0.idle_since.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The client's address as the connection saw it (plain or TLS).
pub(crate) fn peer_of<B>(req: &http::Request<B>) -> Option<SocketAddr> {
    let ext = req.extensions();
    ext.get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            ext.get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr())
        })
}

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for StreamService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<TrackedBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let guard = peer_of(&req).and_then(|peer| {
            let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
            registry.get(&peer).cloned().map(StreamGuard::open)
        });
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|inner| TrackedBody {
                inner,
                _guard: guard,
            }))
        })
    }
}

/// A response body that keeps its stream counted until it is dropped.
pub struct TrackedBody<B> {
    inner: B,
    _guard: Option<StreamGuard>,
}

impl<B: Body + Unpin> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
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
    fn log_lines_are_throttled_and_count_what_they_stand_for() {
        let mut t = Throttled::new();
        assert_eq!(t.due(), Some(0));
        assert_eq!(t.due(), None);
        assert_eq!(t.due(), None);
        t.last = Some(Instant::now() - LOG_EVERY);
        assert_eq!(t.due(), Some(2));
    }

    #[test]
    fn addresses_are_grouped_as_one_client_holds_them() {
        let group = |s: &str| address_group(s.parse().unwrap()).to_string();
        assert_eq!(group("192.0.2.7"), "192.0.2.7");
        assert_eq!(group("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(group("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::");
        assert_eq!(group("2001:db8:1:2:ffff::9"), "2001:db8:1:2::");
        assert_ne!(group("2001:db8:1:3::1"), group("2001:db8:1:2::1"));
    }
}
