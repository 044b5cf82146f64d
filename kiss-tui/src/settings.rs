//! What the flags and the config file resolve to: where the server is, how to
//! reach it, which token and namespace to use. Shared by the TUI and the
//! scripting verbs.

use std::path::PathBuf;
use std::time::Duration;

/// Resolved connection and token settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `host:port` of kiss-server (default `localhost:10000`).
    pub server_addr: String,
    /// Use TLS (default true, as the Go client).
    pub secure: bool,
    /// A PEM CA bundle to trust instead of the system's roots.
    pub ca_file: Option<PathBuf>,
    /// One token file to use; skips the token picker.
    pub token_path: Option<PathBuf>,
    /// Where token files are listed from (default `~/.kube/cache/oidc-login`).
    pub token_dir: Option<PathBuf>,
    /// The namespace to act on; skips the namespace picker.
    pub namespace: Option<String>,
    /// Deadline of each call (default 10 s).
    pub timeout: Duration,
    /// Print debugging details.
    pub debug: bool,
    /// The app shows the diff and asks before saving an edited value.
    pub confirm_save: bool,
    /// How long the app shows a revealed value before hiding it again;
    /// None keeps it until hidden (default 60 s).
    pub reveal_for: Option<Duration>,
    /// How long a copied value stays on the system clipboard before the
    /// app clears it; None leaves it there (default 30 s).
    pub clear_clipboard_after: Option<Duration>,
    /// The app takes the mouse (wheel, clicks); off leaves the terminal's
    /// own text selection alone (default on).
    pub mouse: bool,
    /// How often the app reloads the secrets list by itself; None: only
    /// on `r` (default).
    pub refresh: Option<Duration>,
    /// Keep the namespaces used last in the state directory (`:ns`
    /// completion); off for `--demo`, whose server lives one run.
    pub remember_namespaces: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server_addr: "localhost:10000".into(),
            secure: true,
            ca_file: None,
            token_path: None,
            token_dir: None,
            namespace: None,
            timeout: Duration::from_secs(10),
            debug: false,
            confirm_save: true,
            reveal_for: Some(Duration::from_secs(60)),
            clear_clipboard_after: Some(Duration::from_secs(30)),
            mouse: true,
            refresh: None,
            remember_namespaces: true,
        }
    }
}
