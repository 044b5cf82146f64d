//! Running a user's `exec` credential plugin exactly as kubectl does:
//! the command (a bare name looked up on `PATH`; one with a `/` already
//! resolved against its kubeconfig's directory by [`super::load`]), its
//! args, the environment with the plugin's `env` added, and
//! `KUBERNETES_EXEC_INFO` holding `{"apiVersion", "kind": "ExecCredential",
//! "spec": {"interactive": ...}}` (plus `spec.cluster.server` with
//! `provideClusterInfo`).
//!
//! `interactiveMode` decides whether the plugin gets the terminal:
//! `Never` never does (stdin is empty), `IfAvailable` does when there is
//! one, `Always` must have one or is not run. [`needs_terminal`] answers
//! that before the run, so the app can suspend its screen around it.
//! Given the terminal, the plugin reads stdin and writes its prompts on
//! stderr as usual (kiss-tui still keeps a bounded copy of that stderr for
//! the error message); without it, stderr is only captured.
//!
//! Errors hold the plugin's stderr (at most [`STDERR_KEPT`] bytes) and its
//! exit status, never its stdout (which holds the token) nor its args
//! (which may hold a client secret).

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::credential::{self, Credential};

/// How much of a plugin's stderr an error message keeps.
pub const STDERR_KEPT: usize = 4096;
/// A plugin printing more than this on stdout is refused: a credential is a few KiB.
const MAX_STDOUT: usize = 1024 * 1024;

/// When a plugin may use the terminal (the kubeconfig's `interactiveMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractiveMode {
    /// Never: stdin is not given to it.
    Never,
    /// When there is a terminal (the default before v1).
    IfAvailable,
    /// It needs the terminal; without one it is not run.
    Always,
}

/// A user's `exec` section, checked.
#[derive(Clone, PartialEq, Eq)]
pub struct ExecPlugin {
    /// The ExecCredential version it speaks (v1 or v1beta1).
    pub api_version: String,
    /// The command: a name looked up on `PATH`, or a path.
    pub command: String,
    /// Its arguments. May hold secrets (`--oidc-client-secret`): never printed.
    pub args: Vec<String>,
    /// Added to (and overriding) kiss-tui's own environment, in order.
    pub env: Vec<(String, String)>,
    /// When it may have the terminal.
    pub interactive_mode: InteractiveMode,
    /// What to install when the command is missing.
    pub install_hint: Option<String>,
    /// Whether `KUBERNETES_EXEC_INFO` carries the cluster.
    pub provide_cluster_info: bool,
    /// The cluster's API server, sent with `provide_cluster_info`.
    pub cluster_server: Option<String>,
}

// Hand-written: args and env values may hold secrets.
impl std::fmt::Debug for ExecPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecPlugin")
            .field("api_version", &self.api_version)
            .field("command", &self.command)
            .field("args", &format_args!("<{} args>", self.args.len()))
            .field(
                "env",
                &self.env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            )
            .field("interactive_mode", &self.interactive_mode)
            .finish_non_exhaustive()
    }
}

impl ExecPlugin {
    /// The command's file name, for messages (never the args).
    pub fn display_name(&self) -> String {
        Path::new(&self.command)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.command.clone())
    }

    /// `KUBERNETES_EXEC_INFO` for a run with or without the terminal.
    pub fn exec_info(&self, interactive: bool) -> String {
        let mut spec = serde_json::json!({ "interactive": interactive });
        if self.provide_cluster_info
            && let Some(server) = &self.cluster_server
        {
            spec["cluster"] = serde_json::json!({ "server": server });
        }
        serde_json::json!({
            "apiVersion": self.api_version,
            "kind": "ExecCredential",
            "spec": spec,
        })
        .to_string()
    }
}

/// Whether running `plugin` hands it the terminal, given whether one is
/// available; an error when it must have one and there is none. The app
/// suspends its screen around a run for which this is `Ok(true)`.
pub fn needs_terminal(plugin: &ExecPlugin, terminal_available: bool) -> Result<bool, ExecError> {
    match plugin.interactive_mode {
        InteractiveMode::Never => Ok(false),
        InteractiveMode::IfAvailable => Ok(terminal_available),
        InteractiveMode::Always if terminal_available => Ok(true),
        InteractiveMode::Always => Err(ExecError::NeedsTerminal {
            command: plugin.display_name(),
        }),
    }
}

