//! The scripting verbs end to end against the AWS backend: the real
//! `kiss-tui` binary, a real `kiss-server --backend aws` pointed at moto's
//! Secrets Manager and IAM, and real Cognito ID tokens from moto.
//!
//! Needs `target/debug/kiss-server` (built by `cargo build -p kiss-server`)
//! and moto in `.venv` (`scripts/setup-test-env.sh`).

mod cli_support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::{Run, kiss_in};
use kiss_testkit::{Cognito, Moto};
use kiss_tui::tokens::REFRESH_HINT;

const USER: &str = "dev@example.com";
const NS: &str = "team-a";
const REGEX: &str = "kaluza:([0-9a-z-]{1,63})";

/// `target/debug/kiss-server`, next to this test's own directory.
fn server_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let debug = exe
        .parent()
        .and_then(Path::parent)
        .expect("tests run from target/<profile>/deps");
    let bin = debug.join(format!("kiss-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p kiss-server` before these tests",
        bin.display()
    );
    bin
}

fn python() -> PathBuf {
    kiss_testkit::venv().join("bin").join("python")
}

fn run_python(script: &str, args: &[&str]) -> String {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .expect("python runs");
    assert!(out.status.success(), "python failed: {script}");
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}

/// The IAM role kiss-server binds a ServiceAccount's policy to (IRSA creates
/// it in a real cluster).
fn create_role(moto: &Moto, role: &str) {
    run_python(
        "import sys, boto3\n\
         iam = boto3.client('iam', endpoint_url=sys.argv[1], region_name='eu-west-1', \
         aws_access_key_id='testing', aws_secret_access_key='testing')\n\
         iam.create_role(RoleName=sys.argv[2], AssumeRolePolicyDocument='{}')\n",
        &[&moto.endpoint(), role],
    );
}

/// A copy of `token` re-signed with the pool's key, expired an hour ago.
fn expired_copy(cognito: &Cognito, token: &str) -> String {
    run_python(
        "import sys, json, time, base64\n\
         from joserfc import jwt\n\
         from joserfc.jwk import RSAKey\n\
         token, pem, kid = sys.argv[1], sys.argv[2], sys.argv[3]\n\
         body = token.split('.')[1]\n\
         claims = json.loads(base64.urlsafe_b64decode(body + '=' * (-len(body) % 4)))\n\
         now = int(time.time())\n\
         claims.update(iat=now - 7200, auth_time=now - 7200, exp=now - 3600)\n\
         print(jwt.encode({'alg': 'RS256', 'kid': kid}, claims, RSAKey.import_key(pem)), end='')\n",
        &[token, &cognito.private_key_pem, &cognito.kid],
    )
}

struct AwsServer {
    child: Child,
    addr: SocketAddr,
}

