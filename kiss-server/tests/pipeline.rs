//! The request pipeline as a hostile client meets it: every call, refused
//! or not, leaves exactly one audit record; a change that reached the store
//! runs to its end and is recorded with its real outcome whatever the client
//! does; one identity cannot hold the capacity everyone shares; nothing
//! reaches the store before authorization allowed it.
//!
//! The server runs in-process on loopback with the local backend behind a
//! store wrapper that can slow calls down and counts them; tokens are
//! signed by dev mode's key, verified through the real JWKS path.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_server::audit::Audit;
use kiss_server::auth::{AuthMode, Authenticator, Jwks};
use kiss_server::dev::{self, DevKey};
use kiss_server::pipeline::{ClaimsAuthorizer, Limits};
use kiss_server::server::{self, Parts, Running};
use kiss_server::store::local::LocalStore;
use kiss_server::store::{
    DeletedEntry, Naming, SecretDetails, SecretEntry, SecretRef, SecretStore, StoreResult,
    VersionEntry,
};
use kiss_testkit::{authorized, meta};
use serde_json::Value;
use tonic::codegen::Bytes;
use tonic::transport::Channel;
use tonic::{Code, Request};

/// The local store, with every call counted and writes slowed by `delay_ms`.
struct Probe {
    inner: LocalStore,
    calls: AtomicUsize,
    delay_ms: AtomicU64,
}

impl Probe {
    async fn pause(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let ms = self.delay_ms.load(Ordering::SeqCst);
        if ms > 0 {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
}

#[async_trait]
impl SecretStore for Probe {
    async fn create_as(
        &self,
        secret: &SecretRef,
        value: &str,
        author: Option<&str>,
    ) -> StoreResult<String> {
        self.pause().await;
        self.inner.create_as(secret, value, author).await
    }
    fn recovery_days(&self) -> u32 {
        7
    }
    async fn list(&self, namespace: &str) -> StoreResult<Vec<SecretEntry>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.list(namespace).await
    }
    async fn list_deleted(&self, namespace: &str) -> StoreResult<Vec<DeletedEntry>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.list_deleted(namespace).await
    }
    async fn get(&self, secret: &SecretRef, include_value: bool) -> StoreResult<SecretDetails> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.get(secret, include_value).await
    }
    async fn update_as(
        &self,
        secret: &SecretRef,
        value: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String> {
        self.pause().await;
        self.inner
            .update_as(secret, value, expected_version, author)
            .await
    }
    async fn rollback(
        &self,
        secret: &SecretRef,
        version_id: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String> {
        self.pause().await;
        self.inner
            .rollback(secret, version_id, expected_version, author)
            .await
    }
    async fn versions(&self, secret: &SecretRef) -> StoreResult<Vec<VersionEntry>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.versions(secret).await
    }
    async fn get_version(
        &self,
        secret: &SecretRef,
        version_id: &str,
        include_value: bool,
    ) -> StoreResult<SecretDetails> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner
            .get_version(secret, version_id, include_value)
            .await
    }
    async fn delete(&self, secret: &SecretRef) -> StoreResult<Option<SystemTime>> {
        self.pause().await;
        self.inner.delete(secret).await
    }
    async fn restore(&self, secret: &SecretRef) -> StoreResult<()> {
        self.pause().await;
        self.inner.restore(secret).await
    }
    async fn create_policy(&self, secret: &SecretRef) -> StoreResult<String> {
        self.pause().await;
        self.inner.create_policy(secret).await
    }
    async fn delete_policy(&self, secret: &SecretRef, unbind: bool) -> StoreResult<Vec<String>> {
        self.pause().await;
        self.inner.delete_policy(secret, unbind).await
    }
    async fn bind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        self.pause().await;
        self.inner.bind(secret, service_account).await
    }
    async fn unbind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        self.pause().await;
        self.inner.unbind(secret, service_account).await
    }
}

struct Server {
    running: Running,
    key: DevKey,
    probe: Arc<Probe>,
    audit_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(limits: Limits) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let key = DevKey::generate().unwrap();
        let jwks = Jwks::fixed(key.key_set());
        let ready = jwks.ready();
        let probe = Arc::new(Probe {
            inner: LocalStore::open(dir.path(), Naming::default(), 7).unwrap(),
            calls: AtomicUsize::new(0),
            delay_ms: AtomicU64::new(0),
        });
        let audit_path = dir.path().join("audit.jsonl");
        let parts = Parts {
            store: probe.clone(),
            auth: AuthMode::Verify(Arc::new(Authenticator::new(dev::dev_auth_settings(), jwks))),
            authorizer: Arc::new(ClaimsAuthorizer),
            audit: Arc::new(Audit::to_file(&audit_path).unwrap()),
            trusted_proxies: Vec::new(),
            tls: None,
            shutdown_grace: Duration::from_secs(1),
            limits,
        };
        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let running = server::start(parts, listener, ready).await.unwrap();
        Server {
            running,
            key,
            probe,
            audit_path,
            _dir: dir,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.running.addr
    }

