//! The attacks of issue 11, run alongside the users from their own
//! loopback address: garbage and unknown-`kid` tokens, a valid token
//! reaching into another namespace, HEADERS-only streams that never send a
//! body, messages that declare 4 MiB, connections that never open an
//! HTTP/2 session, and health `Watch` streams without a token, far past
//! the server's bound on them. Each answer must be the refusal the server
//! promises.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_testkit::{authorized, meta};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tonic::Code;
use tonic::codegen::Bytes;
use tonic::transport::{Channel, Endpoint};

use crate::Ctx;
use crate::idp::{SigningKey, namespace};
use crate::tally::{ATTACK_ADDR, IDLE_ADDR, Party, code_name, from_server};

/// Starts every attack; they run until the set is aborted.
pub fn spawn(ctx: &Arc<Ctx>, addr: SocketAddr, forger: Arc<SigningKey>) -> JoinSet<()> {
    let mut set = JoinSet::new();
    set.spawn(garbage(ctx.clone(), addr));
    set.spawn(unknown_kid(ctx.clone(), addr, forger));
    set.spawn(silent_streams(ctx.clone(), addr));
    set.spawn(oversized(ctx.clone(), addr));
    set.spawn(idle_connections(ctx.clone(), addr));
    set.spawn(watch_flood(ctx.clone(), addr));
    set
}

/// A lazily connecting channel from the attack address.
pub fn channel_from(addr: SocketAddr, local: [u8; 4]) -> Channel {
    channel_with_timeout(addr, local, Duration::from_secs(30))
}

/// A lazily connecting channel from `local` whose calls give up after `timeout`.
pub fn channel_with_timeout(addr: SocketAddr, local: [u8; 4], timeout: Duration) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("a loopback URI")
        .local_address(Some(IpAddr::from(local)))
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .connect_lazy()
}

async fn tcp(addr: SocketAddr) -> std::io::Result<tokio::net::TcpStream> {
    tcp_from(addr, ATTACK_ADDR).await
}

async fn tcp_from(addr: SocketAddr, local: [u8; 4]) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((local, 0)))?;
    socket.connect(addr).await
}

/// The end of an attack's call: answered with one of `expected`, or not.
fn judge(ctx: &Ctx, what: &str, rpc: Option<&'static str>, code: Option<Code>, expected: &[Code]) {
    if code == Some(CLOSED) {
        // Left unanswered; its audit record may or may not exist.
        return;
    }
    if let Some(rpc) = rpc
        && code.is_some()
    {
        ctx.tally.answered(Party::Attacks, rpc);
    }
    let outcome = code.map_or("no answer".into(), code_name);
    if code.is_some_and(|c| expected.contains(&c)) {
        ctx.tally.outcome(&format!("attack {what}"), &outcome);
    } else {
        ctx.tally.outcome(
            &format!("attack {what}"),
            &format!("{outcome} (unexpected)"),
        );
        ctx.tally
            .unexpected(format!("attack {what}: {outcome}, expected {expected:?}"));
    }
}

fn status_code<T>(ctx: &Ctx, what: &str, r: &Result<T, tonic::Status>) -> Option<Code> {
    match r {
        Ok(_) => Some(Code::Ok),
        Err(s) if from_server(s) => Some(s.code()),
        Err(s) => {
            let message: String = s.message().chars().take(120).collect();
            ctx.tally
                .outcome(&format!("attack {what} (client-side error)"), &message);
            // The server closed the attacker's connection (its limits on
            // reset streams): a defence, not a failure; the channel
            // reconnects. A call that is never answered is a failure.
            (!message.contains("Timeout")).then_some(CLOSED)
        }
    }
}

const REFUSED: [Code; 2] = [Code::Unauthenticated, Code::ResourceExhausted];

/// Stands for "the server closed the connection" among the codes of raw
/// HTTP/2 attacks; never a status the server sends to them.
const CLOSED: Code = Code::DataLoss;

