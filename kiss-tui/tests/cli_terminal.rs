//! The verbs on a real terminal (tmux): the stdin prompt of `create` when
//! no `-value` is given, and choosing a token with `-interactive`.
//!
//! Needs tmux (`scripts/setup-test-env.sh` installs it). Without tmux each
//! test says loudly that it checked nothing, except in CI (`CI=true`),
//! where it fails.

mod cli_support;

use cli_support::Dev;
use kiss_testkit::{Tmux, shell_command, shell_quote};

/// A 120x30 terminal running `kiss-tui args` against the shared dev server,
/// or None when tmux is missing (reported; a failure under `CI=true`).
fn terminal(test: &str, dev: &Dev, args: &[&str]) -> Option<Tmux> {
    let tmux = Tmux::new(test, 120, 30)?;
    let bin = kiss_testkit::binary!("kiss-tui", "kiss-tui");
    let mut words = vec![bin.to_str().expect("a UTF-8 path").to_owned()];
    words.extend(args.iter().map(|a| a.to_string()));
    words.extend(["-server-addr".into(), dev.addr(), "-secure=false".into()]);
    tmux.respawn(&format!(
        "env -u KISS_CONFIG HOME={} {}",
        shell_quote(dev.home().to_str().unwrap()),
        shell_command(&words)
    ));
    Some(tmux)
}

#[test]
fn create_prompts_on_a_terminal_and_keeps_typed_newlines() {
    let dev = Dev::shared();
    let token = dev.server.user_token_path.to_str().unwrap();
    let Some(tmux) = terminal(
        "create_prompts_on_a_terminal_and_keeps_typed_newlines",
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
    ) else {
        return;
    };
    tmux.wait_for("Type the value of secret 'typed'");
    tmux.wait_for("Ctrl-D");
    tmux.keys(&["first line", "Enter", "second line", "Enter"]);
    tmux.keys(&["C-d"]);
    let status = tmux.wait_exit();
    let screen = tmux.screen();
    assert!(screen.contains("Successfully created secret"), "{screen}");
    assert_eq!(status, 0, "{screen}");

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
    let Some(tmux) = terminal(
        "interactive_lists_tokens_and_reads_the_choice",
        dev,
        &[
            "whoami",
            "-interactive",
            "-token-dir",
            dir.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    let screen = tmux.wait_for("Choose a token [1-2]");
    assert!(screen.contains("1) b-admin"), "{screen}");
    assert!(screen.contains("2) c-demo"), "{screen}");
    assert!(screen.contains("a.lock  unusable"), "{screen}");
    // A wrong answer is asked again on a terminal.
    tmux.keys(&["7", "Enter"]);
    tmux.wait_for("Type a number from 1 to 2");
    tmux.keys(&["2", "Enter"]);
    let status = tmux.wait_exit();
    let screen = tmux.screen();
    assert!(screen.contains("identifier: demo@kiss.dev"), "{screen}");
    assert_eq!(status, 0, "{screen}");
}
