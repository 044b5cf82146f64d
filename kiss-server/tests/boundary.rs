//! What a stranger can make the server hold, and what a flood of refusals
//! can do to everyone else and to the audit trail (issue 11, items 2 to 5):
//! each test runs the attack against an in-process server on loopback (the
//! one about file descriptors against a process of its own, whose limit it
//! sets) and checks outcomes by counting (calls that succeed, fetches the
//! IdP saw, records written, connections closed, log lines), never by
//! measuring speed.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_server::audit::Audit;
use kiss_server::auth::{AuthMode, Authenticator, Jwks};
use kiss_server::dev::{self, DevKey};
use kiss_server::pipeline::{ClaimsAuthorizer, Limits};
use kiss_server::server::{self, Parts, Running};
use kiss_server::store::Naming;
use kiss_server::store::local::LocalStore;
use kiss_testkit::{Caller, KissServer, authorized};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tonic::codegen::Bytes;
use tonic::transport::Channel;
use tonic::{Code, Request};

struct Server {
    running: Running,
    key: DevKey,
    audit_path: PathBuf,
    _dir: tempfile::TempDir,
}

struct Options {
    limits: Limits,
    /// The key cache; `None`: a fixed one holding the dev key.
    jwks: Option<Arc<Jwks>>,
    key: Option<DevKey>,
    audit: Option<Arc<Audit>>,
    /// The local backend's directory; `None`: a new, empty one.
    dir: Option<tempfile::TempDir>,
    trusted_proxies: Vec<std::net::IpAddr>,
    tls: Option<tonic::transport::ServerTlsConfig>,
    /// The backend; `None`: the local one in `dir`.
    store: Option<Arc<dyn kiss_server::store::SecretStore>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::unlimited(),
            jwks: None,
            key: None,
            audit: None,
            dir: None,
            trusted_proxies: Vec::new(),
            tls: None,
            store: None,
        }
    }
}

