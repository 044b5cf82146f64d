//! kiss-server end to end over gRPC with real Cognito tokens from moto:
//! every RPC, every token rejection, namespace and admin rules, audit
//! records, the JWKS refetch limit, and the original Go contract.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use base64::Engine;
use jsonwebtoken::{EncodingKey, Header};
use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_server::config::Config;
use kiss_server::server::{self, Running};
use kiss_testkit::tokens::{Algorithm, Claims, claims_of, now, segment, sign};
use kiss_testkit::{Caller, Cognito, KissServer, Moto, meta};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_health::pb::health_check_response::ServingStatus;

const ALICE: &str = "alice@example.com";
const ADMIN: &str = "root@example.com";
const NOBODY: &str = "nobody@example.com";
use kiss_testkit::NAMESPACES_REGEX as REGEX;

struct Idp {
    _moto: Moto,
    cognito: Cognito,
    jwks_body: String,
}

/// One moto and one user pool for the whole test binary.
fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(|| {
        let moto = Moto::start();
        let cognito = Cognito::setup(
            &moto,
            &[
                (
                    ALICE,
                    &[
                        "kaluza:team-a",
                        "kaluza:team-b",
                        "unrelated-group",
                        "kaluza:Bad_NS",
                    ],
                ),
                (ADMIN, &["kaluza:kiss-admins"]),
                (NOBODY, &[]),
            ],
        );
        let url: SocketAddr = format!("127.0.0.1:{}", moto.port).parse().unwrap();
        let path = cognito.jwks_url.splitn(4, '/').nth(3).unwrap().to_owned();
        let jwks_body = kiss_testkit::http_get(url, &format!("/{path}")).unwrap();
        Idp {
            _moto: moto,
            cognito,
            jwks_body,
        }
    })
}

struct Server {
    running: Option<Running>,
    addr: SocketAddr,
    audit_log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(jwks_url: &str, extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let audit_log = dir.path().join("audit.jsonl");
        let port = kiss_testkit::free_port().to_string();
        let c = &idp().cognito;
        let mut args = vec![
            "kiss-server",
            "--backend=local",
            "--host=127.0.0.1",
            "--port",
            &port,
            "--jwks-url",
            jwks_url,
            "--namespaces-regex",
            REGEX,
            "--issuer",
            &c.issuer,
            "--audience",
            &c.client_id,
            "--required-claim",
            "token_use=id",
            "--admin-namespace",
            "kiss-admins",
        ];
        let data = dir.path().join("data");
        let data = data.to_str().unwrap().to_owned();
        let audit = audit_log.to_str().unwrap().to_owned();
        args.extend(["--data-dir", &data, "--audit-log", &audit]);
        args.extend_from_slice(extra);
        let config = Config::try_parse_args(args).unwrap();
        let (running, _) = server::launch(&config).await.unwrap();
        let addr = running.addr;
        let server = Server {
            running: Some(running),
            addr,
            audit_log,
            _dir: dir,
        };
        server.wait_serving().await;
        server
    }

    async fn cognito() -> Server {
        Server::start(&idp().cognito.jwks_url, &[]).await
    }

    async fn channel(&self) -> Channel {
        kiss_testkit::connect(self.addr).await
    }

    async fn client(&self) -> KissClient<Channel> {
        KissClient::new(self.channel().await)
    }

    /// `email`'s client, with her Cognito token.
    async fn caller(&self, email: &str) -> Caller {
        Caller::new(self.channel().await, idp().cognito.token(email))
    }

    /// Readiness: the KISS service's health.
    async fn health(&self) -> ServingStatus {
        let status = kiss_testkit::health(self.addr, kiss_testkit::KISS_SERVICE).await;
        ServingStatus::try_from(status.expect("health answers")).unwrap()
    }

    async fn wait_serving(&self) {
        kiss_testkit::wait_ready_at(self.addr).await;
    }

    fn audit(&self) -> Vec<Value> {
        kiss_testkit::audit::records(&self.audit_log)
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await.unwrap();
        }
    }
}

fn audit_code(code: Code) -> &'static str {
    match code {
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::Internal => "INTERNAL",
        other => panic!("unexpected code {other:?}"),
    }
}