/// Tokens that are not tokens: ~20 calls a second.
async fn garbage(ctx: Arc<Ctx>, addr: SocketAddr) {
    let mut client = KissClient::new(channel_from(addr, ATTACK_ADDR));
    let junk = [
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.".to_owned(),
        "x".repeat(20_000),
        format!("{}.{}", "e30", "e30"),
    ];
    for n in 0.. {
        let token = &junk[n % junk.len()];
        ctx.tally.sent(Party::Attacks, "Ping");
        let r = client
            .ping(authorized(
                token,
                pb::PingRequest {
                    metadata: meta("soak-0000"),
                },
            ))
            .await;
        judge(
            &ctx,
            "garbage token",
            Some("Ping"),
            status_code(&ctx, "garbage token", &r),
            &REFUSED,
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Tokens signed by a key the IdP never published, each with a new `kid`
/// (every one a reason to refetch the JWKS), and mallory's valid token
/// reaching into a user's namespace.
async fn unknown_kid(ctx: Arc<Ctx>, addr: SocketAddr, forger: Arc<SigningKey>) {
    let mut client = KissClient::new(channel_from(addr, ATTACK_ADDR));
    for n in 0u64.. {
        let victim = namespace((n as usize * 7919) % ctx.users.max(1));
        let mut key_claims = forger.token(
            "soak-user-0",
            "user0@soak.example",
            std::slice::from_ref(&victim),
        );
        // Re-head it with a kid nobody published.
        let (_, rest) = key_claims.split_once('.').expect("a JWT");
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": format!("evil-{n}")});
        use base64::Engine;
        key_claims = format!(
            "{}.{rest}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(serde_json::to_vec(&header).expect("JSON"))
        );
        ctx.tally.sent(Party::Attacks, "ListSecrets");
        let r = client
            .list_secrets(authorized(
                &key_claims,
                pb::ListSecretsRequest {
                    metadata: meta(&victim),
                },
            ))
            .await;
        judge(
            &ctx,
            "unknown-kid token",
            Some("ListSecrets"),
            status_code(&ctx, "unknown-kid token", &r),
            &REFUSED,
        );
        let mallory = ctx.tokens.read().unwrap().mallory.clone();
        ctx.tally.sent(Party::Attacks, "GetSecret");
        let r = client
            .get_secret(authorized(
                &mallory,
                pb::GetSecretRequest {
                    metadata: meta(&victim),
                    name: "s0".into(),
                    include_value: true,
                    version_id: String::new(),
                },
            ))
            .await;
        judge(
            &ctx,
            "another namespace's secret",
            Some("GetSecret"),
            status_code(&ctx, "another namespace's secret", &r),
            &[Code::PermissionDenied, Code::ResourceExhausted],
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Opens a gRPC stream on a raw HTTP/2 connection.
fn open(
    send: &mut h2::client::SendRequest<Bytes>,
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
) -> Option<(h2::client::ResponseFuture, h2::SendStream<Bytes>)> {
    let mut req = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    send.send_request(req.body(()).ok()?, false).ok()
}

/// The `grpc-status` among headers or trailers.
fn status_in(h: &http::HeaderMap) -> Option<Code> {
    h.get("grpc-status")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i32>().ok())
        .map(Code::from_i32)
}

/// The gRPC status of an answer, from its headers or its trailers.
async fn grpc_status(response: http::Response<h2::RecvStream>) -> Option<Code> {
    if let Some(code) = status_in(response.headers()) {
        return Some(code);
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.ok()?;
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    body.trailers()
        .await
        .ok()
        .flatten()
        .as_ref()
        .and_then(status_in)
}

async fn answer(
    ctx: &Ctx,
    what: &str,
    response: h2::client::ResponseFuture,
    within: Duration,
) -> Option<Code> {
    let why = match tokio::time::timeout(within, response).await {
        Err(_) => "no response headers in time".to_owned(),
        Ok(Err(e)) => {
            ctx.tally
                .outcome(&format!("attack {what}"), closed_by_server(&e));
            return Some(CLOSED);
        }
        Ok(Ok(response)) => match tokio::time::timeout(within, grpc_status(response)).await {
            Ok(Some(code)) => return Some(code),
            Ok(None) => "no grpc-status".to_owned(),
            Err(_) => "no trailers in time".to_owned(),
        },
    };
    ctx.tally
        .outcome(&format!("attack {what} (client-side error)"), &why);
    None
}

/// What an h2 error says the server did to an attacker's stream or
/// connection: one of its defences against abusive connections (GOAWAY,
/// RST_STREAM, closing it), not a failure; a call it never answers at all
/// is one (the timeouts above).
fn closed_by_server(e: &h2::Error) -> &'static str {
    if e.is_go_away() {
        "GOAWAY from the server (expected)"
    } else if e.is_remote() {
        "stream reset by the server (expected)"
    } else {
        "connection closed by the server (expected)"
    }
}

async fn handshake(addr: SocketAddr) -> Option<h2::client::SendRequest<Bytes>> {
    let tcp = tcp(addr).await.ok()?;
    let (send, conn) = h2::client::handshake(tcp).await.ok()?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    send.ready().await.ok()
}

/// 40 streams at a time with mallory's valid token that send their
/// headers and never a body: refused past her share, ended at the read
/// deadline within it.
async fn silent_streams(ctx: Arc<Ctx>, addr: SocketAddr) {
    loop {
        let Some(mut send) = handshake(addr).await else {
            judge(&ctx, "silent streams (connect)", None, None, &[]);
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let token = ctx.tokens.read().unwrap().mallory.clone();
        let mut streams = Vec::new();
        for _ in 0..40 {
            let Ok(ready) = send.clone().ready().await else {
                break;
            };
            send = ready;
            ctx.tally.sent(Party::Attacks, "Ping");
            match open(&mut send, addr, "/kiss.resources.KISS/Ping", Some(&token)) {
                Some(s) => streams.push(s),
                None => {
                    judge(&ctx, "silent stream", Some("Ping"), Some(CLOSED), &[]);
                    break;
                }
            }
        }
        let mut waiting = JoinSet::new();
        for (response, body) in streams {
            let ctx = ctx.clone();
            waiting.spawn(async move {
                let code = answer(&ctx, "silent stream", response, Duration::from_secs(30)).await;
                drop(body);
                code
            });
        }
        while let Some(code) = waiting.join_next().await {
            judge(
                &ctx,
                "silent stream",
                Some("Ping"),
                code.ok().flatten(),
                &[Code::DeadlineExceeded, Code::ResourceExhausted],
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A message that declares 4 MiB and sends 60 KB of it, to KISS (with
/// mallory's token) and to health and reflection (without one).
async fn oversized(ctx: Arc<Ctx>, addr: SocketAddr) {
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(4u32 << 20).to_be_bytes());
    frame.resize(5 + 60_000, 0);
    let frame = Bytes::from(frame);
    let targets: [(&str, Option<&'static str>, &[Code]); 3] = [
        (
            "/kiss.resources.KISS/CreateSecret",
            Some("CreateSecret"),
            &[
                Code::ResourceExhausted,
                Code::OutOfRange,
                Code::InvalidArgument,
            ],
        ),
        ("/grpc.health.v1.Health/Check", None, &[Code::OutOfRange]),
        (
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            None,
            &[
                Code::Ok,
                Code::OutOfRange,
                Code::ResourceExhausted,
                Code::InvalidArgument,
                Code::Internal,
            ],
        ),
    ];
    loop {
        // A connection per round: the server closes one on which it had to
        // reset too many streams (256), which these rounds would reach.
        let Some(mut send) = handshake(addr).await else {
            judge(&ctx, "oversized (connect)", None, None, &[]);
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        for (path, rpc, expected) in targets {
            let token = rpc.map(|_| ctx.tokens.read().unwrap().mallory.clone());
            if let Some(rpc) = rpc {
                ctx.tally.sent(Party::Attacks, rpc);
            }
            let code = match open(&mut send, addr, path, token.as_deref()) {
                Some((response, mut body)) => {
                    let _ = body.send_data(frame.clone(), false);
                    let code = answer(&ctx, path, response, Duration::from_secs(20)).await;
                    drop(body);
                    code
                }
                None => Some(CLOSED),
            };
            let what = format!(
                "4 MiB declared to {}",
                path.rsplit('/').next().unwrap_or(path)
            );
            judge(&ctx, &what, rpc, code, expected);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// 50 connections at a time that never open an HTTP/2 session (half
/// silent, half a partial preface), from an address of their own so that
/// the per-address connection cap they run into does not also close the
/// other attacks' connections: each must be closed by the server.
async fn idle_connections(ctx: Arc<Ctx>, addr: SocketAddr) {
    loop {
        let mut set = JoinSet::new();
        for n in 0..50 {
            set.spawn(async move {
                let mut tcp = tcp_from(addr, IDLE_ADDR).await.ok()?;
                if n % 2 == 1 {
                    tcp.write_all(b"PRI * HTTP/2.0").await.ok()?;
                }
                let mut buf = [0u8; 256];
                loop {
                    match tokio::time::timeout(Duration::from_secs(25), tcp.read(&mut buf)).await {
                        Err(_) => return Some(false),
                        Ok(Ok(0) | Err(_)) => return Some(true),
                        Ok(Ok(_)) => {}
                    }
                }
            });
        }
        while let Some(r) = set.join_next().await {
            let outcome = match r.ok().flatten() {
                Some(true) => "closed by the server",
                Some(false) => "still open after 25 s",
                None => "could not connect",
            };
            let expected = outcome == "closed by the server";
            ctx.tally.outcome("attack idle connection", outcome);
            if !expected {
                ctx.tally
                    .unexpected(format!("attack idle connection: {outcome}"));
            }
        }
    }
}

/// Health `Watch` streams open at once across all connections: kiss-server's
/// `public::MAX_WATCH_STREAMS` (not a flag; this crate cannot name it).
const WATCH_BOUND: usize = 256;
/// Connections of the Watch flood, and streams on each: 300 in all, and
/// under the server's 64 streams per connection, so that no stream is
/// refused by HTTP/2 before the Watch bound sees it.
const WATCH_CONNECTIONS: usize = 5;
const WATCH_STREAMS_PER_CONNECTION: usize = 60;
/// How long each round's streams are held open.
const WATCH_HOLD: Duration = Duration::from_secs(10);
const WATCH: &str = "health Watch without a token";
const WATCH_PATH: &str = "/grpc.health.v1.Health/Watch";
/// `ServingStatus::Serving`.
const SERVING: u8 = 1;

/// What a Watch stream got first.
enum Watched {
    /// The server ended it: its status (RESOURCE_EXHAUSTED past the bound),
    /// [`CLOSED`], or `None` when no answer came in time.
    Ended(Option<Code>),
    /// It stays open after its first message, this serving status (1 =
    /// SERVING); held with its request half.
    Watching(u8, h2::RecvStream, h2::SendStream<Bytes>),
}

/// The serving status in the first gRPC message of `buf`, once it is all
/// there: a `HealthCheckResponse` is field 1 (varint tag 0x08), the status.
fn first_status(buf: &[u8]) -> Option<u8> {
    let len = u32::from_be_bytes(buf.get(1..5)?.try_into().ok()?) as usize;
    let message = buf.get(5..5 + len)?;
    match message {
        [] => Some(0),
        [0x08, status, ..] => Some(*status),
        _ => Some(u8::MAX),
    }
}

async fn first_watch_answer(
    ctx: &Ctx,
    response: h2::client::ResponseFuture,
    request: h2::SendStream<Bytes>,
) -> Watched {
    let within = Duration::from_secs(20);
    let client_side = |why: &str| {
        ctx.tally
            .outcome(&format!("attack {WATCH} (client-side error)"), why);
        Watched::Ended(None)
    };
    let response = match tokio::time::timeout(within, response).await {
        Err(_) => return client_side("no response headers in time"),
        Ok(Err(e)) => {
            ctx.tally
                .outcome(&format!("attack {WATCH}"), closed_by_server(&e));
            return Watched::Ended(Some(CLOSED));
        }
        Ok(Ok(response)) => response,
    };
    if let Some(code) = status_in(response.headers()) {
        return Watched::Ended(Some(code));
    }
    let mut body = response.into_body();
    let mut buf = Vec::new();
    loop {
        if let Some(status) = first_status(&buf) {
            return Watched::Watching(status, body, request);
        }
        match tokio::time::timeout(within, body.data()).await {
            Err(_) => return client_side("no status message in time"),
            Ok(None) => {
                let trailers = body.trailers().await.ok().flatten();
                return Watched::Ended(trailers.as_ref().and_then(status_in));
            }
            Ok(Some(Err(e))) => {
                ctx.tally
                    .outcome(&format!("attack {WATCH}"), closed_by_server(&e));
                return Watched::Ended(Some(CLOSED));
            }
            Ok(Some(Ok(chunk))) => {
                let _ = body.flow_control().release_capacity(chunk.len());
                buf.extend_from_slice(&chunk);
            }
        }
    }
}

/// Health `Watch` streams without a token, past the server's bound on
/// them: [`WATCH_CONNECTIONS`] connections of
/// [`WATCH_STREAMS_PER_CONNECTION`] streams each, held open for
/// [`WATCH_HOLD`], then dropped and opened again. Each must be answered at
/// once: within the bound by the current status (SERVING) on a stream that
/// stays open, past it by RESOURCE_EXHAUSTED (or the connection closed by
/// the server). More than [`WATCH_BOUND`] watching at once, a stream ended
/// in another way, or one that changed while held is a failure.
async fn watch_flood(ctx: Arc<Ctx>, addr: SocketAddr) {
    loop {
        let mut conns = Vec::new();
        for _ in 0..WATCH_CONNECTIONS {
            match handshake(addr).await {
                Some(send) => conns.push(send),
                None => judge(&ctx, "health Watch flood (connect)", None, None, &[]),
            }
        }
        let mut answers = JoinSet::new();
        let mut opened = 0;
        for send in &mut conns {
            for _ in 0..WATCH_STREAMS_PER_CONNECTION {
                let Ok(ready) = send.clone().ready().await else {
                    judge(&ctx, WATCH, None, Some(CLOSED), &[]);
                    break;
                };
                *send = ready;
                let Some((response, mut request)) = open(send, addr, WATCH_PATH, None) else {
                    judge(&ctx, WATCH, None, Some(CLOSED), &[]);
                    break;
                };
                // HealthCheckRequest { service: "" } is empty.
                let _ = request.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true);
                opened += 1;
                let ctx = ctx.clone();
                answers.spawn(async move { first_watch_answer(&ctx, response, request).await });
            }
        }
        let mut held = Vec::new();
        let mut refused = 0;
        while let Some(answer) = answers.join_next().await {
            match answer {
                Ok(Watched::Watching(status, body, request)) => {
                    if status == SERVING {
                        judge(&ctx, WATCH, None, Some(Code::Ok), &[Code::Ok]);
                    } else {
                        ctx.tally
                            .outcome(&format!("attack {WATCH}"), "watching, not SERVING");
                        ctx.tally.unexpected(format!(
                            "attack {WATCH}: first status {status}, expected SERVING (1)"
                        ));
                    }
                    held.push((body, request));
                }
                Ok(Watched::Ended(code)) => {
                    if code == Some(Code::ResourceExhausted) {
                        refused += 1;
                    }
                    judge(&ctx, WATCH, None, code, &[Code::ResourceExhausted]);
                }
                Err(_) => {}
            }
        }
        let watching = held.len();
        ctx.tally.outcome(
            "attack health Watch flood, per round",
            &format!("{opened} opened, {watching} watching, {refused} refused"),
        );
        if watching > WATCH_BOUND {
            ctx.tally.unexpected(format!(
                "attack health Watch flood: {watching} streams watching at once, past the bound of {WATCH_BOUND}"
            ));
        }
        tokio::time::sleep(WATCH_HOLD).await;
        for (mut body, _request) in held {
            // Polled once: a held stream has nothing to say.
            let outcome = match tokio::time::timeout(Duration::ZERO, body.data()).await {
                Err(_) => "still watching after the hold",
                Ok(Some(Err(e))) => closed_by_server(&e),
                Ok(Some(Ok(_))) => "a new status while held (unexpected)",
                Ok(None) => "ended by the server while held (unexpected)",
            };
            ctx.tally
                .outcome("attack health Watch, held streams", outcome);
            if outcome.ends_with("(unexpected)") {
                ctx.tally
                    .unexpected(format!("attack health Watch, held stream: {outcome}"));
            }
        }
        drop(conns);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
