//! Every scripting verb end to end: the real `kiss-tui` binary against a real
//! dev-mode kiss-server on a loopback port.

mod cli_support;

use cli_support::{Dev, kiss_in, ping_in};
use kiss_tui::tokens::REFRESH_HINT;

const NS: &str = "team-a";

#[test]
fn ping_list_and_whoami() {
    let dev = Dev::shared();
    let out = dev.kiss(&["ping", "-namespace", NS]);
    assert_eq!(out.ok(), "Successfully sent ping\n");

    let list = dev.kiss(&["list", "-namespace", NS]);
    let names: Vec<&str> = list.ok().lines().collect();
    for sample in ["database-url", "api-key", "tls-bundle"] {
        assert!(names.contains(&sample), "{names:?}");
    }

    let json = dev.kiss(&["list", "-namespace", NS, "-output", "json"]);
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    let entry = v["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "api-key")
        .expect("api-key listed");
    assert!(entry["created"].as_str().unwrap().ends_with('Z'), "{entry}");

    let who = dev.kiss(&["whoami"]);
    let text = who.ok();
    assert!(text.contains("demo@kiss.dev"), "{text}");
    assert!(text.contains("team-a, team-b"), "{text}");
    assert!(text.contains("deletes:    restorable for 7 days"), "{text}");
    let who = dev.kiss(&["whoami", "-output=json"]);
    let v: serde_json::Value = serde_json::from_str(who.ok()).unwrap();
    assert_eq!(v["identifier"], "demo@kiss.dev");
    assert_eq!(v["admin"], false);
    assert_eq!(v["deletion_recovery_days"], 7);
    assert_eq!(
        v["namespaces"],
        serde_json::json!(["sandbox", "team-a", "team-b"])
    );
}

#[test]
fn create_from_piped_stdin_keeps_newlines_and_update_replaces() {
    let dev = Dev::shared();
    let value = b"line one\nline two\n\n  indented\ttab \xc3\xa9\n";
    let out = dev.kiss_stdin(&["create", "-namespace", NS, "-name", "piped"], Some(value));
    assert_eq!(out.ok(), "Successfully created secret\n");
    let got = dev.kiss(&["get", "-namespace", NS, "-name", "piped", "-show-value"]);
    got.ok();
    assert_eq!(got.stdout_bytes, value);

    let newer = b"second\nversion\n";
    let out = dev.kiss_stdin(&["update", "-namespace", NS, "-name", "piped"], Some(newer));
    assert_eq!(out.ok(), "Successfully updated secret\n");
    let got = dev.kiss(&["get", "-namespace", NS, "-name", "piped", "-show-value"]);
    got.ok();
    assert_eq!(got.stdout_bytes, newer);

    // -value wins over stdin; a value starting with '-' stays a value.
    let out = dev.kiss_stdin(
        &[
            "update",
            "-namespace",
            NS,
            "-name",
            "piped",
            "-value",
            "-dash-first",
        ],
        Some(b"ignored"),
    );
    out.ok();
    let got = dev.kiss(&["get", "-namespace", NS, "-name", "piped", "-show-value"]);
    assert_eq!(got.ok(), "-dash-first");

    let created_twice = dev.kiss(&["create", "-namespace", NS, "-name", "piped", "-value", "x"]);
    let err = created_twice.fails_with(1);
    assert!(err.contains("piped"), "{err}");
}

#[test]
fn create_from_a_missing_file_fails_before_any_token_is_chosen() {
    let dev = Dev::shared();
    let empty = dev.scratch("create-from-missing-file");
    let missing = empty.join("missing.txt");
    let out = dev.kiss_raw(
        &[
            "create-from",
            "-namespace",
            NS,
            "-name",
            "never",
            "-value",
            missing.to_str().unwrap(),
            "-server-addr",
            &dev.addr(),
            "-secure=false",
            "-token-dir",
            empty.to_str().unwrap(),
        ],
        None,
        &[],
    );
    let err = out.fails_with(1);
    assert!(err.contains("cannot read the file"), "{err}");
    assert!(err.contains("missing.txt"), "{err}");
    assert!(!err.contains("token"), "{err}");
}

#[test]
fn create_from_a_file_round_trips_byte_for_byte() {
    let dev = Dev::shared();
    let dir = dev.scratch("create-from");
    let path = dir.join("cert.pem");
    let body = "-----BEGIN CERTIFICATE-----\nMIIB\r\nabc\n\n-----END CERTIFICATE-----\n";
    std::fs::write(&path, body).unwrap();
    let out = dev.kiss(&[
        "create-from",
        "-namespace",
        NS,
        "-name",
        "from-file",
        "-value",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.ok(), "Successfully created secret\n");
    let got = dev.kiss(&["get", "-namespace", NS, "-name", "from-file", "-show-value"]);
    got.ok();
    assert_eq!(got.stdout_bytes, body.as_bytes());

    let json = dev.kiss(&[
        "get",
        "-namespace",
        NS,
        "-name",
        "from-file",
        "-show-value",
        "-output",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(v["value"], body);
    assert_eq!(v["name"], "from-file");

    let details = dev.kiss(&["get", "-namespace", NS, "-name", "from-file"]);
    let text = details.ok();
    assert!(
        text.contains("from-file") && text.contains("read policy:"),
        "{text}"
    );
    assert!(
        !text.contains("BEGIN CERTIFICATE"),
        "the value must stay hidden: {text}"
    );

    let binary = dir.join("binary");
    std::fs::write(&binary, [0x00, 0xff, 0xfe]).unwrap();
    let out = dev.kiss(&[
        "create-from",
        "-namespace",
        NS,
        "-name",
        "binary",
        "-value",
        binary.to_str().unwrap(),
    ]);
    let err = out.fails_with(1);
    assert!(err.contains("not UTF-8"), "{err}");
    let out = dev.kiss(&[
        "create-from",
        "-namespace",
        NS,
        "-name",
        "nofile",
        "-value",
        "/nonexistent/file",
    ]);
    assert!(
        out.fails_with(1)
            .contains("cannot read the file /nonexistent/file")
    );
}

#[test]
fn delete_list_deleted_and_restore() {
    let dev = Dev::shared();
    dev.kiss(&[
        "create",
        "-namespace",
        NS,
        "-name",
        "short-lived",
        "-value",
        "v",
    ])
    .ok();
    let out = dev.kiss(&["delete", "-namespace", NS, "-name", "short-lived"]);
    assert_eq!(out.ok(), "Successfully deleted secret\n");
    assert!(out.stderr.contains("restore"), "{}", out.stderr);
    let list = dev.kiss(&["list", "-namespace", NS]);
    assert!(!list.ok().lines().any(|l| l == "short-lived"));
    let deleted = dev.kiss(&["list", "-namespace", NS, "-deleted"]);
    assert!(
        deleted.ok().lines().any(|l| l == "short-lived"),
        "{deleted:?}"
    );
    let json = dev.kiss(&["list", "-deleted", "-output", "json", "-namespace", NS]);
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    let entry = v["deleted_secrets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "short-lived")
        .expect("listed as deleted");
    assert!(entry["deletion_date"].is_string(), "{entry}");

    let out = dev.kiss(&["restore", "-namespace", NS, "-name", "short-lived"]);
    assert_eq!(out.ok(), "Successfully restored secret\n");
    let list = dev.kiss(&["list", "-namespace", NS]);
    assert!(list.ok().lines().any(|l| l == "short-lived"));

    let missing = dev.kiss(&["delete", "-namespace", NS, "-name", "never-existed"]);
    let err = missing.fails_with(1);
    assert!(err.contains("never-existed"), "{err}");
}

#[test]
fn policy_bind_unbind_and_delete_with_policy() {
    let dev = Dev::shared();
    let ns = "team-b";
    let out = dev.kiss(&[
        "create",
        "-namespace",
        ns,
        "-name",
        "bound",
        "-value",
        "v",
        "-policy",
    ]);
    assert_eq!(
        out.ok(),
        "Successfully created secret\nSuccessfully created secret IAM policy\n"
    );
    let out = dev.kiss(&[
        "bind",
        "-namespace",
        ns,
        "-name",
        "bound",
        "-service-account",
        "app",
    ]);
    assert_eq!(out.ok(), "Successfully bound secret to service account\n");
    let json = dev.kiss(&["get", "-namespace", ns, "-name", "bound", "-output", "json"]);
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(v["has_read_policy"], true);
    assert_eq!(v["bound_service_accounts"], serde_json::json!(["app"]));
    assert!(v.get("value").is_none(), "{v}");

    // Still bound: nothing is deleted, and the user is told what holds it.
    let out = dev.kiss(&["delete", "-namespace", ns, "-name", "bound", "-policy"]);
    let err = out.fails_with(1);
    assert!(err.contains("app"), "{err}");
    assert!(err.contains("kiss-tui unbind "), "{err}");
    assert!(err.contains("kiss-tui delete-policy "), "{err}");
    assert!(!err.contains("ask to unbind"), "{err}");
    assert!(
        dev.kiss(&["list", "-namespace", ns])
            .ok()
            .lines()
            .any(|l| l == "bound")
    );

    let out = dev.kiss(&[
        "unbind",
        "-namespace",
        ns,
        "-name",
        "bound",
        "-service-account",
        "app",
    ]);
    assert_eq!(out.ok(), "Successfully unbound secret\n");
    let out = dev.kiss(&["delete", "-namespace", ns, "-name", "bound", "-policy"]);
    assert_eq!(
        out.ok(),
        "Successfully deleted secret IAM policy\nSuccessfully deleted secret\n"
    );
    let bad_sa = dev.kiss(&[
        "bind",
        "-namespace",
        ns,
        "-name",
        "bound",
        "-service-account",
        "App_1",
    ]);
    let err = bad_sa.fails_with(2);
    assert!(
        err.contains("--service-account") && err.contains("uppercase"),
        "{err}"
    );
}

#[test]
fn create_policy_and_delete_policy_for_an_existing_secret() {
    let dev = Dev::shared();
    let ns = "team-b";
    let bind = [
        "bind",
        "-namespace",
        ns,
        "-name",
        "later",
        "-service-account",
        "app",
    ];
    let out = dev.kiss(&["create", "-namespace", ns, "-name", "later", "-value", "v"]);
    assert_eq!(out.ok(), "Successfully created secret\n");
    // No read policy yet: bind cannot work.
    dev.kiss(&bind).fails_with(1);

    let out = dev.kiss(&["create-policy", "-namespace", ns, "-name", "later"]);
    assert_eq!(
        out.ok(),
        "Successfully created read policy for secret 'later'\n"
    );
    assert_eq!(
        dev.kiss(&bind).ok(),
        "Successfully bound secret to service account\n"
    );

    // Still bound: refused, nothing detached, and the hint names the commands.
    let delete = ["delete-policy", "-namespace", ns, "-name", "later"];
    let err = dev.kiss(&delete).fails_with(1).to_owned();
    assert!(err.contains("app"), "{err}");
    assert!(err.contains("kiss-tui unbind "), "{err}");
    assert!(err.contains("-unbind"), "{err}");
    assert!(!err.contains("ask to unbind"), "{err}");
    let json = dev.kiss(&["get", "-namespace", ns, "-name", "later", "-output", "json"]);
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(v["bound_service_accounts"], serde_json::json!(["app"]));

    let out = dev.kiss(&[
        "delete-policy",
        "-namespace",
        ns,
        "-name",
        "later",
        "-unbind",
    ]);
    assert_eq!(
        out.ok(),
        "Successfully deleted read policy for secret 'later'\nUnbound from ServiceAccounts: app\n"
    );
    let json = dev.kiss(&["get", "-namespace", ns, "-name", "later", "-output", "json"]);
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    assert_eq!(v["has_read_policy"], false);
    assert_eq!(v["bound_service_accounts"], serde_json::json!([]));
}

#[test]
fn go_and_gnu_flag_spellings_before_or_after_the_verb() {
    let dev = Dev::shared();
    let addr = dev.addr();
    let token = dev.server.user_token_path.to_str().unwrap().to_owned();
    let addr_eq = format!("-server-addr={addr}");
    let token_eq = format!("--token-path={token}");
    let spellings: Vec<Vec<&str>> = vec![
        vec![
            "-namespace",
            NS,
            "-server-addr",
            &addr,
            "-secure=false",
            "-token-path",
            &token,
            "ping",
        ],
        vec![
            "ping",
            "-namespace=team-a",
            &addr_eq,
            "--secure=false",
            &token_eq,
        ],
        vec![
            "--namespace",
            NS,
            "ping",
            "--server-addr",
            &addr,
            "--secure=false",
            "--token-path",
            &token,
            "-timeout",
            "1m30s",
        ],
        vec![
            "-secure=false",
            "ping",
            "-namespace",
            NS,
            &addr_eq,
            "-token-path",
            &token,
            "--timeout=500ms",
            "-debug=false",
        ],
    ];
    for args in spellings {
        let out = dev.kiss_raw(&args, None, &[]);
        assert_eq!(out.ok(), "Successfully sent ping\n", "{args:?}");
    }
}

#[test]
fn usage_errors_exit_2_and_name_the_flag() {
    let dev = Dev::shared();
    let cases: &[(&[&str], &str)] = &[
        (&["create", "-namespace", NS, "-value", "v"], "--name"),
        (&["create-from", "-namespace", NS, "-name", "x"], "--value"),
        (&["update", "-namespace", NS], "--name"),
        (&["delete", "-namespace", NS], "--name"),
        (&["get", "-namespace", NS], "--name"),
        (&["restore", "-namespace", NS], "--name"),
        (
            &["bind", "-namespace", NS, "-name", "x"],
            "--service-account",
        ),
        (
            &["unbind", "-namespace", NS, "-name", "x"],
            "--service-account",
        ),
        (&["ping"], "--namespace"),
        (&["list"], "--namespace"),
        (&["create", "-name", "x", "-value", "v"], "--namespace"),
        (&["get", "-namespace", NS, "-name", "Bad_Name"], "--name"),
        (&["ping", "-namespace", "-bad-"], "--namespace"),
        (&["ping", "-namespace", NS, "-timeout", "10"], "--timeout"),
        (&["ping", "-namespace", NS, "-secure=maybe"], "--secure"),
        (
            &["-secure", "false", "list", "-namespace", NS],
            "-secure=false",
        ),
        (
            &["list", "-namespace", NS, "-deleted", "true"],
            "-deleted=true",
        ),
        (&["list", "-namespace", NS, "-output", "yaml"], "--output"),
        (&["frobnicate"], "frobnicate"),
        (&["completions", "tcsh"], "tcsh"),
        (&["history", "-namespace", NS], "--name"),
        (&["rollback", "-namespace", NS, "-name", "x"], "--version"),
        (
            &["rollback", "-namespace", NS, "-name", "x", "-version", "v1"],
            "--version",
        ),
        (
            &["diff", "-namespace", NS, "-name", "x", "-from", "bad id"],
            "--from",
        ),
        (
            &["get", "-namespace", NS, "-name", "x", "-version", "short"],
            "--version",
        ),
    ];
    for (args, flag) in cases {
        let out = dev.kiss(args);
        let err = out.fails_with(2);
        assert!(err.contains(flag), "{args:?} should name {flag}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
}

#[test]
fn help_lists_the_verbs_and_every_verb_has_help() {
    let dev = Dev::shared();
    let help = dev.kiss_raw(&["help"], None, &[]);
    let text = help.ok();
    for verb in [
        "ping",
        "list",
        "get",
        "create",
        "create-from",
        "update",
        "delete",
        "restore",
        "bind",
        "unbind",
        "create-policy",
        "delete-policy",
        "whoami",
        "completions",
    ] {
        assert!(text.contains(verb), "help lists {verb}: {text}");
        let out = dev.kiss_raw(&[verb, "--help"], None, &[]);
        let text = out.ok();
        assert!(text.contains("--namespace"), "{verb} --help: {text}");
        let go_style = dev.kiss_raw(&[verb, "-help"], None, &[]);
        assert_eq!(go_style.ok(), text);
    }
    let create = dev.kiss_raw(&["create", "--help"], None, &[]);
    assert!(create.ok().contains("stdin"));
    assert!(create.ok().contains("localhost:10000"));
    for shell in ["bash", "zsh", "fish"] {
        let out = dev.kiss_raw(&["completions", shell], None, &[]);
        assert!(out.ok().contains("create-from"), "{shell}");
        assert!(out.ok().contains("create-policy"), "{shell}");
        assert!(out.ok().contains("delete-policy"), "{shell}");
    }
}

#[test]
fn a_server_that_is_down_is_a_clear_error() {
    let dev = Dev::shared();
    let port = kiss_testkit::free_port();
    let addr = format!("127.0.0.1:{port}");
    let token = dev.server.user_token_path.to_str().unwrap();
    let out = ping_in(&dev.home(), &addr, &["-token-path", token]);
    let err = out.fails_with(1);
    assert!(
        err.contains(&format!("cannot reach kiss-server at {addr}")),
        "{err}"
    );
    assert!(err.contains("--server-addr"), "{err}");

    // TLS (the default) against a plaintext server: non-zero, and says to check TLS.
    let tls = dev.kiss_raw(
        &[
            "ping",
            "-namespace",
            NS,
            "-server-addr",
            &dev.addr(),
            "-token-path",
            token,
            "-timeout",
            "5s",
        ],
        None,
        &[],
    );
    let err = tls.fails_with(1);
    assert!(err.contains("--secure=false"), "{err}");
}

#[test]
fn permission_denied_shows_the_servers_message() {
    let dev = Dev::shared();
    let out = dev.kiss(&["list", "-namespace", "other-team"]);
    let err = out.fails_with(1);
    assert!(
        err.contains("user 'demo@kiss.dev' is not authorized for namespace 'other-team'"),
        "{err}"
    );
}

#[test]
fn an_expired_token_says_how_to_refresh_it() {
    let dev = Dev::shared();
    let dir = dev.scratch("expired");
    let path = dev.token_file(&dir, "expired", "demo@kiss.dev", &["team-a"], -3600);
    let out = ping_in(
        &dev.home(),
        &dev.addr(),
        &["-token-path", path.to_str().unwrap()],
    );
    let err = out.fails_with(1);
    assert!(err.contains(REFRESH_HINT), "{err}");

    // With only expired tokens in the directory, the client says so before calling.
    let out = ping_in(
        &dev.home(),
        &dev.addr(),
        &["-token-dir", dir.to_str().unwrap()],
    );
    let err = out.fails_with(1);
    assert!(err.contains("expired"), "{err}");
    hint_names_only(err, &dir);

    let empty = dev.scratch("empty-token-dir");
    let out = ping_in(
        &dev.home(),
        &dev.addr(),
        &["-token-dir", empty.to_str().unwrap()],
    );
    let err = out.fails_with(1);
    assert!(err.contains("no token files"), "{err}");
    hint_names_only(err, &empty);
}

/// The log-in hint names the directory searched, not kubelogin's default,
/// and is given once.
fn hint_names_only(err: &str, dir: &std::path::Path) {
    assert!(err.contains(dir.to_str().unwrap()), "{err}");
    assert!(!err.contains("~/.kube/cache/oidc-login"), "{err}");
    assert_eq!(err.matches("log in").count(), 1, "{err}");
}

#[test]
fn the_default_token_is_the_first_usable_file_in_kubelogins_cache() {
    let dev = Dev::shared();
    let home = dev.scratch("home-with-cache");
    let cache = home.join(".kube/cache/oidc-login");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("0-broken"), b"{\"id_token\": ").unwrap();
    std::fs::write(cache.join("1.lock"), b"").unwrap();
    dev.token_file(&cache, "2-expired", "old@kiss.dev", &["team-a"], -60);
    let good = dev.token_file(&cache, "3-good", "demo@kiss.dev", &["team-a"], 3600);
    let out = kiss_in(
        &home,
        &[
            "ping",
            "-namespace",
            NS,
            "-server-addr",
            &dev.addr(),
            "-secure=false",
        ],
        None,
        &[],
    );
    assert_eq!(out.ok(), "Successfully sent ping\n");
    assert!(
        out.stderr
            .contains(&format!("Using token {}", good.display())),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("demo@kiss.dev"), "{}", out.stderr);

    // -interactive: a numbered list of the usable files, the choice read from stdin.
    let out = kiss_in(
        &home,
        &[
            "whoami",
            "-server-addr",
            &dev.addr(),
            "-secure=false",
            "-interactive",
            "-output",
            "json",
        ],
        Some(b"2\n"),
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(v["identifier"], "demo@kiss.dev");
    assert!(out.stderr.contains("1) 2-expired"), "{}", out.stderr);
    assert!(out.stderr.contains("2) 3-good"), "{}", out.stderr);
    assert!(out.stderr.contains("unusable"), "{}", out.stderr);
}

#[test]
fn the_config_file_supplies_defaults_and_flags_override_it() {
    let dev = Dev::shared();
    let dir = dev.scratch("config");
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "server_addr = \"{}\"\nsecure = false\nnamespace = \"team-a\"\ntoken_dir = \"{}\"\n",
            dev.addr(),
            dev.server.token_dir.display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let out = dev.kiss_raw(&["ping"], None, &[("KISS_CONFIG", cfg)]);
    assert_eq!(out.ok(), "Successfully sent ping\n");
    let out = dev.kiss_raw(&["ping", "-config", cfg], None, &[]);
    out.ok();
    // A flag overrides the file's namespace.
    let out = dev.kiss_raw(
        &["list", "-namespace", "sandbox", "-config", cfg],
        None,
        &[],
    );
    // Other tests on the shared server add secrets to sandbox meanwhile.
    assert!(out.ok().lines().any(|l| l == "hello"), "{}", out.stdout);

    std::fs::write(&config, "sever_addr = \"typo\"\n").unwrap();
    let out = dev.kiss_raw(&["ping"], None, &[("KISS_CONFIG", cfg)]);
    assert!(out.fails_with(2).contains("sever_addr"));
}

#[test]
fn tokens_and_values_never_appear_unless_asked() {
    let dev = Dev::shared();
    let token_file = std::fs::read_to_string(&dev.server.user_token_path).unwrap();
    let token: serde_json::Value = serde_json::from_str(&token_file).unwrap();
    let token = token["id_token"].as_str().unwrap();
    let secret = "do-not-print-me";
    let runs = [
        dev.kiss(&[
            "create",
            "-namespace",
            "sandbox",
            "-name",
            "quiet",
            "-value",
            secret,
            "-debug",
        ]),
        dev.kiss(&["get", "-namespace", "sandbox", "-name", "quiet", "-debug"]),
        dev.kiss(&[
            "get",
            "-namespace",
            "sandbox",
            "-name",
            "quiet",
            "-output",
            "json",
        ]),
        dev.kiss(&["list", "-namespace", "sandbox", "-debug"]),
        dev.kiss(&["whoami", "-debug"]),
        dev.kiss(&["list", "-namespace", "nope", "-debug"]),
    ];
    for run in &runs {
        assert!(
            !run.stdout.contains(token) && !run.stderr.contains(token),
            "{run:?}"
        );
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{run:?}"
        );
    }
    assert!(
        runs[0].stderr.contains("connecting"),
        "-debug logs: {}",
        runs[0].stderr
    );
}

#[test]
fn history_get_a_version_diff_and_rollback() {
    let dev = Dev::shared();
    let name = "history-verbs";
    let first = "host=db\nport=5432\nuser=app\n";
    dev.kiss_stdin(
        &["create", "-namespace", NS, "-name", name],
        Some(first.as_bytes()),
    )
    .ok();
    let second = "host=db\nport=6432\nuser=app\n";
    dev.kiss_stdin(
        &["update", "-namespace", NS, "-name", name],
        Some(second.as_bytes()),
    )
    .ok();

    // Newest first, with who wrote it (the dev token's identifier).
    let json = dev.kiss(&[
        "history",
        "-namespace",
        NS,
        "-name",
        name,
        "-output",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
    let versions = v["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2, "{v}");
    assert_eq!(versions[0]["labels"], serde_json::json!(["AWSCURRENT"]));
    assert_eq!(versions[1]["labels"], serde_json::json!(["AWSPREVIOUS"]));
    assert_eq!(versions[0]["author"], "demo@kiss.dev");
    assert!(versions[0]["created"].as_str().unwrap().ends_with('Z'));
    let newer = versions[0]["version_id"].as_str().unwrap().to_owned();
    let older = versions[1]["version_id"].as_str().unwrap().to_owned();
    let table = dev.kiss(&["history", "-namespace", NS, "-name", name]);
    let lines: Vec<&str> = table.ok().lines().collect();
    assert!(
        lines[0].starts_with("VERSION") && lines[0].contains("BY"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with(&newer) && lines[1].contains("demo@kiss.dev"),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with(&older) && lines[2].ends_with("AWSPREVIOUS"),
        "{lines:?}"
    );

    // An earlier version: details, or exactly its value.
    let got = dev.kiss(&[
        "get",
        "-namespace",
        NS,
        "-name",
        name,
        "-version",
        &older,
        "-show-value",
    ]);
    assert_eq!(got.ok(), first);
    let details = dev.kiss(&["get", "-namespace", NS, "-name", name, "-version", &older]);
    assert!(details.ok().contains(&older), "{}", details.stdout);
    assert!(!details.stdout.contains("5432"));

    // The diff: masked unless asked; by default the previous against the current.
    let masked = dev.kiss(&["diff", "-namespace", NS, "-name", name]);
    let text = masked.ok();
    assert!(!text.contains("5432") && !text.contains("host"), "{text}");
    assert!(text.contains(&format!("--- version {older}")), "{text}");
    assert!(
        text.contains(&format!("+++ version {newer} (current)")),
        "{text}"
    );
    assert!(masked.stderr.contains("-show-values"), "{}", masked.stderr);
    let shown = dev.kiss(&["diff", "-namespace", NS, "-name", name, "-show-values"]);
    assert!(
        shown.ok().contains("-port=5432\n+port=6432\n"),
        "{}",
        shown.stdout
    );
    assert!(
        shown.stderr.contains("1 line added, 1 removed"),
        "{}",
        shown.stderr
    );

    // Rollback, stale first.
    let stale = dev.kiss(&[
        "rollback",
        "-namespace",
        NS,
        "-name",
        name,
        "-version",
        &older,
        "-expected-version",
        &older,
    ]);
    let err = stale.fails_with(1);
    assert!(err.contains("changed"), "{err}");
    let done = dev.kiss(&[
        "rollback",
        "-namespace",
        NS,
        "-name",
        name,
        "-version",
        &older,
        "-expected-version",
        &newer,
    ]);
    assert!(
        done.ok()
            .starts_with(&format!("Successfully rolled back secret '{name}'"))
    );
    let now = dev.kiss(&["get", "-namespace", NS, "-name", name, "-show-value"]);
    assert_eq!(now.ok(), first);
    let same = dev.kiss(&["diff", "-namespace", NS, "-name", name, "-from", &older]);
    assert_eq!(same.ok(), "");
    assert!(same.stderr.contains("same value"), "{}", same.stderr);

    // A version the server does not hold.
    let gone = "00000000-0000-4000-8000-000000000000";
    let missing = dev.kiss(&[
        "rollback",
        "-namespace",
        NS,
        "-name",
        name,
        "-version",
        gone,
    ]);
    let err = missing.fails_with(1);
    assert!(err.contains(gone), "{err}");
}

#[test]
fn update_with_expected_version_refuses_a_stale_one_and_writes_nothing() {
    let dev = Dev::shared();
    let name = "expected-update";
    dev.kiss(&["create", "-namespace", NS, "-name", name, "-value", "one"])
        .ok();
    let current = || {
        let json = dev.kiss(&["get", "-namespace", NS, "-name", name, "-output", "json"]);
        let v: serde_json::Value = serde_json::from_str(json.ok()).unwrap();
        v["version_id"].as_str().unwrap().to_owned()
    };
    let first = current();
    dev.kiss(&["update", "-namespace", NS, "-name", name, "-value", "two"])
        .ok();
    // A script that read the first version is refused: someone wrote since.
    let stale = dev.kiss(&[
        "update",
        "-namespace",
        NS,
        "-name",
        name,
        "-value",
        "three",
        "-expected-version",
        &first,
    ]);
    let err = stale.fails_with(1);
    assert!(err.contains("changed"), "{err}");
    let value = dev.kiss(&["get", "-namespace", NS, "-name", name, "-show-value"]);
    assert_eq!(value.ok(), "two", "nothing was written");
    // With the version it read, it goes through.
    let out = dev.kiss(&[
        "update",
        "-namespace",
        NS,
        "-name",
        name,
        "-value",
        "three",
        "-expected-version",
        &current(),
    ]);
    assert_eq!(out.ok(), "Successfully updated secret\n");
    let value = dev.kiss(&["get", "-namespace", NS, "-name", name, "-show-value"]);
    assert_eq!(value.ok(), "three");
    // A malformed id is a usage error, sent nowhere.
    let bad = dev.kiss(&[
        "update",
        "-namespace",
        NS,
        "-name",
        name,
        "-value",
        "four",
        "-expected-version",
        "not a version",
    ]);
    assert!(
        bad.fails_with(2).contains("expected-version"),
        "{}",
        bad.stderr
    );
}