fn with_token<T>(msg: T, token: &str) -> Request<T> {
    let mut req = Request::new(msg);
    if !token.is_empty() {
        req.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    req
}

async fn ping(
    client: &mut KissClient<Channel>,
    token: &str,
    ns: &str,
) -> Result<(), tonic::Status> {
    client
        .ping(with_token(pb::PingRequest { metadata: meta(ns) }, token))
        .await
        .map(|_| ())
}

/// Claims as Cognito would issue them for alice, which tests then bend.
fn alice_claims() -> Claims {
    let c = &idp().cognito;
    json!({
        "iss": c.issuer, "aud": c.client_id, "sub": "alice-sub", "email": ALICE,
        "email_verified": true, "token_use": "id", "cognito:groups": ["kaluza:team-a"],
        "iat": now(), "exp": now() + 600,
    })
    .as_object()
    .unwrap()
    .clone()
}

/// A change to a token's claims.
type Bend = fn(&mut Claims);

/// Alice's claims bent by `f`, signed with the IdP's own key: a token the
/// IdP could have issued.
fn forge_with(f: impl FnOnce(&mut Claims)) -> String {
    let mut claims = alice_claims();
    f(&mut claims);
    idp().cognito.forge(&claims)
}

async fn expect_unauthenticated(client: &mut KissClient<Channel>, token: &str, needle: &str) {
    let err = ping(client, token, "team-a").await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{token:.40}: {err:?}");
    assert!(
        err.message().contains(needle),
        "message {:?} should contain {needle:?}",
        err.message()
    );
}

#[tokio::test]
async fn every_rpc_works_with_a_cognito_token() {
    let server = Server::cognito().await;
    let mut alice = server.caller(ALICE).await;

    let who = alice.who_am_i().await.unwrap();
    assert_eq!(who.identifier, ALICE);
    assert_eq!(
        who.namespaces,
        ["team-a", "team-b"],
        "unrelated and invalid groups are skipped"
    );
    assert!(!who.admin);
    assert!(who.expires_at.unwrap().seconds > now());
    assert_eq!(
        who.deletion_recovery_days,
        Some(7),
        "the client learns how long a deleted secret can be restored"
    );

    alice.ping("team-a").await.unwrap();
    let value = "line one\n\ttab\nüñí ✓\n";
    let v1 = alice.create("team-a", "db", value).await.unwrap();
    let list = alice.list_entries("team-a").await.unwrap();
    assert_eq!(list.secrets, ["db"]);
    assert_eq!(list.entries[0].name, "db");
    assert!(list.entries[0].created.is_some());

    let d = alice.get("team-a", "db", false).await.unwrap();
    assert_eq!(d.value, None, "values stay hidden unless asked for");
    assert_eq!(d.aws_name, "k8s-secret-team-a-db");
    assert_eq!(d.version_id, v1);
    let d = alice.get("team-a", "db", true).await.unwrap();
    assert_eq!(d.value.as_deref(), Some(value));

    let v2 = alice
        .update("team-a", "db", "two", &v1)
        .await
        .unwrap()
        .version_id;
    let stale = alice
        .update("team-a", "db", "three", &v1)
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    let d = alice.get("team-a", "db", true).await.unwrap();
    assert_eq!(
        (d.value.as_deref(), d.version_id.as_str()),
        (Some("two"), v2.as_str())
    );

    let no_policy = alice.bind("team-a", "db", "app").await.unwrap_err();
    assert_eq!(no_policy.code(), Code::FailedPrecondition);
    alice.create_policy("team-a", "db").await.unwrap();
    alice.bind("team-a", "db", "app").await.unwrap();
    let d = alice.get("team-a", "db", false).await.unwrap();
    assert!(d.has_read_policy);
    assert_eq!(d.bound_service_accounts, ["app"]);

    let attached = alice
        .delete_policy("team-a", "db", false)
        .await
        .unwrap_err();
    assert_eq!(attached.code(), Code::FailedPrecondition);
    assert!(attached.message().contains("app"), "{attached:?}");
    alice.unbind("team-a", "db", "app").await.unwrap();
    alice.delete_policy("team-a", "db", false).await.unwrap();

    let deleted = alice.delete("team-a", "db").await.unwrap();
    assert!(deleted.deletion_date.unwrap().seconds > now() + 6 * 86_400);
    let gone = alice.list_deleted("team-a").await.unwrap();
    assert_eq!(gone[0].name, "db");
    alice.restore("team-a", "db").await.unwrap();
    let d = alice.get("team-a", "db", true).await.unwrap();
    assert_eq!(d.value.as_deref(), Some("two"));
    server.stop().await;
}

#[tokio::test]
async fn every_bad_token_is_unauthenticated_with_a_reason() {
    let server = Server::cognito().await;
    let mut c = server.client().await;
    let good = idp().cognito.token(ALICE).to_owned();
    let parts: Vec<&str> = good.split('.').collect();

    expect_unauthenticated(&mut c, "", "no token").await;
    expect_unauthenticated(&mut c, "not-a-jwt", "malformed").await;
    expect_unauthenticated(&mut c, "a.b.c", "malformed").await;

    let none = format!(
        "{}.{}.",
        segment(&json!({"alg": "none", "typ": "JWT"})),
        parts[1]
    );
    expect_unauthenticated(&mut c, &none, "algorithm 'none'").await;

    // Algorithm confusion: HS256 keyed with the IdP's public key material.
    let confused = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &alice_claims(),
        &EncodingKey::from_secret(idp().jwks_body.as_bytes()),
    )
    .unwrap();
    expect_unauthenticated(&mut c, &confused, "algorithm 'HS256'").await;

    // Signed by a key the IdP never published, under the IdP's kid.
    let other = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der =
        aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&other).unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der.as_ref())
    );
    let wrong_key = sign(
        &pem,
        Algorithm::RS256,
        Some(&idp().cognito.kid),
        &alice_claims(),
    );
    expect_unauthenticated(&mut c, &wrong_key, "signature is invalid").await;

    // The IdP's kid, but another algorithm than its key is for.
    let mismatched = sign(
        &idp().cognito.private_key_pem,
        Algorithm::RS384,
        Some(&idp().cognito.kid),
        &alice_claims(),
    );
    expect_unauthenticated(&mut c, &mismatched, "does not match the key").await;

    // Tampered payload: grant team-c without re-signing.
    let mut claims = claims_of(&good);
    claims.insert("cognito:groups".into(), json!(["kaluza:team-c"]));
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        segment(&Value::Object(claims)),
        parts[2]
    );
    expect_unauthenticated(&mut c, &tampered, "signature is invalid").await;

    // Signed by the IdP, but with a critical header extension kiss does not
    // understand (RFC 7515 §4.1.11: refuse).
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(idp().cognito.kid.clone());
    header.crit = Some(vec!["exp-ext".into()]);
    let critical = jsonwebtoken::encode(
        &header,
        &alice_claims(),
        &EncodingKey::from_rsa_pem(idp().cognito.private_key_pem.as_bytes()).unwrap(),
    )
    .unwrap();
    expect_unauthenticated(&mut c, &critical, "critical (crit: 'exp-ext')").await;

    // Signed by the IdP, but claims kiss must refuse.
    let bent: [(Bend, &str); 15] = [
        (
            |m| {
                m.insert("exp".into(), json!(now() - 3600));
            },
            "expired",
        ),
        (
            |m| {
                m.remove("exp");
            },
            "'exp'",
        ),
        (
            |m| {
                m.insert("nbf".into(), json!(now() + 3600));
            },
            "not valid yet",
        ),
        (
            |m| {
                m.insert("iat".into(), json!(now() + 3600));
            },
            "issued in the future",
        ),
        (
            |m| {
                m.insert("iss".into(), json!("https://evil.example"));
            },
            "another identity provider",
        ),
        (
            |m| {
                m.insert("aud".into(), json!("other-client"));
            },
            "another application",
        ),
        (
            |m| {
                m.remove("token_use");
            },
            "'token_use' claim must be 'id'",
        ),
        (
            |m| {
                m.insert("token_use".into(), json!("access"));
            },
            "'token_use' claim must be 'id'",
        ),
        (
            |m| {
                m.remove("email");
            },
            "'email'",
        ),
        (
            |m| {
                m.insert("email".into(), json!(42));
            },
            "'email'",
        ),
        (
            |m| {
                m.remove("cognito:groups");
            },
            "no 'cognito:groups' claim",
        ),
        (
            |m| {
                m.insert("cognito:groups".into(), json!({"a": 1}));
            },
            "string or a list",
        ),
        (
            |m| {
                m.insert("cognito:groups".into(), json!(["kaluza:team-a", 7]));
            },
            "list of strings",
        ),
        (
            |m| {
                m.insert("email_verified".into(), json!("false"));
            },
            "e-mail address is not verified",
        ),
        (
            |m| {
                m.insert("padding".into(), json!("x".repeat(20_000)));
            },
            "at most",
        ),
    ];
    for (bend, needle) in bent {
        expect_unauthenticated(&mut c, &forge_with(bend), needle).await;
    }
    // A raw token (no "Bearer "), as the Go client sends it, is accepted.
    let mut raw = Request::new(pb::PingRequest {
        metadata: meta("team-a"),
    });
    raw.metadata_mut()
        .insert("authorization", good.parse().unwrap());
    c.ping(raw).await.unwrap();

    let denied = server
        .audit()
        .iter()
        .filter(|r| r["outcome"] == "UNAUTHENTICATED")
        .count();
    assert_eq!(denied, 24, "one audit record per refused token");
    server.stop().await;
}

