//! End to end in a real terminal: kiss-tui runs in tmux (100x30) against a
//! real dev-mode kiss-server started in this process, driven with
//! `send-keys` and read with `capture-pane`; what the screen says is checked,
//! and so is what the server holds, through a gRPC client.
//!
//! Needs tmux (`scripts/setup-test-env.sh` installs it). Without tmux the
//! test says why and passes, except in CI (`CI=true`), where it fails.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use kiss_server::dev::{DEMO_USER, DevOptions, DevServer};
use kiss_testkit::{PATIENCE, Tmux, shell_quote};
use kiss_tui::client::Client;
use kiss_tui::settings::Settings;

fn kiss_tui() -> String {
    let bin: PathBuf = kiss_testkit::binary!("kiss-tui", "kiss-tui");
    shell_quote(bin.to_str().expect("a UTF-8 path"))
}

/// A dev-mode kiss-server in `dir` (with the sample secrets if `seed`),
/// and a client of our own, to check what the server holds.
async fn dev_server(dir: &std::path::Path, seed: bool) -> (DevServer, Client) {
    let dev = DevServer::start(DevOptions {
        data_dir: dir.join("data"),
        token_dir: dir.join("tokens"),
        addr: "127.0.0.1:0".parse().unwrap(),
        seed_samples: seed,
    })
    .await
    .expect("the dev server starts");
    let settings = Settings {
        server_addr: dev.addr.to_string(),
        secure: false,
        ..Settings::default()
    };
    let check = Client::connect(&settings, dev.mint_token(DEMO_USER, &["team-a"], 3600))
        .await
        .unwrap();
    (dev, check)
}

