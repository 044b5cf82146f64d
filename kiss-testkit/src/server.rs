//! kiss-server as a process of its own: the real binary with real flags,
//! against moto and a Cognito pool, its output kept in a log file.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::{Cognito, Moto};

/// How to start a kiss-server process: its binary, flags and environment.
/// Made with [`KissServer::new`], started with [`KissServer::spawn`].
pub struct KissServer {
    bin: PathBuf,
    port: u16,
    go_style: bool,
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    open_files: Option<u64>,
    dir: tempfile::TempDir,
}

impl KissServer {
    /// A server from binary `bin` (see [`crate::binary!`]) on a free
    /// loopback port, with a scratch directory of its own.
    pub fn new(bin: impl Into<PathBuf>) -> KissServer {
        KissServer {
            bin: bin.into(),
            port: crate::free_port(),
            go_style: false,
            args: Vec::new(),
            envs: Vec::new(),
            open_files: None,
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    /// Listens on `port` instead of a free one picked for it: a server
    /// restarted after a crash comes back where its clients look for it.
    pub fn port(mut self, port: u16) -> KissServer {
        self.port = port;
        self
    }

    /// Where it will listen.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Its scratch directory (the log lives here; use it for data and
    /// token directories). Removed when the process handle is dropped.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> KissServer {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> KissServer
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable. The process gets only these and what
    /// [`KissServer::aws`] sets: no developer's AWS profile, `KISS_*` or
    /// `OTEL_*` settings leak in.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> KissServer {
        self.envs.push((key.into(), value.into()));
        self
    }

    /// Gives the listen address as the Go server spelled it (`-host`,
    /// `-port`) instead of `--host`, `--port`.
    pub fn go_style_listen(mut self) -> KissServer {
        self.go_style = true;
        self
    }

    /// Starts it with at most `n` open file descriptors (`RLIMIT_NOFILE`,
    /// soft and hard), as a pod with a low limit: set by `/bin/sh`'s
    /// `ulimit -n`, which then execs the server, so the process (and its
    /// pid) is the server's own.
    pub fn max_open_files(mut self, n: u64) -> KissServer {
        self.open_files = Some(n);
        self
    }

    /// The AWS backend against `moto`: `--backend aws`, its endpoint and
    /// fake credentials, and no instance metadata lookups.
    pub fn aws(self, moto: &Moto) -> KissServer {
        self.args(["--backend", "aws", "--region", crate::REGION])
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", crate::REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
    }

    /// Tokens from `cognito`'s pool, as a Cognito deployment is configured:
    /// its JWKS, issuer and audience, `token_use=id`, and namespaces taken
    /// from groups matching `namespaces_regex`.
    pub fn cognito(self, cognito: &Cognito, namespaces_regex: &str) -> KissServer {
        self.args(["--jwks-url", &cognito.jwks_url])
            .args(["--namespaces-regex", namespaces_regex])
            .args(["--issuer", &cognito.issuer])
            .args(["--audience", &cognito.client_id])
            .args(["--required-claim", "token_use=id"])
    }

    /// Starts the process, its stdout and stderr going to [`ServerProcess::log`].
    /// `KISS_LOG` is `info` unless set with [`KissServer::env`].
    pub fn spawn(self) -> ServerProcess {
        let log = self.dir.path().join("server.log");
        let out = std::fs::File::create(&log).expect("the server log is created");
        let port = self.port.to_string();
        let listen: [&str; 4] = if self.go_style {
            ["-host", "127.0.0.1", "-port", &port]
        } else {
            ["--host", "127.0.0.1", "--port", &port]
        };
        let mut cmd = match self.open_files {
            None => Command::new(&self.bin),
            Some(n) => {
                let mut sh = Command::new("/bin/sh");
                sh.args(["-c", r#"ulimit -n "$1" && shift && exec "$@""#, "sh"])
                    .arg(n.to_string())
                    .arg(&self.bin);
                sh
            }
        };
        cmd.args(listen)
            .args(&self.args)
            .env_clear()
            .env("KISS_LOG", "info")
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("the log file handle is cloned"))
            .stderr(out);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", self.bin.display()));
        ServerProcess {
            child,
            addr: self.addr(),
            log,
            _dir: self.dir,
        }
    }
}

/// A running kiss-server process; killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Waits until it is ready to serve (its KISS service SERVING, so its
    /// token keys are loaded); panics with its log if it exits or a minute
    /// passes.
    pub async fn wait_ready(&mut self) {
        let log = self.log.clone();
        crate::wait_ready(self.addr, &mut self.child, || read_log(&log)).await;
    }

    /// Everything it printed so far.
    pub fn log(&self) -> String {
        read_log(&self.log)
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, as Kubernetes stops a pod, then its exit status; panics with
    /// its log if it is still running after a minute.
    pub async fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -TERM {} failed", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the server is waited for") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "kiss-server did not stop within a minute of SIGTERM:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Kills it at once (an outage, not a shutdown).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
