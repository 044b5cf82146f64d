//! The AWS backend against moto's server, with the AWS state checked
//! directly through the SDK: names, tags, exact values, the policy document,
//! role attachments, and the isolation rules the Go kiss got wrong.
//!
//! What every backend must do is in store_contract.rs, run on moto too;
//! these tests are about AWS itself: what lands in Secrets Manager and IAM,
//! secrets and policies made behind kiss's back, paging, outages. Each test
//! starts its own moto (a fraction of a second), since the outage test
//! stops it.
#![cfg(feature = "aws")]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use kiss_server::config::Config;
use kiss_server::store::authors::{MAX_AUTHOR_TAGS, TAG_AUTHOR_PREFIX};
use kiss_server::store::aws::AwsStore;
use kiss_server::store::{MAX_VERSIONS, SecretRef, SecretStore, StoreError};
use kiss_testkit::Moto;
use kiss_testkit::aws::{AwsState, kiss_tags};

use kiss_testkit::ACCOUNT;

struct Aws {
    // Kept alive for the test; moto is killed when dropped.
    moto: Moto,
    store: AwsStore,
    state: AwsState,
}

/// What is in AWS, read past kiss.
impl std::ops::Deref for Aws {
    type Target = AwsState;
    fn deref(&self) -> &AwsState {
        &self.state
    }
}

fn config(extra: &[&str]) -> Config {
    let mut args = vec!["kiss-server", "--jwks-url", "http://127.0.0.1:1/unused"];
    args.extend_from_slice(extra);
    Config::try_parse_args(args).expect("test flags parse")
}

async fn aws(extra: &[&str]) -> Aws {
    let moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let store = AwsStore::from_sdk_config(&sdk, &config(extra))
        .await
        .expect("the store connects to moto");
    Aws {
        state: AwsState::of(&moto).await,
        moto,
        store,
    }
}

fn s(namespace: &str, name: &str) -> SecretRef {
    SecretRef::new(namespace, name)
}

impl Aws {
    async fn names(&self, namespace: &str) -> Vec<String> {
        self.store
            .list(namespace)
            .await
            .expect("list")
            .into_iter()
            .map(|e| e.name)
            .collect()
    }

    async fn deleted_names(&self, namespace: &str) -> Vec<String> {
        self.store
            .list_deleted(namespace)
            .await
            .expect("list deleted")
            .into_iter()
            .map(|e| e.name)
            .collect()
    }
}

#[tokio::test]
async fn names_tags_values_and_versions_are_exact_in_aws() {
    let aws = aws(&[]).await;
    let db = s("team-a", "db");
    let value = "line one\nline two\n\tindented\r\nünïcødé ✓ 🔑 \"quoted\" \\ end ";

    let v1 = aws.store.create(&db, value).await.unwrap();
    assert_eq!(
        aws.tags("k8s-secret-team-a-db").await,
        kiss_tags("team-a", "db")
    );
    assert_eq!(aws.value("k8s-secret-team-a-db").await, value);
    let details = aws.store.get(&db, false).await.unwrap();
    assert!(
        details.arn.starts_with(&format!(
            "arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:k8s-secret-team-a-db-"
        )),
        "{}",
        details.arn
    );

    // A stale update writes no version at all.
    let v2 = aws.store.update(&db, "second\n", Some(&v1)).await.unwrap();
    let versions = aws.version_count("k8s-secret-team-a-db").await;
    assert!(matches!(
        aws.store.update(&db, "lost update", Some(&v1)).await,
        Err(StoreError::VersionConflict { .. })
    ));
    assert_eq!(aws.value("k8s-secret-team-a-db").await, "second\n");
    assert_eq!(aws.version_count("k8s-secret-team-a-db").await, versions);
    assert_eq!(aws.store.get(&db, false).await.unwrap().version_id, v2);

    // Deleting schedules the deletion in AWS; restoring cancels it.
    aws.store.delete(&db).await.unwrap();
    assert!(aws.deleted("k8s-secret-team-a-db").await);
    aws.store.restore(&db).await.unwrap();
    assert!(!aws.deleted("k8s-secret-team-a-db").await);

    // With the `_` separator and no window, names and deletes follow.
    let aws = self::aws(&[
        "--secret-name-separator",
        "_",
        "--deletion-recovery-days",
        "0",
    ])
    .await;
    let x = s("team", "x-foo");
    aws.store.create(&x, "v").await.unwrap();
    assert_eq!(
        aws.tags("k8s-secret_team_x-foo").await,
        kiss_tags("team", "x-foo")
    );
    aws.store.delete(&x).await.unwrap();
    assert!(!aws.exists("k8s-secret_team_x-foo").await);
    // Refused values never reach AWS.
    let big = s("ns", "big");
    assert!(aws.store.create(&big, &"x".repeat(65_537)).await.is_err());
    assert!(!aws.exists("k8s-secret_ns_big").await);
}

