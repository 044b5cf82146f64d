//! `-context NAME` end to end: three dev-mode kiss-servers, a kubeconfig
//! whose contexts' users log in with exec plugins — small shell scripts,
//! written here, that print an ExecCredential holding a token the right
//! server minted and log every run (with `$KUBERNETES_EXEC_INFO` and an
//! env var from the kubeconfig) — and a config.toml mapping contexts (and
//! an issuer) to servers. Then `list -all-namespaces` over 20 namespaces on
//! a server whose rate limit refuses exactly one of the calls.

#![cfg(unix)]

mod cli_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cli_support::{Run, kiss_in, write_kubelogin_file};
use kiss_server::dev::{DevOptions, DevServer, SharedFlags};
use kiss_server::pipeline::Limits;
use kiss_testkit::Caller;

const V1: &str = "client.authentication.k8s.io/v1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

struct Scene {
    rt: tokio::runtime::Runtime,
    a: DevServer,
    b: DevServer,
    dir: tempfile::TempDir,
}

/// One context of the kubeconfig and the plugin its user runs.
struct Ctx {
    name: &'static str,
    namespace: Option<&'static str>,
    api_version: &'static str,
    /// The ExecCredential's token, or None for a plugin that fails.
    token: Option<String>,
}

fn many_namespaces() -> Vec<String> {
    (1..=20).map(|i| format!("many-{i:02}")).collect()
}