impl Drop for AwsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(moto: &Moto, cognito: &Cognito) -> AwsServer {
    let port = kiss_testkit::free_port();
    let child = Command::new(server_binary())
        .args([
            "--backend",
            "aws",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .args(["--jwks-url", &cognito.jwks_url, "--namespaces-regex", REGEX])
        .args([
            "--issuer",
            &cognito.issuer,
            "--audience",
            &cognito.client_id,
        ])
        .args(["--required-claim", "token_use=id", "--region", "eu-west-1"])
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kiss-server starts");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    kiss_testkit::wait_for_port(addr, Duration::from_secs(30));
    AwsServer { child, addr }
}

struct Env {
    moto: Moto,
    cognito: Cognito,
    server: AwsServer,
    dir: tempfile::TempDir,
    token_path: PathBuf,
}

impl Env {
    fn kiss(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let addr = self.server.addr.to_string();
        let token = self.token_path.to_str().unwrap();
        let mut all = args.to_vec();
        all.extend(["-server-addr", &addr, "-secure=false", "-token-path", token]);
        kiss_in(self.dir.path(), &all, stdin, &[])
    }
}

fn setup() -> Env {
    let moto = Moto::start();
    let cognito = Cognito::setup(&moto, &[(USER, &["kaluza:team-a", "unrelated-group"])]);
    let server = start_server(&moto, &cognito);
    let dir = tempfile::tempdir().unwrap();
    // A raw JWT file, the other format -token-path accepts.
    let token_path = dir.path().join("id-token.jwt");
    std::fs::write(&token_path, cognito.token(USER)).unwrap();
    let env = Env {
        moto,
        cognito,
        server,
        dir,
        token_path,
    };
    // Health is NOT_SERVING until the JWKS is fetched; wait for the first good ping.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = env.kiss(&["ping", "-namespace", NS], None);
        if out.code == 0 {
            assert_eq!(out.stdout, "Successfully sent ping\n");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server never answered: {out:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    env
}

#[test]
fn every_verb_against_the_aws_backend_on_moto() {
    let env = setup();

    // create from piped stdin, newlines kept; read back byte for byte.
    let value = b"user=app\npassword=s3cr3t\n\n";
    let out = env.kiss(&["create", "-namespace", NS, "-name", "db"], Some(value));
    assert_eq!(out.ok(), "Successfully created secret\n");
    let got = env.kiss(
        &["get", "-namespace", NS, "-name", "db", "-show-value"],
        None,
    );
    got.ok();
    assert_eq!(got.stdout_bytes, value);

    // create-from a file with a trailing newline.
    let file = env.dir.path().join("ca.pem");
    let body = "-----BEGIN CERTIFICATE-----\nMIIB\nabc\n-----END CERTIFICATE-----\n";
    std::fs::write(&file, body).unwrap();
    let out = env.kiss(
        &[
            "create-from",
            "-namespace",
            NS,
            "-name",
            "ca",
            "-value",
            file.to_str().unwrap(),
            "-policy",
        ],
        None,
    );
    assert_eq!(
        out.ok(),
        "Successfully created secret\nSuccessfully created IAM policy for secret\n"
    );
    let got = env.kiss(
        &["get", "-namespace", NS, "-name", "ca", "-show-value"],
        None,
    );
    got.ok();
    assert_eq!(got.stdout_bytes, body.as_bytes());

    let list = env.kiss(&["list", "-namespace", NS], None);
    assert_eq!(list.ok(), "ca\ndb\n");
    let json = env.kiss(&["list", "-namespace", NS, "-output", "json"], None);
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(v["secrets"].as_array().unwrap().len(), 2);

    // update from stdin.
    let out = env.kiss(&["update", "-namespace", NS, "-name", "db"], Some(b"v2\n"));
    assert_eq!(out.ok(), "Successfully updated secret\n");
    let got = env.kiss(
        &["get", "-namespace", NS, "-name", "db", "-show-value"],
        None,
    );
    assert_eq!(got.ok(), "v2\n");

    // bind / unbind to a ServiceAccount's IAM role.
    create_role(&env.moto, &format!("k8s-sa_{NS}_app"));
    let out = env.kiss(
        &[
            "bind",
            "-namespace",
            NS,
            "-name",
            "ca",
            "-service-account",
            "app",
        ],
        None,
    );
    assert_eq!(out.ok(), "Successfully bound secret\n");
    let details = env.kiss(
        &["get", "-namespace", NS, "-name", "ca", "-output", "json"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(details.ok()).unwrap();
    assert_eq!(v["bound_service_accounts"], serde_json::json!(["app"]));
    assert_eq!(v["has_read_policy"], true);
    assert!(
        v["arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:secretsmanager:"),
        "{v}"
    );
    assert!(v.get("value").is_none());

    let out = env.kiss(
        &["delete", "-namespace", NS, "-name", "ca", "-policy"],
        None,
    );
    let err = out.fails_with(1);
    assert!(err.contains("app") && err.contains("unbind"), "{err}");
    let out = env.kiss(
        &[
            "unbind",
            "-namespace",
            NS,
            "-name",
            "ca",
            "-service-account",
            "app",
        ],
        None,
    );
    assert_eq!(out.ok(), "Successfully unbound secret\n");
    let out = env.kiss(
        &["delete", "-namespace", NS, "-name", "ca", "-policy"],
        None,
    );
    assert_eq!(
        out.ok(),
        "Successfully deleted IAM policy for secret\nSuccessfully deleted secret\n"
    );

    // deleted, listed as such, restored.
    let deleted = env.kiss(&["list", "-namespace", NS, "-deleted"], None);
    assert_eq!(deleted.ok(), "ca\n");
    let out = env.kiss(&["restore", "-namespace", NS, "-name", "ca"], None);
    assert_eq!(out.ok(), "Successfully restored secret\n");
    assert_eq!(env.kiss(&["list", "-namespace", NS], None).ok(), "ca\ndb\n");

    // whoami: the regex picked team-a and skipped the unrelated group.
    let who = env.kiss(&["whoami", "-output", "json"], None);
    let v: serde_json::Value = serde_json::from_str(who.ok()).unwrap();
    assert_eq!(v["identifier"], USER);
    assert_eq!(v["namespaces"], serde_json::json!(["team-a"]));

    // permission denied: the server's message, unchanged.
    let out = env.kiss(&["list", "-namespace", "team-z"], None);
    let err = out.fails_with(1);
    assert!(
        err.contains(&format!(
            "user '{USER}' is not authorized for namespace 'team-z'"
        )),
        "{err}"
    );

    // missing flags: usage error naming the flag, before any call.
    let out = env.kiss(&["bind", "-namespace", NS, "-name", "ca"], None);
    assert!(out.fails_with(2).contains("--service-account"));

    // an expired token (properly signed by the pool): the refresh hint.
    let expired = env.dir.path().join("expired.json");
    cli_support::write_kubelogin_file(
        &expired,
        &expired_copy(&env.cognito, env.cognito.token(USER)),
    );
    let addr = env.server.addr.to_string();
    let out = kiss_in(
        env.dir.path(),
        &[
            "ping",
            "-namespace",
            NS,
            "-server-addr",
            &addr,
            "-secure=false",
            "-token-path",
            expired.to_str().unwrap(),
        ],
        None,
        &[],
    );
    let err = out.fails_with(1);
    assert!(err.contains(REFRESH_HINT), "{err}");
}

#[test]
fn a_stopped_aws_server_is_a_clear_error() {
    let env = setup();
    let addr = env.server.addr.to_string();
    let token = env.token_path.to_str().unwrap().to_owned();
    let home = env.dir.path().to_owned();
    drop(env.server);
    let out = kiss_in(
        &home,
        &[
            "ping",
            "-namespace",
            NS,
            "-server-addr",
            &addr,
            "-secure=false",
            "-token-path",
            &token,
        ],
        None,
        &[],
    );
    let err = out.fails_with(1);
    assert!(
        err.contains(&format!("cannot reach kiss-server at {addr}")),
        "{err}"
    );
}