#[tokio::test]
async fn rollback_and_authors_land_in_aws() {
    let aws = aws(&[]).await;
    let db = s("team", "db");
    let name = "k8s-secret-team-db";
    let st = &aws.store;
    let v1 = st
        .create_as(&db, "one", Some("alice@example.com"))
        .await
        .unwrap();
    let v2 = st
        .update_as(&db, "two", Some(&v1), Some("bob@example.com"))
        .await
        .unwrap();
    let v3 = st
        .rollback(&db, &v1, Some(&v2), Some("carol@example.com"))
        .await
        .unwrap();
    // In AWS itself: the old value as a new current version, the one it
    // replaced as the previous one, the first one still there.
    assert_eq!(aws.value(name).await, "one");
    let stages = aws.stages(name).await;
    assert_eq!(
        stages.get(&v3).map(Vec::as_slice),
        Some(&["AWSCURRENT".to_owned()][..])
    );
    assert_eq!(
        stages.get(&v2).map(Vec::as_slice),
        Some(&["AWSPREVIOUS".to_owned()][..])
    );
    assert_eq!(aws.version_value(name, &v1).await, "one");
    assert_eq!(aws.version_value(name, &v2).await, "two");
    let mut expected = kiss_tags("team", "db");
    for (v, who) in [(&v1, "alice"), (&v2, "bob"), (&v3, "carol")] {
        let key = format!("{TAG_AUTHOR_PREFIX}{v}");
        let value = aws.tags(name).await.remove(&key).expect("an author tag");
        assert!(value.ends_with(&format!(" {who}@example.com")), "{value}");
        expected.insert(key, value);
    }
    assert_eq!(aws.tags(name).await, expected);

    // Many writes later the author tags stay at the cap, the newest kept,
    // and the secret is still kiss's (ownership reads only its own tags).
    let mut last = v3;
    for i in 0..MAX_AUTHOR_TAGS + 3 {
        let who = format!("user{i}@example.com");
        last = st
            .update_as(&db, &format!("value {i}"), Some(&last), Some(&who))
            .await
            .unwrap();
    }
    let tags = aws.tags(name).await;
    let authored: Vec<&String> = tags
        .keys()
        .filter(|k| k.starts_with(TAG_AUTHOR_PREFIX))
        .collect();
    assert_eq!(authored.len(), MAX_AUTHOR_TAGS);
    assert_eq!(tags.len(), MAX_AUTHOR_TAGS + kiss_tags("team", "db").len());
    assert!(tags.contains_key(&format!("{TAG_AUTHOR_PREFIX}{last}")));
    assert!(!tags.contains_key(&format!("{TAG_AUTHOR_PREFIX}{v1}")));
    let history = st.versions(&db).await.unwrap();
    assert_eq!(history[0].version_id, last);
    let who = format!("user{}@example.com", MAX_AUTHOR_TAGS + 2);
    assert_eq!(history[0].author.as_deref(), Some(who.as_str()));
    assert_eq!(aws.names("team").await, ["db"]);
    assert_eq!(st.get(&db, true).await.unwrap().version_id, last);
}