/// Why a plugin gave no token. Never holds the token or the args.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// `interactiveMode: Always` without a terminal.
    #[error(
        "the credential plugin '{command}' needs a terminal to log you in (interactiveMode: Always); run kiss-tui in a terminal, or run `kubectl get ns` once in one to log in"
    )]
    NeedsTerminal {
        /// The command's name.
        command: String,
    },
    /// The command does not exist or cannot be run.
    #[error("cannot run the credential plugin '{command}': {reason}{}", hint.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
    Spawn {
        /// The command as the kubeconfig names it.
        command: String,
        /// The OS error.
        reason: String,
        /// The kubeconfig's `installHint`.
        hint: Option<String>,
    },
    /// It exited with a failure.
    #[error(
        "the credential plugin '{command}' failed ({status}){}",
        stderr_part(stderr)
    )]
    Failed {
        /// The command's name.
        command: String,
        /// "exit status 1", "killed by signal 9".
        status: String,
        /// The start of its stderr, trimmed.
        stderr: String,
    },
    /// It succeeded but printed no usable credential.
    #[error(
        "the credential plugin '{command}' gave no token: {reason}{}",
        stderr_part(stderr)
    )]
    BadOutput {
        /// The command's name.
        command: String,
        /// What was wrong with the output.
        reason: String,
        /// The start of its stderr, trimmed.
        stderr: String,
    },
    /// It ran longer than allowed without the terminal.
    #[error("the credential plugin '{command}' did not finish within {}s and was stopped{}", after.as_secs(), stderr_part(stderr))]
    TimedOut {
        /// The command's name.
        command: String,
        /// The limit.
        after: Duration,
        /// The start of its stderr, trimmed.
        stderr: String,
    },
}

fn stderr_part(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

/// Runs plugins: a process ([`ProcessRunner`]), or a fake in tests. The app
/// may wrap one to suspend its screen around a run with the terminal.
pub trait PluginRunner: Send + Sync {
    /// Runs `plugin` once, with the terminal when `interactive` (decided by
    /// [`needs_terminal`]), and reads its credential. Blocks until it ends.
    fn run(&self, plugin: &ExecPlugin, interactive: bool) -> Result<Credential, ExecError>;
}

/// Runs the plugin as a child process.
#[derive(Debug, Clone, Default)]
pub struct ProcessRunner {
    /// How long a run without the terminal may take; `None`: no limit
    /// (kubectl's behaviour). A run with the terminal is never cut short.
    pub timeout: Option<Duration>,
}

impl PluginRunner for ProcessRunner {
    fn run(&self, plugin: &ExecPlugin, interactive: bool) -> Result<Credential, ExecError> {
        let name = plugin.display_name();
        let mut cmd = Command::new(&plugin.command);
        cmd.args(&plugin.args)
            .envs(plugin.env.iter().map(|(k, v)| (k, v)))
            .env("KUBERNETES_EXEC_INFO", plugin.exec_info(interactive))
            .stdin(if interactive {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| ExecError::Spawn {
            command: plugin.command.clone(),
            reason: if e.kind() == std::io::ErrorKind::NotFound {
                "no such command (not on PATH, or the file does not exist)".into()
            } else {
                e.to_string()
            },
            hint: plugin.install_hint.clone(),
        })?;
        let (tx, rx) = mpsc::channel::<(bool, Vec<u8>, bool)>();
        if let Some(out) = child.stdout.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let (bytes, over) = read_capped(out, MAX_STDOUT, None);
                let _ = tx.send((true, bytes, over));
            });
        }
        if let Some(err) = child.stderr.take() {
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut echo = interactive.then(std::io::stderr);
                let (bytes, over) = read_capped(err, STDERR_KEPT, echo.as_mut());
                let _ = tx.send((false, bytes, over));
            });
        }
        drop(tx);
        let limit = if interactive { None } else { self.timeout };
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) => {}
                Err(_) => break child.wait().ok(),
            }
            if limit.is_some_and(|l| started.elapsed() >= l) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // The pipes close when the plugin ends, unless something it started
        // keeps them open: then what was read so far is used.
        let (mut stdout, mut stdout_over, mut stderr) = (Vec::new(), false, Vec::new());
        let deadline = Instant::now() + Duration::from_secs(2);
        for _ in 0..2 {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((true, bytes, over)) => (stdout, stdout_over) = (bytes, over),
                Ok((false, bytes, _)) => stderr = bytes,
                Err(_) => break,
            }
        }
        let stderr = clean_stderr(&stderr);
        let Some(status) = status else {
            return Err(ExecError::TimedOut {
                command: name,
                after: limit.unwrap_or_default(),
                stderr,
            });
        };
        if !status.success() {
            return Err(ExecError::Failed {
                command: name,
                status: describe(status),
                stderr,
            });
        }
        if stdout_over {
            return Err(ExecError::BadOutput {
                command: name,
                reason: "it printed more than 1 MiB".into(),
                stderr,
            });
        }
        credential::parse(&plugin.api_version, &stdout).map_err(|reason| ExecError::BadOutput {
            command: name,
            reason,
            stderr,
        })
    }
}

/// Reads everything, keeping the first `cap` bytes (and echoing all of it
/// to `echo`); also says whether there was more.
fn read_capped(
    mut from: impl Read,
    cap: usize,
    mut echo: Option<&mut std::io::Stderr>,
) -> (Vec<u8>, bool) {
    let mut kept = Vec::new();
    let mut over = false;
    let mut buf = [0u8; 8192];
    loop {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Some(e) = echo.as_mut() {
                    let _ = e.write_all(&buf[..n]);
                }
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                over |= n > room;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    (kept, over)
}

/// The plugin's stderr for a message: text, control characters (colours,
/// cursor moves) dropped, trimmed, cut at [`STDERR_KEPT`] bytes.
fn clean_stderr(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(STDERR_KEPT)]);
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect();
    cleaned.trim().to_owned()
}