#[tokio::test]
async fn namespaces_admins_and_names() {
    let server = Server::cognito().await;
    let mut c = server.client().await;
    let alice = idp().cognito.token(ALICE);

    let err = ping(&mut c, alice, "team-c").await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(
        err.message(),
        "user 'alice@example.com' is not authorized for namespace 'team-c'"
    );

    let admin = idp().cognito.token(ADMIN);
    ping(&mut c, admin, "team-c").await.unwrap();
    let mut alice = server.caller(ALICE).await;
    assert!(alice.as_user(admin).who_am_i().await.unwrap().admin);

    let nobody = idp().cognito.token(NOBODY);
    // moto omits the groups claim for a user in no group.
    assert_eq!(
        ping(&mut c, nobody, "team-a").await.unwrap_err().code(),
        Code::Unauthenticated
    );

    for (ns, name) in [
        ("Team-A", "x"),
        ("team-a", "bad_name"),
        ("team-a", ""),
        ("", "x"),
    ] {
        let err = alice.create(ns, name, "v").await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{ns}/{name}: {err:?}");
    }
    let err = alice.bind("team-a", "x", "App").await.unwrap_err();
    assert!(
        err.message().contains("service account name 'App'"),
        "{err:?}"
    );

    // Another namespace's secret is invisible: NOT_FOUND, not PERMISSION_DENIED.
    alice.create("team-b", "b-only", "v").await.unwrap();
    let err = alice.get("team-a", "b-only", true).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(!err.message().contains("team-b"));
    server.stop().await;
}

