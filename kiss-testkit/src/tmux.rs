//! A private tmux server with one pane, to run the real binaries on a real
//! terminal, type into them and read the screen.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long to wait for the screen to show something, or a command to end,
/// before failing: only a bound on a broken run, not a timing assertion.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The pane every command targets.
const TARGET: &str = "main";

/// A tmux server on a socket of its own, with one session of one pane that
/// stays on screen after its command exits; killed when dropped.
pub struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts a `width`x`height` session named after `test`; then run
    /// something in it with [`Tmux::respawn`]. None when tmux is missing and
    /// the test should return (reported loudly; under `CI=true` it panics
    /// instead, see [`crate::require_tool`]).
    pub fn new(test: &str, width: u16, height: u16) -> Option<Tmux> {
        if !crate::require_tool("tmux", "-V", test) {
            return None;
        }
        static SESSIONS: AtomicUsize = AtomicUsize::new(0);
        let tmux = Tmux {
            socket: format!(
                "kiss-{}-{}-{}",
                test.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
                std::process::id(),
                SESSIONS.fetch_add(1, Ordering::Relaxed)
            ),
            dir: tempfile::tempdir().expect("a temporary directory"),
        };
        let (w, h) = (width.to_string(), height.to_string());
        // No user configuration: the default key bindings and options.
        tmux.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            TARGET,
            "-x",
            &w,
            "-y",
            &h,
        ]);
        // Keep the pane after its command exits, to read how it ended.
        tmux.set_option("remain-on-exit", "on");
        Some(tmux)
    }

    /// Runs tmux on this server with `args`, whatever the outcome.
    pub fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Runs tmux with `args` and returns its stdout; panics if it fails.
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.cmd(args);
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sets a global option (`set-option -g name value`).
    pub fn set_option(&self, name: &str, value: &str) {
        self.run(&["set-option", "-g", name, value]);
    }

    /// Runs the shell command `command` in the pane, replacing whatever ran
    /// there (see [`shell_quote`] for building it); [`Tmux::wait_exit`]
    /// then reads its exit status.
    pub fn respawn(&self, command: &str) {
        let status = self.status_file();
        let _ = std::fs::remove_file(&status);
        // The shell records the status: tmux's own `#{pane_dead_status}` is
        // empty until tmux reaps the process, which on a busy machine was
        // seen not to happen for more than 30 s.
        let command = format!(
            "{command}; echo $? > {}",
            shell_quote(status.to_str().expect("a UTF-8 temporary path"))
        );
        self.run(&["respawn-pane", "-k", "-t", TARGET, &command]);
    }

    fn status_file(&self) -> PathBuf {
        self.dir.path().join("exit-status")
    }

    /// What the pane shows now.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", TARGET])
    }

    /// Expands a tmux format about the pane (`#{pane_pid}`, `#{alternate_on}`).
    pub fn display(&self, format: &str) -> String {
        self.run(&["display-message", "-p", "-t", TARGET, format])
            .trim()
            .to_owned()
    }

    /// The paste buffer (where an OSC 52 copy lands with `set-clipboard on`).
    pub fn buffer(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["show-buffer"]).stdout).into_owned()
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", TARGET, "-l", text]);
    }

    /// Presses keys by tmux name (`Enter`, `C-s`, `Tab`, `Escape`, ...); a
    /// word that names no key is typed.
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", TARGET];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Pastes `text` as a terminal does, with bracketed paste.
    pub fn paste(&self, text: &str) {
        let file: PathBuf = self.dir.path().join("paste.txt");
        std::fs::write(&file, text).expect("the paste file is written");
        let file = file.to_str().expect("a UTF-8 temporary path");
        self.run(&["load-buffer", "-b", "paste", file]);
        self.run(&["paste-buffer", "-p", "-d", "-b", "paste", "-t", TARGET]);
    }

    /// Waits until the screen shows `text` and returns the screen; panics
    /// with the screen after [`PATIENCE`].
    #[track_caller]
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the screen never showed {text:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the screen no longer shows `text`.
    #[track_caller]
    pub fn wait_gone(&self, text: &str) {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if !screen.contains(text) {
                return;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the screen still shows {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the command [`Tmux::respawn`] ran exits and returns its
    /// exit status; panics with the screen after [`PATIENCE`].
    #[track_caller]
    pub fn wait_exit(&self) -> i32 {
        let start = Instant::now();
        loop {
            // Written by `echo`, complete once it ends with a newline.
            if let Ok(status) = std::fs::read_to_string(self.status_file())
                && let Some(status) = status.strip_suffix('\n')
            {
                return status
                    .parse()
                    .unwrap_or_else(|_| panic!("the shell reported exit status {status:?}"));
            }
            assert!(
                start.elapsed() < PATIENCE,
                "the command did not end; the screen shows:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

/// `s` quoted for `sh`, to build the commands [`Tmux::respawn`] runs.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `words` quoted for `sh` and joined into one command line.
pub fn shell_command<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| shell_quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}
