//! What a stranger can make the server hold, and what a flood of refusals
//! can do to everyone else and to the audit trail (issue 11, items 2 to 5):
//! each test runs the attack against an in-process server on loopback and
//! checks outcomes by counting (calls that succeed, fetches the IdP saw,
//! records written, connections closed), never by measuring speed.

use std::net::SocketAddr;
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
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tonic::transport::Channel;
use tonic::{Code, Request};

struct Server {
    running: Running,
    key: DevKey,
    _dir: tempfile::TempDir,
}

struct Options {
    limits: Limits,
    /// The key cache; `None`: a fixed one holding the dev key.
    jwks: Option<Arc<Jwks>>,
    key: Option<DevKey>,
    audit: Option<Arc<Audit>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::unlimited(),
            jwks: None,
            key: None,
            audit: None,
        }
    }
}

impl Server {
    async fn start(options: Options) -> Server {
        let dir = tempfile::tempdir().unwrap();
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
            store: Arc::new(LocalStore::open(dir.path(), Naming::default(), 7).unwrap()),
            auth: AuthMode::Verify(Arc::new(Authenticator::new(dev::dev_auth_settings(), jwks))),
            authorizer: Arc::new(ClaimsAuthorizer),
            audit,
            trusted_proxies: Vec::new(),
            tls: None,
            shutdown_grace: Duration::from_secs(1),
            limits: options.limits,
        };
        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let running = server::start(parts, listener, ready).await.unwrap();
        Server {
            running,
            key,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr()))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    async fn client(&self) -> KissClient<Channel> {
        KissClient::new(self.channel().await)
    }

    fn token(&self, user: &str, namespaces: &[&str]) -> String {
        self.key.mint(user, namespaces, 3600)
    }

}

fn authorized<T>(token: &str, message: T) -> Request<T> {
    kiss_testkit::authorized(token, message)
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
            flood.push(tokio::spawn(async move {
                client.ping(ping(&token, "team-a")).await
            }));
        }
    }
    for _ in 0..20 {
        client
            .ping(ping(&alice, "team-a"))
            .await
            .expect("alice is served during the flood");
    }
    // Every flood request is answered while the IdP still holds the fetch.
    for call in flood {
        let err = call.await.unwrap().unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "{err:?}");
    }
    assert_eq!(idp.hits(), 2, "200 unknown kids caused one refetch");
    assert!(
        jwks.peak_waiting() <= kiss_server::auth::jwks::MAX_WAITERS,
        "{} requests waited for the fetch at once",
        jwks.peak_waiting()
    );
    idp.stall.send_replace(false);
}