#[tokio::test]
async fn listing_keeps_only_exact_tag_matches() {
    let aws = aws(&[]).await;
    aws.store.create(&s("a", "one"), "1").await.unwrap();
    aws.store.create(&s("alpha", "two"), "2").await.unwrap();
    // A name that equals another namespace (tag-value filters match any tag).
    aws.store.create(&s("b", "a"), "3").await.unwrap();
    for ns in ["k", "ki", "kis", "kiss"] {
        aws.store.create(&s(ns, "s"), ns).await.unwrap();
    }
    // Behind kiss's back: no name tag; another manager; a name kiss would not
    // derive from the tags; tags without the managed-by tag.
    aws.raw_secret(
        "k8s-secret-a-untagged",
        &[
            ("security.kaluza.com/managed-by", "kiss"),
            ("security.kaluza.com/secret-namespace", "a"),
        ],
    )
    .await;
    aws.raw_secret(
        "k8s-secret-a-foreign",
        &[
            ("security.kaluza.com/managed-by", "terraform"),
            ("security.kaluza.com/secret-namespace", "a"),
            ("security.kaluza.com/secret-name", "foreign"),
        ],
    )
    .await;
    aws.raw_secret(
        "elsewhere-a-moved",
        &[
            ("security.kaluza.com/managed-by", "kiss"),
            ("security.kaluza.com/secret-namespace", "a"),
            ("security.kaluza.com/secret-name", "moved"),
        ],
    )
    .await;
    aws.raw_secret(
        "k8s-secret-a-unmanaged",
        &[
            ("security.kaluza.com/secret-namespace", "a"),
            ("security.kaluza.com/secret-name", "unmanaged"),
        ],
    )
    .await;

    assert_eq!(aws.names("a").await, ["one"]);
    assert_eq!(aws.names("alpha").await, ["two"]);
    assert_eq!(aws.names("b").await, ["a"]);
    for ns in ["k", "ki", "kis", "kiss"] {
        assert_eq!(aws.names(ns).await, ["s"], "namespace {ns}");
    }
    assert!(aws.names("al").await.is_empty());
    for name in ["untagged", "foreign", "moved", "unmanaged"] {
        assert!(
            matches!(
                aws.store.get(&s("a", name), false).await,
                Err(StoreError::NotFound { .. })
            ),
            "{name}"
        );
    }

    // The deleted list follows the same rules.
    aws.store.delete(&s("alpha", "two")).await.unwrap();
    aws.store.delete(&s("kis", "s")).await.unwrap();
    assert!(aws.deleted_names("a").await.is_empty());
    assert!(aws.deleted_names("k").await.is_empty());
    assert_eq!(aws.deleted_names("alpha").await, ["two"]);
    assert_eq!(aws.deleted_names("kis").await, ["s"]);
    assert!(aws.names("kis").await.is_empty());
    assert_eq!(aws.names("ki").await, ["s"]);
}

#[tokio::test]
async fn listing_follows_every_page() {
    let aws = aws(&[]).await;
    // More than one default page (100), plus a neighbour namespace whose
    // secrets the filters also return.
    let creates = (0..105).map(|i| {
        let store = aws.store.clone();
        async move { store.create(&s("many", &format!("s{i:03}")), "v").await }
    });
    for r in futures::future::join_all(creates).await {
        r.unwrap();
    }
    for i in 0..12 {
        aws.store
            .create(&s("many-x", &format!("n{i}")), "v")
            .await
            .unwrap();
    }
    let expected: Vec<String> = (0..105).map(|i| format!("s{i:03}")).collect();
    assert_eq!(aws.names("many").await, expected);

    let small = aws.store.clone().with_list_page_size(7);
    let names: Vec<String> = small
        .list("many")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, expected);
    assert_eq!(small.list("many-x").await.unwrap().len(), 12);

    for i in 0..10 {
        small.delete(&s("many", &format!("s{i:03}"))).await.unwrap();
    }
    let small = small.with_list_page_size(3);
    assert_eq!(small.list_deleted("many").await.unwrap().len(), 10);
    assert_eq!(small.list("many").await.unwrap().len(), 95);
}