impl Scene {
    fn get() -> &'static Scene {
        static SCENE: OnceLock<Scene> = OnceLock::new();
        SCENE.get_or_init(Scene::start)
    }

    fn start() -> Scene {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let opts = |name: &str| DevOptions {
            data_dir: dir.path().join(name).join("data"),
            token_dir: dir.path().join(name).join("tokens"),
            addr: "127.0.0.1:0".parse().unwrap(),
            seed_samples: false,
        };
        let a = rt.block_on(DevServer::start(opts("a"))).unwrap();
        let b = rt.block_on(DevServer::start(opts("b"))).unwrap();
        // Each identity may make 20 calls, ever: a search over 20
        // namespaces is WhoAmI + 20 ListSecrets, so exactly one is refused.
        let limited = SharedFlags {
            limits: Limits {
                rate_per_second: 0.0001,
                burst: 20,
                ..Limits::unlimited()
            },
            ..SharedFlags::default()
        };
        let c = rt
            .block_on(DevServer::start_with(opts("c"), limited))
            .unwrap();
        rt.block_on(async {
            let mut ca = Caller::connect(a.addr, a.mint_token("seed-a@x", &["ns-a"], 600)).await;
            ca.create("ns-a", "alpha-secret", "1").await.unwrap();
            let mut cb = Caller::connect(b.addr, b.mint_token("seed-b@x", &["ns-b"], 600)).await;
            cb.create("ns-b", "beta-secret", "2").await.unwrap();
            for ns in many_namespaces() {
                // One seeding identity per namespace, each well within its limit.
                let token = c.mint_token(&format!("seed-{ns}@x"), &[&ns], 600);
                let mut cc = Caller::connect(c.addr, token).await;
                cc.create(&ns, &format!("{ns}-secret"), "v").await.unwrap();
            }
        });
        let many: Vec<String> = many_namespaces();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let contexts = [
            Ctx {
                name: "a",
                namespace: Some("ns-a"),
                api_version: V1,
                token: Some(a.mint_token("alice@a", &["ns-a"], 3600)),
            },
            Ctx {
                name: "b",
                namespace: Some("ns-b"),
                api_version: V1BETA1,
                token: Some(b.mint_token("bob@b", &["ns-b"], 3600)),
            },
            Ctx {
                name: "broken",
                namespace: Some("ns-a"),
                api_version: V1,
                token: None,
            },
            Ctx {
                name: "by-issuer",
                namespace: Some("ns-a"),
                api_version: V1,
                token: Some(a.mint_token("ivy@a", &["ns-a"], 3600)),
            },
            Ctx {
                name: "unset",
                namespace: Some("ns-u"),
                api_version: V1,
                token: Some(a.mint_token("uma@a", &["ns-a"], 3600)),
            },
            Ctx {
                name: "wide",
                namespace: None,
                api_version: V1,
                token: Some(a.mint_token("wendy@a", &["ns-a", "ns-empty"], 3600)),
            },
            Ctx {
                name: "many",
                namespace: None,
                api_version: V1,
                token: Some(c.mint_token("searcher@c", &many, 3600)),
            },
            Ctx {
                name: "many-json",
                namespace: None,
                api_version: V1,
                token: Some(c.mint_token("searcher2@c", &many, 3600)),
            },
        ];
        let root = dir.path();
        std::fs::create_dir_all(root.join("home")).unwrap();
        std::fs::create_dir_all(root.join("plugins")).unwrap();
        let mut users = String::new();
        let mut ctxs = String::new();
        for ctx in &contexts {
            let script = root.join("plugins").join(format!("get-token-{}", ctx.name));
            let log = root.join(format!("{}.log", ctx.name));
            let body = match &ctx.token {
                Some(token) => {
                    let cred = root.join(format!("{}.json", ctx.name));
                    std::fs::write(
                        &cred,
                        serde_json::json!({
                            "apiVersion": ctx.api_version,
                            "kind": "ExecCredential",
                            "status": {"token": token, "expirationTimestamp": "2999-01-01T00:00:00Z"},
                        })
                        .to_string(),
                    )
                    .unwrap();
                    format!("cat '{}'", cred.display())
                }
                None => "echo 'error: oidc login failed: no browser available' >&2\nexit 1".into(),
            };
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\nprintf '%s|%s|%s\\n' \"$KUBERNETES_EXEC_INFO\" \"$KISS_TEST_ENV\" \"$*\" >> '{}'\n{body}\n",
                    log.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
            let mode = if ctx.api_version == V1 {
                "      interactiveMode: Never\n"
            } else {
                ""
            };
            // Relative to the kubeconfig's directory, as kubectl resolves it.
            users.push_str(&format!(
                "- name: user-{n}\n  user:\n    exec:\n      apiVersion: {api}\n      command: ./plugins/get-token-{n}\n      args: [oidc-login, get-token, --oidc-client-secret=hush]\n      env:\n      - name: KISS_TEST_ENV\n        value: from-{n}\n{mode}",
                n = ctx.name,
                api = ctx.api_version,
            ));
            ctxs.push_str(&format!(
                "- name: {n}\n  context:\n    cluster: cluster-{n}\n    user: user-{n}\n{ns}",
                n = ctx.name,
                ns = ctx
                    .namespace
                    .map(|ns| format!("    namespace: {ns}\n"))
                    .unwrap_or_default(),
            ));
        }
        std::fs::write(
            root.join("kubeconfig"),
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: cluster-a\n  cluster: {{server: 'https://127.0.0.1:1'}}\ncontexts:\n{ctxs}users:\n{users}"
            ),
        )
        .unwrap();
        std::fs::write(
            root.join("config.toml"),
            format!(
                "server_addr = \"127.0.0.1:1\"\n\
                 [contexts.a]\nserver_addr = \"{a}\"\nsecure = false\n\
                 [contexts.b]\nserver_addr = \"{b}\"\nsecure = false\n\
                 [contexts.broken]\nserver_addr = \"{a}\"\nsecure = false\n\
                 [contexts.wide]\nserver_addr = \"{a}\"\nsecure = false\n\
                 [contexts.many]\nserver_addr = \"{c}\"\nsecure = false\n\
                 [contexts.many-json]\nserver_addr = \"{c}\"\nsecure = false\n\
                 [contexts.by-issuer]\nnamespace = \"ns-a\"\n\
                 [issuers.\"{iss}\"]\nserver_addr = \"{a}\"\nsecure = false\n",
                a = a.addr,
                b = b.addr,
                c = c.addr,
                iss = kiss_server::dev::ISSUER,
            ),
        )
        .unwrap();
        std::fs::write(root.join("no-issuers.toml"), "secure = true\n").unwrap();
        // c is only reached through the kubeconfig; keep it running.
        std::mem::forget(c);
        Scene { rt, a, b, dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Runs kiss-tui with the scene's kubeconfig and config file.
    fn kiss(&self, args: &[&str]) -> Run {
        let config = self.root().join("config.toml");
        self.kiss_with(args, &config)
    }

    fn kiss_with(&self, args: &[&str], config: &Path) -> Run {
        let kubeconfig = self.root().join("kubeconfig");
        let mut all = args.to_vec();
        let config = config.display().to_string();
        all.extend(["-config", &config]);
        kiss_in(
            &self.root().join("home"),
            &all,
            None,
            &[("KUBECONFIG", kubeconfig.to_str().unwrap())],
        )
    }

    /// The lines the context's plugin logged, one per run.
    fn runs(&self, context: &str) -> Vec<String> {
        std::fs::read_to_string(self.root().join(format!("{context}.log")))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn token_file(&self, name: &str, token: &str) -> PathBuf {
        let path = self.root().join(name);
        write_kubelogin_file(&path, token);
        path
    }
}

#[test]
fn each_context_reaches_its_own_server_and_namespace_with_its_plugins_token() {
    let s = Scene::get();
    assert_eq!(s.kiss(&["-context", "a", "list"]).ok(), "alpha-secret\n");
    let runs = s.runs("a");
    assert_eq!(runs.len(), 1, "the plugin ran once for one verb: {runs:?}");
    let (info, rest) = runs[0].split_once('|').unwrap();
    let info: serde_json::Value = serde_json::from_str(info).unwrap();
    assert_eq!(
        info,
        serde_json::json!({"apiVersion": V1, "kind": "ExecCredential", "spec": {"interactive": false}})
    );
    assert_eq!(
        rest, "from-a|oidc-login get-token --oidc-client-secret=hush",
        "the kubeconfig's env and args"
    );

    // b: a v1beta1 plugin, another server, another namespace.
    let out = s.kiss(&["--context=b", "list", "-output", "json"]);
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(v["secrets"][0]["name"], "beta-secret");
    assert_eq!(v["secrets"].as_array().unwrap().len(), 1);
    let runs = s.runs("b");
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert!(
        runs[0].starts_with(&format!(
            r#"{{"apiVersion":"{V1BETA1}","kind":"ExecCredential","spec":{{"interactive":false}}}}|from-b|"#
        )),
        "{runs:?}"
    );
    assert_eq!(s.runs("a").len(), 1, "b's verb did not run a's plugin");

    // Namespaces stay apart: a's token does not grant b's namespace, and
    // b's server does not accept a's token.
    let denied = s.kiss(&["-context", "a", "list", "-namespace", "ns-b"]);
    assert!(
        denied
            .fails_with(1)
            .contains("not authorized for namespace 'ns-b'"),
        "{denied:?}"
    );
    let b_addr = s.b.addr.to_string();
    let refused = s.kiss(&[
        "-context",
        "a",
        "-server-addr",
        &b_addr,
        "-secure=false",
        "list",
    ]);
    assert!(
        refused.fails_with(1).contains("refused the token"),
        "{refused:?}"
    );
    assert_eq!(s.runs("a").len(), 3, "one run per verb");

    let who = s.kiss(&["-context", "b", "whoami", "-output=json"]);
    let v: serde_json::Value = serde_json::from_str(who.ok()).unwrap();
    assert_eq!(v["identifier"], "bob@b");
    assert_eq!(v["namespaces"], serde_json::json!(["ns-b"]));
}

#[test]
fn without_context_the_go_clients_ways_are_unchanged() {
    let s = Scene::get();
    let before = s.runs("a").len();
    // The kubeconfig is set and its current context is a, but a verb
    // without -context never reads it: the token comes from -token-path.
    let token = s.token_file("plain.json", &s.a.mint_token("pat@a", &["ns-a"], 600));
    let addr = s.a.addr.to_string();
    let out = s.kiss(&[
        "list",
        "-namespace",
        "ns-a",
        "-server-addr",
        &addr,
        "-secure=false",
        "-token-path",
        token.to_str().unwrap(),
    ]);
    assert_eq!(out.ok(), "alpha-secret\n");
    // ... or from the token directory.
    let dir = s.root().join("token-dir");
    std::fs::create_dir_all(&dir).unwrap();
    write_kubelogin_file(&dir.join("t"), &s.a.mint_token("dan@a", &["ns-a"], 600));
    let out = s.kiss(&[
        "list",
        "-namespace",
        "ns-a",
        "-server-addr",
        &addr,
        "-secure=false",
        "-token-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.ok(), "alpha-secret\n");
    assert_eq!(s.runs("a").len(), before, "no plugin ran");
    let both = s.kiss(&["-context", "a", "list", "-interactive"]);
    assert!(both.fails_with(2).contains("--interactive"), "{both:?}");
}

#[test]
fn a_failing_plugin_is_shown_with_its_stderr_and_status() {
    let s = Scene::get();
    let out = s.kiss(&["-context", "broken", "list"]);
    let err = out.fails_with(1);
    assert!(
        err.contains("error: oidc login failed: no browser available")
            && err.contains("exit status 1")
            && err.contains("get-token-broken")
            && err.contains("'broken'"),
        "{out:?}"
    );
    assert!(!err.contains("hush"), "args are never printed: {err}");
    assert_eq!(s.runs("broken").len(), 1);
}

#[test]
fn a_context_without_an_entry_gets_its_server_from_the_tokens_issuer_or_says_what_to_add() {
    let s = Scene::get();
    // No server in [contexts.by-issuer]; [issuers."https://kiss.dev/dev-mode"] maps to a.
    assert_eq!(
        s.kiss(&["-context", "by-issuer", "list"]).ok(),
        "alpha-secret\n"
    );
    assert_eq!(s.runs("by-issuer").len(), 1);

    // A config with no entry for the context and no issuers: the message
    // says exactly what to add, and no plugin ran for nothing.
    let bare = s.root().join("no-issuers.toml");
    let out = s.kiss_with(&["-context", "unset", "list"], &bare);
    let err = out.fails_with(1);
    assert!(
        err.contains("no kiss server is set for the kubeconfig context 'unset'")
            && err.contains(&format!("add to {}", bare.display()))
            && err.contains("[contexts.unset]\nserver_addr = \"HOST:PORT\"")
            && err.contains("# namespace = \"ns-u\""),
        "{out:?}"
    );
    assert!(s.runs("unset").is_empty(), "the plugin did not run");
    // With issuers configured but none matching the token's, the plugin
    // had to run to learn the issuer, and the message names it.
    let other = s.root().join("other-issuer.toml");
    std::fs::write(
        &other,
        "[issuers.\"https://elsewhere\"]\nserver_addr = \"x:1\"\n",
    )
    .unwrap();
    let out = s.kiss_with(&["-context", "unset", "list"], &other);
    assert!(
        out.fails_with(1)
            .contains(&format!("[issuers.\"{}\"]", kiss_server::dev::ISSUER)),
        "{out:?}"
    );
    assert_eq!(s.runs("unset").len(), 1);

    let out = s.kiss(&["-context", "nope", "list"]);
    let err = out.fails_with(1);
    assert!(
        err.contains("no kubeconfig context 'nope'") && err.contains("a, b, broken"),
        "{out:?}"
    );
}

#[test]
fn list_all_namespaces_lists_every_granted_namespace() {
    let s = Scene::get();
    let out = s.kiss(&["-context", "wide", "list", "-all-namespaces"]);
    let lines: Vec<&str> = out.ok().lines().collect();
    assert_eq!(lines.len(), 1, "{out:?}");
    let cols: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(&cols[..2], ["ns-a", "alpha-secret"]);
    assert!(cols[2].ends_with('Z'), "an RFC 3339 time: {cols:?}");
    let both = s.kiss(&[
        "-context",
        "wide",
        "list",
        "-all-namespaces",
        "-namespace",
        "ns-a",
    ]);
    assert!(both.fails_with(2).contains("--all-namespaces"), "{both:?}");
}

#[test]
fn list_all_namespaces_over_20_namespaces_notes_the_one_refused_and_lists_the_rest() {
    let s = Scene::get();
    let out = s.kiss(&["-context", "many", "list", "-all-namespaces"]);
    let err = out.fails_with(1).to_owned();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 19, "19 namespaces answered: {out:?}");
    let listed: Vec<&str> = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    let missing: Vec<String> = many_namespaces()
        .into_iter()
        .filter(|ns| !listed.contains(&ns.as_str()))
        .collect();
    assert_eq!(missing.len(), 1, "{listed:?}");
    let refused = &missing[0];
    assert!(
        err.contains(&format!("namespace '{refused}' was not listed"))
            && err.contains("1 of 20 namespaces could not be listed"),
        "{err}"
    );
    for line in &lines {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols[1], format!("{}-secret", cols[0]));
    }

    let out = s.kiss(&[
        "-context",
        "many-json",
        "list",
        "-all-namespaces",
        "-output",
        "json",
    ]);
    out.fails_with(1);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["namespaces"].as_array().unwrap().len(), 20);
    assert_eq!(v["secrets"].as_array().unwrap().len(), 19);
    let failed = v["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{v}");
    assert!(
        out.stderr
            .contains(failed[0]["namespace"].as_str().unwrap()),
        "{out:?}"
    );
    let _ = &s.rt;
}