#[tokio::test]
async fn audit_records_say_who_did_what_and_never_hold_values_or_tokens() {
    let server = Server::cognito().await;
    let mut c = server.client().await;
    let alice = idp().cognito.token(ALICE);
    let value = "TOP-SECRET-VALUE-4711";
    let mut user = server.caller(ALICE).await;
    user.create("team-a", "audited", value).await.unwrap();
    user.get("team-a", "audited", true).await.unwrap();
    let _ = ping(&mut c, alice, "team-c").await;
    let _ = ping(&mut c, "garbage", "team-a").await;
    // Over the message size cap: tonic refuses it before any handler runs.
    let too_big = user
        .create("team-a", "big", &"x".repeat(200_000))
        .await
        .unwrap_err();

    let raw = std::fs::read_to_string(&server.audit_log).unwrap();
    assert!(!raw.contains(value), "a value leaked into the audit log");
    assert!(!raw.contains(alice), "a token leaked into the audit log");
    let records = server.audit();
    let find = |rpc: &str, outcome: &str| {
        records
            .iter()
            .find(|r| r["rpc"] == rpc && r["outcome"] == outcome)
            .unwrap_or_else(|| panic!("no {rpc}/{outcome} record in {records:#?}"))
    };
    let create = find("CreateSecret", "OK");
    assert_eq!(create["user"], ALICE);
    assert_eq!(create["namespace"], "team-a");
    assert_eq!(create["secret"], "audited");
    assert_eq!(create["decision"], "allow");
    assert_eq!(create["client"], "127.0.0.1");
    assert!(create["subject"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        records
            .iter()
            .any(|r| r["rpc"] == "GetSecret" && r["value_read"] == true),
        "a value read is recorded as GetSecret with value_read: {records:#?}"
    );
    let denied = find("Ping", "PERMISSION_DENIED");
    assert_eq!(denied["decision"], "deny");
    assert_eq!(denied["namespace"], "team-c");
    assert_eq!(find("Ping", "UNAUTHENTICATED")["decision"], "deny");
    let refused = find("CreateSecret", audit_code(too_big.code()));
    assert_eq!(refused["user"], ALICE);
    assert_eq!(refused["reason"], "request_not_decoded");
    server.stop().await;
}

#[tokio::test]
async fn an_unverified_email_is_refused_unless_the_operator_allows_it() {
    // What Cognito's UpdateUserAttributes leaves: someone else's address,
    // not verified. Its holder must not act under that name.
    let stolen = || {
        forge_with(|m| {
            m.insert("email".into(), json!(ADMIN));
            m.insert("email_verified".into(), json!("false"));
            m.insert("sub".into(), json!("mallory-sub"));
        })
    };
    let server = Server::cognito().await;
    let mut c = server.client().await;
    expect_unauthenticated(&mut c, &stolen(), "e-mail address is not verified").await;
    let missing = forge_with(|m| {
        m.remove("email_verified");
    });
    expect_unauthenticated(&mut c, &missing, "not verified").await;
    // The pool's real tokens say so as a string, as Cognito does.
    let real = idp().cognito.token(ALICE);
    assert_eq!(claims_of(real)["email_verified"], "true");
    ping(&mut c, real, "team-a").await.unwrap();
    let refused = server
        .audit()
        .into_iter()
        .find(|r| r["outcome"] == "UNAUTHENTICATED")
        .expect("the refusal is audited");
    assert_eq!(refused["reason"], "email_not_verified");
    server.stop().await;

    let server = Server::start(&idp().cognito.jwks_url, &["--allow-unverified-email"]).await;
    let mut c = server.client().await;
    ping(&mut c, &stolen(), "team-a").await.unwrap();
    // The audit record still says who it really was: the subject.
    let record = server
        .audit()
        .into_iter()
        .find(|r| r["rpc"] == "Ping" && r["outcome"] == "OK")
        .expect("the call is audited");
    assert_eq!(record["user"], ADMIN);
    assert_eq!(record["subject"], "mallory-sub");
    assert_eq!(record["issuer"], idp().cognito.issuer.as_str());
    server.stop().await;
}

/// A JWKS endpoint that counts its requests and can be switched off.
struct CountingJwks {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    up: Arc<AtomicBool>,
}

impl CountingJwks {
    async fn start(body: String, up: bool) -> CountingJwks {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let up = Arc::new(AtomicBool::new(up));
        let (h, u) = (hits.clone(), up.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (h, u, body) = (h.clone(), u.clone(), body.clone());
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = sock.read(&mut buf).await;
                    h.fetch_add(1, Ordering::SeqCst);
                    let resp = if u.load(Ordering::SeqCst) {
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    } else {
                        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_owned()
                    };
                    let _ = sock.write_all(resp.as_bytes()).await;
                });
            }
        });
        CountingJwks { addr, hits, up }
    }

    fn url(&self) -> String {
        format!("http://{}/jwks.json", self.addr)
    }
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_the_jwks_at_most_once_per_interval() {
    let jwks = CountingJwks::start(idp().jwks_body.clone(), true).await;
    let server = Server::start(&jwks.url(), &[]).await;
    let after_start = jwks.hits.load(Ordering::SeqCst);
    assert_eq!(after_start, 1, "one fetch at startup");

    let mut tasks = Vec::new();
    for i in 0..200 {
        let token = sign(
            &idp().cognito.private_key_pem,
            Algorithm::RS256,
            Some(&format!("random-kid-{i}")),
            &alice_claims(),
        );
        let mut c = server.client().await;
        tasks.push(tokio::spawn(
            async move { ping(&mut c, &token, "team-a").await },
        ));
    }
    for t in tasks {
        let err = t.await.unwrap().unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
        assert!(err.message().contains("does not publish"), "{err:?}");
    }
    let hits = jwks.hits.load(Ordering::SeqCst) - after_start;
    assert!(
        hits <= 1,
        "200 unknown kids caused {hits} JWKS fetches; at most 1 per 10 s interval"
    );

    // The IdP going down does not hurt tokens signed with cached keys.
    jwks.up.store(false, Ordering::SeqCst);
    let mut c = server.client().await;
    ping(&mut c, idp().cognito.token(ALICE), "team-a")
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn starts_while_the_idp_is_down_and_serves_once_keys_arrive() {
    let jwks = CountingJwks::start(idp().jwks_body.clone(), false).await;
    let dir = tempfile::tempdir().unwrap();
    let port = kiss_testkit::free_port().to_string();
    let data = dir.path().to_str().unwrap().to_owned();
    let config = Config::try_parse_args([
        "kiss-server",
        "--backend",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--jwks-url",
        &jwks.url(),
        "--namespaces-regex",
        REGEX,
        "--data-dir",
        &data,
    ])
    .unwrap();
    let (running, _) = server::launch(&config).await.unwrap();
    let server = Server {
        addr: running.addr,
        running: Some(running),
        audit_log: dir.path().join("none"),
        _dir: dir,
    };
    assert_eq!(server.health().await, ServingStatus::NotServing);
    assert_eq!(
        kiss_testkit::health(server.addr, "").await,
        Some(ServingStatus::Serving as i32),
        "alive while waiting for keys"
    );
    let mut c = server.client().await;
    let err = ping(&mut c, idp().cognito.token(ALICE), "team-a")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("not loaded"), "{err:?}");

    jwks.up.store(true, Ordering::SeqCst);
    server.wait_serving().await;
    ping(&mut c, idp().cognito.token(ALICE), "team-a")
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn clients_built_from_the_go_contract_still_work() {
    use kiss_proto::legacy::{self as v1, kiss_client::KissClient as V1Client};
    let server = Server::cognito().await;
    let mut c = V1Client::new(server.channel().await);
    let t = idp().cognito.token(ALICE);
    // The Go client sends the raw token.
    fn raw<T>(msg: T, token: &str) -> Request<T> {
        let mut r = Request::new(msg);
        r.metadata_mut()
            .insert("authorization", token.parse().unwrap());
        r
    }
    let m = || {
        Some(v1::ClientMeta {
            namespace: "team-a".into(),
        })
    };
    c.ping(raw(v1::PingRequest { metadata: m() }, t))
        .await
        .unwrap();
    c.create_secret(raw(
        v1::CreateSecretRequest {
            metadata: m(),
            name: "legacy".into(),
            value: "v1".into(),
        },
        t,
    ))
    .await
    .unwrap();
    c.update_secret(raw(
        v1::UpdateSecretRequest {
            metadata: m(),
            name: "legacy".into(),
            value: "v2".into(),
        },
        t,
    ))
    .await
    .unwrap();
    let list = c
        .list_secrets(raw(v1::ListSecretsRequest { metadata: m() }, t))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.secrets, ["legacy"]);
    c.create_secret_iam_policy(raw(
        v1::CreateSecretIamPolicyRequest {
            metadata: m(),
            name: "legacy".into(),
        },
        t,
    ))
    .await
    .unwrap();
    c.bind_secret(raw(
        v1::BindSecretRequest {
            metadata: m(),
            name: "legacy".into(),
            service_account_name: "app".into(),
        },
        t,
    ))
    .await
    .unwrap();
    // The Go client cannot ask to unbind: the policy stays while bound.
    let err = c
        .delete_secret_iam_policy(raw(
            v1::DeleteSecretIamPolicyRequest {
                metadata: m(),
                name: "legacy".into(),
            },
            t,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    c.delete_secret(raw(
        v1::DeleteSecretRequest {
            metadata: m(),
            name: "legacy".into(),
        },
        t,
    ))
    .await
    .unwrap();
    let list = c
        .list_secrets(raw(v1::ListSecretsRequest { metadata: m() }, t))
        .await
        .unwrap()
        .into_inner();
    assert!(list.secrets.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn the_binary_takes_go_style_flags_and_serves_health_without_a_token() {
    let server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"));
    let data = server.dir().join("data");
    let mut server = server
        .go_style_listen()
        .arg(format!("-jwks-url={}", idp().cognito.jwks_url))
        .args(["-namespaces-regex", REGEX, "--backend", "local"])
        .arg("--data-dir")
        .arg(data)
        .args(["--log-format", "json"])
        .spawn();
    server.wait_ready().await;
    let mut c = KissClient::connect(format!("http://{}", server.addr))
        .await
        .unwrap();
    ping(&mut c, idp().cognito.token(ALICE), "team-a")
        .await
        .unwrap();

    // SIGTERM: a graceful stop with exit status 0, and audit lines in the log.
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
    let out = server.log();
    let audit: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["audit"] == true)
        .collect();
    assert!(
        audit
            .iter()
            .any(|r| r["rpc"] == "Ping" && r["outcome"] == "OK"),
        "{out}"
    );
    assert!(!out.contains(idp().cognito.token(ALICE)));
}

fn counter(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

// The scrape is a blocking read: the server needs a thread of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_counts_requests_failures_and_denials() {
    let metrics_port = kiss_testkit::free_port();
    let metrics_addr = format!("127.0.0.1:{metrics_port}");
    let server = Server::start(&idp().cognito.jwks_url, &["--metrics-addr", &metrics_addr]).await;
    let scrape = || kiss_testkit::http_get(metrics_addr.parse().unwrap(), "/metrics").unwrap();
    let before = scrape();
    let mut c = server.client().await;
    let alice = idp().cognito.token(ALICE);
    ping(&mut c, alice, "team-a").await.unwrap();
    let _ = ping(&mut c, alice, "team-c").await;
    let _ = ping(&mut c, "garbage", "team-a").await;
    let after = scrape();
    let moved = |name: &str, labels: &[(&str, &str)]| {
        counter(&after, name, labels) > counter(&before, name, labels)
    };
    assert!(
        moved("kiss_requests_total", &[("rpc", "Ping"), ("code", "OK")]),
        "{after}"
    );
    assert!(moved(
        "kiss_requests_total",
        &[("rpc", "Ping"), ("code", "PERMISSION_DENIED")]
    ));
    assert!(moved(
        "kiss_auth_failures_total",
        &[("reason", "malformed")]
    ));
    assert!(moved(
        "kiss_authorization_denials_total",
        &[("reason", "namespace_not_granted")]
    ));
    assert!(moved(
        "kiss_request_duration_seconds_count",
        &[("rpc", "Ping")]
    ));
    assert!(counter(&after, "kiss_jwks_fetches_total", &[("outcome", "ok")]) >= 1.0);
    server.stop().await;
}

#[tokio::test]
async fn the_rate_limit_is_per_identity_and_says_when_to_retry() {
    let server = Server::start(
        &idp().cognito.jwks_url,
        &["--rate-limit-rps", "0.5", "--rate-limit-burst", "2"],
    )
    .await;
    let mut c = server.client().await;
    let alice = idp().cognito.token(ALICE);
    ping(&mut c, alice, "team-a").await.unwrap();
    ping(&mut c, alice, "team-a").await.unwrap();
    let err = ping(&mut c, alice, "team-a").await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("retry in"), "{err:?}");
    assert!(err.metadata().get("retry-after-ms").is_some());
    ping(&mut c, idp().cognito.token(ADMIN), "team-a")
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn serves_tls_with_the_given_key_pair() {
    let dir = tempfile::tempdir().unwrap();
    let pki = kiss_testkit::tls::certificates(dir.path());
    let (cert, key) = (pki.cert.to_str().unwrap(), pki.key.to_str().unwrap());
    let port = kiss_testkit::free_port().to_string();
    let data = dir.path().join("data");
    let config = Config::try_parse_args([
        "kiss-server",
        "--backend",
        "local",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--jwks-url",
        &idp().cognito.jwks_url,
        "--namespaces-regex",
        REGEX,
        "--data-dir",
        data.to_str().unwrap(),
        "--tls-cert",
        cert,
        "--tls-key",
        key,
    ])
    .unwrap();
    let (running, _) = server::launch(&config).await.unwrap();

    let ca = tonic::transport::Certificate::from_pem(pki.ca_pem());
    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(ca)
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://localhost:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .unwrap();
    kiss_testkit::wait_ready_on(channel.clone(), || None).await;
    ping(
        &mut KissClient::new(channel),
        idp().cognito.token(ALICE),
        "team-a",
    )
    .await
    .unwrap();

    // A plaintext client gets nowhere.
    let plain = Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await;
    if let Ok(plain) = plain {
        assert!(
            ping(
                &mut KissClient::new(plain),
                idp().cognito.token(ALICE),
                "team-a"
            )
            .await
            .is_err()
        );
    }
    running.shutdown().await.unwrap();
}

#[tokio::test]
async fn history_and_rollback_name_the_people_and_are_audited() {
    let server = Server::cognito().await;
    let mut alice = server.caller(ALICE).await;
    let mut admin = server.caller(ADMIN).await;
    let v1 = alice.create("team-a", "db", "one").await.unwrap();
    let v2 = admin
        .update("team-a", "db", "two", &v1)
        .await
        .unwrap()
        .version_id;
    let history = alice.versions("team-a", "db").await.unwrap();
    let seen: Vec<(&str, &str)> = history
        .iter()
        .map(|v| (v.version_id.as_str(), v.author.as_str()))
        .collect();
    // Authors are the identifiers of the tokens, never something a client sent.
    assert_eq!(seen, [(v2.as_str(), ADMIN), (v1.as_str(), ALICE)]);
    assert!(history.iter().all(|v| v.created.is_some()));

    // An earlier version's value, only when asked.
    let old = alice.get_version("team-a", "db", &v1, false).await.unwrap();
    assert_eq!(
        (old.version_id.as_str(), old.value.as_deref()),
        (v1.as_str(), None)
    );
    let old = alice.get_version("team-a", "db", &v1, true).await.unwrap();
    assert_eq!(old.value.as_deref(), Some("one"));

    // Stale: ABORTED, nothing written. Then the real one.
    let stale = alice.rollback("team-a", "db", &v1, &v1).await.unwrap_err();
    assert_eq!(stale.code(), Code::Aborted, "{stale:?}");
    assert_eq!(alice.versions("team-a", "db").await.unwrap().len(), 2);
    let v3 = alice.rollback("team-a", "db", &v1, &v2).await.unwrap();
    let now = alice.get("team-a", "db", true).await.unwrap();
    assert_eq!(
        (now.version_id.as_str(), now.value.as_deref()),
        (v3.as_str(), Some("one"))
    );

    // A version no longer held, a malformed one, none at all.
    let gone = "00000000-0000-4000-8000-000000000000";
    let err = alice.rollback("team-a", "db", gone, "").await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    assert!(err.message().contains(gone), "{}", err.message());
    let err = alice
        .get_version("team-a", "db", "v1; drop", true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("is not a version id"),
        "{}",
        err.message()
    );
    let err = alice.rollback("team-a", "db", "", "").await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("no version id given"),
        "{}",
        err.message()
    );

    // A namespace the token does not grant: no history, no rollback.
    admin.create("team-c", "db", "theirs").await.unwrap();
    let theirs = admin.versions("team-c", "db").await.unwrap()[0]
        .version_id
        .clone();
    let err = alice.versions("team-c", "db").await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = alice
        .rollback("team-c", "db", &theirs, "")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    let err = alice
        .get_version("team-c", "db", &theirs, true)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(
        alice.get("team-a", "db", true).await.unwrap().version_id,
        v3
    );

    // Every write's record names the version it made; reads of an earlier
    // version name it and say whether the value was read.
    let records = server.audit();
    let raw = std::fs::read_to_string(&server.audit_log).unwrap();
    assert!(
        !raw.contains("\"one\"") && !raw.contains("\"two\""),
        "a value leaked: {raw}"
    );
    let ok = |rpc: &str| -> Vec<&Value> {
        records
            .iter()
            .filter(|r| r["rpc"] == rpc && r["outcome"] == "OK")
            .collect()
    };
    assert_eq!(ok("CreateSecret")[0]["new_version_id"], v1.as_str());
    assert_eq!(ok("CreateSecret")[0]["user"], ALICE);
    assert_eq!(ok("UpdateSecret")[0]["new_version_id"], v2.as_str());
    assert_eq!(ok("UpdateSecret")[0]["user"], ADMIN);
    let rollback = ok("RollbackSecret");
    assert_eq!(rollback.len(), 1);
    assert_eq!(rollback[0]["version_id"], v1.as_str());
    assert_eq!(rollback[0]["new_version_id"], v3.as_str());
    assert_eq!(rollback[0]["user"], ALICE);
    let reads: Vec<(&Value, &Value)> = ok("GetSecret")
        .iter()
        .filter(|r| r["version_id"] == v1.as_str())
        .map(|r| (&r["version_id"], &r["value_read"]))
        .collect();
    assert_eq!(reads.len(), 2, "{records:#?}");
    assert!(reads.iter().any(|(_, read)| **read == true));
    assert!(reads.iter().any(|(_, read)| **read != true));
    let stale = records
        .iter()
        .find(|r| r["rpc"] == "RollbackSecret" && r["outcome"] == "ABORTED")
        .expect("the stale rollback is recorded");
    assert!(
        stale.get("new_version_id").is_none_or(Value::is_null),
        "{stale}"
    );
    assert_eq!(ok("ListSecretVersions").len(), 3);
    server.stop().await;
}
