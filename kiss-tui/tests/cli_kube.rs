//! The scripting verbs against a kiss-server in `--authorization kubernetes`
//! mode, asking kiss-testkit's Kubernetes API test server: `whoami` shows
//! the namespaces WhoAmI returns (those the cluster lets the caller list),
//! and a denial shows the cluster's reason. Then the same in the app, in a
//! real terminal (tmux): the namespace picker lists what WhoAmI returns, a
//! namespace missing from it can be typed, and the denial says why.

mod cli_support;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cli_support::{kiss_in, write_kubelogin_file};
use kiss_server::audit::Audit;
use kiss_server::auth::{AuthMode, AuthSettings, Authenticator, Jwks, NamespaceRule};
use kiss_server::config::Config;
use kiss_server::dev::{self, DevKey};
use kiss_server::pipeline::Limits;
use kiss_server::server::{self, Parts, Running};
use kiss_server::store::Naming;
use kiss_server::store::local::LocalStore;
use kiss_testkit::kube::{KubeApi, Rule};

async fn start(kube: &KubeApi, dir: &std::path::Path) -> (Running, DevKey) {
    let kubeconfig = kube.kubeconfig();
    let config = Config::try_parse_args([
        "kiss-server",
        "--jwks-url",
        "http://127.0.0.1:9/unused",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--authorization",
        "kubernetes",
    ])
    .unwrap();
    config.validate().unwrap();
    let settings = AuthSettings {
        namespaces: NamespaceRule::new(dev::GROUPS_CLAIM, None).unwrap(),
        ..dev::dev_auth_settings()
    };
    let authorizer = server::authorizer(&config, &settings).await.unwrap();
    let key = DevKey::generate().unwrap();
    let jwks = Jwks::fixed(key.key_set());
    let ready = jwks.ready();
    let parts = Parts {
        store: Arc::new(LocalStore::open(dir, Naming::default(), 7).unwrap()),
        auth: AuthMode::Verify(Arc::new(
            Authenticator::new(settings, jwks).keeping_credentials(),
        )),
        authorizer,
        audit: Arc::new(Audit::to_file(&dir.join("audit.jsonl")).unwrap()),
        trusted_proxies: Vec::new(),
        tls: None,
        shutdown_grace: Duration::from_secs(1),
        limits: Limits::unlimited(),
    };
    let listener = server::bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
    (server::start(parts, listener, ready).await.unwrap(), key)
}

/// Alice's token names team-a and team-b; the cluster lets her list only
/// team-a and team-c, and knows of team-a, team-b and team-c (not team-d).
struct Scene {
    running: Running,
    home: PathBuf,
    token_path: PathBuf,
    // Held for the test: the API server and the runtime serving kiss-server.
    _kube: KubeApi,
    _dir: tempfile::TempDir,
    _rt: tokio::runtime::Runtime,
}

impl Scene {
    fn alice() -> Scene {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kube = rt.block_on(KubeApi::start());
        let (running, key) = rt.block_on(start(&kube, dir.path()));
        let token = key.mint("alice@example.com", &["team-a", "team-b"], 3600);
        kube.token(&token, "oidc:alice", "uid-alice", &["oidc:team-a"], &[]);
        kube.allow(Rule::user("oidc:alice").namespace("team-a"));
        kube.allow(Rule::user("oidc:alice").namespace("team-c"));
        kube.namespaces(&["team-a", "team-b", "team-c"]);
        kube.deny_reason("no RoleBinding grants it");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let token_path = dir.path().join("token.json");
        write_kubelogin_file(&token_path, &token);
        Scene {
            running,
            home,
            token_path,
            _kube: kube,
            _dir: dir,
            _rt: rt,
        }
    }
}

#[test]
fn whoami_lists_the_clusters_namespaces_and_a_denial_says_why() {
    let scene = Scene::alice();
    let (running, home, token_path) = (&scene.running, &scene.home, &scene.token_path);
    let addr = running.addr.to_string();
    let token_flag = token_path.display().to_string();
    let kiss = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend([
            "-server-addr",
            &addr,
            "-secure=false",
            "-token-path",
            &token_flag,
        ]);
        kiss_in(home, &all, None, &[])
    };

    let who = kiss(&["whoami", "-output=json"]);
    let v: serde_json::Value = serde_json::from_str(who.ok()).unwrap();
    assert_eq!(v["namespaces"], serde_json::json!(["team-a", "team-c"]));
    let who = kiss(&["whoami"]);
    assert!(who.ok().contains("team-a, team-c"), "{who:?}");

    kiss(&["list", "-namespace", "team-a"]).ok();
    let denied = kiss(&["list", "-namespace", "team-b"]);
    assert_ne!(denied.code, 0, "{denied:?}");
    assert!(
        denied.stderr.contains("no RoleBinding grants it"),
        "the cluster's reason is shown: {denied:?}"
    );
    assert!(denied.stderr.contains("team-b"), "{denied:?}");
}

#[test]
fn the_app_picks_from_the_clusters_namespaces_and_shows_a_denial() {
    let Some(tmux) = kiss_testkit::Tmux::new("cli_kube_app", 100, 30) else {
        return;
    };
    let scene = Scene::alice();
    let (running, home, token_path) = (&scene.running, &scene.home, &scene.token_path);
    let bin = kiss_testkit::binary!("kiss-tui", "kiss-tui");
    let command = format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config {bin} --server-addr {addr} --secure=false --token-path {token}",
        home = kiss_testkit::shell_quote(home.to_str().unwrap()),
        bin = kiss_testkit::shell_quote(bin.to_str().unwrap()),
        addr = running.addr,
        token = kiss_testkit::shell_quote(token_path.to_str().unwrap()),
    );
    tmux.respawn(&command);

    // The cluster's namespaces, not the token's groups.
    let screen = tmux.wait_for("Namespaces of alice@example.com");
    let screen = if screen.contains("team-c") {
        screen
    } else {
        tmux.wait_for("team-c")
    };
    assert!(screen.contains("team-a"), "{screen}");
    assert!(
        !screen.contains("team-b"),
        "the token's group, not the cluster's: {screen}"
    );

    // One the list does not hold: typed, asked for, refused with the reason.
    tmux.type_text("team-d");
    tmux.wait_for("Enter asks the server");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("no RoleBinding grants it");
    assert!(screen.contains("team-d"), "{screen}");

    // And one it allows opens.
    tmux.keys(&["Escape"]);
    tmux.wait_for("Namespaces of alice@example.com");
    tmux.keys(&["C-u"]);
    tmux.type_text("team-a");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Secrets in team-a");
}