    async fn client(&self) -> KissClient<Channel> {
        KissClient::connect(format!("http://{}", self.addr()))
            .await
            .unwrap()
    }

    fn token(&self, user: &str, namespaces: &[&str]) -> String {
        self.key.mint(user, namespaces, 3600)
    }

    fn audit(&self) -> Vec<Value> {
        read_audit(&self.audit_path)
    }

    /// Waits until the audit file holds `n` records (writes finish after
    /// the answer in the cases below), then returns them.
    async fn audit_when(&self, n: usize) -> Vec<Value> {
        kiss_testkit::audit::records_when(&self.audit_path, n).await
    }
}

use kiss_testkit::audit::records as read_audit;

fn ping(token: &str, ns: &str) -> Request<pb::PingRequest> {
    authorized(token, pb::PingRequest { metadata: meta(ns) })
}

fn limits() -> Limits {
    Limits {
        rate_per_second: 0.0,
        burst: 1,
        max_in_flight: 64,
        max_in_flight_per_identity: 64,
        read_deadline: Duration::from_secs(10),
        ..Limits::unlimited()
    }
}

#[tokio::test]
async fn every_kind_of_refusal_leaves_exactly_one_record() {
    let server = Server::start(Limits {
        rate_per_second: 0.01,
        burst: 3,
        ..limits()
    })
    .await;
    let mut client = server.client().await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let code = |r: Result<tonic::Response<pb::PingResponse>, tonic::Status>| {
        r.map_or_else(|s| s.code(), |_| Code::Ok)
    };

    assert_eq!(
        code(client.ping(ping("not-a-jwt", "team-a")).await),
        Code::Unauthenticated
    );
    assert_eq!(
        code(client.ping(ping(&alice, "Team_A")).await),
        Code::InvalidArgument
    );
    assert_eq!(
        code(client.ping(ping(&alice, "team-b")).await),
        Code::PermissionDenied
    );
    assert_eq!(code(client.ping(ping(&alice, "team-a")).await), Code::Ok);
    // Three calls were alice's burst, refusals included: the fourth is limited.
    assert_eq!(
        code(client.ping(ping(&alice, "team-a")).await),
        Code::ResourceExhausted
    );
    // An oversized request: tonic refuses it before any handler runs.
    let bob = server.token("bob@example.com", &["team-a"]);
    let huge = authorized(
        &bob,
        pb::CreateSecretRequest {
            metadata: meta("team-a"),
            name: "big".into(),
            value: "x".repeat(200 * 1024),
        },
    );
    let err = client.create_secret(huge).await.unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange, "{err:?}");

    let records = server.audit_when(6).await;
    let summary: Vec<(String, String, String)> = records
        .iter()
        .map(|r| {
            (
                r["rpc"].as_str().unwrap().to_owned(),
                r["outcome"].as_str().unwrap().to_owned(),
                r["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let s = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        summary,
        [
            s("Ping", "UNAUTHENTICATED", "malformed"),
            s("Ping", "INVALID_ARGUMENT", "invalid_name"),
            s("Ping", "PERMISSION_DENIED", "namespace_not_granted"),
            s("Ping", "OK", ""),
            s("Ping", "RESOURCE_EXHAUSTED", "rate_limited"),
            s("CreateSecret", "OUT_OF_RANGE", "request_not_decoded"),
        ]
    );
    // Who: the verified subject and issuer beside the identifier.
    assert_eq!(records[3]["user"], "alice@example.com");
    assert_eq!(records[3]["subject"], "dev-alice");
    assert_eq!(records[3]["issuer"], dev::ISSUER);
    assert_eq!(
        server.probe.calls.load(Ordering::SeqCst),
        0,
        "no refused call reached the store"
    );
}

#[tokio::test]
async fn fields_a_caller_chooses_are_cut_in_the_audit_record() {
    let server = Server::start(limits()).await;
    let mut client = server.client().await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let junk = "\u{1b}[31m".repeat(5_000);
    let req = authorized(
        &alice,
        pb::BindSecretRequest {
            metadata: meta(&junk),
            name: junk.clone(),
            service_account_name: junk.clone(),
        },
    );
    let err = client.bind_secret(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    let line = std::fs::read_to_string(&server.audit_path).unwrap();
    assert!(line.len() < 1_000, "a {} byte record", line.len());
    assert!(
        !line.contains('\u{1b}'),
        "control characters reached the record"
    );
    let rec = &server.audit()[0];
    assert!(
        rec["namespace"]
            .as_str()
            .unwrap()
            .contains("[cut: 25000 bytes]"),
        "{rec}"
    );
}

#[tokio::test]
async fn a_change_the_client_abandons_still_lands_and_is_recorded() {
    let server = Server::start(limits()).await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = server.client().await;
    client
        .create_secret(authorized(
            &alice,
            pb::CreateSecretRequest {
                metadata: meta("team-a"),
                name: "db".into(),
                value: "one".into(),
            },
        ))
        .await
        .unwrap();
    server.probe.delay_ms.store(300, Ordering::SeqCst);

    // A deadline far shorter than the store takes.
    let mut req = authorized(
        &alice,
        pb::UpdateSecretRequest {
            metadata: meta("team-a"),
            name: "db".into(),
            value: "two".into(),
            expected_version_id: String::new(),
        },
    );
    req.set_timeout(Duration::from_millis(50));
    let err = client.update_secret(req).await.unwrap_err();
    // tonic's client reports its own timer as CANCELLED.
    assert!(
        matches!(err.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{err:?}"
    );

    // A client that goes away (the call's future dropped mid-flight).
    let mut other = server.client().await;
    let update = other.update_secret(authorized(
        &alice,
        pb::UpdateSecretRequest {
            metadata: meta("team-a"),
            name: "db".into(),
            value: "three".into(),
            expected_version_id: String::new(),
        },
    ));
    assert!(
        tokio::time::timeout(Duration::from_millis(50), update)
            .await
            .is_err()
    );
    drop(other);

    let records = server.audit_when(3).await;
    assert_eq!(records.len(), 3, "{records:?}");
    for rec in &records[1..] {
        assert_eq!(rec["rpc"], "UpdateSecret");
        assert_eq!(
            rec["outcome"], "OK",
            "the record holds the real outcome: {rec}"
        );
        assert_eq!(rec["decision"], "allow");
    }
    server.probe.delay_ms.store(0, Ordering::SeqCst);
    let got = client
        .get_secret(authorized(
            &alice,
            pb::GetSecretRequest {
                metadata: meta("team-a"),
                name: "db".into(),
                include_value: true,
                version_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .secret
        .unwrap();
    assert_eq!(
        got.value.as_deref(),
        Some("three"),
        "both abandoned updates landed"
    );
    let records = server.audit_when(4).await;
    assert_eq!(
        records[3]["rpc"], "GetSecret",
        "one name per RPC, in audit as in the proto"
    );
    assert_eq!(records[3]["value_read"], true);
}

/// Opens `n` streams on one HTTP/2 connection that send a valid token's
/// headers and never a body.
async fn silent_streams(
    addr: SocketAddr,
    token: &str,
    n: usize,
) -> (
    h2::client::SendRequest<Bytes>,
    Vec<h2::client::ResponseFuture>,
    Vec<h2::SendStream<Bytes>>,
) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(conn);
    let mut responses = Vec::new();
    let mut bodies = Vec::new();
    for _ in 0..n {
        send = send.ready().await.unwrap();
        let req = http::Request::post(format!("http://{addr}/kiss.resources.KISS/Ping"))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .header("authorization", format!("Bearer {token}"))
            .body(())
            .unwrap();
        let (response, body) = send.send_request(req, false).unwrap();
        responses.push(response);
        bodies.push(body);
    }
    (send, responses, bodies)
}

#[tokio::test]
async fn one_token_with_silent_streams_does_not_lock_others_out() {
    let server = Server::start(Limits {
        max_in_flight: 8,
        max_in_flight_per_identity: 4,
        read_deadline: Duration::from_secs(1),
        ..limits()
    })
    .await;
    let mallory = server.token("mallory@example.com", &[]);
    let (_send, responses, _bodies) = silent_streams(server.addr(), &mallory, 40).await;

    // While those streams hang, another user is served.
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = server.client().await;
    for _ in 0..20 {
        client
            .ping(ping(&alice, "team-a"))
            .await
            .expect("alice is not locked out");
    }

    // Every silent stream is answered: refused at once past its share, or
    // given up on at the read deadline.
    let mut codes = Vec::new();
    for response in responses {
        let response = tokio::time::timeout(Duration::from_secs(5), response)
            .await
            .expect("a silent stream is answered within the read deadline")
            .unwrap();
        let code = response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i32>().ok())
            .map(Code::from_i32);
        codes.push(code);
    }
    let exhausted = codes
        .iter()
        .filter(|c| **c == Some(Code::ResourceExhausted))
        .count();
    assert_eq!(
        exhausted, 36,
        "all but mallory's 4 slots refused at once: {codes:?}"
    );
    let timed_out = codes
        .iter()
        .filter(|c| **c == Some(Code::DeadlineExceeded))
        .count();
    assert_eq!(
        timed_out, 4,
        "the admitted ones end at the read deadline: {codes:?}"
    );
    // Each refused or timed-out stream is one record, like each of alice's calls.
    let records = server.audit_when(60).await;
    assert_eq!(records.len(), 60, "{} records", records.len());
}

/// Version ids are checked like names, before anything reaches the store:
/// the version a call names and the one a change is based on. An empty one
/// is one not given, and the local store's own ids pass.
#[tokio::test]
async fn malformed_version_ids_are_refused_before_the_store() {
    let server = Server::start(limits()).await;
    let alice = server.token("alice@example.com", &["team-a"]);
    let mut client = server.client().await;
    let v1 = client
        .create_secret(authorized(
            &alice,
            pb::CreateSecretRequest {
                metadata: meta("team-a"),
                name: "db".into(),
                value: "one".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .version_id;
    let update = |expected: &str| {
        authorized(
            &alice,
            pb::UpdateSecretRequest {
                metadata: meta("team-a"),
                name: "db".into(),
                value: "two".into(),
                expected_version_id: expected.into(),
            },
        )
    };
    let rollback = |version: &str, expected: &str| {
        authorized(
            &alice,
            pb::RollbackSecretRequest {
                metadata: meta("team-a"),
                name: "db".into(),
                version_id: version.into(),
                expected_version_id: expected.into(),
            },
        )
    };
    let get = |version: &str| {
        authorized(
            &alice,
            pb::GetSecretRequest {
                metadata: meta("team-a"),
                name: "db".into(),
                include_value: true,
                version_id: version.into(),
            },
        )
    };
    let calls = server.probe.calls.load(Ordering::SeqCst);

    let long = "a".repeat(65);
    for bad in [
        "v1",
        "v1; drop table",
        long.as_str(),
        "ünïcödé-ünïcödé-ünïcödé-ünïcödé-1",
    ] {
        let refusals = [
            ("update", client.update_secret(update(bad)).await.map(drop)),
            (
                "rollback expected",
                client.rollback_secret(rollback(&v1, bad)).await.map(drop),
            ),
            (
                "rollback version",
                client.rollback_secret(rollback(bad, "")).await.map(drop),
            ),
            ("get", client.get_secret(get(bad)).await.map(drop)),
        ];
        for (what, result) in refusals {
            let err = result.expect_err(what);
            assert_eq!(err.code(), Code::InvalidArgument, "{what} {bad:?}: {err:?}");
            let message = err.message();
            assert!(message.contains("is not a version id"), "{what}: {message}");
            assert!(message.contains("32 to 64"), "{what}: {message}");
            if what.ends_with("expected") || what == "update" {
                assert!(
                    message.starts_with("the expected version '"),
                    "{what}: {message}"
                );
            }
        }
    }
    assert_eq!(
        server.probe.calls.load(Ordering::SeqCst),
        calls,
        "no malformed version id reached the store"
    );
    let records = server.audit_when(17).await;
    for rec in &records[1..] {
        assert_eq!(rec["outcome"], "INVALID_ARGUMENT", "{rec}");
        assert_eq!(rec["reason"], "invalid_name", "{rec}");
    }

    // Empty: not given. The store's own ids are well-formed.
    let v2 = client
        .update_secret(update(""))
        .await
        .unwrap()
        .into_inner()
        .version_id;
    let v3 = client
        .rollback_secret(rollback(&v1, &v2))
        .await
        .unwrap()
        .into_inner()
        .version_id;
    client.update_secret(update(&v3)).await.unwrap();
    let err = client.update_secret(update(&v3)).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted, "stale, not malformed: {err:?}");
    let old = client.get_secret(get(&v2)).await.unwrap().into_inner();
    assert_eq!(old.secret.unwrap().value.as_deref(), Some("two"));
}
