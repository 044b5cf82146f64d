//! The verbs on the keys of a JSON secret (`get -key`, `set-key`,
//! `unset-key`, `import`, `export`) end to end: the real `kiss-tui` binary, a
//! real `kiss-server --backend aws` on moto, real Cognito ID tokens.

mod cli_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::{Run, kiss_in};
use kiss_testkit::{Cognito, KissServer, Moto, NAMESPACES_REGEX, ServerProcess};
use kiss_tui::keyvalue::KeyValues;

const USER: &str = "dev@example.com";
const NS: &str = "team-a";

struct Env {
    _moto: Moto,
    _cognito: Cognito,
    server: ServerProcess,
    dir: tempfile::TempDir,
    token_path: PathBuf,
}

impl Env {
    async fn start() -> Env {
        let moto = Moto::start();
        let cognito = Cognito::setup(&moto, &[(USER, &["kaluza:team-a"])]);
        let mut server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"))
            .aws(&moto)
            .cognito(&cognito, NAMESPACES_REGEX)
            .spawn();
        server.wait_ready().await;
        let dir = tempfile::tempdir().unwrap();
        let token_path = dir.path().join("id-token.jwt");
        std::fs::write(&token_path, cognito.token(USER)).unwrap();
        Env {
            _moto: moto,
            _cognito: cognito,
            server,
            dir,
            token_path,
        }
    }

    fn args<'a>(&'a self, args: &[&'a str], addr: &'a str) -> Vec<&'a str> {
        let mut all = args.to_vec();
        all.extend([
            "-namespace",
            NS,
            "-server-addr",
            addr,
            "-secure=false",
            "-token-path",
            self.token_path.to_str().unwrap(),
        ]);
        all
    }

    fn kiss(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let addr = self.server.addr.to_string();
        kiss_in(self.dir.path(), &self.args(args, &addr), stdin, &[])
    }

    /// Starts `kiss-tui args` without waiting, holding its read-modify-write
    /// after each read until the test says go (see `hold_after_read`).
    fn spawn_held(&self, args: &[&str], hold: &Path) -> Child {
        let addr = self.server.addr.to_string();
        Command::new(kiss_testkit::binary!("kiss-tui", "kiss-tui"))
            .args(self.args(args, &addr))
            .env("HOME", self.dir.path())
            .env_remove("KISS_CONFIG")
            .env_remove("XDG_CONFIG_HOME")
            .env("KISS_TUI_TEST_HOLD_AFTER_READ", hold)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kiss-tui starts")
    }

    /// The secret's whole value.
    fn value(&self, name: &str) -> String {
        let got = self.kiss(&["get", "-name", name, "-show-value"], None);
        got.ok().to_owned()
    }

    fn versions(&self, name: &str) -> usize {
        let out = self.kiss(&["history", "-name", name, "-output", "json"], None);
        let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
        v["versions"].as_array().unwrap().len()
    }

    fn list(&self) -> Vec<String> {
        let out = self.kiss(&["list"], None);
        out.ok().lines().map(str::to_owned).collect()
    }

    fn file(&self, name: &str, body: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path.display().to_string()
    }
}

