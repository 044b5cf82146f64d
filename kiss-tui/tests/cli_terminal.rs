//! The verbs on a real terminal (tmux): the stdin prompt of `create` when
//! no `-value` is given, and choosing a token with `-interactive`.

mod cli_support;

use std::process::Command;
use std::time::{Duration, Instant};

use cli_support::Dev;

/// A private tmux server running one command in a 120x30 pane.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("kiss-cli-{name}-{}", std::process::id()),
        };
        // Keep the pane open after the command so its output can be read.
        let script = format!("{command}; echo EXIT=$?; sleep 600");
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "120",
            "-y",
            "30",
            "sh",
            "-c",
            &script,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(out.status.success(), "tmux {args:?}: {:?}", out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Waits until the screen shows `text` (the deadline only guards against a hang).
    #[track_caller]
    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {text:?} on:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn command(dev: &Dev, args: &[&str]) -> String {
    let mut parts = vec![
        "env".to_owned(),
        "-u".into(),
        "KISS_CONFIG".into(),
        format!("HOME={}", quote(dev.home().to_str().unwrap())),
        quote(env!("CARGO_BIN_EXE_kiss-tui")),
    ];
    parts.extend(args.iter().map(|a| quote(a)));
    parts.extend(["-server-addr".into(), dev.addr(), "-secure=false".into()]);
    parts.join(" ")
}

#[test]
fn create_prompts_on_a_terminal_and_keeps_typed_newlines() {
    let dev = Dev::shared();
    let token = dev.server.user_token_path.to_str().unwrap();
    let tmux = Tmux::start(
        "create",
        &command(
            dev,
            &[
                "create",
                "-namespace",
                "sandbox",
                "-name",
                "typed",
                "-token-path",
                token,
            ],
        ),
    );
    tmux.wait_for("Type the value of secret 'typed'");
    tmux.wait_for("Ctrl-D");
    tmux.send(&["first line", "Enter", "second line", "Enter"]);
    tmux.send(&["C-d"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("Successfully created secret"), "{screen}");
    assert!(screen.contains("EXIT=0"), "{screen}");

    let got = dev.kiss(&[
        "get",
        "-namespace",
        "sandbox",
        "-name",
        "typed",
        "-show-value",
    ]);
    assert_eq!(got.ok(), "first line\nsecond line\n");
}

#[test]
fn interactive_lists_tokens_and_reads_the_choice() {
    let dev = Dev::shared();
    let dir = dev.scratch("terminal-tokens");
    std::fs::write(dir.join("a.lock"), b"").unwrap();
    dev.token_file(&dir, "b-admin", "admin@kiss.dev", &["kiss-admins"], 3600);
    dev.token_file(&dir, "c-demo", "demo@kiss.dev", &["team-a"], 3600);
    let tmux = Tmux::start(
        "interactive",
        &command(
            dev,
            &[
                "whoami",
                "-interactive",
                "-token-dir",
                dir.to_str().unwrap(),
            ],
        ),
    );
    let screen = tmux.wait_for("Choose a token [1-2]");
    assert!(screen.contains("1) b-admin"), "{screen}");
    assert!(screen.contains("2) c-demo"), "{screen}");
    assert!(screen.contains("a.lock  unusable"), "{screen}");
    // A wrong answer is asked again on a terminal.
    tmux.send(&["7", "Enter"]);
    tmux.wait_for("Type a number from 1 to 2");
    tmux.send(&["2", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(screen.contains("identifier: demo@kiss.dev"), "{screen}");
    assert!(screen.contains("EXIT=0"), "{screen}");
}