fn describe(status: std::process::ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("killed by signal {sig}");
        }
    }
    "it ended abnormally".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(mode: InteractiveMode) -> ExecPlugin {
        ExecPlugin {
            api_version: credential::V1.into(),
            command: "/usr/local/bin/kubectl".into(),
            args: vec!["oidc-login".into(), "--oidc-client-secret=hush".into()],
            env: vec![("SECRET_ENV".into(), "hush".into())],
            interactive_mode: mode,
            install_hint: None,
            provide_cluster_info: false,
            cluster_server: Some("https://api:6443".into()),
        }
    }

    #[test]
    fn interactive_mode_decides_who_gets_the_terminal() {
        use InteractiveMode::*;
        assert_eq!(needs_terminal(&plugin(Never), true), Ok(false));
        assert_eq!(needs_terminal(&plugin(Never), false), Ok(false));
        assert_eq!(needs_terminal(&plugin(IfAvailable), true), Ok(true));
        assert_eq!(needs_terminal(&plugin(IfAvailable), false), Ok(false));
        assert_eq!(needs_terminal(&plugin(Always), true), Ok(true));
        let err = needs_terminal(&plugin(Always), false).unwrap_err();
        assert!(err.to_string().contains("needs a terminal"), "{err}");
    }

    #[test]
    fn exec_info_is_what_client_go_sends() {
        let p = plugin(InteractiveMode::Never);
        let info: serde_json::Value = serde_json::from_str(&p.exec_info(false)).unwrap();
        assert_eq!(
            info,
            serde_json::json!({"apiVersion": credential::V1, "kind": "ExecCredential", "spec": {"interactive": false}})
        );
        let p = ExecPlugin {
            provide_cluster_info: true,
            ..p
        };
        let info: serde_json::Value = serde_json::from_str(&p.exec_info(true)).unwrap();
        assert_eq!(info["spec"]["interactive"], true);
        assert_eq!(info["spec"]["cluster"]["server"], "https://api:6443");
        let debug = format!("{p:?}");
        assert!(!debug.contains("hush"), "{debug}");
    }

    #[test]
    fn stderr_is_bounded_and_cleaned() {
        let long = "x".repeat(10_000);
        assert_eq!(clean_stderr(long.as_bytes()).len(), STDERR_KEPT);
        assert_eq!(
            clean_stderr(b"  \x1b[31merror\x1b[0m: no\n"),
            "[31merror[0m: no"
        );
        assert_eq!(clean_stderr(&[0xff, b'a']), "\u{fffd}a");
    }

    #[cfg(unix)]
    fn script(dir: &Path, body: &str) -> ExecPlugin {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("plugin.sh");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        ExecPlugin {
            command: path.display().to_string(),
            args: vec!["--oidc-client-secret=hush".into()],
            env: vec![("FROM_KUBECONFIG".into(), "yes".into())],
            ..plugin(InteractiveMode::Never)
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_plugin_process_gets_env_and_exec_info_and_its_failures_show_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let runner = ProcessRunner {
            timeout: Some(Duration::from_secs(20)),
        };
        let p = script(
            dir.path(),
            r#"[ "$FROM_KUBECONFIG" = yes ] || exit 9
case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) exit 8;; esac
read -r line && exit 7   # stdin is empty without the terminal
echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok.en.x"}}'"#,
        );
        let c = runner.run(&p, false).unwrap();
        assert_eq!(c.token, "tok.en.x");

        let p = script(
            dir.path(),
            "echo 'tok.en.x' ; echo 'error: login failed: no browser' >&2; exit 3",
        );
        let err = runner.run(&p, false).unwrap_err().to_string();
        assert!(
            err.contains("login failed: no browser") && err.contains("exit status 3"),
            "{err}"
        );
        assert!(!err.contains("tok.en.x") && !err.contains("hush"), "{err}");

        let p = script(dir.path(), "echo 'not json: tok.en.x'; echo warn >&2");
        let err = runner.run(&p, false).unwrap_err().to_string();
        assert!(
            err.contains("not an ExecCredential") && err.contains("warn"),
            "{err}"
        );
        assert!(!err.contains("tok.en.x"), "{err}");

        let p = script(
            dir.path(),
            "head -c 20000 /dev/zero | tr '\\0' e >&2; exit 1",
        );
        let err = runner.run(&p, false).unwrap_err().to_string();
        assert!(err.len() < STDERR_KEPT + 200, "{}", err.len());

        let mut p = script(dir.path(), "");
        p.command = dir.path().join("missing").display().to_string();
        p.install_hint = Some("install kubelogin: brew install int128/kubelogin/kubelogin".into());
        let err = runner.run(&p, false).unwrap_err().to_string();
        assert!(
            err.contains("no such command") && err.contains("brew install"),
            "{err}"
        );

        let p = script(dir.path(), "echo slow >&2; exec sleep 5");
        let quick = ProcessRunner {
            timeout: Some(Duration::from_millis(200)),
        };
        let err = quick.run(&p, false).unwrap_err().to_string();
        assert!(
            err.contains("did not finish") && err.contains("slow"),
            "{err}"
        );
    }
}