fn finish(child: Child) -> Run {
    let out = child.wait_with_output().expect("kiss-tui finishes");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stdout_bytes: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Waits for a held process to reach a point (a bound, not a timing claim).
#[track_caller]
fn wait_for(path: &Path) {
    let start = Instant::now();
    while !path.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn go(hold: &Path, n: u32) {
    std::fs::write(hold.join(format!("go-{n}")), b"").unwrap();
}

#[tokio::test]
async fn keys_of_a_json_secret_end_to_end_on_moto() {
    let env = Env::start().await;
    let original = r#"{"user":"app","port":5432,"password":"old-pass"}"#;
    env.kiss(&["create", "-name", "db", "-value", original], None)
        .ok();

    // get -key without -show-value: plain get's details, the value not read.
    let plain = env.kiss(&["get", "-name", "db", "-key", "password"], None);
    assert!(plain.ok().contains("aws name"), "{plain:#?}");
    assert!(!plain.stdout.contains("old-pass"), "{plain:#?}");
    assert!(plain.stderr.contains("add -show-value"), "{plain:#?}");
    // With it: the key's value alone, exactly; literals as written.
    let got = env.kiss(
        &["get", "-name", "db", "-key", "password", "-show-value"],
        None,
    );
    assert_eq!(got.ok(), "old-pass");
    let got = env.kiss(&["get", "-name", "db", "-key", "port", "-show-value"], None);
    assert_eq!(got.ok(), "5432");
    let json = env.kiss(
        &[
            "get",
            "-name",
            "db",
            "-key",
            "user",
            "-show-value",
            "-output",
            "json",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(
        (v["key"].as_str(), v["value"].as_str()),
        (Some("user"), Some("app"))
    );
    let missing = env.kiss(&["get", "-name", "db", "-key", "nope", "-show-value"], None);
    let err = missing.fails_with(1);
    assert!(
        err.contains("has no key 'nope'; its keys are: user, port, password"),
        "{err}"
    );

    // set-key changes one key in place; the rest of the text is untouched.
    let out = env.kiss(
        &[
            "set-key", "-name", "db", "-key", "password", "-value", "new-pass",
        ],
        None,
    );
    assert_eq!(out.ok(), "Successfully set key 'password' in secret 'db'\n");
    assert_eq!(env.value("db"), original.replace("old-pass", "new-pass"));
    // From stdin, byte for byte, as a new last key.
    let out = env.kiss(
        &["set-key", "-name", "db", "-key", "note"],
        Some("é\nline2\n".as_bytes()),
    );
    out.ok();
    assert_eq!(
        env.value("db"),
        r#"{"user":"app","port":5432,"password":"new-pass","note":"é\nline2\n"}"#
    );
    // The same value again writes no new version.
    let before = env.versions("db");
    let out = env.kiss(
        &[
            "set-key", "-name", "db", "-key", "password", "-value", "new-pass",
        ],
        None,
    );
    assert!(out.ok().contains("nothing was written"), "{out:#?}");
    assert_eq!(env.versions("db"), before);

    // unset-key; a missing key is an error and writes nothing.
    let out = env.kiss(&["unset-key", "-name", "db", "-key", "port"], None);
    assert_eq!(
        out.ok(),
        "Successfully removed key 'port' from secret 'db'\n"
    );
    assert_eq!(
        env.value("db"),
        r#"{"user":"app","password":"new-pass","note":"é\nline2\n"}"#
    );
    let before = env.versions("db");
    let out = env.kiss(&["unset-key", "-name", "db", "-key", "port"], None);
    let err = out.fails_with(1);
    assert!(
        err.contains("has no key 'port', so nothing was written"),
        "{err}"
    );
    assert_eq!(env.versions("db"), before);

    // A value that is not a JSON object: refused, pointing at update, unquoted.
    env.kiss(&["create", "-name", "plain", "-value", "hunter2"], None)
        .ok();
    for verb in [
        &["set-key", "-name", "plain", "-key", "k", "-value", "v"][..],
        &["unset-key", "-name", "plain", "-key", "k"],
        &["export", "-name", "plain", "-format", "env"],
    ] {
        let out = env.kiss(verb, None);
        let err = out.fails_with(1);
        assert!(
            err.contains("does not hold a JSON object") && err.contains("kiss-tui update"),
            "{verb:?}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
    assert_eq!(env.value("plain"), "hunter2");

    // export in the three formats.
    let out = env.kiss(&["export", "-name", "db", "-format", "env"], None);
    assert_eq!(
        out.ok(),
        "user=app\npassword=new-pass\nnote=\"é\\nline2\\n\"\n"
    );
    let from_env = KeyValues::from_dotenv(&out.stdout).unwrap();
    let out = env.kiss(&["export", "-name", "db", "-format", "json"], None);
    assert_eq!(
        out.ok(),
        "{\n  \"user\": \"app\",\n  \"password\": \"new-pass\",\n  \"note\": \"é\\nline2\\n\"\n}\n"
    );
    let from_json = KeyValues::from_json(&out.stdout).unwrap();
    let out = env.kiss(&["export", "-name", "db", "-format", "k8s-secret"], None);
    let manifest = KeyValues::from_k8s_secret(out.ok()).unwrap();
    assert_eq!(
        (manifest.name.as_deref(), manifest.namespace.as_deref()),
        (Some("db"), Some(NS))
    );
    assert!(
        out.stdout.contains("\ntype: Opaque\ndata:\n  user: YXBw\n"),
        "{out:#?}"
    );
    for kv in [&from_env, &from_json, &manifest.keys] {
        assert_eq!(
            kv.iter().map(|(k, v)| (k, v.as_text())).collect::<Vec<_>>(),
            [
                ("user", "app"),
                ("password", "new-pass"),
                ("note", "é\nline2\n")
            ]
        );
    }
    let out = env.kiss(
        &[
            "export",
            "-name",
            "db",
            "-format",
            "k8s-secret",
            "-namespace-of-secret",
            "prod",
        ],
        None,
    );
    assert!(out.ok().contains("\n  namespace: prod\n"), "{out:#?}");
}

#[tokio::test]
async fn import_single_and_split_with_a_rerun_on_moto() {
    let env = Env::start().await;

    // A .env file into one JSON secret.
    let dotenv = env.file(
        "app.env",
        "# app settings\nexport DB_HOST=db.internal\nDB_PASS='p@ss w0rd'\nMOTD=\"hello\\n wörld\"\n",
    );
    let out = env.kiss(&["import", "-name", "app", "-file", &dotenv], None);
    assert_eq!(out.ok(), "Successfully imported 3 keys into secret 'app'\n");
    assert_eq!(
        env.value("app"),
        "{\n  \"DB_HOST\": \"db.internal\",\n  \"DB_PASS\": \"p@ss w0rd\",\n  \"MOTD\": \"hello\\n wörld\"\n}"
    );
    // Importing onto an existing secret is refused, nothing changed.
    let out = env.kiss(&["import", "-name", "app", "-file", &dotenv], None);
    assert!(out.fails_with(1).contains("kiss-tui update"), "{out:#?}");
    // A file with a duplicate key: refused before anything is written.
    let dup = env.file("dup.env", "A=1\nB=2\nA=3\n");
    let out = env.kiss(&["import", "-name", "dup", "-file", &dup], None);
    let err = out.fails_with(1);
    assert!(
        err.contains("line 3: the key 'A' is already set on line 1"),
        "{err}"
    );

    // A real `kubectl get secret -o yaml` into one secret, and split.
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/kubectl-get-secret.yaml"
    );
    let out = env.kiss(&["import", "-name", "web", "-file", fixture], None);
    assert_eq!(out.ok(), "Successfully imported 4 keys into secret 'web'\n");
    let pem = env.kiss(
        &["get", "-name", "web", "-key", "ca.crt", "-show-value"],
        None,
    );
    assert!(
        pem.ok().starts_with("-----BEGIN CERTIFICATE-----\nMIIB")
            && pem.stdout.ends_with("-----END CERTIFICATE-----\n"),
        "{pem:#?}"
    );
    let out = env.kiss(
        &["import", "-name", "k8s", "-file", fixture, "-split"],
        None,
    );
    assert_eq!(
        out.ok(),
        "Created secret 'k8s-db-password' (key 'DB_PASSWORD')\n\
         Created secret 'k8s-db-user' (key 'DB_USER')\n\
         Created secret 'k8s-ca-crt' (key 'ca.crt')\n\
         Created secret 'k8s-greeting' (key 'greeting')\n\
         Successfully imported 4 keys: 4 secrets created, 0 already existed\n"
    );
    assert_eq!(env.value("k8s-db-password"), "pa$$ w0rd'\"#");
    assert_eq!(env.value("k8s-greeting"), "héllo wörld 🔑");
    assert_eq!(env.value("k8s-ca-crt"), pem.stdout);
    // The same command again skips everything.
    let out = env.kiss(
        &["import", "-name", "k8s", "-file", fixture, "-split"],
        None,
    );
    let text = out.ok();
    assert_eq!(text.matches("Skipped secret").count(), 4, "{text}");
    assert!(
        text.ends_with("0 secrets created, 4 already existed\n"),
        "{text}"
    );

    // Names that cannot be made: nothing is written at all.
    let before = env.list();
    let clash = env.file("clash.env", "OK=1\nDB_HOST=a\ndb-host=b\n");
    let out = env.kiss(&["import", "-name", "c", "-file", &clash, "-split"], None);
    assert!(
        out.fails_with(1)
            .contains("would both be the secret 'c-db-host'"),
        "{out:#?}"
    );
    assert_eq!(env.list(), before);

    // A refusal half-way: what was created is reported, the rest not
    // written; once fixed, the same command finishes, skipping what exists.
    env.kiss(&["create", "-name", "s-b", "-value", "old"], None)
        .ok();
    env.kiss(&["delete", "-name", "s-b"], None).ok();
    let three = env.file("three.env", "A=1\nB=2\nC=3\n");
    let out = env.kiss(&["import", "-name", "s", "-file", &three, "-split"], None);
    let err = out.fails_with(1);
    assert!(
        err.contains("import stopped at secret 's-b' (key 'B')")
            && err.contains("created before it: s-a")
            && err.contains("kiss-tui restore"),
        "{err}"
    );
    assert_eq!(out.stdout, "Created secret 's-a' (key 'A')\n");
    assert!(!env.list().contains(&"s-c".to_owned()));
    env.kiss(&["restore", "-name", "s-b"], None).ok();
    let out = env.kiss(&["import", "-name", "s", "-file", &three, "-split"], None);
    let text = out.ok();
    assert!(
        text.contains("Skipped secret 's-a'")
            && text.contains("Skipped secret 's-b'")
            && text.contains("Created secret 's-c' (key 'C')")
            && text.ends_with("1 secrets created, 2 already existed\n"),
        "{text}"
    );
    assert_eq!(env.value("s-c"), "3");
    // The skipped one kept its own value: it was not compared or changed.
    assert_eq!(env.value("s-b"), "old");
}

#[tokio::test]
async fn concurrent_set_key_on_two_keys_keeps_both_changes_on_moto() {
    let env = Env::start().await;
    env.kiss(
        &[
            "create",
            "-name",
            "shared",
            "-value",
            r#"{"a":"0","b":"0"}"#,
        ],
        None,
    )
    .ok();

    // Two processes both read the same version before either writes.
    let (hold_a, hold_b) = (env.dir.path().join("hold-a"), env.dir.path().join("hold-b"));
    for hold in [&hold_a, &hold_b] {
        std::fs::create_dir(hold).unwrap();
        // A retry's read goes on at once.
        go(hold, 2);
    }
    let a = env.spawn_held(
        &["set-key", "-name", "shared", "-key", "a", "-value", "1"],
        &hold_a,
    );
    let b = env.spawn_held(
        &["set-key", "-name", "shared", "-key", "b", "-value", "2"],
        &hold_b,
    );
    wait_for(&hold_a.join("read-1"));
    wait_for(&hold_b.join("read-1"));
    go(&hold_a, 1);
    go(&hold_b, 1);
    let (a, b) = (finish(a), finish(b));
    a.ok();
    b.ok();
    // One of them met the other's write and did its change again on top.
    let retries = [&a, &b]
        .iter()
        .filter(|r| r.stderr.contains("reading it again"))
        .count();
    assert_eq!(retries, 1, "{a:#?}\n{b:#?}");
    assert_eq!(env.value("shared"), r#"{"a":"1","b":"2"}"#);

    // A change that meets someone else's write twice gives up with exit 3,
    // writing nothing: the other writer's value stands.
    let hold = env.dir.path().join("hold-c");
    std::fs::create_dir(&hold).unwrap();
    let c = env.spawn_held(
        &["set-key", "-name", "shared", "-key", "a", "-value", "mine"],
        &hold,
    );
    for n in 1..=2 {
        wait_for(&hold.join(format!("read-{n}")));
        let theirs = format!(r#"{{"a":"theirs-{n}","b":"2"}}"#);
        env.kiss(&["update", "-name", "shared", "-value", &theirs], None)
            .ok();
        go(&hold, n);
    }
    let c = finish(c);
    let err = c.fails_with(3);
    assert!(
        err.contains("changed by someone else twice") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(env.value("shared"), r#"{"a":"theirs-2","b":"2"}"#);
}
