//! The real `kiss-server` binary with its AWS backend against moto, driven
//! over gRPC with Cognito ID tokens; the AWS state is checked directly
//! through the SDK. Also the outage: moto stopped mid-run, then back.
#![cfg(feature = "aws")]

use std::net::SocketAddr;

use kiss_testkit::aws::{AwsState, kiss_tags};
use kiss_testkit::{ACCOUNT, Caller, Cognito, KissServer, Moto, ServerProcess};
use tonic::{Code, Status};
use tonic_health::pb::health_check_response::ServingStatus;

const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";
use kiss_testkit::NAMESPACES_REGEX as REGEX;

/// moto, a Cognito pool in it, and a kiss-server process using both.
struct Stack {
    moto: Moto,
    cognito: Cognito,
    server: ServerProcess,
    metrics: SocketAddr,
    aws: AwsState,
}

impl Stack {
    async fn start() -> Stack {
        Stack::with_users(
            &[
                (ALICE, &["kaluza:team", "kaluza:apps", "not-a-kiss-group"]),
                (BOB, &["kaluza:team-x"]),
            ],
            &[],
        )
        .await
    }

    async fn with_users(users: &[(&str, &[&str])], flags: &[&str]) -> Stack {
        let moto = Moto::start();
        let cognito = Cognito::setup(&moto, users);
        let metrics = SocketAddr::from(([127, 0, 0, 1], kiss_testkit::free_port()));
        let mut server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"))
            .aws(&moto)
            .cognito(&cognito, REGEX)
            .args(["--metrics-addr", &metrics.to_string()])
            .args(flags)
            .spawn();
        server.wait_ready().await;
        Stack {
            aws: AwsState::of(&moto).await,
            moto,
            cognito,
            server,
            metrics,
        }
    }

    /// The sum of `kiss_aws_calls_total` over series whose labels contain
    /// `api` and `outcome="<outcome>"`.
    fn aws_calls(&self, api: &str, outcome: &str) -> f64 {
        let text = kiss_testkit::http_get(self.metrics, "/metrics").unwrap();
        text.lines()
            .filter(|l| l.starts_with("kiss_aws_calls_total{"))
            .filter(|l| l.contains(api) && l.contains(&format!("outcome=\"{outcome}\"")))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    fn server_log(&self) -> String {
        self.server.log()
    }

    async fn health(&self) -> Option<ServingStatus> {
        let status = kiss_testkit::health(self.server.addr, "").await?;
        ServingStatus::try_from(status).ok()
    }

    /// `email`'s client, on a connection of its own.
    async fn caller(&self, email: &str) -> Caller {
        Caller::connect(self.server.addr, self.token(email)).await
    }

    fn token(&self, email: &str) -> String {
        self.cognito.token(email).to_owned()
    }
}

fn code<T: std::fmt::Debug>(result: Result<T, Status>) -> (Code, String) {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(s) => (s.code(), s.message().to_owned()),
    }
}

