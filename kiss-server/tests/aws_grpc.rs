//! The real `kiss-server` binary with its AWS backend against moto, driven
//! over gRPC with Cognito ID tokens; the AWS state is checked directly
//! through the SDK. Also the outage: moto stopped mid-run, then back.
#![cfg(feature = "aws")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_testkit::authorized as req;
use kiss_testkit::{ACCOUNT, Cognito, KissServer, Moto, ServerProcess};
use tonic::transport::Channel;
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
    sm: aws_sdk_secretsmanager::Client,
    iam: aws_sdk_iam::Client,
}

impl Stack {
    async fn start() -> Stack {
        let moto = Moto::start();
        let cognito = Cognito::setup(
            &moto,
            &[
                (ALICE, &["kaluza:team", "kaluza:apps", "not-a-kiss-group"]),
                (BOB, &["kaluza:team-x"]),
            ],
        );
        let metrics = SocketAddr::from(([127, 0, 0, 1], kiss_testkit::free_port()));
        let mut server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"))
            .aws(&moto)
            .cognito(&cognito, REGEX)
            .args(["--metrics-addr", &metrics.to_string()])
            .spawn();
        server.wait_ready().await;
        let sdk = moto.sdk_config().await;
        Stack {
            sm: aws_sdk_secretsmanager::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
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

    async fn client(&self) -> KissClient<Channel> {
        let channel = Channel::from_shared(format!("http://{}", self.server.addr))
            .unwrap()
            .timeout(Duration::from_secs(30))
            .connect()
            .await
            .unwrap();
        KissClient::new(channel)
    }

    fn token(&self, email: &str) -> String {
        self.cognito.token(email).to_owned()
    }

    async fn aws_value(&self, aws_name: &str) -> String {
        self.sm
            .get_secret_value()
            .secret_id(aws_name)
            .send()
            .await
            .expect("get value")
            .secret_string()
            .unwrap()
            .to_owned()
    }

    async fn aws_tags(&self, aws_name: &str) -> BTreeMap<String, String> {
        self.sm
            .describe_secret()
            .secret_id(aws_name)
            .send()
            .await
            .expect("describe")
            .tags()
            .iter()
            .map(|t| (t.key().unwrap().to_owned(), t.value().unwrap().to_owned()))
            .collect()
    }

    async fn aws_deleted(&self, aws_name: &str) -> bool {
        self.sm
            .describe_secret()
            .secret_id(aws_name)
            .send()
            .await
            .expect("describe")
            .deleted_date()
            .is_some()
    }

    async fn aws_arn(&self, aws_name: &str) -> String {
        self.sm
            .describe_secret()
            .secret_id(aws_name)
            .send()
            .await
            .expect("describe")
            .arn()
            .unwrap()
            .to_owned()
    }

    async fn create_role(&self, role: &str) {
        self.moto.create_role(role).await;
    }

    async fn attached(&self, role: &str) -> Vec<String> {
        self.iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .expect("list attached")
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect()
    }

    async fn policy_document(&self, arn: &str) -> Option<serde_json::Value> {
        let policy = self.iam.get_policy().policy_arn(arn).send().await.ok()?;
        let version = policy.policy()?.default_version_id()?.to_owned();
        let out = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .ok()?;
        Some(kiss_testkit::decode_policy_document(
            out.policy_version()?.document()?,
        ))
    }
}

fn meta(namespace: &str) -> Option<pb::ClientMeta> {
    Some(pb::ClientMeta {
        namespace: namespace.into(),
    })
}

fn code<T: std::fmt::Debug>(result: Result<T, Status>) -> (Code, String) {
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(s) => (s.code(), s.message().to_owned()),
    }
}

fn kiss_tags(namespace: &str, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("security.kaluza.com/managed-by".into(), "kiss".into()),
        (
            "security.kaluza.com/secret-namespace".into(),
            namespace.into(),
        ),
        ("security.kaluza.com/secret-name".into(), name.into()),
    ])
}

