//! The scripting verbs end to end against the AWS backend: the real
//! `kiss-tui` binary, a real `kiss-server --backend aws` pointed at moto's
//! Secrets Manager and IAM, and real Cognito ID tokens from moto.
//!
//! kiss-server is built from the current sources (`kiss_testkit::binary!`);
//! moto comes from `.venv` (`scripts/setup-test-env.sh`).

mod cli_support;

use std::path::PathBuf;

use cli_support::{Run, kiss_in, ping_in};
use kiss_testkit::tokens::now;
use kiss_testkit::{Cognito, KissServer, Moto, ServerProcess};
use kiss_tui::tokens::REFRESH_HINT;

const USER: &str = "dev@example.com";
const NS: &str = "team-a";
use kiss_testkit::NAMESPACES_REGEX as REGEX;

struct Env {
    moto: Moto,
    cognito: Cognito,
    server: ServerProcess,
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

async fn setup() -> Env {
    let moto = Moto::start();
    let cognito = Cognito::setup(&moto, &[(USER, &["kaluza:team-a", "unrelated-group"])]);
    let mut server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"))
        .aws(&moto)
        .cognito(&cognito, REGEX)
        .spawn();
    server.wait_ready().await;
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
    let out = env.kiss(&["ping", "-namespace", NS], None);
    assert_eq!(out.ok(), "Successfully sent ping\n");
    env
}

// The verbs are blocking processes; the server is another process, so a
// runtime of one thread is enough.
#[tokio::test]
async fn every_verb_against_the_aws_backend_on_moto() {
    let env = setup().await;

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
        "Successfully created secret\nSuccessfully created secret IAM policy\n"
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
    env.moto.create_role(&format!("k8s-sa_{NS}_app")).await;
    let service_account = |verb| {
        env.kiss(
            &[
                verb,
                "-namespace",
                NS,
                "-name",
                "ca",
                "-service-account",
                "app",
            ],
            None,
        )
    };
    let out = service_account("bind");
    assert_eq!(out.ok(), "Successfully bound secret to service account\n");
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
    let out = service_account("unbind");
    assert_eq!(out.ok(), "Successfully unbound secret\n");
    let out = env.kiss(
        &["delete", "-namespace", NS, "-name", "ca", "-policy"],
        None,
    );
    assert_eq!(
        out.ok(),
        "Successfully deleted secret IAM policy\nSuccessfully deleted secret\n"
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
        &env.cognito.resign(env.cognito.token(USER), |claims| {
            let then = now() - 7200;
            claims.insert("iat".into(), then.into());
            claims.insert("auth_time".into(), then.into());
            claims.insert("exp".into(), (now() - 3600).into());
        }),
    );
    let addr = env.server.addr.to_string();
    let out = ping_in(
        env.dir.path(),
        &addr,
        &["-token-path", expired.to_str().unwrap()],
    );
    let err = out.fails_with(1);
    assert!(err.contains(REFRESH_HINT), "{err}");
}

#[tokio::test]
async fn a_stopped_aws_server_is_a_clear_error() {
    let env = setup().await;
    let addr = env.server.addr.to_string();
    let token = env.token_path.to_str().unwrap().to_owned();
    let home = env.dir.path().to_owned();
    drop(env.server);
    let out = ping_in(&home, &addr, &["-token-path", &token]);
    let err = out.fails_with(1);
    assert!(
        err.contains(&format!("cannot reach kiss-server at {addr}")),
        "{err}"
    );
}