impl Server {
    async fn start(options: Options) -> Server {
        let dir = options.dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
        let key = match options.key {
            Some(k) => k,
            None => DevKey::generate().unwrap(),
        };
        let jwks = options.jwks.unwrap_or_else(|| Jwks::fixed(key.key_set()));
        let ready = jwks.ready();
        let audit_path = dir.path().join("audit.jsonl");
        let audit = options
            .audit
            .unwrap_or_else(|| Arc::new(Audit::to_file(&audit_path).unwrap()));
        let parts = Parts {
            store: options.store.unwrap_or_else(|| {
                Arc::new(LocalStore::open(dir.path(), Naming::default(), 7).unwrap())
            }),
            auth: AuthMode::Verify(Arc::new(Authenticator::new(dev::dev_auth_settings(), jwks))),
            authorizer: Arc::new(ClaimsAuthorizer),
            audit,
            trusted_proxies: options.trusted_proxies,
            tls: options.tls,
            shutdown_grace: Duration::from_secs(1),
            limits: options.limits,
        };
        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let running = server::start(parts, listener, ready).await.unwrap();
        Server {
            running,
            key,
            audit_path,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    async fn channel(&self) -> Channel {
        kiss_testkit::connect(self.addr()).await
    }

    async fn client(&self) -> KissClient<Channel> {
        KissClient::new(self.channel().await)
    }

    fn token(&self, user: &str, namespaces: &[&str]) -> String {
        self.key.mint(user, namespaces, 3600)
    }

    fn audit(&self) -> Vec<Value> {
        read_lines(&std::fs::read_to_string(&self.audit_path).unwrap_or_default())
    }

    /// The readiness status (1 = SERVING, 2 = NOT_SERVING).
    async fn readiness(&self) -> Option<i32> {
        kiss_testkit::health(self.addr(), kiss_proto::SERVICE_NAME).await
    }

    /// Waits (up to 10 s) until readiness is `status`; the status it ended on.
    async fn readiness_becomes(&self, status: i32) -> Option<i32> {
        let mut last = None;
        for _ in 0..100 {
            last = self.readiness().await;
            if last == Some(status) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        last
    }
}

fn read_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const SERVING: i32 = 1;
const NOT_SERVING: i32 = 2;

fn code<T>(r: Result<T, tonic::Status>) -> Code {
    r.map_or_else(|s| s.code(), |_| Code::Ok)
}

fn audit_failures() -> u64 {
    kiss_server::metrics::metrics()
        .audit_write_failures
        .with_label_values(&[] as &[&str])
        .get()
}

fn ping(token: &str, ns: &str) -> Request<pb::PingRequest> {
    authorized(
        token,
        pb::PingRequest {
            metadata: Some(pb::ClientMeta {
                namespace: ns.into(),
            }),
        },
    )
}

/// `token` with its header's `kid` replaced: the signature no longer
/// matters, the key lookup comes first.
fn with_kid(token: &str, kid: &str) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    format!(
        "{}.{rest}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap())
    )
}

/// A JWKS endpoint that counts its requests and can be made to hold its
/// answers until released (an IdP that is slow to answer).
struct TestIdp {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    stall: watch::Sender<bool>,
}

impl TestIdp {
    async fn start(key: &DevKey) -> TestIdp {
        let body = serde_json::to_string(key.key_set()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let (stall, stalled) = watch::channel(false);
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (h, body, mut stalled) = (h.clone(), body.clone(), stalled.clone());
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    h.fetch_add(1, Ordering::SeqCst);
                    let _ = stalled.wait_for(|s| !*s).await;
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        TestIdp { addr, hits, stall }
    }

    fn url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// 11.4: a flood of tokens with made-up `kid`s, while the IdP is slow to
/// answer the refetch it causes: the IdP sees one fetch, only a few
/// requests wait for it, every flood request is refused, and another
/// user's calls all succeed even with two shared permits in all.
#[tokio::test]
async fn an_unknown_kid_flood_neither_queues_nor_locks_others_out() {
    let key = DevKey::generate().unwrap();
    let idp = TestIdp::start(&key).await;
    // No interval between refetches: only the fetch under way holds the
    // flood back, which is the case under test.
    let jwks = Jwks::from_url(&idp.url())
        .unwrap()
        .with_min_interval(Duration::ZERO);
    jwks.refresh().await.unwrap();
    assert_eq!(idp.hits(), 1);
    let server = Server::start(Options {
        limits: Limits {
            max_in_flight: 2,
            ..Limits::unlimited()
        },
        jwks: Some(jwks.clone()),
        key: Some(key),
        ..Options::default()
    })
    .await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = server.client().await;
    client.ping(ping(&alice, "team-a")).await.unwrap();

    idp.stall.send_replace(true);
    let mallory = server.token("mallory@example.com", &["team-a"]);
    let mut flood = Vec::new();
    for c in 0..10 {
        let channel = server.channel().await;
        for i in 0..20 {
            let token = with_kid(&mallory, &format!("made-up-{c}-{i}"));
            let mut client = KissClient::new(channel.clone());
            let jwks = jwks.clone();
            flood.push(tokio::spawn(async move {
                let answer = client.ping(ping(&token, "team-a")).await;
                // Whether the fetch was still under way when it came.
                (answer, jwks.fetching())
            }));
        }
    }
    for _ in 0..20 {
        client
            .ping(ping(&alice, "team-a"))
            .await
            .expect("alice is served during the flood");
    }
    // Every flood request is refused, and all but the one that started
    // the fetch while the IdP still holds it (the fetch only ends when
    // released, or at its 5 s timeout): none of them waited for its end.
    let mut refused_during_fetch = 0;
    for call in flood {
        let (answer, during) = tokio::time::timeout(Duration::from_secs(30), call)
            .await
            .expect("a flood request is answered")
            .unwrap();
        let err = answer.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
        refused_during_fetch += usize::from(during);
    }
    assert_eq!(
        refused_during_fetch, 199,
        "flood requests refused before the stalled fetch ended"
    );
    assert_eq!(idp.hits(), 2, "200 unknown kids caused one refetch");
    idp.stall.send_replace(false);
}

/// Refusals left out of the audit log are counted until their interval
/// ends; a server stopped before then (every rollout) writes the counts as
/// it stops, so none are lost with the process.
#[tokio::test]
async fn refusals_left_out_are_summarised_at_shutdown() {
    let server = Server::start(Options {
        limits: Limits {
            audited_refusals: 2,
            audit_interval: Duration::from_secs(3600),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let mut client = server.client().await;
    for i in 0..12 {
        let refused = code(client.ping(ping(&format!("junk-{i}"), "team-a")).await);
        assert_eq!(refused, Code::Unauthenticated);
    }
    let audit_path = server.audit_path.clone();
    drop(client);
    server.running.shutdown().await.unwrap();
    let records = kiss_testkit::audit::records(&audit_path);
    let written = records.iter().filter(|r| r["rpc"] == "Ping").count();
    let summarised: u64 = records
        .iter()
        .filter(|r| r["notice"] == "refusals_suppressed")
        .filter_map(|r| r["count"].as_u64())
        .sum();
    assert_eq!((written as u64, summarised), (2, 10), "{records:#?}");
}

/// 11.5: one client whose calls are all refused (no valid token): past its
/// refusal budget it is refused as rate limited, past its audit budget its
/// records are summarised, and another user at the same address is served
/// and audited in full.
#[tokio::test]
async fn a_client_whose_calls_are_refused_is_limited_and_summarised() {
    let server = Server::start(Options {
        limits: Limits {
            refusals_per_second: 0.001,
            refusal_burst: 30,
            audited_refusals: 10,
            audit_interval: Duration::from_secs(2),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let mut client = server.client().await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut codes = Vec::new();
    for i in 0..100 {
        codes.push(code(
            client.ping(ping(&format!("junk-{i}"), "team-a")).await,
        ));
        if i % 10 == 0 {
            assert_eq!(
                code(client.ping(ping(&alice, "team-a")).await),
                Code::Ok,
                "alice, at the same address, is served"
            );
        }
    }
    let unauthenticated = codes
        .iter()
        .filter(|c| **c == Code::Unauthenticated)
        .count();
    let limited = codes
        .iter()
        .filter(|c| **c == Code::ResourceExhausted)
        .count();
    assert_eq!((unauthenticated, limited), (30, 70), "{codes:?}");

    // 10 refusals and alice's 10 calls, then one summary of the other 90.
    let mut records = Vec::new();
    for _ in 0..100 {
        records = server.audit();
        if records.iter().any(|r| r["notice"] == "refusals_suppressed") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = records.iter().filter(|r| r["decision"] == "deny").count();
    let allowed = records.iter().filter(|r| r["decision"] == "allow").count();
    assert_eq!((refused, allowed), (10, 10), "{records:#?}");
    let summaries: Vec<&Value> = records
        .iter()
        .filter(|r| r["notice"] == "refusals_suppressed")
        .collect();
    assert_eq!(summaries.len(), 1, "{records:#?}");
    assert_eq!(summaries[0]["client"], "127.0.0.1");
    assert_eq!(summaries[0]["count"], 90);
    assert_eq!(summaries[0]["audit"], true);
}

/// 11.5: `--audit-log /dev/full` (every write ENOSPC): the call fails,
/// readiness goes NOT_SERVING and the failure is counted.
#[tokio::test]
async fn an_audit_log_on_a_full_disk_takes_readiness_down() {
    let audit = Audit::to_file(std::path::Path::new("/dev/full")).unwrap();
    let server = Server::start(Options {
        audit: Some(Arc::new(audit)),
        ..Options::default()
    })
    .await;
    assert_eq!(server.readiness_becomes(SERVING).await, Some(SERVING));
    let before = audit_failures();
    let alice = server.token("alice@example.com", &["team-a"]);
    let err = server
        .client()
        .await
        .ping(ping(&alice, "team-a"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    assert!(err.message().contains("audit"), "{err:?}");
    assert_eq!(
        server.readiness_becomes(NOT_SERVING).await,
        Some(NOT_SERVING)
    );
    assert!(
        audit_failures() > before,
        "kiss_audit_write_failures_total counts it"
    );
    assert_eq!(
        kiss_testkit::health(server.addr(), "").await,
        Some(SERVING),
        "liveness stays up: restarting would not free the disk"
    );
}

/// A change must never reach AWS unaudited: with `--audit-log /dev/full`,
/// once audit is known to be failing, CreateSecret and UpdateSecret are
/// refused UNAVAILABLE before the store is called, and the local backend's
/// file is byte for byte what it was. Before, both ran against the store
/// (and were then answered INTERNAL, the change made but unrecorded).
#[tokio::test]
async fn writes_are_refused_while_audit_records_cannot_be_written() {
    use kiss_server::store::{SecretRef, SecretStore};
    let dir = tempfile::tempdir().unwrap();
    LocalStore::open(dir.path(), Naming::default(), 7)
        .unwrap()
        .create(&SecretRef::new("team-a", "db"), "v1")
        .await
        .unwrap();
    let files = |dir: &std::path::Path| {
        use kiss_server::store::local::{JOURNAL_FILE, STORE_FILE};
        [STORE_FILE, JOURNAL_FILE].map(|f| std::fs::read(dir.join(f)).ok())
    };
    let before = files(dir.path());
    let data_dir = dir.path().to_owned();
    let audit = Audit::to_file(std::path::Path::new("/dev/full")).unwrap();
    let server = Server::start(Options {
        audit: Some(Arc::new(audit)),
        dir: Some(dir),
        ..Options::default()
    })
    .await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = server.client().await;
    // A read finds out that records cannot be written (and fails INTERNAL).
    assert_eq!(
        code(client.ping(ping(&alice, "team-a")).await),
        Code::Internal
    );
    let meta = || {
        Some(pb::ClientMeta {
            namespace: "team-a".into(),
        })
    };
    let update = client
        .update_secret(authorized(
            &alice,
            pb::UpdateSecretRequest {
                metadata: meta(),
                name: "db".into(),
                value: "v2".into(),
                expected_version_id: String::new(),
            },
        ))
        .await
        .unwrap_err();
    let create = client
        .create_secret(authorized(
            &alice,
            pb::CreateSecretRequest {
                metadata: meta(),
                name: "new".into(),
                value: "v1".into(),
            },
        ))
        .await
        .unwrap_err();
    for err in [update, create] {
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");
        assert!(
            err.message()
                .contains("audit records cannot be written; no change was made"),
            "{err:?}"
        );
    }
    assert_eq!(files(&data_dir), before, "the store is unchanged");
}

/// An audit sink that fails while `full` is set.
#[derive(Clone, Default)]
struct Disk {
    full: Arc<std::sync::atomic::AtomicBool>,
    written: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Write for Disk {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.full.load(Ordering::SeqCst) {
            return Err(std::io::Error::from_raw_os_error(28)); // ENOSPC
        }
        self.written.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// 11.5: once records can be written again, readiness comes back by
/// itself, and the log says how many records were lost: exactly once, and
/// before any record written after the gap, also when a call's record (not
/// the server's retry) is the first write that works. Before, that call
/// cleared the count without writing the notice, so the gap was unmarked.
#[tokio::test]
async fn readiness_recovers_when_audit_records_can_be_written_again() {
    let disk = Disk::default();
    let server = Server::start(Options {
        audit: Some(Arc::new(Audit::to_writer(Box::new(disk.clone())))),
        ..Options::default()
    })
    .await;
    assert_eq!(server.readiness_becomes(SERVING).await, Some(SERVING));
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = server.client().await;
    disk.full.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        assert_eq!(
            code(client.ping(ping(&alice, "team-a")).await),
            Code::Internal
        );
    }
    assert_eq!(
        server.readiness_becomes(NOT_SERVING).await,
        Some(NOT_SERVING)
    );
    disk.full.store(false, Ordering::SeqCst);
    // A call right away: its record is (most likely) the first write that
    // works, before the server's once-a-second retry.
    client.ping(ping(&alice, "team-a")).await.unwrap();
    assert_eq!(server.readiness_becomes(SERVING).await, Some(SERVING));
    client.ping(ping(&alice, "team-a")).await.unwrap();
    let lines = read_lines(&String::from_utf8(disk.written.lock().unwrap().clone()).unwrap());
    let resumed: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i]["notice"] == "audit_resumed")
        .collect();
    assert_eq!(resumed.len(), 1, "{lines:#?}");
    assert_eq!(lines[resumed[0]]["count"], 3, "the three lost: {lines:#?}");
    let calls = lines.iter().filter(|l| l["rpc"] == "Ping").count();
    assert_eq!(calls, 2, "{lines:#?}");
    assert_eq!(resumed[0], 0, "the gap is marked before anything after it");
}

/// An HTTP/2 connection without the gRPC client, for requests no real
/// client would send.
async fn raw_connection(
    addr: SocketAddr,
) -> (h2::client::SendRequest<Bytes>, tokio::task::JoinHandle<()>) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (send, conn) = h2::client::handshake(tcp).await.unwrap();
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    (send, task)
}

/// Opens a stream to `path` with gRPC headers and no token.
async fn open_stream(
    send: &mut h2::client::SendRequest<Bytes>,
    addr: SocketAddr,
    path: &str,
) -> (h2::client::ResponseFuture, h2::SendStream<Bytes>) {
    let ready = send.clone().ready().await.unwrap();
    *send = ready;
    let req = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    send.send_request(req, false).unwrap()
}

/// The gRPC status of an answer: from a trailers-only answer's headers, or
/// from the trailers after the body (which is read to its end).
async fn grpc_status(response: http::Response<h2::RecvStream>) -> Option<i32> {
    let parse = |h: &http::HeaderMap| {
        h.get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
    };
    if let Some(code) = parse(response.headers()) {
        return Some(code);
    }
    let mut body = response.into_body();
    while let Some(chunk) = body.data().await {
        let Ok(chunk) = chunk else { return None };
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    body.trailers()
        .await
        .ok()
        .flatten()
        .as_ref()
        .and_then(parse)
}

/// 11.2: without a token, a request to reflection or health that declares
/// a 4 MiB message (and sends 60 KB of it) is refused from its header: the
/// stream is ended (health: OUT_OF_RANGE; reflection ends its stream on a
/// bad request) while the rest of the message never comes, so the server
/// did not wait to buffer it. Before, 4 MiB was within tonic's default
/// limit and each such stream was held, buffering, until the end.
#[tokio::test]
async fn health_and_reflection_refuse_large_messages_without_buffering_them() {
    // A read deadline far beyond the 10 s waited below: only the size
    // limit can end these streams in time.
    let server = Server::start(Options {
        limits: Limits {
            read_deadline: Duration::from_secs(60),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let (mut send, _conn) = raw_connection(server.addr()).await;
    for (path, expected) in [
        (
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            None,
        ),
        (
            "/grpc.health.v1.Health/Check",
            Some(Code::OutOfRange as i32),
        ),
    ] {
        let (response, mut body) = open_stream(&mut send, server.addr(), path).await;
        let mut frame = vec![0u8];
        frame.extend_from_slice(&(4u32 << 20).to_be_bytes());
        frame.resize(5 + 60_000, 0);
        body.send_data(Bytes::from(frame), false).unwrap();
        let response = tokio::time::timeout(Duration::from_secs(10), response)
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer while the message is incomplete"))
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(10), grpc_status(response))
            .await
            .unwrap_or_else(|_| panic!("{path}: no status while the message is incomplete"));
        assert!(
            status.is_some(),
            "{path}: the stream ended without a status"
        );
        if expected.is_some() {
            assert_eq!(status, expected, "{path}");
        }
    }
    // The bounds leave real use alone: reflection still describes KISS.
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            kiss_proto::SERVICE_NAME.into(),
        )),
    };
    let mut replies = ServerReflectionClient::new(server.channel().await)
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let reply = replies.message().await.unwrap().unwrap();
    assert!(
        matches!(
            reply.message_response,
            Some(MessageResponse::FileDescriptorResponse(_))
        ),
        "{reply:?}"
    );
    assert_eq!(kiss_testkit::health(server.addr(), "").await, Some(SERVING));
}

/// 11.2: a health request whose body never comes is answered at the read
/// deadline instead of being held open.
#[tokio::test]
async fn a_silent_health_request_is_answered_at_the_read_deadline() {
    let server = Server::start(Options {
        limits: Limits {
            read_deadline: Duration::from_millis(500),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let (mut send, _conn) = raw_connection(server.addr()).await;
    let (response, _body) =
        open_stream(&mut send, server.addr(), "/grpc.health.v1.Health/Check").await;
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("a silent health request is answered")
        .unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), grpc_status(response))
        .await
        .expect("and ended");
    assert_eq!(status, Some(Code::DeadlineExceeded as i32));
}

/// 11.2: health `Watch` streams past the bound are refused at once; once
/// the holders go away, Watch works again.
#[tokio::test]
async fn health_watch_streams_are_bounded() {
    let server = Server::start(Options {
        limits: Limits {
            max_watch_streams: 5,
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let (mut send, conn) = raw_connection(server.addr()).await;
    let mut streams = Vec::new();
    for _ in 0..8 {
        let (response, mut body) =
            open_stream(&mut send, server.addr(), "/grpc.health.v1.Health/Watch").await;
        // HealthCheckRequest { service: "" } is empty.
        body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true)
            .unwrap();
        streams.push((response, body));
    }
    let mut refused = 0;
    let mut watching = Vec::new();
    for (response, body) in streams {
        let response = tokio::time::timeout(Duration::from_secs(10), response)
            .await
            .expect("every Watch is answered")
            .unwrap();
        match response.headers().get("grpc-status") {
            Some(v) => {
                assert_eq!(v, "8", "RESOURCE_EXHAUSTED");
                refused += 1;
            }
            None => watching.push((response, body)),
        }
    }
    assert_eq!((watching.len(), refused), (5, 3));

    drop(watching);
    drop(send);
    conn.abort();
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel().await);
    let mut watched = None;
    for _ in 0..50 {
        let req = tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        };
        if let Ok(stream) = health.watch(req).await {
            watched = stream.into_inner().message().await.ok().flatten();
            if watched.is_some() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(watched.map(|w| w.status), Some(SERVING));
}

/// Whether the server closed `tcp` (end of stream or reset) within 10 s.
async fn closed_by_server(tcp: &mut tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // The server's SETTINGS, say: keep reading.
            Ok(Ok(_)) => {}
        }
    }
}

/// Whether `tcp` is still open: nothing but data (the server's SETTINGS)
/// comes for 200 ms.
async fn still_open(tcp: &mut tokio::net::TcpStream) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut buf)).await {
            Err(_) => return true,
            Ok(Ok(0) | Err(_)) => return false,
            Ok(Ok(_)) => {}
        }
    }
}

/// 11.3: past `max_connections`, new connections are closed as soon as
/// accepted; the ones within the cap stay; once they go, a legitimate call
/// gets through.
#[tokio::test]
async fn connections_past_the_cap_are_closed() {
    let server = Server::start(Options {
        limits: Limits {
            max_connections: 4,
            handshake_timeout: Duration::from_secs(60),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(tokio::net::TcpStream::connect(server.addr()).await.unwrap());
    }
    for _ in 0..3 {
        let mut extra = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        assert!(
            closed_by_server(&mut extra).await,
            "a connection past the cap is closed"
        );
    }
    for tcp in &mut idle {
        assert!(
            still_open(tcp).await,
            "connections within the cap stay open"
        );
    }
    drop(idle);
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut served = false;
    for _ in 0..50 {
        if let Ok(channel) = Channel::from_shared(format!("http://{}", server.addr()))
            .unwrap()
            .connect()
            .await
            && KissClient::new(channel)
                .ping(ping(&alice, "team-a"))
                .await
                .is_ok()
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        served,
        "once the idle connections are gone, alice is served"
    );
}

/// 11.3: a connection that does not open its HTTP/2 session within the
/// handshake timeout (silent, or a few bytes of the preface) is closed; a
/// real client is not affected.
#[tokio::test]
async fn connections_that_never_open_a_session_are_closed() {
    let server = Server::start(Options {
        limits: Limits {
            handshake_timeout: Duration::from_millis(300),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let mut silent = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    let mut slow = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    slow.write_all(b"PRI * HTTP/2.0").await.unwrap();
    assert!(
        closed_by_server(&mut silent).await,
        "a silent connection is closed"
    );
    assert!(
        closed_by_server(&mut slow).await,
        "a partial preface is closed"
    );

    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = server.client().await;
    for _ in 0..3 {
        client.ping(ping(&alice, "team-a")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A connection to `server` from the loopback address `from` (any of
/// 127.0.0.0/8 is this machine), so tests can be several clients.
async fn connect_from(from: &str, server: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(from.parse().unwrap(), 0))
        .unwrap();
    socket.connect(server).await.unwrap()
}

/// One client address cannot take every connection: past
/// `max_connections_per_address` its new connections are closed at once
/// while another address still gets in, though the overall cap is far
/// off. Before, one address could hold all `--max-connections`.
#[tokio::test]
async fn one_address_cannot_take_every_connection() {
    let limits = Limits {
        max_connections: 100,
        max_connections_per_address: 3,
        handshake_timeout: Duration::from_secs(60),
        ..Limits::unlimited()
    };
    let server = Server::start(Options {
        limits,
        ..Options::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from("127.0.0.1", server.addr()).await);
    }
    for _ in 0..3 {
        let mut extra = connect_from("127.0.0.1", server.addr()).await;
        assert!(
            closed_by_server(&mut extra).await,
            "a fourth connection from one address is closed"
        );
    }
    let mut other = connect_from("127.0.0.2", server.addr()).await;
    assert!(
        still_open(&mut other).await,
        "another address still gets in"
    );
    for tcp in &mut held {
        assert!(still_open(tcp).await, "the first three stay open");
    }
    drop(held);
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut served = false;
    for _ in 0..50 {
        if let Ok(channel) = Channel::from_shared(format!("http://{}", server.addr()))
            .unwrap()
            .connect()
            .await
            && KissClient::new(channel)
                .ping(ping(&alice, "team-a"))
                .await
                .is_ok()
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "once they are closed, the address is served again");

    // A trusted proxy stands for many clients: it is not capped.
    let proxied = Server::start(Options {
        limits,
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Options::default()
    })
    .await;
    let mut through_proxy = Vec::new();
    for _ in 0..6 {
        through_proxy.push(connect_from("127.0.0.1", proxied.addr()).await);
    }
    for tcp in &mut through_proxy {
        assert!(still_open(tcp).await, "a trusted proxy is exempt");
    }
}

/// A connection with no stream open is closed after the idle timeout, even
/// though it answers keepalive pings (the h2 client does); one with a
/// stream open is not; a gRPC client whose idle connection was closed
/// reconnects on its next call. Before, an idle connection stayed open
/// until its maximum age (30 minutes).
#[tokio::test]
async fn idle_connections_are_closed_and_busy_ones_kept() {
    let server = Server::start(Options {
        limits: Limits {
            idle_timeout: Duration::from_millis(300),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = server.client().await;
    client.ping(ping(&alice, "team-a")).await.unwrap();

    let (mut busy, busy_conn) = raw_connection(server.addr()).await;
    let (response, mut body) =
        open_stream(&mut busy, server.addr(), "/grpc.health.v1.Health/Watch").await;
    body.send_data(Bytes::from_static(&[0, 0, 0, 0, 0]), true)
        .unwrap();
    let response = tokio::time::timeout(Duration::from_secs(10), response)
        .await
        .expect("the Watch is answered")
        .unwrap();
    assert!(response.headers().get("grpc-status").is_none(), "watching");

    let (_idle, idle_conn) = raw_connection(server.addr()).await;
    tokio::time::timeout(Duration::from_secs(10), idle_conn)
        .await
        .expect("the idle connection is closed by the server")
        .unwrap();
    // By now the busy one has outlived the idle timeout several times.
    assert!(!busy_conn.is_finished(), "a connection with a stream stays");
    drop(response);
    drop(body);

    // The client's connection went idle too; the next call reconnects.
    client
        .ping(ping(&alice, "team-a"))
        .await
        .expect("a client reconnects after its idle connection was closed");
}

/// The warning the listener logs, at most once per [`LOG_EVERY`], while
/// accepting fails for want of file descriptors.
const BACKOFF_WARNING: &str = "cannot accept connections (out of file descriptors?); backing off";
/// listener.rs's back-off: the pause after the first failed accept (it
/// doubles with each failure in a row), the longest pause, and the least
/// time between two warnings. Kept in step with it by hand.
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The pause after the `n`-th failed accept in a row (from 1).
fn backoff_after(n: u32) -> Duration {
    (FIRST_BACKOFF * (1u32 << (n - 1).min(20))).min(MAX_BACKOFF)
}

/// The most failures one warning can leave out before the next is due:
/// failure `j + 1` comes at least the first `j` pauses after the warning
/// of failure 1, and only those within [`LOG_EVERY`] of it go unlogged.
/// (16 with 5 ms doubling up to 1 s; a loop without the pause fails
/// millions of times in that time, one with a fixed 5 ms pause 2,000.)
fn most_left_out() -> u64 {
    let mut slept = Duration::ZERO;
    let mut j = 0;
    loop {
        slept += backoff_after(j + 1);
        if slept >= LOG_EVERY {
            return u64::from(j);
        }
        j += 1;
    }
}

/// 11.3: a server out of file descriptors (`RLIMIT_NOFILE` 64, a process
/// of its own; caps off, so only the limit bites) cannot accept the
/// connections waiting in its backlog: it backs off, doubling its pause,
/// and says so in one warning per [`LOG_EVERY`], the next one counting the
/// failures it stood for; once connections close, it accepts again and a
/// user is served. Checked by counting: the failures one warning stands
/// for, and the pause each warning reports. Before, a failed accept was
/// retried at once (a busy loop) with a log line each time.
#[tokio::test]
async fn out_of_file_descriptors_the_server_backs_off_warns_rarely_and_recovers() {
    const LIMIT: u64 = 64;
    let server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"));
    let (data, tokens) = (server.dir().join("data"), server.dir().join("tokens"));
    let server = server
        .max_open_files(LIMIT)
        .args(["--dev", "--log-format", "json", "--idle-timeout", "0"])
        .args(["--max-connections", "100000"])
        .args(["--max-connections-per-address", "0"])
        .arg("--data-dir")
        .arg(data)
        .arg("--dev-token-dir")
        .arg(&tokens)
        .spawn();
    let addr = server.addr;
    let warnings = || -> Vec<Value> {
        server
            .log()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|l| l["message"] == BACKOFF_WARNING)
            .collect()
    };

    // Readiness over a connection that is then held with the others, so
    // that no connection of ours closes (freeing a descriptor, which
    // would restart the back-off) until the flood is over.
    let probe = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .connect_lazy();
    let mut ready = false;
    for _ in 0..600 {
        if kiss_testkit::health_on(probe.clone(), kiss_proto::SERVICE_NAME).await == Some(SERVING) {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the server is not ready:\n{}", server.log());
    assert!(warnings().is_empty(), "{}", server.log());

    // More sessions than the server has descriptors: the ones past its
    // limit wait in the listen backlog, where connecting still succeeds.
    // Each sends its preface (the handshake deadline is met) and answers
    // keepalive pings, so the server closes none of them.
    let mut held = Vec::new();
    for _ in 0..LIMIT + 32 {
        held.push(raw_connection(addr).await);
    }

    // Held until the second warning: one a warning's time apart.
    let mut seen = Vec::new();
    for _ in 0..600 {
        seen = warnings();
        if seen.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = server.log();
    assert!(
        seen.len() >= 2,
        "two back-off warnings within a minute of holding {} connections to a server limited to {LIMIT} descriptors:\n{log}",
        held.len()
    );
    let (first, second) = (&seen[0], &seen[1]);
    assert_eq!(first["level"], "WARN", "{first}");
    assert_eq!(first["more_since_last"], 0, "the first failure: {first}");
    assert_eq!(
        first["backoff"],
        format!("{:?}", backoff_after(1)),
        "the first pause: {first}"
    );
    let left_out = second["more_since_last"]
        .as_u64()
        .unwrap_or_else(|| panic!("the second warning counts what it stands for: {second}"));
    assert!(
        left_out > 0,
        "failures between the two warnings went unlogged (throttled): {second}"
    );
    assert!(
        left_out <= most_left_out(),
        "at most {} failed accepts fit between two warnings with the back-off, not {left_out}: {second}",
        most_left_out()
    );
    // Failure 1, then `left_out` unlogged, then this one: its pause has
    // doubled for each, up to the longest.
    let failures = left_out as u32 + 2;
    assert_eq!(
        second["backoff"],
        format!("{:?}", backoff_after(failures)),
        "the pause after {failures} failures in a row: {second}"
    );
    println!(
        "{failures} failed accepts, {} back-off warnings; pauses {} then {}",
        seen.len(),
        first["backoff"].as_str().unwrap_or("?"),
        second["backoff"].as_str().unwrap_or("?")
    );

    // The flood ends: the server accepts again and serves a user.
    drop(probe);
    for (send, conn) in held {
        drop(send);
        conn.abort();
    }
    let token_file = std::fs::read(tokens.join("kiss-dev-1-demo-user")).unwrap();
    let token: Value = serde_json::from_slice(&token_file).unwrap();
    let mut demo = Caller::connect(addr, token["id_token"].as_str().unwrap()).await;
    demo.ping("team-a")
        .await
        .unwrap_or_else(|e| panic!("served once connections closed: {e}\n{}", server.log()));
}

/// Probes must not depend on the capped listener: with every connection of
/// the gRPC port taken, gRPC health still answers on the metrics address
/// (where the manifests' probes go), beside `/metrics`. Before, the metrics
/// address served only `/metrics`, so probes had to share the gRPC port.
#[tokio::test]
async fn health_is_served_beside_the_metrics_for_probes() {
    let mut server = Server::start(Options {
        limits: Limits {
            max_connections: 2,
            handshake_timeout: Duration::from_secs(60),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let metrics = server
        .running
        .serve_metrics("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let _taken = [
        tokio::net::TcpStream::connect(server.addr()).await.unwrap(),
        tokio::net::TcpStream::connect(server.addr()).await.unwrap(),
    ];
    let mut extra = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    assert!(closed_by_server(&mut extra).await, "the gRPC port is full");
    assert_eq!(kiss_testkit::health(metrics, "").await, Some(SERVING));
    let mut ready = None;
    for _ in 0..100 {
        ready = kiss_testkit::health(metrics, kiss_proto::SERVICE_NAME).await;
        if ready == Some(SERVING) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ready, Some(SERVING), "readiness too");
    let text = tokio::task::spawn_blocking(move || kiss_testkit::http_get(metrics, "/metrics"))
        .await
        .unwrap()
        .unwrap();
    assert!(text.contains("kiss_"), "{text}");
}

/// A certificate for `localhost` signed by a CA of its own: (CA PEM,
/// server identity).
fn test_certificates(dir: &std::path::Path) -> (Vec<u8>, tonic::transport::Identity) {
    let pki = kiss_testkit::tls::certificates(dir);
    (pki.ca_pem(), pki.identity())
}

/// Under TLS, the handshake deadline holds until the TLS handshake is done:
/// a client that sends the start of a ClientHello (well past the 33 bytes
/// of an HTTP/2 preface) and then nothing is closed at the deadline, while
/// a real TLS client is served on a connection older than the deadline.
/// Before, the deadline was dropped after 33 bytes and the TLS handshake
/// had no timeout, so the stalled connection stayed open for ever.
#[tokio::test]
async fn a_stalled_tls_handshake_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, identity) = test_certificates(dir.path());
    let server = Server::start(Options {
        limits: Limits {
            handshake_timeout: Duration::from_millis(300),
            ..Limits::unlimited()
        },
        tls: Some(tonic::transport::ServerTlsConfig::new().identity(identity)),
        ..Options::default()
    })
    .await;
    let mut stalled = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    // A handshake record that declares 512 bytes, of which 100 come.
    let mut hello = vec![0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc];
    hello.resize(105, 0x03);
    stalled.write_all(&hello).await.unwrap();
    assert!(
        closed_by_server(&mut stalled).await,
        "a stalled TLS handshake is closed"
    );

    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(ca))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://localhost:{}", server.addr().port()))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = KissClient::new(channel);
    client.ping(ping(&alice, "team-a")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    client
        .ping(ping(&alice, "team-a"))
        .await
        .expect("a completed TLS handshake is not held to the deadline");
}

/// 11.4: a refetch for an unknown `kid` that brings the same keys does not
/// change the key-set generation, so it does not throw away every verified
/// token (each would be verified again); new keys do change it. Before,
/// every fetch bumped it, so an unknown-kid flood invalidated the cache.
#[tokio::test]
async fn an_unknown_kid_refetch_of_the_same_keys_keeps_verified_tokens_cached() {
    let key = DevKey::generate().unwrap();
    let idp = TestIdp::start(&key).await;
    let jwks = Jwks::from_url(&idp.url())
        .unwrap()
        .with_min_interval(Duration::ZERO);
    jwks.refresh().await.unwrap();
    let generation = jwks.generation();
    for i in 0..3 {
        let found = jwks
            .key(
                Some(&format!("made-up-{i}")),
                jsonwebtoken::Algorithm::RS256,
            )
            .await;
        assert!(found.is_none());
    }
    assert_eq!(idp.hits(), 4, "each unknown kid refetched (no interval)");
    assert_eq!(
        jwks.generation(),
        generation,
        "the same keys: verified tokens stay cached"
    );
}

/// Denials of calls that passed authentication are all recorded: they are
/// rate limited per identity already, and a summary of them would name
/// only an address. Before, past the address's refusal budget they were
/// left out like a stranger's.
#[tokio::test]
async fn authenticated_denials_are_always_recorded() {
    let server = Server::start(Options {
        limits: Limits {
            audited_refusals: 3,
            audit_interval: Duration::from_secs(60),
            ..Limits::unlimited()
        },
        ..Options::default()
    })
    .await;
    let mallory = server.token("mallory@example.com", &["team-m"]);
    let mut client = server.client().await;
    for _ in 0..10 {
        assert_eq!(
            code(client.ping(ping(&mallory, "team-a")).await),
            Code::PermissionDenied
        );
    }
    // Strangers' refusals still have a budget.
    for i in 0..10 {
        assert_eq!(
            code(client.ping(ping(&format!("junk-{i}"), "team-a")).await),
            Code::Unauthenticated
        );
    }
    let records = server.audit();
    let denied: Vec<&Value> = records
        .iter()
        .filter(|r| r["outcome"] == "PERMISSION_DENIED")
        .collect();
    assert_eq!(denied.len(), 10, "{records:#?}");
    assert!(denied.iter().all(|r| r["user"] == "mallory@example.com"));
    let unauthenticated = records
        .iter()
        .filter(|r| r["outcome"] == "UNAUTHENTICATED")
        .count();
    assert_eq!(unauthenticated, 3, "{records:#?}");
}

/// The identity fields of a record are cut like every other field a
/// caller chooses: a token whose identifier claim is 800 characters
/// writes a bounded record.
#[tokio::test]
async fn identity_fields_in_audit_records_are_bounded() {
    let server = Server::start(Options::default()).await;
    let long = format!("{}@example.com", "\u{1b}x".repeat(400));
    let token = server.token(&long, &["team-a"]);
    server
        .client()
        .await
        .ping(ping(&token, "team-a"))
        .await
        .unwrap();
    let text = std::fs::read_to_string(&server.audit_path).unwrap();
    assert!(text.len() < 2048, "{} bytes", text.len());
    let records = read_lines(&text);
    let user = records[0]["user"].as_str().unwrap();
    assert!(user.contains("[cut:"), "{user}");
    assert!(!user.chars().any(char::is_control), "{user}");
}

/// A store that panics on `list`, and is the local one otherwise.
struct PanickingStore(LocalStore);

#[async_trait::async_trait]
impl kiss_server::store::SecretStore for PanickingStore {
    async fn create_as(
        &self,
        secret: &kiss_server::store::SecretRef,
        value: &str,
        author: Option<&str>,
    ) -> kiss_server::store::StoreResult<String> {
        self.0.create_as(secret, value, author).await
    }
    fn recovery_days(&self) -> u32 {
        self.0.recovery_days()
    }
    async fn list(
        &self,
        _namespace: &str,
    ) -> kiss_server::store::StoreResult<Vec<kiss_server::store::SecretEntry>> {
        panic!("a bug in the store");
    }
    async fn list_deleted(
        &self,
        namespace: &str,
    ) -> kiss_server::store::StoreResult<Vec<kiss_server::store::DeletedEntry>> {
        self.0.list_deleted(namespace).await
    }
    async fn get(
        &self,
        secret: &kiss_server::store::SecretRef,
        include_value: bool,
    ) -> kiss_server::store::StoreResult<kiss_server::store::SecretDetails> {
        self.0.get(secret, include_value).await
    }
    async fn update_as(
        &self,
        secret: &kiss_server::store::SecretRef,
        value: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> kiss_server::store::StoreResult<String> {
        self.0
            .update_as(secret, value, expected_version, author)
            .await
    }
    async fn rollback(
        &self,
        secret: &kiss_server::store::SecretRef,
        version_id: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> kiss_server::store::StoreResult<String> {
        self.0
            .rollback(secret, version_id, expected_version, author)
            .await
    }
    async fn versions(
        &self,
        secret: &kiss_server::store::SecretRef,
    ) -> kiss_server::store::StoreResult<Vec<kiss_server::store::VersionEntry>> {
        self.0.versions(secret).await
    }
    async fn get_version(
        &self,
        secret: &kiss_server::store::SecretRef,
        version_id: &str,
        include_value: bool,
    ) -> kiss_server::store::StoreResult<kiss_server::store::SecretDetails> {
        self.0.get_version(secret, version_id, include_value).await
    }
    async fn delete(
        &self,
        secret: &kiss_server::store::SecretRef,
    ) -> kiss_server::store::StoreResult<Option<std::time::SystemTime>> {
        self.0.delete(secret).await
    }
    async fn restore(
        &self,
        secret: &kiss_server::store::SecretRef,
    ) -> kiss_server::store::StoreResult<()> {
        self.0.restore(secret).await
    }
    async fn create_policy(
        &self,
        secret: &kiss_server::store::SecretRef,
    ) -> kiss_server::store::StoreResult<String> {
        self.0.create_policy(secret).await
    }
    async fn delete_policy(
        &self,
        secret: &kiss_server::store::SecretRef,
        unbind: bool,
    ) -> kiss_server::store::StoreResult<Vec<String>> {
        self.0.delete_policy(secret, unbind).await
    }
    async fn bind(
        &self,
        secret: &kiss_server::store::SecretRef,
        service_account: &str,
    ) -> kiss_server::store::StoreResult<()> {
        self.0.bind(secret, service_account).await
    }
    async fn unbind(
        &self,
        secret: &kiss_server::store::SecretRef,
        service_account: &str,
    ) -> kiss_server::store::StoreResult<()> {
        self.0.unbind(secret, service_account).await
    }
}

/// A call whose task panics still gets exactly one audit record, with
/// what was known and the outcome INTERNAL; the client gets INTERNAL.
/// Before, the panic left no record at all.
#[tokio::test]
async fn a_call_that_panics_is_recorded_as_internal() {
    let dir = tempfile::tempdir().unwrap();
    let store = PanickingStore(LocalStore::open(dir.path(), Naming::default(), 7).unwrap());
    let server = Server::start(Options {
        store: Some(Arc::new(store)),
        ..Options::default()
    })
    .await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let err = server
        .client()
        .await
        .list_secrets(authorized(
            &alice,
            pb::ListSecretsRequest {
                metadata: Some(pb::ClientMeta {
                    namespace: "team-a".into(),
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal, "{err:?}");
    let records = server.audit();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["rpc"], "ListSecrets");
    assert_eq!(records[0]["outcome"], "INTERNAL");
    assert_eq!(records[0]["user"], "alice@example.com");
    assert_eq!(records[0]["namespace"], "team-a");
}