#[tokio::test]
async fn every_rpc_through_grpc_with_the_aws_state_checked() {
    let stack = Stack::start().await;
    let mut c = stack.client().await;
    let alice = stack.token(ALICE);
    let alice = alice.as_str();
    let value = "first line\nsecond line\n\ttabbed\r\nünïcødé ✓ 🔑 \"q\" \\ ";
    let aws_name = "k8s-secret-apps-db";

    c.ping(req(
        alice,
        pb::PingRequest {
            metadata: meta("apps"),
        },
    ))
    .await
    .unwrap();
    let me = c
        .who_am_i(req(alice, pb::WhoAmIRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(me.identifier, ALICE);
    assert_eq!(me.namespaces, ["apps", "team"]);
    assert!(!me.admin);

    // Create: name, tags and the exact value in AWS.
    let v1 = c
        .create_secret(req(
            alice,
            pb::CreateSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
                value: value.into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .version_id;
    assert!(!v1.is_empty());
    assert_eq!(stack.aws_value(aws_name).await, value);
    assert_eq!(stack.aws_tags(aws_name).await, kiss_tags("apps", "db"));
    let arn = stack.aws_arn(aws_name).await;
    let (status, _) = code(
        c.create_secret(req(
            alice,
            pb::CreateSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
                value: "again".into(),
            },
        ))
        .await,
    );
    assert_eq!(status, Code::AlreadyExists);

    // List and get.
    let list = c
        .list_secrets(req(
            alice,
            pb::ListSecretsRequest {
                metadata: meta("apps"),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.secrets, ["db"]);
    assert_eq!(list.entries.len(), 1);
    assert!(list.entries[0].created.is_some());
    let details = c
        .get_secret(req(
            alice,
            pb::GetSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
                include_value: true,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .secret
        .unwrap();
    assert_eq!(details.value.as_deref(), Some(value));
    assert_eq!(details.version_id, v1);
    assert_eq!(details.aws_name, aws_name);
    assert_eq!(details.arn, arn);
    assert!(!details.has_read_policy);

    // Update on the current version, then a stale one: ABORTED, nothing written.
    let update = |value: &str, expected: &str| {
        req(
            alice,
            pb::UpdateSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
                value: value.into(),
                expected_version_id: expected.into(),
            },
        )
    };
    let v2 = c
        .update_secret(update("second\n", &v1))
        .await
        .unwrap()
        .into_inner()
        .version_id;
    assert_ne!(v2, v1);
    assert_eq!(stack.aws_value(aws_name).await, "second\n");
    let (status, message) = code(c.update_secret(update("lost", &v1)).await);
    assert_eq!(status, Code::Aborted, "{message}");
    assert_eq!(stack.aws_value(aws_name).await, "second\n");
    // The Go client sends no version: whatever is current is replaced.
    c.update_secret(update(value, "")).await.unwrap();
    assert_eq!(stack.aws_value(aws_name).await, value);

    // Bind needs the policy; then the policy document and the attachment in IAM.
    stack.create_role("k8s-sa_apps_web").await;
    let bind = |sa: &str| {
        req(
            alice,
            pb::BindSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
                service_account_name: sa.into(),
            },
        )
    };
    let (status, message) = code(c.bind_secret(bind("web")).await);
    // The stable part: what is missing (the advice is the client's).
    assert_eq!(status, Code::FailedPrecondition);
    assert!(message.contains("no read policy"), "{message}");
    let policy_arn = c
        .create_secret_iam_policy(req(
            alice,
            pb::CreateSecretIamPolicyRequest {
                metadata: meta("apps"),
                name: "db".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .policy_arn;
    assert_eq!(
        policy_arn,
        format!("arn:aws:iam::{ACCOUNT}:policy/k8s-secret_apps_db")
    );
    let doc = stack
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

    c.bind_secret(bind("web")).await.unwrap();
    assert_eq!(
        stack.attached("k8s-sa_apps_web").await,
        vec![policy_arn.clone()]
    );
    let (status, message) = code(c.bind_secret(bind("ghost")).await);
    assert_eq!(status, Code::NotFound);
    assert!(message.contains("k8s-sa_apps_ghost"), "{message}");
    let details = c
        .get_secret(req(
            alice,
            pb::GetSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
                include_value: false,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .secret
        .unwrap();
    assert!(details.has_read_policy);
    assert_eq!(details.policy_arn, policy_arn);
    assert_eq!(details.bound_service_accounts, ["web"]);
    assert_eq!(details.value, None);

    // Delete policy: refused while bound; unbind; bound again and deleted with unbind.
    let delete_policy = |unbind: bool| {
        req(
            alice,
            pb::DeleteSecretIamPolicyRequest {
                metadata: meta("apps"),
                name: "db".into(),
                unbind,
            },
        )
    };
    let (status, message) = code(c.delete_secret_iam_policy(delete_policy(false)).await);
    assert_eq!(status, Code::FailedPrecondition);
    assert!(message.contains("web"), "{message}");
    let unbind = req(
        alice,
        pb::UnbindSecretRequest {
            metadata: meta("apps"),
            name: "db".into(),
            service_account_name: "web".into(),
        },
    );
    c.unbind_secret(unbind).await.unwrap();
    assert!(stack.attached("k8s-sa_apps_web").await.is_empty());
    c.bind_secret(bind("web")).await.unwrap();
    let unbound = c
        .delete_secret_iam_policy(delete_policy(true))
        .await
        .unwrap()
        .into_inner()
        .unbound_service_accounts;
    assert_eq!(unbound, ["web"]);
    assert!(stack.attached("k8s-sa_apps_web").await.is_empty());
    assert!(stack.policy_document(&policy_arn).await.is_none());

    // Delete, list deleted, the name held, restore.
    let deleted = c
        .delete_secret(req(
            alice,
            pb::DeleteSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(deleted.deletion_date.is_some());
    assert!(stack.aws_deleted(aws_name).await);
    let list = c
        .list_secrets(req(
            alice,
            pb::ListSecretsRequest {
                metadata: meta("apps"),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(list.secrets.is_empty());
    let gone = c
        .list_deleted_secrets(req(
            alice,
            pb::ListDeletedSecretsRequest {
                metadata: meta("apps"),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .secrets;
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].name, "db");
    assert!(gone[0].deletion_date.is_some());
    let (status, message) = code(
        c.create_secret(req(
            alice,
            pb::CreateSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
                value: "new".into(),
            },
        ))
        .await,
    );
    assert_eq!(status, Code::FailedPrecondition);
    assert!(message.contains("scheduled for deletion"), "{message}");
    let restore = || {
        req(
            alice,
            pb::RestoreSecretRequest {
                metadata: meta("apps"),
                name: "db".into(),
            },
        )
    };
    c.restore_secret(restore()).await.unwrap();
    assert!(!stack.aws_deleted(aws_name).await);
    assert_eq!(stack.aws_value(aws_name).await, value);
    let (status, _) = code(c.restore_secret(restore()).await);
    assert_eq!(status, Code::FailedPrecondition);

    // Namespaces the token does not grant, and names kiss refuses.
    let (status, _) = code(
        c.list_secrets(req(
            alice,
            pb::ListSecretsRequest {
                metadata: meta("team-x"),
            },
        ))
        .await,
    );
    assert_eq!(status, Code::PermissionDenied);
    let (status, _) = code(
        c.create_secret(req(
            alice,
            pb::CreateSecretRequest {
                metadata: meta("apps"),
                name: "Bad_Name".into(),
                value: "v".into(),
            },
        ))
        .await,
    );
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
    let mut c = stack.client().await;
    let (alice, bob) = (stack.token(ALICE), stack.token(BOB));
    stack.create_role("k8s-sa_team_app").await;
    stack.create_role("k8s-sa_team-x_app").await;

    // team + x-foo and team-x + foo are both k8s-secret-team-x-foo.
    c.create_secret(req(
        &alice,
        pb::CreateSecretRequest {
            metadata: meta("team"),
            name: "x-foo".into(),
            value: "alice's".into(),
        },
    ))
    .await
    .unwrap();
    c.create_secret_iam_policy(req(
        &alice,
        pb::CreateSecretIamPolicyRequest {
            metadata: meta("team"),
            name: "x-foo".into(),
        },
    ))
    .await
    .unwrap();

    let ns = || meta("team-x");
    let name = || "foo".to_owned();
    let results = [
        (
            "get",
            c.get_secret(req(
                &bob,
                pb::GetSecretRequest {
                    metadata: ns(),
                    name: name(),
                    include_value: true,
                },
            ))
            .await
            .map(drop),
        ),
        (
            "update",
            c.update_secret(req(
                &bob,
                pb::UpdateSecretRequest {
                    metadata: ns(),
                    name: name(),
                    value: "bob's".into(),
                    expected_version_id: String::new(),
                },
            ))
            .await
            .map(drop),
        ),
        (
            "delete",
            c.delete_secret(req(
                &bob,
                pb::DeleteSecretRequest {
                    metadata: ns(),
                    name: name(),
                },
            ))
            .await
            .map(drop),
        ),
        (
            "restore",
            c.restore_secret(req(
                &bob,
                pb::RestoreSecretRequest {
                    metadata: ns(),
                    name: name(),
                },
            ))
            .await
            .map(drop),
        ),
        (
            "create policy",
            c.create_secret_iam_policy(req(
                &bob,
                pb::CreateSecretIamPolicyRequest {
                    metadata: ns(),
                    name: name(),
                },
            ))
            .await
            .map(drop),
        ),
        (
            "delete policy",
            c.delete_secret_iam_policy(req(
                &bob,
                pb::DeleteSecretIamPolicyRequest {
                    metadata: ns(),
                    name: name(),
                    unbind: true,
                },
            ))
            .await
            .map(drop),
        ),
        (
            "bind",
            c.bind_secret(req(
                &bob,
                pb::BindSecretRequest {
                    metadata: ns(),
                    name: name(),
                    service_account_name: "app".into(),
                },
            ))
            .await
            .map(drop),
        ),
        (
            "unbind",
            c.unbind_secret(req(
                &bob,
                pb::UnbindSecretRequest {
                    metadata: ns(),
                    name: name(),
                    service_account_name: "app".into(),
                },
            ))
            .await
            .map(drop),
        ),
    ];
    for (what, result) in results {
        let (status, message) = code(result);
        assert_eq!(status, Code::NotFound, "{what}: {message}");
        assert!(
            !message.contains("'team'"),
            "{what} reveals the owner: {message}"
        );
    }
    let (status, message) = code(
        c.create_secret(req(
            &bob,
            pb::CreateSecretRequest {
                metadata: ns(),
                name: name(),
                value: "bob's".into(),
            },
        ))
        .await,
    );
    assert_eq!(status, Code::AlreadyExists);
    assert!(!message.contains("'team'"), "{message}");
    let list = c
        .list_secrets(req(&bob, pb::ListSecretsRequest { metadata: ns() }))
        .await
        .unwrap()
        .into_inner();
    assert!(list.secrets.is_empty());

    // Alice's secret and policy are exactly as she left them.
    assert_eq!(stack.aws_value("k8s-secret-team-x-foo").await, "alice's");
    assert!(!stack.aws_deleted("k8s-secret-team-x-foo").await);
    assert_eq!(
        stack.aws_tags("k8s-secret-team-x-foo").await,
        kiss_tags("team", "x-foo")
    );
    assert!(
        stack
            .policy_document(&format!(
                "arn:aws:iam::{ACCOUNT}:policy/k8s-secret_team_x-foo"
            ))
            .await
            .is_some()
    );
    assert!(stack.attached("k8s-sa_team-x_app").await.is_empty());
}

#[tokio::test]
async fn moto_outage_is_unavailable_and_the_server_recovers_without_restart() {
    let mut stack = Stack::start().await;
    let mut c = stack.client().await;
    let alice = stack.token(ALICE);
    let list = |ns: &str| req(&alice, pb::ListSecretsRequest { metadata: meta(ns) });
    let create = |name: &str| {
        req(
            &alice,
            pb::CreateSecretRequest {
                metadata: meta("team"),
                name: name.into(),
                value: "v".into(),
            },
        )
    };
    c.create_secret(create("before")).await.unwrap();
    assert_eq!(
        c.list_secrets(list("team"))
            .await
            .unwrap()
            .into_inner()
            .secrets,
        ["before"]
    );

    assert!(
        stack.aws_calls("CreateSecret", "ok") >= 1.0,
        "AWS calls are counted"
    );
    let errors_before = stack.aws_calls("ListSecrets", "error");
    stack.moto.stop();
    let (status, message) = code(c.list_secrets(list("team")).await);
    assert_eq!(status, Code::Unavailable, "{message}");
    let (status, _) = code(c.create_secret(create("during")).await);
    assert_eq!(status, Code::Unavailable);
    // The server itself keeps serving: health answers, and calls that need
    // no AWS work (the token's keys are cached).
    assert_eq!(stack.health().await, Some(ServingStatus::Serving));
    c.ping(req(
        &alice,
        pb::PingRequest {
            metadata: meta("team"),
        },
    ))
    .await
    .unwrap();

    // moto is back, empty; the same server and client work again.
    stack.moto.restart();
    assert!(
        c.list_secrets(list("team"))
            .await
            .unwrap()
            .into_inner()
            .secrets
            .is_empty()
    );
    c.create_secret(create("after")).await.unwrap();
    assert_eq!(stack.aws_value("k8s-secret-team-after").await, "v");
    assert_eq!(
        c.list_secrets(list("team"))
            .await
            .unwrap()
            .into_inner()
            .secrets,
        ["after"]
    );
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
