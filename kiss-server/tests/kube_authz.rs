//! `--authorization kubernetes` and `--authorization rolebinding` against
//! kiss-testkit's Kubernetes API test server (no real API server can run on
//! these machines), reached through a kubeconfig file as an operator's
//! kiss-server would reach a cluster.
//!
//! The server runs in-process with the local backend; tokens are signed by
//! dev mode's key and verified through the real JWKS path first, as in
//! every mode. The Go flag set is tried on the real binary.

#![cfg(feature = "kubernetes")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::authorization::v1::{ResourceAttributes, SubjectAccessReviewSpec};
use kiss_server::audit::Audit;
use kiss_server::auth::{AuthMode, AuthSettings, Authenticator, Jwks, NamespaceRule};
use kiss_server::config::Config;
use kiss_server::dev::{self, DevKey};
use kiss_server::pipeline::Limits;
use kiss_server::server::{self, Parts, Running};
use kiss_server::store::Naming;
use kiss_server::store::local::LocalStore;
use kiss_testkit::kube::{KubeApi, Request, Rule, SERVER_TOKEN};
use kiss_testkit::{Caller, KissServer};
use serde_json::Value;
use tonic::Code;

const REGEX: &str = "kaluza:([0-9a-z-]{1,63})";

struct Env {
    kube: KubeApi,
    running: Running,
    key: DevKey,
    audit_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Env {
    /// A kiss-server with `flags` (the mode and its settings), asking `kube`.
    async fn start(flags: &[&str]) -> Env {
        Self::start_with(flags, None, None).await
    }

    async fn start_with(flags: &[&str], regex: Option<&str>, admin: Option<&str>) -> Env {
        let kube = KubeApi::start().await;
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = kube.kubeconfig();
        let mut args = vec![
            "kiss-server",
            "--jwks-url",
            "http://127.0.0.1:9/unused",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ];
        args.extend_from_slice(flags);
        let config = Config::try_parse_args(args).unwrap();
        config.validate().unwrap();
        let settings = AuthSettings {
            namespaces: NamespaceRule::new(dev::GROUPS_CLAIM, regex).unwrap(),
            admin_namespace: admin.map(str::to_owned),
            ..dev::dev_auth_settings()
        };
        let authorizer = server::authorizer(&config, &settings).await.unwrap();
        let key = DevKey::generate().unwrap();
        let jwks = Jwks::fixed(key.key_set());
        let ready = jwks.ready();
        let audit_path = dir.path().join("audit.jsonl");
        let parts = Parts {
            store: Arc::new(LocalStore::open(dir.path(), Naming::default(), 7).unwrap()),
            auth: AuthMode::Verify(Arc::new(
                Authenticator::new(settings, jwks).keeping_credentials(),
            )),
            authorizer,
            audit: Arc::new(Audit::to_file(&audit_path).unwrap()),
            trusted_proxies: Vec::new(),
            tls: None,
            shutdown_grace: Duration::from_secs(1),
            limits: Limits::unlimited(),
        };
        let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let running = server::start(parts, listener, ready).await.unwrap();
        Env {
            kube,
            running,
            key,
            audit_path,
            _dir: dir,
        }
    }

    /// A caller whose token carries `groups` and that the cluster knows as
    /// `oidc:<name>` in `oidc:<group>`s.
    async fn user(&self, name: &str, groups: &[&str]) -> Caller {
        let token = self.key.mint(&format!("{name}@example.com"), groups, 3600);
        let kube_groups: Vec<String> = groups.iter().map(|g| format!("oidc:{g}")).collect();
        let mut kube_groups: Vec<&str> = kube_groups.iter().map(String::as_str).collect();
        kube_groups.push("system:authenticated");
        self.kube.token(
            &token,
            &format!("oidc:{name}"),
            &format!("uid-{name}"),
            &kube_groups,
            &[("scopes.example.com", &["openid"])],
        );
        Caller::connect(self.running.addr, token).await
    }

    /// A caller with a valid token the cluster does not recognise.
    async fn stranger(&self) -> Caller {
        let token = self.key.mint("mallory@example.com", &["team-a"], 3600);
        Caller::connect(self.running.addr, token).await
    }

    /// The audit records, once there are at least `n`.
    async fn audit_when(&self, n: usize) -> Vec<Value> {
        kiss_testkit::audit::records_when(&self.audit_path, n).await
    }

    fn reviews(&self) -> usize {
        self.kube.access_reviews().len()
    }

    fn rolebinding_gets(&self, namespace: &str) -> usize {
        self.kube
            .requests()
            .iter()
            .filter(
                |r| matches!(r, Request::GetRoleBinding { namespace: ns, .. } if ns == namespace),
            )
            .count()
    }
}

fn attrs(ns: &str, verb: &str, sub: Option<&str>, name: Option<&str>) -> ResourceAttributes {
    ResourceAttributes {
        namespace: Some(ns.into()),
        group: Some("kiss.kaluza.com".into()),
        resource: Some("secrets".into()),
        subresource: sub.map(str::to_owned),
        name: name.map(str::to_owned),
        verb: Some(verb.into()),
        ..Default::default()
    }
}

fn code<T>(r: &Result<T, tonic::Status>) -> Code {
    match r {
        Ok(_) => Code::Ok,
        Err(s) => s.code(),
    }
}

/// Not refused by authorization (the store may still say NOT_FOUND and the like).
fn authorized<T: std::fmt::Debug>(what: &str, r: &Result<T, tonic::Status>) {
    assert!(
        !matches!(
            code(r),
            Code::PermissionDenied | Code::Unauthenticated | Code::Unavailable
        ),
        "{what}: {r:?}"
    );
}

#[tokio::test]
async fn every_rpc_sends_its_subject_access_review() {
    let env = Env::start(&["--authorization", "kubernetes", "--kube-allowed-ttl", "0"]).await;
    env.kube.allow(Rule::user("oidc:alice").namespace("team-a"));
    let mut alice = env.user("alice", &["team-a"]).await;
    let ns = "team-a";
    let mut expected: Vec<ResourceAttributes> = Vec::new();
    let mut check = |what: &str, want: ResourceAttributes, env: &Env| {
        expected.push(want.clone());
        let reviews = env.kube.access_reviews();
        assert_eq!(reviews.len(), expected.len(), "{what}: one review per call");
        let spec: &SubjectAccessReviewSpec = &reviews.last().unwrap().spec;
        assert_eq!(spec.resource_attributes.as_ref(), Some(&want), "{what}");
        assert_eq!(spec.user.as_deref(), Some("oidc:alice"), "{what}");
        assert_eq!(spec.uid.as_deref(), Some("uid-alice"), "{what}");
        assert_eq!(
            spec.groups.as_deref(),
            Some(&["oidc:team-a".to_owned(), "system:authenticated".to_owned()][..]),
            "{what}"
        );
        let extra = spec.extra.as_ref().expect("extra is passed on");
        assert_eq!(extra["scopes.example.com"], ["openid"], "{what}");
    };

    let r = alice.ping(ns).await;
    authorized("Ping", &r);
    check("Ping", attrs(ns, "list", None, None), &env);
    let r = alice.list(ns).await;
    authorized("ListSecrets", &r);
    check("ListSecrets", attrs(ns, "list", None, None), &env);
    let r = alice.list_deleted(ns).await;
    authorized("ListDeletedSecrets", &r);
    check("ListDeletedSecrets", attrs(ns, "list", None, None), &env);
    let r = alice.create(ns, "db", "v1").await;
    authorized("CreateSecret", &r);
    check("CreateSecret", attrs(ns, "create", None, Some("db")), &env);
    let r = alice.get(ns, "db", false).await;
    authorized("GetSecret", &r);
    check("GetSecret", attrs(ns, "get", None, Some("db")), &env);
    let r = alice.get(ns, "db", true).await;
    authorized("GetSecret with value", &r);
    check(
        "GetSecret value",
        attrs(ns, "get", Some("value"), Some("db")),
        &env,
    );
    let r = alice.update(ns, "db", "v2", "").await;
    authorized("UpdateSecret", &r);
    check("UpdateSecret", attrs(ns, "update", None, Some("db")), &env);
    let r = alice.create_policy(ns, "db").await;
    authorized("CreateSecretIAMPolicy", &r);
    check(
        "CreatePolicy",
        attrs(ns, "create", Some("policy"), Some("db")),
        &env,
    );
    let r = alice.bind(ns, "db", "app").await;
    authorized("BindSecret", &r);
    check(
        "BindSecret",
        attrs(ns, "create", Some("bindings"), Some("db")),
        &env,
    );
    let r = alice.unbind(ns, "db", "app").await;
    authorized("UnbindSecret", &r);
    check(
        "UnbindSecret",
        attrs(ns, "delete", Some("bindings"), Some("db")),
        &env,
    );
    let r = alice.delete_policy(ns, "db", false).await;
    authorized("DeleteSecretIAMPolicy", &r);
    check(
        "DeletePolicy",
        attrs(ns, "delete", Some("policy"), Some("db")),
        &env,
    );
    let r = alice.delete(ns, "db").await;
    authorized("DeleteSecret", &r);
    check("DeleteSecret", attrs(ns, "delete", None, Some("db")), &env);
    let r = alice.restore(ns, "db").await;
    authorized("RestoreSecret", &r);
    check("RestoreSecret", attrs(ns, "update", None, Some("db")), &env);

    // One TokenReview of her own token, every review made as kiss-server.
    let token_reviews = env.kube.token_reviews();
    assert_eq!(token_reviews.len(), 1, "the identity is cached per token");
    assert_eq!(
        token_reviews[0].spec.token.as_deref(),
        Some(
            alice
                .request(())
                .metadata()
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .trim_start_matches("Bearer ")
        )
    );
    assert!(
        env.kube
            .received()
            .iter()
            .all(|r| r.bearer.as_deref() == Some(SERVER_TOKEN)),
        "kiss-server calls the API with its own credentials"
    );

    // Someone the rules do not cover: denied, with the review's reason.
    env.kube.deny_reason("no RBAC policy matched");
    let mut bob = env.user("bob", &["team-b"]).await;
    let denied = bob.create(ns, "other", "v").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let message = denied.message();
    assert!(
        message.contains("is not authorized for namespace 'team-a'"),
        "{message}"
    );
    assert!(message.contains("no RBAC policy matched"), "{message}");
    assert!(message.contains("'oidc:bob' create secrets"), "{message}");
    let records = env.audit_when(14).await;
    let last = records.last().unwrap();
    assert_eq!(last["authorization"], "kubernetes", "{last}");
    assert_eq!(last["reason"], "rbac_denied", "{last}");
    assert!(
        last["detail"]
            .as_str()
            .unwrap()
            .contains("no RBAC policy matched"),
        "{last}"
    );
    assert!(
        records.iter().all(|r| !r.to_string().contains("eyJ")),
        "no token in audit records"
    );
}

#[tokio::test]
async fn reading_a_value_is_its_own_right_and_names_restrict() {
    let env = Env::start(&["--authorization", "kubernetes"]).await;
    env.kube.allow(Rule::user("oidc:alice").namespace("team-a"));
    // Carol may view (list and get, not the value), and read db-password only.
    env.kube.allow(
        Rule::user("oidc:carol")
            .namespace("team-a")
            .verbs(&["get", "list"])
            .resources(&["secrets"]),
    );
    env.kube.allow(
        Rule::user("oidc:carol")
            .namespace("team-a")
            .verbs(&["get"])
            .resources(&["secrets/value"])
            .names(&["db-password"]),
    );
    let mut alice = env.user("alice", &["team-a"]).await;
    alice
        .create("team-a", "db-password", "s3cret")
        .await
        .unwrap();
    alice.create("team-a", "api-key", "k").await.unwrap();
    let mut carol = env.user("carol", &["team-a"]).await;
    assert_eq!(carol.list("team-a").await.unwrap().len(), 2);
    carol.get("team-a", "api-key", false).await.unwrap();
    let no = carol.get("team-a", "api-key", true).await.unwrap_err();
    assert_eq!(no.code(), Code::PermissionDenied, "{no:?}");
    assert!(
        no.message().contains("get secrets/value"),
        "{}",
        no.message()
    );
    let yes = carol.get("team-a", "db-password", true).await.unwrap();
    assert_eq!(yes.value.as_deref(), Some("s3cret"));
    let no = carol.create("team-a", "new", "v").await.unwrap_err();
    assert_eq!(no.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn decisions_are_cached_merged_and_denials_expire_sooner() {
    let env = Env::start(&[
        "--authorization",
        "kubernetes",
        "--kube-allowed-ttl",
        "3600",
        "--kube-denied-ttl",
        "2",
    ])
    .await;
    env.kube.allow(Rule::user("oidc:alice"));
    let mut alice = env.user("alice", &["team-a"]).await;
    for _ in 0..10 {
        alice.ping("team-a").await.unwrap();
    }
    assert_eq!(
        env.reviews(),
        1,
        "many calls inside the TTL cost one review"
    );

    // Concurrent identical calls share one review.
    let calls: Vec<_> = (0..16)
        .map(|_| {
            let mut a = alice.clone();
            tokio::spawn(async move { a.ping("team-b").await })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(env.reviews(), 2, "sixteen concurrent calls, one review");

    // A denial is kept for the shorter TTL only.
    let mut dave = env.user("dave", &["team-a"]).await;
    let denied = dave.ping("team-a").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    env.kube.allow(Rule::user("oidc:dave").namespace("team-a"));
    let reviews = env.reviews();
    assert_eq!(
        code(&dave.ping("team-a").await),
        Code::PermissionDenied,
        "still the cached denial"
    );
    assert_eq!(env.reviews(), reviews);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    dave.ping("team-a").await.unwrap();
    assert_eq!(env.reviews(), reviews + 1, "the denial expired");
    dave.ping("team-a").await.unwrap();
    assert_eq!(env.reviews(), reviews + 1, "the allow is kept");
    assert_eq!(
        env.kube.token_reviews().len(),
        2,
        "one TokenReview per token"
    );
}

#[tokio::test]
async fn an_unreachable_api_server_is_unavailable_until_it_is_back() {
    let env = Env::start(&[
        "--authorization",
        "kubernetes",
        "--kube-allowed-ttl",
        "0",
        "--kube-timeout",
        "3",
    ])
    .await;
    env.kube.allow(Rule::group("oidc:team-a"));
    let mut alice = env.user("alice", &["team-a"]).await;
    alice.ping("team-a").await.unwrap();

    env.kube.go_down();
    let down = alice.ping("team-a").await.unwrap_err();
    assert_eq!(down.code(), Code::Unavailable, "{down:?}");
    assert!(
        down.message().contains("Kubernetes API server"),
        "{}",
        down.message()
    );
    // A new token cannot be reviewed either: UNAVAILABLE, not UNAUTHENTICATED.
    let mut bob = env.user("bob", &["team-a"]).await;
    assert_eq!(code(&bob.ping("team-a").await), Code::Unavailable);
    assert_eq!(code(&bob.who_am_i().await), Code::Unavailable);
    // Liveness does not follow the API server.
    assert_eq!(
        kiss_testkit::health(env.running.addr, "").await,
        Some(1),
        "health stays SERVING"
    );
    let records = env.audit_when(4).await;
    let last = records.last().unwrap();
    assert_eq!(last["reason"], "authorizer_unavailable", "{last}");

    env.kube.come_back().await;
    alice.ping("team-a").await.unwrap();
    bob.ping("team-a").await.unwrap();
}

#[tokio::test]
async fn a_token_the_cluster_refuses_is_unauthenticated() {
    let env = Env::start(&["--authorization", "kubernetes"]).await;
    env.kube.allow(Rule::group("oidc:team-a"));
    env.kube.token_error("oidc: token audience does not match");
    let mut mallory = env.stranger().await;
    let refused = mallory.ping("team-a").await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert!(
        refused.message().contains("token audience does not match"),
        "{}",
        refused.message()
    );
    let refused = mallory.who_am_i().await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused:?}");
    assert_eq!(env.reviews(), 0, "no access review for an unknown user");
}

#[tokio::test]
async fn who_am_i_lists_the_namespaces_the_caller_may_list() {
    let env = Env::start(&["--authorization", "kubernetes"]).await;
    env.kube
        .namespaces(&["default", "team-a", "team-b", "team-c"]);
    env.kube
        .allow(Rule::group("oidc:team-a").namespace("team-a"));
    env.kube.allow(
        Rule::user("oidc:alice")
            .namespace("team-c")
            .verbs(&["list"]),
    );
    let mut alice = env.user("alice", &["team-a"]).await;
    let me = alice.who_am_i().await.unwrap();
    assert_eq!(me.namespaces, ["team-a", "team-c"]);
    assert!(!me.admin);
    let reviews = env.reviews();
    assert_eq!(reviews, 4, "one list review per namespace");
    let again = alice.who_am_i().await.unwrap();
    assert_eq!(again.namespaces, me.namespaces);
    assert_eq!(env.reviews(), reviews, "cached");
}

#[tokio::test]
async fn claims_identity_maps_locally_without_token_reviews() {
    let env = Env::start(&[
        "--authorization",
        "kubernetes",
        "--kube-identity",
        "claims",
        "--kube-username-claim",
        "email",
        "--kube-username-prefix",
        "oidc:",
        "--kube-groups-prefix",
        "oidc:",
    ])
    .await;
    env.kube
        .allow(Rule::group("oidc:team-a").namespace("team-a"));
    let token = env.key.mint("erin@example.com", &["team-a"], 3600);
    let mut erin = Caller::connect(env.running.addr, token).await;
    erin.ping("team-a").await.unwrap();
    assert_eq!(code(&erin.ping("team-b").await), Code::PermissionDenied);
    let reviews = env.kube.access_reviews();
    assert_eq!(
        reviews[0].spec.user.as_deref(),
        Some("oidc:erin@example.com")
    );
    assert_eq!(
        reviews[0].spec.groups.as_deref(),
        Some(&["oidc:team-a".to_owned()][..])
    );
    assert!(
        env.kube.token_reviews().is_empty(),
        "the cluster never sees the token"
    );
}

#[tokio::test]
async fn rolebinding_mode_follows_the_go_rule() {
    let env = Env::start_with(
        &["--rolebinding-prefix", "kiss-"],
        Some(REGEX),
        Some("platform"),
    )
    .await;
    env.kube.rolebinding(
        "team-a",
        "kiss-team-a",
        "kiss",
        &["someone@example.com", "kiss-kaluza:team-a"],
    );
    let alice_token = env.key.mint("alice@example.com", &["kaluza:team-a"], 3600);
    let mut alice = Caller::connect(env.running.addr, alice_token).await;
    alice.ping("team-a").await.unwrap();
    for _ in 0..5 {
        alice.list("team-a").await.unwrap();
    }
    assert_eq!(
        env.rolebinding_gets("team-a"),
        1,
        "the RoleBinding is cached"
    );
    assert!(
        env.kube.requests().iter().all(
            |r| matches!(r, Request::GetRoleBinding { name, .. } if name.starts_with("kiss-"))
        ),
        "only RoleBindings are read, by their prefixed name"
    );

    // Another team's member: no subject names her group.
    let bob_token = env.key.mint("bob@example.com", &["kaluza:team-b"], 3600);
    let mut bob = Caller::connect(env.running.addr, bob_token).await;
    let denied = bob.ping("team-a").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(
        denied.message().contains("RoleBinding 'kiss-team-a'"),
        "{}",
        denied.message()
    );

    // No RoleBinding at all: the one looked for is named.
    let denied = alice.ping("team-c").await.unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    assert!(
        denied
            .message()
            .contains("no RoleBinding 'kiss-team-c' in namespace 'team-c'"),
        "{}",
        denied.message()
    );
    let records = env.audit_when(8).await;
    let last = records.last().unwrap();
    assert_eq!(last["authorization"], "rolebinding", "{last}");
    assert_eq!(last["reason"], "rolebinding_missing", "{last}");

    // The admin namespace still grants everything, without a lookup.
    let admin_token = env.key.mint("root@example.com", &["kaluza:platform"], 3600);
    let mut admin = Caller::connect(env.running.addr, admin_token).await;
    admin.ping("team-z").await.unwrap();
    assert_eq!(env.rolebinding_gets("team-z"), 0);

    // The API server down: UNAVAILABLE for what is not cached.
    env.kube.go_down();
    assert_eq!(code(&alice.ping("team-d").await), Code::Unavailable);
    alice.ping("team-a").await.unwrap();
    env.kube.come_back().await;
}

#[tokio::test]
async fn an_empty_rolebinding_prefix_strips_nothing() {
    let env = Env::start(&["--authorization", "rolebinding"]).await;
    env.kube
        .rolebinding("team-a", "team-a", "kiss", &["team-a"]);
    let token = env.key.mint("alice@example.com", &["team-a"], 3600);
    let mut alice = Caller::connect(env.running.addr, token).await;
    alice.ping("team-a").await.unwrap();
}

#[test]
fn admin_namespace_is_refused_with_kubernetes_mode() {
    let config = Config::try_parse_args([
        "kiss-server",
        "--jwks-url=x",
        "--authorization",
        "kubernetes",
        "--admin-namespace",
        "platform",
    ])
    .unwrap();
    let e = config.validate().unwrap_err();
    assert!(e.contains("--admin-namespace has no meaning"), "{e}");
    assert!(e.contains("ClusterRoleBinding"), "{e}");
}

/// Serves `body` at every path on loopback (a JWKS for the binary).
async fn serve_json(body: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { ([("content-type", "application/json")], body) }
    });
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/jwks.json")
}

fn binary() -> PathBuf {
    kiss_testkit::binary!("kiss-server", "kiss-server")
}

#[tokio::test]
async fn the_go_servers_flag_set_starts_the_server() {
    let kube = KubeApi::start().await;
    let key = DevKey::generate().unwrap();
    let jwks_url = serve_json(serde_json::to_string(key.key_set()).unwrap()).await;
    kube.rolebinding("team-a", "kiss-team-a", "kiss", &["kiss-kaluza:team-a"]);
    let kubeconfig = kube.kubeconfig();
    let data = kube.dir().join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Every flag of the Go server's cmd/main.go, in Go form.
    let mut server = KissServer::new(binary())
        .go_style_listen()
        .args([
            &format!("-jwks-url={jwks_url}"),
            "-namespaces-key",
            dev::GROUPS_CLAIM,
            "-namespaces-regex",
            REGEX,
            "-identifier-key",
            "email",
            "-admin-namespace",
            "platform",
            "-region",
            "eu-west-1",
            "-token-path=",
            "-role-arn=",
            "-secret-prefix",
            "k8s-secret",
            "-service-account-role-prefix",
            "k8s-sa",
            "-rolebinding-prefix",
            "kiss-",
            "-kubeconfig-path",
            kubeconfig.to_str().unwrap(),
            "-enable-tracing",
        ])
        .args(["--backend", "local", "--data-dir", data.to_str().unwrap()])
        .spawn();
    server.wait_ready().await;
    let log = server.log();
    assert!(log.contains("rolebinding"), "{log}");
    assert!(log.contains("-enable-tracing"), "{log}");
    assert!(log.contains("OTLP"), "{log}");
    let token = key.mint("alice@example.com", &["kaluza:team-a"], 3600);
    let mut alice = Caller::connect(server.addr, token).await;
    alice.ping("team-a").await.unwrap();
    assert!(
        kube.requests().iter().any(
            |r| matches!(r, Request::GetRoleBinding { namespace, name } if namespace == "team-a" && name == "kiss-team-a")
        ),
        "-rolebinding-prefix selected rolebinding mode"
    );
}

fn run(args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(binary())
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[tokio::test]
async fn check_config_loads_the_kubernetes_configuration() {
    let kube = KubeApi::start().await;
    let good = kube.kubeconfig();
    let (code, out) = run(&[
        "--check-config",
        "--jwks-url=x",
        "--authorization=kubernetes",
        "--kubeconfig",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("configuration OK"), "{out}");
    let missing = Path::new("/nonexistent/kubeconfig");
    let (code, out) = run(&[
        "--check-config",
        "--jwks-url=x",
        "--authorization=rolebinding",
        "--kubeconfig",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("--kubeconfig /nonexistent/kubeconfig"),
        "{out}"
    );
    let (code, out) = run(&[
        "--check-config",
        "--jwks-url=x",
        "--authorization=kubernetes",
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("give --kubeconfig PATH or set KUBECONFIG"),
        "{out}"
    );
    assert!(kube.requests().is_empty(), "--check-config sends nothing");
}

#[test]
fn an_unknown_flag_is_named_whole() {
    let (code, out) = run(&["-jwks-url=x", "-rolebinding-prefx", "kiss-"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("'-rolebinding-prefx'"), "{out}");
    assert!(!out.contains("'-r'"), "{out}");
}