/// Polls the server until `check` holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < PATIENCE, "the server never had {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_in_tmux() {
    let Some(tmux) = Tmux::new("the_whole_flow_in_tmux", 100, 30) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dev, _) = dev_server(tmp.path(), true).await;

    // A client of our own, to check what the server holds.
    let settings = Settings {
        server_addr: dev.addr.to_string(),
        secure: false,
        ..Settings::default()
    };
    let check = Client::connect(&settings, dev.mint_token(DEMO_USER, &["team-a"], 3600))
        .await
        .unwrap();

    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let command = format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config KISS_CLIPBOARD=osc52 {bin} --server-addr {addr} --secure=false --token-dir {tokens}",
        home = shell_quote(home.to_str().unwrap()),
        bin = kiss_tui(),
        addr = dev.addr,
        tokens = shell_quote(dev.token_dir.to_str().unwrap()),
    );
    // Copies by OSC 52 land in a tmux buffer we can read.
    tmux.set_option("set-clipboard", "on");
    tmux.respawn(&command);

    // 1. The token picker lists the demo user first, then the admin; pick the user.
    tmux.wait_for("Pick a token");
    // The picker shows before the token files are read.
    let screen = tmux.wait_for("admin@kiss.dev");
    assert!(screen.contains("demo@kiss.dev"), "{screen}");
    tmux.keys(&["Enter"]);

    // 2. The namespace picker shows the granted namespaces; filter and pick.
    let screen = tmux.wait_for("Namespaces of demo@kiss.dev");
    for ns in ["team-a", "team-b", "sandbox"] {
        assert!(screen.contains(ns), "{screen}");
    }
    tmux.type_text("team-a");
    tmux.wait_gone("sandbox");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Secrets in team-a");
    tmux.wait_for("database-url");
    assert!(screen.contains("demo@kiss.dev"), "status bar: {screen}");

    // 3. Create a secret with a three-line value: one line typed, two pasted.
    tmux.keys(&["n"]);
    tmux.wait_for("New secret in team-a");
    tmux.type_text("E2e");
    tmux.wait_for("uppercase letter 'E'");
    tmux.keys(&["BSpace", "BSpace", "BSpace"]);
    tmux.type_text("e2e-secret");
    tmux.wait_for("valid name");
    tmux.keys(&["Enter"]);
    tmux.type_text("typed line");
    tmux.keys(&["Enter"]);
    tmux.paste("pasted one\npasted two");
    tmux.wait_for("Value · 3 lines");
    tmux.keys(&["Tab", "Space"]);
    tmux.wait_for("[x] Also create the read policy");
    tmux.keys(&["C-s"]);
    tmux.wait_for("Created 'e2e-secret'");
    eventually("e2e-secret with its policy", || async {
        check
            .get("team-a", "e2e-secret", true)
            .await
            .ok()
            .and_then(|r| r.secret)
            .is_some_and(|s| {
                s.value.as_deref() == Some("typed line\npasted one\npasted two")
                    && s.has_read_policy
            })
    })
    .await;

    // 4. It is listed, selected, and its details show.
    let screen = tmux.wait_for("k8s-secret-team-a-e2e-secret");
    assert!(screen.contains("e2e-secret"), "{screen}");

    // 5. Reveal the value.
    tmux.keys(&["v"]);
    tmux.wait_for("pasted two");
    tmux.keys(&["v"]);
    tmux.wait_gone("pasted two");

    // 6. Update: the editor opens with the current value.
    tmux.keys(&["e"]);
    tmux.wait_for("Edit e2e-secret in team-a");
    tmux.wait_for("pasted two");
    tmux.keys(&["Enter"]);
    tmux.type_text("updated line");
    tmux.keys(&["C-s"]);
    // The save shows what it changes first.
    let screen = tmux.wait_for("Save these changes?");
    assert!(screen.contains("1 line added"), "{screen}");
    assert!(screen.contains("+ updated line"), "{screen}");
    tmux.keys(&["y"]);
    tmux.wait_for("Saved the new value of 'e2e-secret'");
    // What the server holds as e2e-secret's value, read past the app.
    let stored = || async {
        check
            .get("team-a", "e2e-secret", true)
            .await
            .ok()
            .and_then(|r| r.secret)
            .and_then(|s| s.value)
    };
    assert_eq!(
        stored().await.as_deref(),
        Some("typed line\npasted one\npasted two\nupdated line")
    );

    // 7. A change made elsewhere meanwhile is not overwritten silently.
    tmux.keys(&["e"]);
    tmux.wait_for("updated line");
    check
        .update("team-a", "e2e-secret", "changed elsewhere", None)
        .await
        .unwrap();
    tmux.type_text("!");
    tmux.keys(&["C-s"]);
    tmux.wait_for("Save these changes?");
    tmux.keys(&["y"]);
    tmux.wait_for("Someone else changed 'e2e-secret'");
    // The app reads their version and shows what they changed, masked.
    let screen = tmux.wait_for("o overwrite theirs");
    assert!(screen.contains("Changed meanwhile"), "{screen}");
    assert!(
        !screen.contains("changed elsewhere"),
        "masked until v: {screen}"
    );
    tmux.keys(&["v"]);
    let screen = tmux.wait_for("+ changed elsewhere");
    assert!(
        screen.contains("- typed line"),
        "theirs against the base: {screen}"
    );
    assert!(
        screen.contains("+ updated line!"),
        "theirs against mine: {screen}"
    );
    assert_eq!(stored().await.as_deref(), Some("changed elsewhere"));
    // Keep editing: the text stays, and saving now asks to save over theirs.
    tmux.keys(&["e"]);
    tmux.wait_gone("Changed meanwhile");
    assert!(tmux.screen().contains("updated line!"), "the text stays");
    tmux.keys(&["C-s"]);
    let screen = tmux.wait_for("Save over their change?");
    assert!(screen.contains("- changed elsewhere"), "{screen}");
    tmux.keys(&["y"]);
    tmux.wait_for("Saved the new value of 'e2e-secret'");
    // Step 6's message may still be up: the editor closing is this save's.
    tmux.wait_gone("Edit e2e-secret in team-a");
    eventually("the overwrite", || async {
        stored().await.as_deref() == Some("typed line\npasted one\npasted two\nupdated line!")
    })
    .await;

    // 7b. History: four versions, who wrote them; diff one against the
    // current value, then roll back to it.
    tmux.keys(&["h"]);
    let screen = tmux.wait_for("History of e2e-secret (4)");
    assert!(screen.contains("demo@kiss.dev"), "{screen}");
    assert!(
        screen.contains("current") && screen.contains("previous"),
        "{screen}"
    );
    tmux.keys(&["Down", "Down", "d"]);
    let screen = tmux.wait_for("1 line added, 1 removed; values hidden");
    assert!(!screen.contains("updated line"), "masked until v: {screen}");
    tmux.keys(&["v"]);
    tmux.wait_for("+ updated line!");
    tmux.keys(&["R"]);
    tmux.wait_for("current again in 'e2e-secret'");
    tmux.wait_for("What changes:");
    tmux.keys(&["y"]);
    tmux.wait_for("Rolled back 'e2e-secret'");
    tmux.wait_for("History of e2e-secret (5)");
    assert_eq!(
        stored().await.as_deref(),
        Some("typed line\npasted one\npasted two\nupdated line")
    );
    tmux.keys(&["Escape"]);
    tmux.wait_for("Secrets in team-a");

    // 8. Bind a service account.
    tmux.keys(&["b"]);
    tmux.wait_for("Bindings of e2e-secret");
    tmux.type_text("web-app");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Bound 'e2e-secret' to service account 'web-app'");
    let bound = check
        .get("team-a", "e2e-secret", false)
        .await
        .unwrap()
        .secret
        .unwrap()
        .bound_service_accounts;
    assert_eq!(bound, ["web-app"]);
    tmux.keys(&["Escape"]);
    tmux.wait_gone("Bindings of e2e-secret");

    // 9. Copy the AWS name (OSC 52 lands in tmux's buffer here).
    tmux.keys(&["y"]);
    tmux.wait_for("Copy from e2e-secret");
    tmux.keys(&["a"]);
    tmux.wait_for("Copied the AWS name of 'e2e-secret'");
    assert_eq!(tmux.buffer(), "k8s-secret-team-a-e2e-secret");

    // 10. Delete it, policy included: removing the policy is opted into.
    tmux.keys(&["d"]);
    let screen = tmux.wait_for("Delete 'e2e-secret' from team-a?");
    assert!(
        screen.contains("[ ] Also remove its read policy"),
        "{screen}"
    );
    tmux.keys(&["Space"]);
    tmux.wait_for("[x] Also remove its read policy");
    tmux.keys(&["y"]);
    tmux.wait_for("Deleted 'e2e-secret'");
    let listed = check.list("team-a").await.unwrap().secrets;
    assert!(!listed.contains(&"e2e-secret".to_owned()), "{listed:?}");
    let deleted = check.list_deleted("team-a").await.unwrap().secrets;
    assert!(
        deleted.iter().any(|d| d.name == "e2e-secret"),
        "{deleted:?}"
    );

    // 11. Restore it from the recently deleted view.
    tmux.keys(&["D"]);
    tmux.wait_for("Recently deleted in team-a");
    // The deletion's message names the secret too: wait for the list.
    tmux.wait_gone("loading recently deleted");
    tmux.wait_for("e2e-secret");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Restored 'e2e-secret'");
    let listed = check.list("team-a").await.unwrap().secrets;
    assert!(listed.contains(&"e2e-secret".to_owned()), "{listed:?}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("Secrets in team-a");

    // 12. Help, then Ctrl-C quits and the terminal is given back.
    tmux.keys(&["?"]);
    tmux.wait_for("Secrets (here)");
    tmux.keys(&["Escape", "C-c"]);
    assert_eq!(tmux.wait_exit(), 0, "kiss-tui failed:\n{}", tmux.screen());
    // The terminal was given back: the main screen, without the app on it.
    assert_eq!(tmux.display("#{alternate_on}"), "0");
    assert!(
        !tmux.screen().contains("Secrets in team-a"),
        "{}",
        tmux.screen()
    );

    dev.shutdown().await;
}