#[tokio::test]
async fn read_policy_and_bindings_in_iam() {
    let aws = aws(&[]).await;
    let db = s("apps", "db");
    for role in ["k8s-sa_apps_web", "k8s-sa_apps_worker", "k8s-sa_other_web"] {
        aws.moto.create_role(role).await;
    }
    aws.store.create(&db, "v").await.unwrap();
    let arn = aws.store.get(&db, false).await.unwrap().arn;

    // Bind needs the policy first.
    let err = aws.store.bind(&db, "web").await.unwrap_err();
    assert_eq!(err, StoreError::PolicyMissing { name: "db".into() });
    assert_eq!(
        aws.store.delete_policy(&db, false).await,
        Err(StoreError::PolicyMissing { name: "db".into() })
    );

    let policy_arn = aws.store.create_policy(&db).await.unwrap();
    assert_eq!(
        policy_arn,
        format!("arn:aws:iam::{ACCOUNT}:policy/k8s-secret_apps_db")
    );
    assert_eq!(aws.store.policy_arn(&db).unwrap(), policy_arn);
    let policy = aws
        .iam
        .get_policy()
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let policy = policy.policy().unwrap();
    assert_eq!(policy.path(), Some("/"));
    let tags: BTreeMap<String, String> = policy
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    assert_eq!(tags, kiss_tags("apps", "db"));
    let version = aws
        .iam
        .get_policy_version()
        .policy_arn(&policy_arn)
        .version_id(policy.default_version_id().unwrap())
        .send()
        .await
        .unwrap();
    let doc =
        kiss_testkit::decode_policy_document(version.policy_version().unwrap().document().unwrap());
    assert_eq!(doc["Version"], "2012-10-17");
    let statements = doc["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Effect"], "Allow");
    assert_eq!(
        statements[0]["Action"],
        serde_json::json!([
            "secretsmanager:GetSecretValue",
            "secretsmanager:DescribeSecret"
        ])
    );
    assert_eq!(statements[0]["Resource"], arn.as_str());
    assert!(
        statements[0].get("Condition").is_none(),
        "no version-stage condition"
    );

    assert_eq!(
        aws.store.create_policy(&db).await,
        Err(StoreError::PolicyExists { name: "db".into() })
    );

    // Bind: the role gets the policy; a missing role is named.
    aws.store.bind(&db, "web").await.unwrap();
    aws.store.bind(&db, "worker").await.unwrap();
    aws.store.bind(&db, "web").await.unwrap();
    assert_eq!(
        aws.attached("k8s-sa_apps_web").await,
        vec![policy_arn.clone()]
    );
    assert_eq!(
        aws.attached("k8s-sa_apps_worker").await,
        vec![policy_arn.clone()]
    );
    let err = aws.store.bind(&db, "ghost").await.unwrap_err();
    assert_eq!(
        err,
        StoreError::RoleNotFound {
            service_account: "ghost".into(),
            role: "k8s-sa_apps_ghost".into()
        }
    );
    assert!(err.to_string().contains("k8s-sa_apps_ghost"), "{err}");

    // Details list only this namespace's ServiceAccounts, even when someone
    // attached the policy to another namespace's role by hand.
    aws.iam
        .attach_role_policy()
        .role_name("k8s-sa_other_web")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    let details = aws.store.get(&db, false).await.unwrap();
    assert_eq!(details.policy_arn.as_deref(), Some(policy_arn.as_str()));
    assert_eq!(details.bound_service_accounts, ["web", "worker"]);

    // Delete refuses while bound, naming the namespace's ServiceAccounts only.
    let err = aws.store.delete_policy(&db, false).await.unwrap_err();
    match &err {
        StoreError::PolicyAttached {
            name,
            service_accounts,
        } => {
            assert_eq!(name, "db");
            assert_eq!(&service_accounts[..2], ["web", "worker"]);
            assert_eq!(service_accounts.len(), 3);
        }
        other => panic!("expected PolicyAttached, got {other:?}"),
    }
    assert!(!err.to_string().contains("other"), "{err}");
    // Not even with unbind: nothing is detached while another namespace holds it.
    assert!(matches!(
        aws.store.delete_policy(&db, true).await,
        Err(StoreError::PolicyAttached { ref service_accounts, .. }) if service_accounts.len() == 1
    ));
    assert_eq!(
        aws.attached("k8s-sa_apps_web").await,
        vec![policy_arn.clone()]
    );
    aws.iam
        .detach_role_policy()
        .role_name("k8s-sa_other_web")
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        aws.store.delete_policy(&db, false).await,
        Err(StoreError::PolicyAttached {
            name: "db".into(),
            service_accounts: vec!["web".into(), "worker".into()]
        })
    );
    assert!(aws.policy_exists(&policy_arn).await);

    // Delete with unbind detaches in IAM, then deletes.
    assert_eq!(
        aws.store.delete_policy(&db, true).await.unwrap(),
        ["web", "worker"]
    );
    assert!(!aws.policy_exists(&policy_arn).await);
    assert!(aws.attached("k8s-sa_apps_web").await.is_empty());
    assert!(aws.attached("k8s-sa_apps_worker").await.is_empty());
}

