//! Test support shared by kiss's integration tests.
//!
//! [`Moto`] runs moto's server (Secrets Manager, IAM, STS, Cognito) on a free
//! loopback port; [`Cognito`] creates a user pool in it and returns real RS256
//! ID tokens, plus the signing key so tests can forge tokens the IdP would
//! never issue. The Python side lives in a virtualenv that
//! `scripts/setup-test-env.sh` creates at `<repo>/.venv`; `KISS_TEST_VENV`
//! points elsewhere.

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
}

impl Moto {
    /// Starts moto's server on a free loopback port and waits until it answers.
    pub fn start() -> Moto {
        let mut moto = Moto {
            port: free_port(),
            child: None,
        };
        moto.spawn();
        moto
    }

    fn spawn(&mut self) {
        let child = Command::new(venv_bin("moto_server"))
            .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
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

/// The health status of `service` ("" = the process, `kiss.resources.KISS`
/// = ready to serve) at `addr`, or None when it does not answer.
pub async fn health(addr: SocketAddr, service: &str) -> Option<i32> {
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .ok()?
        .connect()
        .await
        .ok()?;
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .ok()?;
    Some(reply.into_inner().status)
}

/// Waits until the kiss-server process `child` at `addr` is ready (its
/// KISS service SERVING, so its keys are loaded); panics with `log()` if it
/// exits or a minute passes.
pub async fn wait_ready(addr: SocketAddr, child: &mut Child, log: impl Fn() -> String) {
    const SERVING: i32 = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("kiss-server exited with {status}:\n{}", log());
        }
        if health(addr, "kiss.resources.KISS").await == Some(SERVING) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "kiss-server is not ready after a minute:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