#[tokio::test]
async fn every_rpc_through_grpc_with_the_aws_state_checked() {
    let stack = Stack::start().await;
    let mut alice = stack.caller(ALICE).await;
    let value = "first line\nsecond line\n\ttabbed\r\nünïcødé ✓ 🔑 \"q\" \\ ";
    let aws_name = "k8s-secret-apps-db";

    alice.ping("apps").await.unwrap();
    let me = alice.who_am_i().await.unwrap();
    assert_eq!(me.identifier, ALICE);
    assert_eq!(me.namespaces, ["apps", "team"]);
    assert!(!me.admin);

    // Create: name, tags and the exact value in AWS.
    let v1 = alice.create("apps", "db", value).await.unwrap();
    assert!(!v1.is_empty());
    assert_eq!(stack.aws.value(aws_name).await, value);
    let (authors, tags) = stack.aws.split_tags(aws_name).await;
    assert_eq!(tags, kiss_tags("apps", "db"));
    // Who wrote the version: the token's identifier.
    let author = authors.get(&v1).expect("the version's author tag");
    assert!(author.ends_with(&format!(" {ALICE}")), "{author}");
    assert_eq!(authors.len(), 1);
    let arn = stack.aws.arn(aws_name).await;
    let (status, _) = code(alice.create("apps", "db", "again").await);
    assert_eq!(status, Code::AlreadyExists);

    // List and get.
    let list = alice.list_entries("apps").await.unwrap();
    assert_eq!(list.secrets, ["db"]);
    assert_eq!(list.entries.len(), 1);
    assert!(list.entries[0].created.is_some());
    let details = alice.get("apps", "db", true).await.unwrap();
    assert_eq!(details.value.as_deref(), Some(value));
    assert_eq!(details.version_id, v1);
    assert_eq!(details.aws_name, aws_name);
    assert_eq!(details.arn, arn);
    assert!(!details.has_read_policy);

    // Update on the current version, then a stale one: ABORTED, nothing written.
    let v2 = alice
        .update("apps", "db", "second\n", &v1)
        .await
        .unwrap()
        .version_id;
    assert_ne!(v2, v1);
    assert_eq!(stack.aws.value(aws_name).await, "second\n");
    let (status, message) = code(alice.update("apps", "db", "lost", &v1).await);
    assert_eq!(status, Code::Aborted, "{message}");
    assert_eq!(stack.aws.value(aws_name).await, "second\n");
    // The Go client sends no version: whatever is current is replaced.
    alice.update("apps", "db", value, "").await.unwrap();
    assert_eq!(stack.aws.value(aws_name).await, value);

    // Bind needs the policy; then the policy document and the attachment in IAM.
    stack.moto.create_role("k8s-sa_apps_web").await;
    let (status, message) = code(alice.bind("apps", "db", "web").await);
    // The stable part: what is missing (the advice is the client's).
    assert_eq!(status, Code::FailedPrecondition);
    assert!(message.contains("no read policy"), "{message}");
    let policy_arn = alice.create_policy("apps", "db").await.unwrap();
    assert_eq!(
        policy_arn,
        format!("arn:aws:iam::{ACCOUNT}:policy/k8s-secret_apps_db")
    );
    let doc = stack
        .aws
        .policy_document(&policy_arn)
        .await
        .expect("the policy exists");
    let statement = &doc["Statement"][0];
    assert_eq!(statement["Resource"], arn.as_str());
    assert_eq!(
        statement["Action"],
        serde_json::json!([
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret"
        ])
    );
    assert!(statement.get("Condition").is_none());

    alice.bind("apps", "db", "web").await.unwrap();
    assert_eq!(
        stack.aws.attached("k8s-sa_apps_web").await,
        vec![policy_arn.clone()]
    );
    let (status, message) = code(alice.bind("apps", "db", "ghost").await);
    assert_eq!(status, Code::NotFound);
    assert!(message.contains("k8s-sa_apps_ghost"), "{message}");
    let details = alice.get("apps", "db", false).await.unwrap();
    assert!(details.has_read_policy);
    assert_eq!(details.policy_arn, policy_arn);
    assert_eq!(details.bound_service_accounts, ["web"]);
    assert_eq!(details.value, None);

    // Delete policy: refused while bound; unbind; bound again and deleted with unbind.
    let (status, message) = code(alice.delete_policy("apps", "db", false).await);
    assert_eq!(status, Code::FailedPrecondition);
    assert!(message.contains("web"), "{message}");
    alice.unbind("apps", "db", "web").await.unwrap();
    assert!(stack.aws.attached("k8s-sa_apps_web").await.is_empty());
    alice.bind("apps", "db", "web").await.unwrap();
    let unbound = alice
        .delete_policy("apps", "db", true)
        .await
        .unwrap()
        .unbound_service_accounts;
    assert_eq!(unbound, ["web"]);
    assert!(stack.aws.attached("k8s-sa_apps_web").await.is_empty());
    assert!(stack.aws.policy_document(&policy_arn).await.is_none());

    // Delete, list deleted, the name held, restore.
    let deleted = alice.delete("apps", "db").await.unwrap();
    assert!(deleted.deletion_date.is_some());
    assert!(stack.aws.deleted(aws_name).await);
    assert!(alice.list("apps").await.unwrap().is_empty());
    let gone = alice.list_deleted("apps").await.unwrap();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].name, "db");
    assert!(gone[0].deletion_date.is_some());
    let (status, message) = code(alice.create("apps", "db", "new").await);
    assert_eq!(status, Code::FailedPrecondition);
    assert!(message.contains("scheduled for deletion"), "{message}");
    alice.restore("apps", "db").await.unwrap();
    assert!(!stack.aws.deleted(aws_name).await);
    assert_eq!(stack.aws.value(aws_name).await, value);
    let (status, _) = code(alice.restore("apps", "db").await);
    assert_eq!(status, Code::FailedPrecondition);

    // Namespaces the token does not grant, and names kiss refuses.
    let (status, _) = code(alice.list("team-x").await);
    assert_eq!(status, Code::PermissionDenied);
    let (status, _) = code(alice.create("apps", "Bad_Name", "v").await);
    assert_eq!(status, Code::InvalidArgument);

    // The server's log (audit records included) never holds a value.
    let log = stack.server_log();
    assert!(log.contains("CreateSecret"), "no audit record:\n{log}");
    for secret in ["first line", "second\\n", "ünïcødé"] {
        assert!(!log.contains(secret), "a value reached the log:\n{log}");
    }
}