#[test]
fn a_panic_gives_the_terminal_back() {
    let Some(tmux) = Tmux::new("a_panic_gives_the_terminal_back", 100, 30) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    tmux.respawn(&format!(
        "env -u KISS_CONFIG HOME={home} RUST_BACKTRACE=0 KISS_TUI_PANIC_AFTER_FIRST_FRAME=1 {bin} --server-addr 127.0.0.1:1 --secure=false --token-dir {home}",
        home = shell_quote(tmp.path().to_str().unwrap()),
        bin = kiss_tui(),
    ));
    assert_eq!(tmux.wait_exit(), 101, "a panic exits with 101");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
    // The panic message is readable on the restored screen, not lost in raw mode.
    let screen = tmux.screen();
    assert!(screen.contains("deliberate panic"), "{screen}");
    assert!(!screen.contains("Pick a token"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_external_editor_changes_a_value_saved_with_the_version_check() {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(tmux) = Tmux::new("an_external_editor_changes_a_value", 100, 30) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dev, check) = dev_server(tmp.path(), true).await;
    // The "editor": records the file it was given and what the file held,
    // then writes the new value, with the final newline editors add.
    let log = tmp.path().join("editor.log");
    let editor = tmp.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$1\" > {log}\nstat -c %a \"$1\" >> {log}\nprintf 'postgres://app:rotated@db/app\\n' > \"$1\"\n",
            log = shell_quote(log.to_str().unwrap())
        ),
    )
    .unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    tmux.respawn(&format!(
        "env -u KISS_CONFIG -u VISUAL HOME={home} XDG_CONFIG_HOME={home}/.config EDITOR={editor} {bin} --server-addr {addr} --secure=false --token-dir {tokens} --namespace team-a",
        home = shell_quote(home.to_str().unwrap()),
        editor = shell_quote(editor.to_str().unwrap()),
        bin = kiss_tui(),
        addr = dev.addr,
        tokens = shell_quote(dev.token_dir.to_str().unwrap()),
    ));
    tmux.wait_for("demo@kiss.dev");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Secrets in team-a");
    tmux.keys(&["/"]);
    tmux.type_text("database-url");
    tmux.keys(&["Enter"]);
    tmux.wait_for("k8s-secret-team-a-database-url");
    let before = check.get("team-a", "database-url", true).await.unwrap();
    let before = before.secret.unwrap();

    tmux.keys(&["E"]);
    tmux.wait_for("Edited in your editor");
    tmux.wait_for("rotated@db");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "1",
        "the app has the screen back"
    );
    // Nothing is saved until Ctrl-S and the diff are confirmed.
    let unsaved = check.get("team-a", "database-url", true).await.unwrap();
    assert_eq!(unsaved.secret.unwrap().value, before.value);
    tmux.keys(&["C-s"]);
    tmux.wait_for("Save these changes?");
    tmux.keys(&["y"]);
    tmux.wait_for("Saved the new value of 'database-url'");
    let after = check.get("team-a", "database-url", true).await.unwrap();
    let after = after.secret.unwrap();
    assert_eq!(
        after.value.as_deref(),
        Some("postgres://app:rotated@db/app")
    );
    assert_ne!(after.version_id, before.version_id);

    // The value sat in a file only the user could read, gone afterwards.
    let logged = std::fs::read_to_string(&log).unwrap();
    let mut lines = logged.lines();
    let file = lines.next().unwrap();
    assert_eq!(lines.next(), Some("600"), "{logged}");
    assert!(
        !std::path::Path::new(file).exists(),
        "{file} is left behind"
    );
    tmux.keys(&["q"]);
    assert_eq!(tmux.wait_exit(), 0);
    dev.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_of_a_json_secret_changes_and_nothing_else() {
    let Some(tmux) = Tmux::new("one_key_of_a_json_secret_changes", 100, 30) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dev, check) = dev_server(tmp.path(), false).await;
    // As the AWS console writes it: one line, keys in its order.
    let original = r#"{"username":"app","password":"old-pass","port":5432,"host":"db.internal"}"#;
    check.create("team-a", "db", original).await.unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    tmux.respawn(&format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config {bin} --server-addr {addr} --secure=false --token-dir {tokens} --namespace team-a",
        home = shell_quote(home.to_str().unwrap()),
        bin = kiss_tui(),
        addr = dev.addr,
        tokens = shell_quote(dev.token_dir.to_str().unwrap()),
    ));
    tmux.wait_for("demo@kiss.dev");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Secrets in team-a");
    tmux.wait_for("k8s-secret-team-a-db");
    // x: the value read, shown key by key with values masked.
    tmux.keys(&["x"]);
    let screen = tmux.wait_for("db · 4 keys");
    assert!(
        screen.contains("password") && !screen.contains("old-pass"),
        "{screen}"
    );
    tmux.keys(&["Down", "v"]);
    tmux.wait_for("old-pass");
    tmux.keys(&["e"]);
    tmux.wait_for("Edit key 'password'");
    tmux.keys(&["C-u"]);
    tmux.type_text("new-pass");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Saved the new value of key 'password' in 'db'");
    let stored = check
        .get("team-a", "db", true)
        .await
        .unwrap()
        .secret
        .unwrap();
    assert_eq!(
        stored.value.as_deref(),
        Some(r#"{"username":"app","password":"new-pass","port":5432,"host":"db.internal"}"#),
        "only the one key changed: order, layout and the number kept"
    );
    tmux.keys(&["Escape"]);
    tmux.keys(&["q"]);
    assert_eq!(tmux.wait_exit(), 0);
    dev.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_starts_in_a_kubeconfig_context_after_an_interactive_login() {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(tmux) = Tmux::new("the_app_starts_in_a_kubeconfig_context", 100, 30) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dev, _) = dev_server(tmp.path(), true).await;
    let token = dev.mint_token(DEMO_USER, &["team-a", "team-b"], 3600);
    // The exec plugin: asks on the terminal, as a browser login does
    // (interactiveMode: Always), logs its run, prints an ExecCredential.
    let log = tmp.path().join("plugin.log");
    let plugin = tmp.path().join("login.sh");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\nprintf 'Press Enter to log in: ' > /dev/tty\nread answer < /dev/tty\necho \"ran $KUBERNETES_EXEC_INFO\" >> {log}\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n",
            log = shell_quote(log.to_str().unwrap()),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters:\n- name: dev\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n- name: dev\n  context:\n    cluster: dev\n    user: dev-user\nusers:\n- name: dev-user\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {plugin}\n      interactiveMode: Always\n",
            plugin = plugin.display()
        ),
    )
    .unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".config/kiss")).unwrap();
    std::fs::write(
        home.join(".config/kiss/config.toml"),
        format!(
            "[contexts.dev]\nserver_addr = \"{}\"\nsecure = false\n",
            dev.addr
        ),
    )
    .unwrap();
    tmux.respawn(&format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config KUBECONFIG={kubeconfig} {bin} --context dev",
        home = shell_quote(home.to_str().unwrap()),
        kubeconfig = shell_quote(kubeconfig.to_str().unwrap()),
        bin = kiss_tui(),
    ));
    // The plugin has the terminal before the app takes the screen.
    tmux.wait_for("Press Enter to log in:");
    tmux.keys(&["Enter"]);
    // Then the app, on the namespaces of the plugin's token, in the context.
    let screen = tmux.wait_for("Namespaces of demo@kiss.dev");
    assert!(screen.contains("ctx dev"), "{screen}");
    assert!(screen.contains("team-b"), "{screen}");
    tmux.type_text("team-a");
    tmux.keys(&["Enter"]);
    tmux.wait_for("database-url");
    let runs = std::fs::read_to_string(&log).unwrap();
    assert_eq!(runs.lines().count(), 1, "the plugin ran once: {runs}");
    assert!(runs.contains("\"interactive\":true"), "{runs}");
    tmux.keys(&["q"]);
    assert_eq!(tmux.wait_exit(), 0);
    dev.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn switching_kubeconfig_contexts_switches_servers_and_keeps_namespaces_apart() {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(tmux) = Tmux::new("switching_kubeconfig_contexts", 100, 30) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let start = |name: &str, seed: bool| {
        let (data, tokens) = (
            tmp.path().join(format!("{name}-data")),
            tmp.path().join(format!("{name}-tokens")),
        );
        async move {
            DevServer::start(DevOptions {
                data_dir: data,
                token_dir: tokens,
                addr: "127.0.0.1:0".parse().unwrap(),
                seed_samples: seed,
            })
            .await
            .expect("a dev server starts")
        }
    };
    let a = start("a", true).await;
    let b = start("b", false).await;
    let mut contexts = String::new();
    let mut users = String::new();
    for (ctx, server, granted) in [
        ("a", &a, &["team-a", "team-b"][..]),
        ("b", &b, &["prod-payments"][..]),
    ] {
        let token = server.mint_token(DEMO_USER, granted, 3600);
        let plugin = tmp.path().join(format!("plugin-{ctx}.sh"));
        // b logs in on the terminal (interactiveMode: Always), so the app
        // must hand the screen over mid-session and take it back.
        let login = if ctx == "b" {
            "printf 'Log in to b, then Enter: ' > /dev/tty\nread answer < /dev/tty\n"
        } else {
            ""
        };
        std::fs::write(
            &plugin,
            format!(
                "#!/bin/sh\n{login}echo ran >> {log}\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n",
                log = shell_quote(tmp.path().join(format!("plugin-{ctx}.log")).to_str().unwrap()),
            ),
        )
        .unwrap();
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
        contexts.push_str(&format!(
            "- name: {ctx}\n  context:\n    cluster: c\n    user: u-{ctx}\n"
        ));
        users.push_str(&format!(
            "- name: u-{ctx}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: {}\n",
            plugin.display(),
            if ctx == "b" { "Always" } else { "Never" }
        ));
    }
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!("apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n{contexts}users:\n{users}"),
    )
    .unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".config/kiss")).unwrap();
    std::fs::write(
        home.join(".config/kiss/config.toml"),
        format!(
            "[contexts.a]\nserver_addr = \"{}\"\nsecure = false\n[contexts.b]\nserver_addr = \"{}\"\nsecure = false\n",
            a.addr, b.addr
        ),
    )
    .unwrap();
    // No --context: the kubeconfig's current context, as kubectl would.
    tmux.respawn(&format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config KUBECONFIG={kubeconfig} {bin}",
        home = shell_quote(home.to_str().unwrap()),
        kubeconfig = shell_quote(kubeconfig.to_str().unwrap()),
        bin = kiss_tui(),
    ));
    let screen = tmux.wait_for("Namespaces of demo@kiss.dev");
    assert!(
        screen.contains("ctx a") && screen.contains("team-b"),
        "{screen}"
    );
    tmux.type_text("team-a");
    tmux.keys(&["Enter"]);
    tmux.wait_for("database-url");
    // C: the command line, ready for a context.
    tmux.keys(&["C"]);
    tmux.wait_for(":ctx ");
    tmux.type_text("b");
    tmux.keys(&["Enter"]);
    // The screen is the plugin's while it asks.
    tmux.wait_for("Log in to b, then Enter:");
    assert_eq!(
        tmux.display("#{alternate_on}"),
        "0",
        "the app's screen is suspended"
    );
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("prod-payments");
    assert_eq!(tmux.display("#{alternate_on}"), "1", "and taken back");
    assert!(screen.contains("ctx b"), "{screen}");
    assert!(
        !screen.contains("team-a"),
        "b's token grants only its own: {screen}"
    );
    tmux.keys(&["Enter"]);
    tmux.wait_for("No secrets in prod-payments yet");
    // Back to a: its server, in the namespace last used there.
    tmux.keys(&[":"]);
    tmux.type_text("ctx a");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("database-url");
    assert!(
        screen.contains("ctx a") && screen.contains("team-a"),
        "{screen}"
    );
    let runs = |ctx: &str| {
        std::fs::read_to_string(tmp.path().join(format!("plugin-{ctx}.log")))
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert_eq!(
        (runs("a"), runs("b")),
        (1, 1),
        "each context's own plugin, once: its token is kept while fresh"
    );
    tmux.keys(&["q"]);
    assert_eq!(tmux.wait_exit(), 0);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_without_a_server_asks_once_and_keeps_the_answer() {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(tmux) = Tmux::new("a_context_without_a_server_asks_once", 100, 30) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dev, _) = dev_server(tmp.path(), true).await;
    let token = dev.mint_token(DEMO_USER, &["team-a"], 3600);
    let plugin = tmp.path().join("plugin.sh");
    std::fs::write(
        &plugin,
        format!("#!/bin/sh\nprintf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{token}\"}}}}'\n"),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters:\n- name: dev\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n- name: dev\n  context:\n    cluster: dev\n    user: u\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
            plugin.display()
        ),
    )
    .unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    tmux.respawn(&format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config KUBECONFIG={kubeconfig} {bin} --context dev",
        home = shell_quote(home.to_str().unwrap()),
        kubeconfig = shell_quote(kubeconfig.to_str().unwrap()),
        bin = kiss_tui(),
    ));
    tmux.wait_for("kiss server for 'dev' (host:port");
    tmux.type_text(&dev.addr.to_string());
    tmux.keys(&["Enter"]);
    tmux.wait_for("Does it use TLS? [Y/n]");
    tmux.type_text("n");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("Namespaces of demo@kiss.dev");
    assert!(screen.contains("ctx dev"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("database-url");
    let saved = std::fs::read_to_string(home.join(".config/kiss/config.toml")).unwrap();
    assert!(saved.contains("[contexts.dev]"), "{saved}");
    assert!(
        saved.contains(&format!("server_addr = \"{}\"", dev.addr)),
        "{saved}"
    );
    assert!(saved.contains("secure = false"), "{saved}");
    tmux.keys(&["q"]);
    assert_eq!(tmux.wait_exit(), 0);
    dev.shutdown().await;
}

#[test]
fn a_closed_terminal_ends_the_demo_and_removes_its_directory() {
    use std::os::unix::fs::PermissionsExt as _;
    let Some(tmux) = Tmux::new(
        "a_closed_terminal_ends_the_demo_and_removes_its_directory",
        100,
        30,
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let scratch = tmp.path().join("tmp");
    std::fs::create_dir(&scratch).unwrap();
    // The shell ignores SIGHUP so it outlives the session and records how
    // kiss-tui ended; kiss-tui gets SIGHUP and a terminal that is gone, as
    // when an SSH connection drops.
    tmux.respawn(&format!(
        "trap '' HUP; env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config TMPDIR={scratch} {bin} --demo",
        home = shell_quote(tmp.path().to_str().unwrap()),
        scratch = shell_quote(scratch.to_str().unwrap()),
        bin = kiss_tui(),
    ));
    tmux.wait_for("demo@kiss.dev");
    let demo_dirs = || -> Vec<PathBuf> {
        std::fs::read_dir(&scratch)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("kiss-demo-")
            })
            .collect()
    };
    let dirs = demo_dirs();
    assert_eq!(dirs.len(), 1, "one demo directory while it runs: {dirs:?}");
    let mode = std::fs::metadata(&dirs[0]).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode, 0o700,
        "the signing key's directory is the user's alone"
    );

    tmux.run(&["kill-session", "-t", "main"]);
    let status = tmux.wait_exit();
    // 1: reading the terminal failed first; 129: SIGHUP came first. Never
    // 101, a panic, which skipped the clean-up.
    assert!(status == 1 || status == 129, "kiss-tui ended with {status}");
    assert_eq!(
        demo_dirs(),
        Vec::<PathBuf>::new(),
        "the demo directory is left behind"
    );
}

#[test]
fn the_demo_opens_on_sample_secrets() {
    let Some(tmux) = Tmux::new("the_demo_opens_on_sample_secrets", 100, 30) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    tmux.respawn(&format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config {bin} --demo",
        home = shell_quote(tmp.path().to_str().unwrap()),
        bin = kiss_tui(),
    ));
    tmux.wait_for("demo@kiss.dev");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Namespaces of demo@kiss.dev");
    tmux.type_text("team-a");
    tmux.keys(&["Enter"]);
    // The seeded samples, read over gRPC from the in-process server.
    tmux.wait_for("database-url");
    tmux.wait_for("tls-bundle");
    tmux.keys(&["Escape"]);
    tmux.wait_for("Namespaces of demo@kiss.dev");
    tmux.keys(&["Escape"]);
    // Opened mid-session, the picker's Esc goes back; q quits.
    tmux.wait_for("Pick a token");
    tmux.wait_for("Esc back");
    tmux.keys(&["Escape"]);
    tmux.wait_for("Namespaces of demo@kiss.dev");
    tmux.keys(&["Escape"]);
    tmux.wait_for("q quit");
    tmux.keys(&["q"]);
    assert_eq!(tmux.wait_exit(), 0, "{}", tmux.screen());
}
