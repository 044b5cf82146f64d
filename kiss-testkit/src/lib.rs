//! Test support shared by kiss's integration tests, so that each way of
//! starting, waiting for and driving the real components exists once.
//!
//! - [`Moto`] runs moto's server (Secrets Manager, IAM, STS, Cognito) on a
//!   free loopback port; [`Cognito`] creates a user pool in it and returns
//!   real RS256 ID tokens, plus the signing key, so [`Cognito::forge`] can
//!   sign tokens the IdP would never issue ([`tokens`]).
//! - [`binary!`] finds a binary built from the current sources;
//!   [`KissServer`] starts kiss-server from it as a process against moto;
//!   [`wait_ready`] and friends wait until a server is ready to serve.
//! - [`aws::AwsState`] reads what is really in Secrets Manager and IAM;
//!   [`Moto::start_recording`] and [`recorder::Recorded`] show the requests
//!   moto received, as sent.
//! - [`Caller`] is one user's client: each RPC one call with her token.
//! - [`kube::KubeApi`] is a Kubernetes API test server (TokenReview,
//!   SubjectAccessReview, RoleBinding get, Namespace list) with a kubeconfig.
//! - [`Tmux`] runs a binary on a real terminal; [`require_tool`] makes a
//!   test without tmux skip loudly, or fail under `CI=true`.
//!
//! The Python side lives in a virtualenv that `scripts/setup-test-env.sh`
//! creates at `<repo>/.venv`; `KISS_TEST_VENV` points elsewhere.

pub mod audit;
pub mod aws;
mod binary;
mod caller;
pub mod kube;
mod ready;
pub mod recorder;
mod server;
mod skip;
pub mod tls;
mod tmux;
pub mod tokens;

pub use binary::binary_path;
pub use caller::{Caller, connect, meta};
pub use ready::{KISS_SERVICE, health, health_on, wait_ready, wait_ready_at, wait_ready_on};
pub use server::{KissServer, ServerProcess};
pub use skip::{in_ci, report_skip, require_tool};
pub use tmux::{PATIENCE, Tmux, shell_command, shell_quote};

/// The AWS region every test uses.
pub const REGION: &str = "eu-west-1";

/// The namespace rule the tests' Cognito groups follow (`kaluza:<ns>`), for
/// `--namespaces-regex`.
pub const NAMESPACES_REGEX: &str = "kaluza:([0-9a-z-]{1,63})";

/// `message` with `token` as its bearer token, as kiss's clients send it.
pub fn authorized<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    let value = format!("Bearer {token}")
        .parse()
        .expect("a token is ASCII metadata");
    request.metadata_mut().insert("authorization", value);
    request
}

/// moto's default account, which every test's fake credentials map to.
pub const ACCOUNT: &str = "123456789012";

use std::collections::HashMap;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("kiss-testkit lives one level below the repository root")
        .to_path_buf()
}

/// The virtualenv holding moto.
pub fn venv() -> PathBuf {
    std::env::var_os("KISS_TEST_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"))
}

fn venv_bin(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup-test-env.sh first (it installs moto[server] into .venv)",
        path.display()
    );
    path
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// Waits until something accepts TCP connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on {addr} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running moto server; killed when dropped.
pub struct Moto {
    /// Its port on 127.0.0.1.
    pub port: u16,
    child: Option<Child>,
    /// Holds the file moto's request recorder writes ([`recorder`]), which
    /// would otherwise land in the working directory, shared by every moto.
    scratch: tempfile::TempDir,
}

impl Moto {
    /// Starts moto's server on a free loopback port and waits until it answers.
    pub fn start() -> Moto {
        let mut moto = Moto {
            port: free_port(),
            child: None,
            scratch: tempfile::tempdir().expect("a temporary directory for moto"),
        };
        moto.spawn();
        moto
    }

    fn spawn(&mut self) {
        // moto's own server, with its backends taking one request at a
        // time: they are not thread-safe (see the script).
        let serial = repo_root().join("kiss-testkit/python/moto_server_serial.py");
        venv_bin("moto_server");
        let child = Command::new(venv_bin("python"))
            .arg(serial)
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
            .env(
                "MOTO_RECORDER_FILEPATH",
                self.scratch.path().join("recording.jsonl"),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("could not start moto_server");
        self.child = Some(child);
        wait_for_port(
            SocketAddr::from(([127, 0, 0, 1], self.port)),
            Duration::from_secs(30),
        );
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server (to test outages); its state is lost.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// An AWS SDK configuration for moto: its endpoint, [`REGION`] and fake
    /// credentials, nothing from the developer's environment.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(self.endpoint())
            .test_credentials()
            .load()
            .await
    }

    /// Creates the IAM role a ServiceAccount's read policy is bound to (in
    /// a cluster, IRSA's role for that ServiceAccount).
    pub async fn create_role(&self, role: &str) {
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/TEST"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
        aws_sdk_iam::Client::new(&self.sdk_config().await)
            .create_role()
            .role_name(role)
            .assume_role_policy_document(trust)
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto does not create role {role}: {e:?}"));
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A Cognito user pool in moto with users and their ID tokens.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Cognito {
    /// The user pool id.
    pub pool_id: String,
    /// The app client id: the `aud` of its ID tokens.
    pub client_id: String,
    /// The `iss` of its ID tokens.
    pub issuer: String,
    /// Where moto serves the pool's JWKS.
    pub jwks_url: String,
    /// The `kid` of the signing key.
    pub kid: String,
    /// The pool's RSA private key (moto's fixed key), PEM.
    pub private_key_pem: String,
    /// ID token by user e-mail.
    pub tokens: HashMap<String, String>,
}

impl Cognito {
    /// Creates a pool with `users` (e-mail, Cognito groups) and logs each in.
    pub fn setup(moto: &Moto, users: &[(&str, &[&str])]) -> Cognito {
        let users: Vec<(&str, &[&str])> = users.to_vec();
        let out = Command::new(venv_bin("python"))
            .arg(repo_root().join("kiss-testkit").join("cognito.py"))
            .args(["--endpoint", &moto.endpoint()])
            .args([
                "--users",
                &serde_json::to_string(&users).expect("users encode"),
            ])
            .stderr(Stdio::inherit())
            .output()
            .expect("could not run cognito.py");
        assert!(out.status.success(), "cognito.py failed: {:?}", out.status);
        serde_json::from_slice(&out.stdout).expect("cognito.py printed no JSON")
    }

    /// The ID token of `email`.
    pub fn token(&self, email: &str) -> &str {
        self.tokens
            .get(email)
            .unwrap_or_else(|| panic!("no user {email} in the pool"))
    }
}

/// Sends a GET over plain HTTP/1.0 and returns the body; for scraping test
/// servers without an HTTP client dependency.
pub fn http_get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    use std::io::Write;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut out = String::new();
    stream.read_to_string(&mut out)?;
    Ok(out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default())
}

/// Decodes an IAM policy document as IAM returns it (URL-encoded JSON,
/// RFC 3986; moto may return it plain).
pub fn decode_policy_document(doc: &str) -> serde_json::Value {
    let raw = doc.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (raw[i], hex) {
            (b'%', Some(b)) => {
                bytes.push(b);
                i += 3;
            }
            (b, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    serde_json::from_slice(&bytes).expect("the policy document is JSON")
}
