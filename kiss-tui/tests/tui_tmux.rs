//! End to end in a real terminal: kiss-tui runs in tmux (100x30) against a
//! real dev-mode kiss-server started in this process, driven with
//! `send-keys` and read with `capture-pane`; what the screen says is checked,
//! and so is what the server holds, through a gRPC client.
//!
//! Needs tmux (`scripts/setup-test-env.sh` installs it). Without tmux the
//! test says why and passes, except in CI (`CI=true`), where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kiss_server::dev::{DEMO_USER, DevOptions, DevServer};
use kiss_tui::client::Client;
use kiss_tui::settings::Settings;

/// How long to wait for the screen to show something before failing. Only a
/// bound on a broken run, not a timing assertion.
const PATIENCE: Duration = Duration::from_secs(30);

/// A tmux server of our own (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn run(&self, args: &[&str]) {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "e2e"]).stdout).into_owned()
    }

    /// Types text literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "e2e", "-l", text]);
    }

    /// Presses keys by tmux name (`Enter`, `C-s`, `Tab`, `Escape`, ...).
    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "e2e", k]);
        }
    }

    /// Pastes text as a terminal does, with bracketed paste.
    fn paste(&self, text: &str, dir: &Path) {
        let file = dir.join("paste.txt");
        std::fs::write(&file, text).unwrap();
        self.run(&["load-buffer", "-b", "p", file.to_str().unwrap()]);
        self.run(&["paste-buffer", "-p", "-d", "-b", "p", "-t", "e2e"]);
    }

    /// Waits until the screen shows `text`; fails with the screen if it never does.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if start.elapsed() > PATIENCE {
                panic!("the screen never showed {text:?}; it shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the screen no longer shows `text`.
    fn wait_gone(&self, text: &str) {
        let start = Instant::now();
        while self.screen().contains(text) {
            if start.elapsed() > PATIENCE {
                panic!("the screen still shows {text:?}:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
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

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_in_tmux() {
    if !tmux_available() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "tmux is required in CI: run scripts/setup-test-env.sh"
        );
        eprintln!(
            "skipping the tmux end-to-end test: tmux is not installed (scripts/setup-test-env.sh installs it)"
        );
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dev = DevServer::start(DevOptions {
        data_dir: tmp.path().join("data"),
        token_dir: tmp.path().join("tokens"),
        addr: "127.0.0.1:0".parse().unwrap(),
        seed_samples: true,
    })
    .await
    .expect("the dev server starts");

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
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kiss-tui"));
    let status_file = tmp.path().join("exit-status");
    let command = format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config KISS_CLIPBOARD=osc52 {bin} --server-addr {addr} --secure=false --token-dir {tokens}; echo $? > {status}",
        home = shell_quote(home.to_str().unwrap()),
        bin = shell_quote(bin.to_str().unwrap()),
        addr = dev.addr,
        tokens = shell_quote(dev.token_dir.to_str().unwrap()),
        status = shell_quote(status_file.to_str().unwrap()),
    );
    let tmux = Tmux {
        socket: format!("kiss-e2e-{}", std::process::id()),
    };
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "100",
        "-y",
        "30",
    ]);
    // Copies by OSC 52 land in a tmux buffer we can read.
    tmux.run(&["set-option", "-g", "set-clipboard", "on"]);
    // Keep the pane after kiss-tui exits, to read how it ended.
    tmux.run(&["set-option", "-g", "remain-on-exit", "on"]);
    tmux.run(&["respawn-pane", "-k", "-t", "e2e", &command]);

    // 1. The token picker lists the demo user first, then the admin; pick the user.
    let screen = tmux.wait_for("Pick a token");
    assert!(screen.contains("admin@kiss.dev"), "{screen}");
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
    tmux.paste("pasted one\npasted two", tmp.path());
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
    tmux.wait_for("Saved the new value of 'e2e-secret'");
    let value = |s: Option<kiss_proto::pb::SecretDetails>| s.and_then(|s| s.value);
    assert_eq!(
        value(
            check
                .get("team-a", "e2e-secret", true)
                .await
                .unwrap()
                .secret
        )
        .as_deref(),
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
    tmux.wait_for("Someone else changed 'e2e-secret'");
    let screen = tmux.screen();
    assert!(screen.contains("updated line!"), "the text stays: {screen}");
    assert_eq!(
        value(
            check
                .get("team-a", "e2e-secret", true)
                .await
                .unwrap()
                .secret
        )
        .as_deref(),
        Some("changed elsewhere")
    );
    // Saving again is a deliberate overwrite.
    tmux.keys(&["C-s"]);
    tmux.wait_for("Saved the new value of 'e2e-secret'");
    eventually("the overwrite", || async {
        value(
            check
                .get("team-a", "e2e-secret", true)
                .await
                .unwrap()
                .secret,
        )
        .as_deref()
            == Some("typed line\npasted one\npasted two\nupdated line!")
    })
    .await;

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
    let buffer = String::from_utf8_lossy(&tmux.cmd(&["show-buffer"]).stdout).into_owned();
    assert_eq!(buffer, "k8s-secret-team-a-e2e-secret");

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
    let start = Instant::now();
    let status = loop {
        match std::fs::read_to_string(&status_file) {
            Ok(s) if s.ends_with('\n') => break s,
            _ => {}
        }
        assert!(
            start.elapsed() < PATIENCE,
            "kiss-tui did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.trim(), "0", "kiss-tui failed:\n{}", tmux.screen());
    // The terminal was given back: the main screen, without the app on it.
    let out = tmux.cmd(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
    assert!(
        !tmux.screen().contains("Secrets in team-a"),
        "{}",
        tmux.screen()
    );

    dev.shutdown().await;
}

#[test]
fn a_panic_gives_the_terminal_back() {
    if !tmux_available() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "tmux is required in CI: run scripts/setup-test-env.sh"
        );
        eprintln!("skipping: tmux is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kiss-tui"));
    let status_file = tmp.path().join("exit-status");
    let command = format!(
        "env -u KISS_CONFIG HOME={home} RUST_BACKTRACE=0 KISS_TUI_PANIC_AFTER_FIRST_FRAME=1 {bin} --server-addr 127.0.0.1:1 --secure=false --token-dir {home}; echo $? > {status}",
        home = shell_quote(tmp.path().to_str().unwrap()),
        bin = shell_quote(bin.to_str().unwrap()),
        status = shell_quote(status_file.to_str().unwrap()),
    );
    let tmux = Tmux {
        socket: format!("kiss-e2e-panic-{}", std::process::id()),
    };
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "100",
        "-y",
        "30",
    ]);
    tmux.run(&["set-option", "-g", "remain-on-exit", "on"]);
    tmux.run(&["respawn-pane", "-k", "-t", "e2e", &command]);
    let start = Instant::now();
    let status = loop {
        match std::fs::read_to_string(&status_file) {
            Ok(s) if s.ends_with('\n') => break s,
            _ => {}
        }
        assert!(
            start.elapsed() < PATIENCE,
            "kiss-tui did not end:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.trim(), "101", "a panic exits with 101");
    let out = tmux.cmd(&["display-message", "-p", "-t", "e2e", "#{alternate_on}"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0",
        "still on the alternate screen"
    );
    // The panic message is readable on the restored screen, not lost in raw mode.
    let screen = tmux.screen();
    assert!(screen.contains("deliberate panic"), "{screen}");
    assert!(!screen.contains("Pick a token"), "{screen}");
}

#[test]
fn the_demo_opens_on_sample_secrets() {
    if !tmux_available() {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "tmux is required in CI: run scripts/setup-test-env.sh"
        );
        eprintln!("skipping: tmux is not installed");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_kiss-tui"));
    let status_file = tmp.path().join("exit-status");
    let command = format!(
        "env -u KISS_CONFIG HOME={home} XDG_CONFIG_HOME={home}/.config {bin} --demo; echo $? > {status}",
        home = shell_quote(tmp.path().to_str().unwrap()),
        bin = shell_quote(bin.to_str().unwrap()),
        status = shell_quote(status_file.to_str().unwrap()),
    );
    let tmux = Tmux {
        socket: format!("kiss-e2e-demo-{}", std::process::id()),
    };
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        "100",
        "-y",
        "30",
    ]);
    tmux.run(&["set-option", "-g", "remain-on-exit", "on"]);
    tmux.run(&["respawn-pane", "-k", "-t", "e2e", &command]);
    tmux.wait_for("demo@kiss.dev");
    tmux.keys(&["Enter"]);
    tmux.wait_for("Namespaces of demo@kiss.dev");
    tmux.type_text("team-a");
    tmux.keys(&["Enter"]);
    // The seeded samples, read over gRPC from the in-process server.
    tmux.wait_for("database-url");
    tmux.wait_for("tls-bundle");
    tmux.keys(&["q"]);
    tmux.wait_for("Namespaces of demo@kiss.dev");
    tmux.keys(&["Escape"]);
    // Opened mid-session, the picker goes back rather than quitting.
    tmux.wait_for("Pick a token");
    let screen = tmux.wait_for("Esc/q back");
    assert!(!screen.contains("quit"), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("Namespaces of demo@kiss.dev");
    tmux.keys(&["C-c"]);
    let start = Instant::now();
    let status = loop {
        match std::fs::read_to_string(&status_file) {
            Ok(s) if s.ends_with('\n') => break s,
            _ => {}
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the demo did not quit:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.trim(), "0", "{}", tmux.screen());
}