#[tokio::test]
async fn policies_of_deleted_secrets_can_be_cleaned_up() {
    let aws = aws(&[]).await;
    aws.moto.create_role("k8s-sa_apps_web").await;
    let db = s("apps", "db");
    aws.store.create(&db, "v").await.unwrap();
    let policy_arn = aws.store.create_policy(&db).await.unwrap();
    aws.store.bind(&db, "web").await.unwrap();

    // Scheduled for deletion: no new bindings, but unbinding and deleting
    // the policy still work.
    aws.store.delete(&db).await.unwrap();
    assert!(matches!(
        aws.store.bind(&db, "web").await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        aws.store.create_policy(&db).await,
        Err(StoreError::NotFound { .. })
    ));
    aws.store.unbind(&db, "web").await.unwrap();
    aws.store.delete_policy(&db, false).await.unwrap();
    aws.store.restore(&db).await.unwrap();

    // Deleted for good (as the Go kiss did) with its policy left behind: the
    // policy's own tags let its namespace delete it, and nobody else.
    aws.store.create_policy(&db).await.unwrap();
    aws.sm
        .delete_secret()
        .secret_id("k8s-secret-apps-db")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert!(matches!(
        aws.store.delete_policy(&s("apps-x", "db"), false).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(aws.policy_exists(&policy_arn).await);
    assert_eq!(
        aws.store.delete_policy(&db, false).await.unwrap(),
        Vec::<String>::new()
    );
    assert!(!aws.policy_exists(&policy_arn).await);
    // Nothing left at all: NotFound, not PolicyMissing.
    assert!(matches!(
        aws.store.delete_policy(&db, false).await,
        Err(StoreError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_secret_created_again_is_granted_by_its_old_policy() {
    let aws = aws(&["--deletion-recovery-days", "0"]).await;
    aws.moto.create_role("k8s-sa_apps_web").await;
    let db = s("apps", "db");
    aws.store.create(&db, "v1").await.unwrap();
    let policy_arn = aws.store.create_policy(&db).await.unwrap();
    aws.store.bind(&db, "web").await.unwrap();
    let resource = |aws: &Aws| {
        let iam = aws.iam.clone();
        let policy_arn = policy_arn.clone();
        async move {
            let policy = iam
                .get_policy()
                .policy_arn(&policy_arn)
                .send()
                .await
                .unwrap();
            let version = policy
                .policy()
                .unwrap()
                .default_version_id()
                .unwrap()
                .to_owned();
            let doc = iam
                .get_policy_version()
                .policy_arn(&policy_arn)
                .version_id(version)
                .send()
                .await
                .unwrap();
            let doc = kiss_testkit::decode_policy_document(
                doc.policy_version().unwrap().document().unwrap(),
            );
            doc["Statement"][0]["Resource"].as_str().unwrap().to_owned()
        }
    };
    let first_arn = aws.store.get(&db, false).await.unwrap().arn;
    assert_eq!(resource(&aws).await, first_arn);

    // Deleted for good, created again: a new ARN, the same policy and role.
    aws.store.delete(&db).await.unwrap();
    aws.store.create(&db, "v2").await.unwrap();
    let details = aws.store.get(&db, false).await.unwrap();
    assert_ne!(
        details.arn, first_arn,
        "AWS gives a re-created secret a new ARN"
    );
    assert_eq!(
        resource(&aws).await,
        details.arn,
        "the policy follows the new secret"
    );
    assert_eq!(details.bound_service_accounts, ["web"]);
    // Asking for the policy again finds it current.
    assert!(matches!(
        aws.store.create_policy(&db).await,
        Err(StoreError::PolicyExists { .. })
    ));
}

#[tokio::test]
async fn an_unreachable_aws_is_unavailable_and_recovers() {
    let mut aws = aws(&[]).await;
    aws.store.create(&s("ns", "x"), "v").await.unwrap();

    aws.moto.stop();
    let err = aws.store.list("ns").await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("try again"), "{err}");
    let err = aws.store.get(&s("ns", "x"), true).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");

    // Same store, same clients: moto is back (empty), and calls succeed again.
    aws.moto.restart();
    assert!(aws.store.list("ns").await.unwrap().is_empty());
    aws.store.create(&s("ns", "x"), "again").await.unwrap();
    assert_eq!(aws.value("k8s-secret-ns-x").await, "again");
}

#[tokio::test]
async fn a_policy_kiss_did_not_make_is_never_reported_attached_or_deleted() {
    let aws = aws(&[]).await;
    aws.moto.create_role("k8s-sa_team-a_app").await;
    let db = s("team-a", "db");
    aws.store.create(&db, "v").await.unwrap();
    // Someone else's policy under the read policy's name: untagged, and
    // granting everything.
    let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}"#;
    let arn = aws
        .iam
        .create_policy()
        .policy_name("k8s-secret_team-a_db")
        .policy_document(admin)
        .send()
        .await
        .unwrap()
        .policy()
        .and_then(|p| p.arn())
        .unwrap()
        .to_owned();
    let foreign = StoreError::PolicyForeign {
        name: "db".into(),
        policy: "k8s-secret_team-a_db".into(),
    };
    assert_eq!(foreign.reason(), kiss_proto::reasons::POLICY_FOREIGN);
    assert!(
        foreign.to_string().contains("k8s-secret_team-a_db"),
        "{foreign}"
    );

    let details = aws.store.get(&db, false).await.unwrap();
    assert_eq!(details.policy_arn, None, "not shown as the read policy");
    assert_eq!(aws.store.bind(&db, "app").await, Err(foreign.clone()));
    assert!(aws.attached("k8s-sa_team-a_app").await.is_empty());
    assert_eq!(
        aws.store.create_policy(&db).await.map(drop),
        Err(foreign.clone())
    );

    // Attached by hand: kiss neither detaches nor deletes it.
    aws.iam
        .attach_role_policy()
        .role_name("k8s-sa_team-a_app")
        .policy_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        aws.store.delete_policy(&db, true).await.map(drop),
        Err(foreign.clone())
    );
    assert_eq!(aws.store.unbind(&db, "app").await, Err(foreign.clone()));
    assert!(aws.policy_exists(&arn).await);
    assert_eq!(aws.attached("k8s-sa_team-a_app").await, vec![arn.clone()]);

    // Gone for good, the secret leaves no way to the policy either.
    aws.sm
        .delete_secret()
        .secret_id("k8s-secret-team-a-db")
        .force_delete_without_recovery(true)
        .send()
        .await
        .unwrap();
    assert!(matches!(
        aws.store.delete_policy(&db, true).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(aws.policy_exists(&arn).await);

    // kiss's tags on a document that grants more are not enough.
    let x = s("team-a", "x");
    aws.store.create(&x, "v").await.unwrap();
    let tags = [
        ("security.kaluza.com/managed-by", "kiss"),
        ("security.kaluza.com/secret-namespace", "team-a"),
        ("security.kaluza.com/secret-name", "x"),
    ]
    .map(|(k, v)| {
        aws_sdk_iam::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
            .unwrap()
    });
    aws.iam
        .create_policy()
        .policy_name("k8s-secret_team-a_x")
        .policy_document(admin)
        .set_tags(Some(tags.to_vec()))
        .send()
        .await
        .unwrap();
    assert!(matches!(
        aws.store.bind(&x, "app").await,
        Err(StoreError::PolicyForeign { .. })
    ));
    assert_eq!(aws.store.get(&x, false).await.unwrap().policy_arn, None);
}

/// moto behind a proxy on loopback that counts the Secrets Manager calls
/// by operation and, when told to, makes ListSecretVersionIds answer like
/// an odd secret: pages without end, the same versions on each, the
/// current one never among them.
struct Proxy {
    url: String,
    shared: Arc<Shared>,
}

struct Shared {
    moto: String,
    http: reqwest::Client,
    calls: Mutex<BTreeMap<String, usize>>,
    endless: AtomicBool,
}

/// A bound for tests run before the listing was bounded: they fail on the
/// count instead of paging forever.
const PROXY_PAGE_LIMIT: usize = 1_000;

impl Proxy {
    async fn start(moto: &Moto) -> Proxy {
        let shared = Arc::new(Shared {
            moto: moto.endpoint(),
            http: reqwest::Client::new(),
            calls: Mutex::default(),
            endless: AtomicBool::new(false),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Proxy { url, shared }
    }

    /// A store whose AWS calls go through the proxy.
    async fn store(&self, moto: &Moto) -> AwsStore {
        let sdk = moto
            .sdk_config()
            .await
            .to_builder()
            .endpoint_url(&self.url)
            .build();
        AwsStore::from_sdk_config(&sdk, &config(&[])).await.unwrap()
    }

    /// The Secrets Manager calls made since the last look, by operation.
    fn calls(&self) -> BTreeMap<String, usize> {
        std::mem::take(&mut *self.shared.calls.lock().unwrap())
    }

    fn endless(&self, yes: bool) {
        self.shared.endless.store(yes, Ordering::SeqCst);
    }
}

async fn forward(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.strip_prefix("secretsmanager."))
        .map(str::to_owned);
    let page = operation.as_ref().map(|op| {
        let mut calls = shared.calls.lock().unwrap();
        let n = calls.entry(op.clone()).or_default();
        *n += 1;
        *n
    });
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = shared
        .http
        .request(parts.method.clone(), format!("{}{path}", shared.moto))
        .body(body);
    for (name, value) in &parts.headers {
        if name != http::header::HOST && name != http::header::CONTENT_LENGTH {
            out = out.header(name, value);
        }
    }
    let answer = out.send().await.unwrap();
    let status = answer.status();
    let headers = answer.headers().clone();
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    let odd = operation.as_deref() == Some("ListSecretVersionIds")
        && shared.endless.load(Ordering::SeqCst)
        && status.is_success();
    if odd {
        let mut json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let versions = json["Versions"].as_array_mut().unwrap();
        versions.retain(|v| !v["VersionStages"].to_string().contains("AWSCURRENT"));
        let n = page.unwrap_or_default();
        json["NextToken"] = if n < PROXY_PAGE_LIMIT {
            format!("page-{n}").into()
        } else {
            "".into()
        };
        bytes = serde_json::to_vec(&json).unwrap();
    }
    let mut response = axum::response::Response::new(axum::body::Body::from(bytes));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != http::header::CONTENT_LENGTH && name != http::header::TRANSFER_ENCODING {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

/// AWS keeps every version younger than a day, so a busy secret can hold
/// more than [`MAX_VERSIONS`] (moto keeps them all): kiss lists the newest
/// [`MAX_VERSIONS`], the current one first.
#[tokio::test]
async fn a_history_lists_at_most_the_version_cap() {
    let aws = aws(&[]).await;
    let db = s("team", "db");
    let mut version = aws.store.create(&db, "v0").await.unwrap();
    for i in 1..MAX_VERSIONS + 20 {
        version = aws.store.update(&db, &format!("v{i}"), None).await.unwrap();
    }
    let held = aws
        .sm
        .list_secret_version_ids()
        .secret_id("k8s-secret-team-db")
        .include_deprecated(true)
        .send()
        .await
        .unwrap()
        .versions()
        .len();
    assert_eq!(held, MAX_VERSIONS + 20, "moto holds them all");
    let history = aws.store.versions(&db).await.unwrap();
    assert_eq!(history.len(), MAX_VERSIONS);
    assert_eq!(history[0].version_id, version);
    assert_eq!(history[0].labels, ["AWSCURRENT"]);
    let distinct: BTreeSet<&str> = history.iter().map(|v| v.version_id.as_str()).collect();
    assert_eq!(distinct.len(), MAX_VERSIONS);
}

/// A secret whose listing never ends (a next token on every page, the same
/// versions on each, the current one missing) costs a bounded number of
/// calls, lists each version once and still shows the current one.
#[tokio::test]
async fn an_endless_version_listing_is_cut_short() {
    let aws = aws(&[]).await;
    let proxy = Proxy::start(&aws.moto).await;
    let store = proxy.store(&aws.moto).await;
    let db = s("team", "db");
    let v1 = store.create(&db, "one").await.unwrap();
    let v2 = store.update(&db, "two", Some(&v1)).await.unwrap();
    let v3 = store.update(&db, "three", Some(&v2)).await.unwrap();
    proxy.calls();

    proxy.endless(true);
    let history = store.versions(&db).await.unwrap();
    let pages = proxy.calls()["ListSecretVersionIds"];
    assert!(
        pages <= 10,
        "{pages} pages of versions read for one listing"
    );
    let listed: Vec<(&str, &[String])> = history
        .iter()
        .map(|v| (v.version_id.as_str(), v.labels.as_slice()))
        .collect();
    let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        listed,
        [
            (v3.as_str(), &labels(&["AWSCURRENT"])[..]),
            (v2.as_str(), &labels(&["AWSPREVIOUS"])[..]),
            (v1.as_str(), &labels(&[])[..]),
        ]
    );
}

/// An earlier version without its value: one DescribeSecret, no
/// GetSecretValue, and a listing only for a version without a label.
#[tokio::test]
async fn an_earlier_version_without_its_value_is_described_once() {
    let aws = aws(&[]).await;
    let proxy = Proxy::start(&aws.moto).await;
    let store = proxy.store(&aws.moto).await;
    let db = s("team", "db");
    let v1 = store.create(&db, "one").await.unwrap();
    let v2 = store.update(&db, "two", Some(&v1)).await.unwrap();
    store.update(&db, "three", Some(&v2)).await.unwrap();
    let calls = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
        pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
    };
    proxy.calls();

    // The previous version: labelled, so the description names it.
    let got = store.get_version(&db, &v2, false).await.unwrap();
    assert_eq!((got.version_id.as_str(), got.value), (v2.as_str(), None));
    assert_eq!(proxy.calls(), calls(&[("DescribeSecret", 1)]));

    // The first: deprecated, so it takes the listing.
    let got = store.get_version(&db, &v1, false).await.unwrap();
    assert_eq!(got.version_id, v1);
    assert_eq!(
        proxy.calls(),
        calls(&[("DescribeSecret", 1), ("ListSecretVersionIds", 1)])
    );
    let gone = "00000000-0000-4000-8000-000000000000";
    assert!(matches!(
        store.get_version(&db, gone, false).await,
        Err(StoreError::VersionNotFound { .. })
    ));

    // With the value: the value is the check.
    proxy.calls();
    let got = store.get_version(&db, &v1, true).await.unwrap();
    assert_eq!(got.value.as_deref(), Some("one"));
    assert_eq!(
        proxy.calls(),
        calls(&[("DescribeSecret", 1), ("GetSecretValue", 1)])
    );
}
