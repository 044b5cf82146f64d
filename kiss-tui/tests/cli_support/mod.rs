//! Runs the real `kiss-tui` binary against a real server, with a private
//! HOME so the developer's own config and tokens never leak in.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use kiss_server::dev::{DevOptions, DevServer};

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stdout_bytes: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        &self.stdout
    }

    /// Asserts the exit status and returns stderr.
    #[track_caller]
    pub fn fails_with(&self, code: i32) -> &str {
        assert_eq!(self.code, code, "expected exit {code}, got {self:#?}");
        &self.stderr
    }
}

/// Runs `kiss-tui args` with `home` as HOME and no config from the environment.
pub fn kiss_in(home: &Path, args: &[&str], stdin: Option<&[u8]>, envs: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(kiss_testkit::binary!("kiss-tui", "kiss-tui"));
    cmd.args(args)
        .env("HOME", home)
        .env_remove("KISS_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("RUST_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("kiss-tui starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input).expect("stdin accepts the input");
    }
    let out = child.wait_with_output().expect("kiss-tui finishes");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stdout_bytes: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `kiss-tui ping -namespace team-a` with `home` as HOME against the
/// plaintext server at `addr`, the token chosen by `token_flags`
/// (`["-token-path", file]` or `["-token-dir", dir]`).
pub fn ping_in(home: &Path, addr: &str, token_flags: &[&str]) -> Run {
    let mut args = vec![
        "ping",
        "-namespace",
        "team-a",
        "-server-addr",
        addr,
        "-secure=false",
    ];
    args.extend_from_slice(token_flags);
    kiss_in(home, &args, None, &[])
}

/// Writes a token in kubelogin's cache format.
pub fn write_kubelogin_file(path: &Path, token: &str) {
    let body = serde_json::json!({ "id_token": token, "refresh_token": "not-a-real-one" });
    std::fs::write(path, body.to_string()).expect("token file is written");
}

/// A dev-mode kiss-server shared by the tests of one binary, on a runtime
/// that lives as long as the process.
pub struct Dev {
    rt: tokio::runtime::Runtime,
    pub server: DevServer,
    /// Holds the server's data, its token files, and HOME for the binary.
    pub dir: tempfile::TempDir,
}

impl Dev {
    /// The shared dev server (started on first use, with sample secrets).
    pub fn shared() -> &'static Dev {
        static DEV: OnceLock<Dev> = OnceLock::new();
        DEV.get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            let opts = DevOptions {
                data_dir: dir.path().join("data"),
                token_dir: dir.path().join("tokens"),
                addr: "127.0.0.1:0".parse().expect("loopback"),
                seed_samples: true,
            };
            let server = rt
                .block_on(DevServer::start(opts))
                .expect("dev server starts");
            std::fs::create_dir_all(dir.path().join("home")).expect("home dir");
            Dev { rt, server, dir }
        })
    }

    pub fn addr(&self) -> String {
        self.server.addr.to_string()
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// A fresh directory for one test's files.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join("scratch").join(name);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    /// Mints a token and writes it as a kubelogin file in `dir`.
    pub fn token_file(
        &self,
        dir: &Path,
        file: &str,
        identifier: &str,
        namespaces: &[&str],
        expires_in_secs: i64,
    ) -> PathBuf {
        let path = dir.join(file);
        write_kubelogin_file(
            &path,
            &self
                .server
                .mint_token(identifier, namespaces, expires_in_secs),
        );
        path
    }

    /// Runs a verb as the demo user against the dev server over plaintext.
    pub fn kiss(&self, args: &[&str]) -> Run {
        self.kiss_stdin(args, None)
    }

    /// As [`Dev::kiss`], with bytes piped on stdin.
    pub fn kiss_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let addr = self.addr();
        let token = self.server.user_token_path.display().to_string();
        let mut all: Vec<&str> = args.to_vec();
        all.extend([
            "-server-addr",
            &addr,
            "-secure=false",
            "-token-path",
            &token,
        ]);
        kiss_in(&self.home(), &all, stdin, &[])
    }

    /// Runs the binary with exactly `args` (no server or token flags added).
    pub fn kiss_raw(&self, args: &[&str], stdin: Option<&[u8]>, envs: &[(&str, &str)]) -> Run {
        kiss_in(&self.home(), args, stdin, envs)
    }

    /// Runs `f` on the server's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}
