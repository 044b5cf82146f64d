//! The app on a bare pseudo-terminal that answers no queries: util-linux's
//! `script` gives kiss-tui a real pty whose other end is this test, which
//! reads every byte the app writes and types only what it chooses. Unlike
//! tmux, nothing answers the escape sequences that ask the terminal a
//! question (cursor position, device attributes), as on some serial
//! consoles, CI log viewers and broken SSH clients.
//!
//! Needs `script` (`scripts/setup-test-env.sh` installs it). Without it the
//! test says why and passes, except in CI (`CI=true`), where it fails.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Instant;

use kiss_testkit::{PATIENCE, shell_quote};

/// Everything the app wrote, gathered by a reader thread.
struct Output {
    bytes: Vec<u8>,
    chunks: mpsc::Receiver<Vec<u8>>,
}

impl Output {
    /// Reads until the screen shows `text`; panics with what came after
    /// [`PATIENCE`] or when the output ends first.
    fn wait_for(&mut self, text: &str) {
        let start = Instant::now();
        while !String::from_utf8_lossy(&self.bytes).contains(text) {
            let left = PATIENCE.saturating_sub(start.elapsed());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.bytes.extend(chunk),
                Err(_) => panic!(
                    "never saw {text:?}; the app wrote:\n{}",
                    String::from_utf8_lossy(&self.bytes).escape_debug()
                ),
            }
        }
    }

    /// Reads to the end of the output.
    fn finish(&mut self) {
        while let Ok(chunk) = self.chunks.recv_timeout(PATIENCE) {
            self.bytes.extend(chunk);
        }
    }
}

fn position(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[test]
fn a_terminal_that_answers_nothing_gets_the_app_and_gets_itself_back() {
    if !kiss_testkit::require_tool(
        "script",
        "--version",
        "a_terminal_that_answers_nothing_gets_the_app_and_gets_itself_back",
    ) {
        return;
    }
    let bin: PathBuf = kiss_testkit::binary!("kiss-tui", "kiss-tui");
    let home = tempfile::tempdir().unwrap();
    let home_path = shell_quote(home.path().to_str().unwrap());
    // No server and no tokens: the app opens on the token picker and waits.
    let command = format!(
        "stty cols 100 rows 30; exec {bin} --server-addr 127.0.0.1:1 --secure=false --token-dir {home_path}",
        bin = shell_quote(bin.to_str().unwrap()),
    );
    let mut child = Command::new("script")
        .args([
            "--quiet",
            "--flush",
            "--return",
            "--command",
            &command,
            "/dev/null",
        ])
        .env_remove("KISS_CONFIG")
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script runs");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, chunks) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut out = Output {
        bytes: Vec::new(),
        chunks,
    };

    out.wait_for("Pick a token");
    stdin.write_all(b"q").unwrap();
    stdin.flush().unwrap();
    let status = child.wait().unwrap();
    out.finish();
    let bytes = &out.bytes;
    let text = String::from_utf8_lossy(bytes).escape_debug().to_string();

    assert!(status.success(), "q quits with 0, got {status}: {text}");
    // Asking for the cursor position is what stalled and failed the start.
    assert!(
        position(bytes, b"\x1b[6n").is_none(),
        "the app asked the terminal for the cursor position: {text}"
    );
    let entered = position(bytes, b"\x1b[?1049h").expect("entered the alternate screen");
    // The app takes the mouse (wheel and clicks) while it runs.
    assert!(position(bytes, b"\x1b[?1000h").is_some(), "{text}");
    for (what, undo) in [
        ("left the alternate screen", &b"\x1b[?1049l"[..]),
        ("turned bracketed paste off", b"\x1b[?2004l"),
        ("showed the cursor", b"\x1b[?25h"),
        ("turned mouse reporting off", b"\x1b[?1000l"),
    ] {
        let at = position(bytes, undo).unwrap_or_else(|| panic!("never {what}: {text}"));
        assert!(at > entered, "{what} only before entering it: {text}");
    }
}