#[tokio::test]
async fn colliding_names_over_grpc_are_not_found_for_the_other_namespace() {
    let stack = Stack::start().await;
    let mut alice = stack.caller(ALICE).await;
    let mut bob = alice.as_user(stack.token(BOB));
    stack.moto.create_role("k8s-sa_team_app").await;
    stack.moto.create_role("k8s-sa_team-x_app").await;

    // team + x-foo and team-x + foo are both k8s-secret-team-x-foo.
    alice.create("team", "x-foo", "alice's").await.unwrap();
    alice.create_policy("team", "x-foo").await.unwrap();

    let (ns, name) = ("team-x", "foo");
    let results = [
        ("get", bob.get(ns, name, true).await.map(drop)),
        ("update", bob.update(ns, name, "bob's", "").await.map(drop)),
        ("delete", bob.delete(ns, name).await.map(drop)),
        ("restore", bob.restore(ns, name).await),
        ("create policy", bob.create_policy(ns, name).await.map(drop)),
        (
            "delete policy",
            bob.delete_policy(ns, name, true).await.map(drop),
        ),
        ("bind", bob.bind(ns, name, "app").await),
        ("unbind", bob.unbind(ns, name, "app").await),
    ];
    for (what, result) in results {
        let (status, message) = code(result);
        assert_eq!(status, Code::NotFound, "{what}: {message}");
        assert!(
            !message.contains("'team'"),
            "{what} reveals the owner: {message}"
        );
    }
    let (status, message) = code(bob.create(ns, name, "bob's").await);
    assert_eq!(status, Code::AlreadyExists);
    assert!(!message.contains("'team'"), "{message}");
    assert!(bob.list(ns).await.unwrap().is_empty());

    // Alice's secret and policy are exactly as she left them.
    assert_eq!(stack.aws.value("k8s-secret-team-x-foo").await, "alice's");
    assert!(!stack.aws.deleted("k8s-secret-team-x-foo").await);
    assert_eq!(
        stack.aws.split_tags("k8s-secret-team-x-foo").await.1,
        kiss_tags("team", "x-foo")
    );
    assert!(
        stack
            .aws
            .policy_document(&format!(
                "arn:aws:iam::{ACCOUNT}:policy/k8s-secret_team_x-foo"
            ))
            .await
            .is_some()
    );
    assert!(stack.aws.attached("k8s-sa_team-x_app").await.is_empty());
}

#[tokio::test]
async fn moto_outage_is_unavailable_and_the_server_recovers_without_restart() {
    let mut stack = Stack::start().await;
    let mut alice = stack.caller(ALICE).await;
    alice.create("team", "before", "v").await.unwrap();
    assert_eq!(alice.list("team").await.unwrap(), ["before"]);

    assert!(
        stack.aws_calls("CreateSecret", "ok") >= 1.0,
        "AWS calls are counted"
    );
    let errors_before = stack.aws_calls("ListSecrets", "error");
    stack.moto.stop();
    // The write goes first: it also ends the reuse of the listing above
    // (identical listings within a second are answered once), so the
    // listing after it really asks AWS.
    let (status, _) = code(alice.create("team", "during", "v").await);
    assert_eq!(status, Code::Unavailable);
    let (status, message) = code(alice.list("team").await);
    assert_eq!(status, Code::Unavailable, "{message}");
    // The server itself keeps serving: health answers, and calls that need
    // no AWS work (the token's keys are cached).
    assert_eq!(stack.health().await, Some(ServingStatus::Serving));
    alice.ping("team").await.unwrap();

    // moto is back, empty; the same server and client work again.
    stack.moto.restart();
    assert!(alice.list("team").await.unwrap().is_empty());
    alice.create("team", "after", "v").await.unwrap();
    assert_eq!(stack.aws.value("k8s-secret-team-after").await, "v");
    assert_eq!(alice.list("team").await.unwrap(), ["after"]);
    assert!(
        stack.aws_calls("ListSecrets", "error") > errors_before,
        "the failed calls are counted"
    );
    let log = stack.server_log();
    assert!(
        log.contains("aws.action") && log.contains("secretsmanager:ListSecrets"),
        "the outage is not in the server log:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_namespace_opened_by_200_users_at_once_costs_a_few_listings() {
    const USERS: usize = 200;
    let emails: Vec<String> = (0..USERS).map(|i| format!("user{i}@example.com")).collect();
    let groups: &[&str] = &["kaluza:team"];
    let users: Vec<(&str, &[&str])> = emails.iter().map(|e| (e.as_str(), groups)).collect();
    // All 200 connect from 127.0.0.1, as no 200 real users would.
    let stack = Stack::with_users(&users, &["--max-connections-per-address", "0"]).await;
    stack
        .caller(&emails[0])
        .await
        .create("team", "shared", "v")
        .await
        .unwrap();
    let before = stack.aws_calls("ListSecrets", "ok");

    // Each user on her own connection, as from her own laptop.
    let mut users = Vec::with_capacity(USERS);
    for email in &emails {
        users.push(stack.caller(email).await);
    }
    let calls = users
        .iter_mut()
        .map(|user| async move { user.list("team").await });
    let answers = futures::future::join_all(calls).await;
    for answer in &answers {
        assert_eq!(
            answer.as_ref().expect("every user gets the listing"),
            &["shared"]
        );
    }
    let listings = stack.aws_calls("ListSecrets", "ok") - before;
    // Without coalescing this is 200 (one per user).
    assert!(
        (1.0..=5.0).contains(&listings),
        "{USERS} users listing one namespace cost {listings} ListSecrets calls"
    );
}
