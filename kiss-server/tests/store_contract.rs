//! The store contract: one suite of cases, written once, run unchanged
//! against the local store (a temporary directory) and the AWS store on
//! moto. Identical situations must give identical answers, errors included.
//!
//! One moto serves the whole binary, so this file has its own small harness
//! (`harness = false`): a static would never be dropped and moto would
//! outlive the tests. Cases run concurrently, each in namespaces of its own
//! (prefixed `c<n>-`), so they cannot see each other on the shared moto.
//! `cargo test --test store_contract -- <words>` runs the cases whose name
//! contains one of the words.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use kiss_server::config::Config;
use kiss_server::store::local::LocalStore;
use kiss_server::store::{CURRENT, PREVIOUS, SecretRef, SecretStore, StoreError};

#[cfg(feature = "aws")]
mod aws_backend {
    use aws_config::SdkConfig;
    use kiss_testkit::Moto;

    /// The suite's one moto and an SDK configuration for it.
    pub struct Aws {
        pub moto: Moto,
        pub sdk: SdkConfig,
    }

    impl Aws {
        pub async fn start() -> Aws {
            let moto = Moto::start();
            let sdk = moto.sdk_config().await;
            Aws { moto, sdk }
        }
    }
}

/// Which backend a case runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    Local,
    #[cfg(feature = "aws")]
    Aws,
}

/// What a case gets: a store configured with the case's flags, and the
/// namespace prefix that keeps it apart from the other cases.
struct Fixture {
    store: Arc<dyn SecretStore>,
    prefix: String,
    #[cfg(feature = "aws")]
    aws: Option<Arc<aws_backend::Aws>>,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    async fn new(backend: Backend, env: &Env, prefix: String, flags: &[&str]) -> Fixture {
        let mut args = vec!["kiss-server", "--jwks-url", "http://127.0.0.1:1/unused"];
        args.extend_from_slice(flags);
        let config = Config::try_parse_args(args).expect("test flags parse");
        match backend {
            Backend::Local => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let store =
                    LocalStore::open(dir.path(), config.naming(), config.deletion_recovery_days)
                        .expect("the local store opens");
                Fixture {
                    store: Arc::new(store),
                    prefix,
                    #[cfg(feature = "aws")]
                    aws: None,
                    _dir: Some(dir),
                }
            }
            #[cfg(feature = "aws")]
            Backend::Aws => {
                let aws = env.aws.clone().expect("moto runs for the AWS cases");
                let store = kiss_server::store::aws::AwsStore::from_sdk_config(&aws.sdk, &config)
                    .await
                    .expect("the store connects to moto");
                Fixture {
                    store: Arc::new(store),
                    prefix,
                    aws: Some(aws),
                    _dir: None,
                }
            }
        }
    }

    /// The case's own namespace for `ns`.
    fn ns(&self, ns: &str) -> String {
        format!("{}-{ns}", self.prefix)
    }

    fn s(&self, ns: &str, name: &str) -> SecretRef {
        SecretRef::new(self.ns(ns), name)
    }

    fn not_found(&self, secret: &SecretRef) -> StoreError {
        StoreError::NotFound {
            namespace: secret.namespace.clone(),
            name: secret.name.clone(),
        }
    }

    /// Makes the IAM role of a ServiceAccount exist (IRSA's job; the local
    /// store has every role).
    async fn role(&self, ns: &str, sa: &str) {
        #[cfg(feature = "aws")]
        if let Some(aws) = &self.aws {
            aws.moto
                .create_role(&format!("k8s-sa_{}_{sa}", self.ns(ns)))
                .await;
        }
        let _ = (ns, sa);
    }

    async fn names(&self, ns: &str) -> Vec<String> {
        let listed = self.store.list(&self.ns(ns)).await.expect("list");
        listed.into_iter().map(|e| e.name).collect()
    }

    async fn deleted_names(&self, ns: &str) -> Vec<String> {
        let listed = self
            .store
            .list_deleted(&self.ns(ns))
            .await
            .expect("list deleted");
        listed.into_iter().map(|e| e.name).collect()
    }

    async fn value(&self, secret: &SecretRef) -> Option<String> {
        self.store.get(secret, true).await.expect("get").value
    }
}

// ---------------------------------------------------------------- cases

async fn lifecycle(f: Fixture) {
    let st = &f.store;
    let db = f.s("team-a", "db");
    let value = "line one\nline two\n\tindented\r\nünïcødé ✓ 🔑 \"quoted\" \\ end ";
    assert_eq!(st.recovery_days(), 7, "the default recovery window");

    let v1 = st.create(&db, value).await.unwrap();
    assert!(!v1.is_empty());
    let details = st.get(&db, true).await.unwrap();
    assert_eq!(details.value.as_deref(), Some(value));
    assert_eq!(details.version_id, v1);
    assert_eq!(details.name, "db");
    assert_eq!(details.namespace, db.namespace);
    assert_eq!(details.aws_name, format!("k8s-secret-{}-db", db.namespace));
    assert!(
        details.arn.contains(":secret:k8s-secret-"),
        "{}",
        details.arn
    );
    assert!(details.created.is_some());
    assert_eq!(details.policy_arn, None);
    assert!(details.bound_service_accounts.is_empty());
    let details = st.get(&db, false).await.unwrap();
    assert_eq!((details.value, details.version_id), (None, v1.clone()));
    let listed = st.list(&db.namespace).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "db");
    assert!(listed[0].created.is_some());

    // Based on the current version, then on a stale one: refused, nothing written.
    let v2 = st.update(&db, "second\n", Some(&v1)).await.unwrap();
    assert_ne!(v2, v1);
    assert_eq!(
        st.update(&db, "lost update", Some(&v1)).await,
        Err(StoreError::VersionConflict {
            name: "db".into(),
            expected: v1.clone()
        })
    );
    let details = st.get(&db, true).await.unwrap();
    assert_eq!(
        (details.value.as_deref(), details.version_id.as_str()),
        (Some("second\n"), v2.as_str())
    );
    // Without an expected version (the Go client), or with an empty one,
    // whatever is current is replaced.
    let v3 = st.update(&db, "third", None).await.unwrap();
    let v4 = st.update(&db, value, Some("")).await.unwrap();
    assert_ne!(v3, v4);
    assert_eq!(st.get(&db, false).await.unwrap().version_id, v4);

    // Delete keeps a recovery window of the configured 7 days.
    let gone_at = st.delete(&db).await.unwrap().expect("a recovery window");
    assert!(gone_at > SystemTime::now() + Duration::from_secs(6 * 86_400));
    assert!(f.names("team-a").await.is_empty());
    let deleted = st.list_deleted(&db.namespace).await.unwrap();
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].name, "db");
    assert!(deleted[0].deleted.is_some());
    assert!(
        deleted[0]
            .deletion_date
            .is_some_and(|t| t > SystemTime::now())
    );
    let nf = Err(f.not_found(&db));
    assert_eq!(st.get(&db, true).await.map(drop), nf);
    assert_eq!(st.update(&db, "x", None).await.map(drop), nf);
    assert_eq!(st.delete(&db).await.map(drop), nf);

    // The name is held until the secret is gone for good.
    assert_eq!(
        st.create(&db, "new").await,
        Err(StoreError::ScheduledForDeletion { name: "db".into() })
    );
    st.restore(&db).await.unwrap();
    assert_eq!(f.names("team-a").await, ["db"]);
    assert!(f.deleted_names("team-a").await.is_empty());
    assert_eq!(f.value(&db).await.as_deref(), Some(value));
    assert_eq!(
        st.restore(&db).await,
        Err(StoreError::NotDeleted { name: "db".into() })
    );
    assert_eq!(
        st.create(&db, "dup").await,
        Err(StoreError::AlreadyExists { name: "db".into() })
    );
}

async fn missing_secrets_are_not_found_everywhere(f: Fixture) {
    let st = &f.store;
    let ghost = f.s("ns", "ghost");
    let nf = Err(f.not_found(&ghost));
    assert_eq!(st.get(&ghost, false).await.map(drop), nf);
    assert_eq!(st.update(&ghost, "v", None).await.map(drop), nf);
    assert_eq!(st.delete(&ghost).await.map(drop), nf);
    assert_eq!(st.restore(&ghost).await, nf);
    assert_eq!(st.create_policy(&ghost).await.map(drop), nf);
    assert_eq!(st.delete_policy(&ghost, true).await.map(drop), nf);
    assert_eq!(st.bind(&ghost, "app").await, nf);
    assert_eq!(st.unbind(&ghost, "app").await, nf);
    assert!(f.names("ns").await.is_empty());
    assert!(f.deleted_names("ns").await.is_empty());
}

async fn zero_recovery_days_delete_at_once(f: Fixture) {
    let st = &f.store;
    let x = f.s("ns", "x");
    assert_eq!(st.recovery_days(), 0, "clients are told deletes are final");
    st.create(&x, "v").await.unwrap();
    assert_eq!(st.delete(&x).await.unwrap(), None);
    assert!(f.deleted_names("ns").await.is_empty());
    assert_eq!(
        st.restore(&x).await,
        Err(f.not_found(&x)),
        "nothing left to restore"
    );
    st.create(&x, "again").await.unwrap();
    assert_eq!(f.value(&x).await.as_deref(), Some("again"));
}

/// Everything `intruder` may do to the name `owner` holds: nothing, and
/// learn nothing.
async fn assert_cannot_touch(f: &Fixture, intruder: &SecretRef, owner: &SecretRef) {
    let st = &f.store;
    let before = f.value(owner).await;
    let nf = Err(f.not_found(intruder));
    assert_eq!(st.get(intruder, true).await.map(drop), nf, "get");
    assert_eq!(st.update(intruder, "x", None).await.map(drop), nf, "update");
    assert_eq!(st.delete(intruder).await.map(drop), nf, "delete");
    assert_eq!(st.restore(intruder).await, nf, "restore");
    assert_eq!(st.create_policy(intruder).await.map(drop), nf, "policy");
    assert_eq!(st.delete_policy(intruder, true).await.map(drop), nf);
    assert_eq!(st.bind(intruder, "app").await, nf, "bind");
    assert_eq!(st.unbind(intruder, "app").await, nf, "unbind");
    // Nor its history, through the colliding name.
    let version = st.get(owner, false).await.unwrap().version_id;
    assert_eq!(st.versions(intruder).await.map(drop), nf, "versions");
    let old = st.get_version(intruder, &version, true).await;
    assert_eq!(old.map(drop), nf, "get_version");
    let rolled = st.rollback(intruder, &version, None, Some("mallory")).await;
    assert_eq!(rolled.map(drop), nf, "rollback");
    let err = st.create(intruder, "mine").await.unwrap_err();
    assert_eq!(
        err,
        StoreError::AlreadyExists {
            name: intruder.name.clone()
        }
    );
    assert!(!err.to_string().contains(&owner.namespace), "{err}");
    assert_eq!(f.value(owner).await, before);
    let listed = st.list(&intruder.namespace).await.unwrap();
    assert!(listed.iter().all(|e| e.name != intruder.name));
}

async fn colliding_names_stay_with_their_owner(f: Fixture) {
    let st = &f.store;
    f.role("team", "app").await;
    f.role("team-x", "app").await;
    // team + x-foo and team-x + foo are the same name with `-`.
    let owner = f.s("team", "x-foo");
    let intruder = f.s("team-x", "foo");
    st.create(&owner, "team's value").await.unwrap();
    let policy = st.create_policy(&owner).await.unwrap();
    st.bind(&owner, "app").await.unwrap();
    assert_cannot_touch(&f, &intruder, &owner).await;
    let details = st.get(&owner, false).await.unwrap();
    assert_eq!(details.policy_arn.as_deref(), Some(policy.as_str()));
    assert_eq!(details.bound_service_accounts, ["app"]);
    assert_eq!(f.names("team").await, ["x-foo"]);
    assert!(f.names("team-x").await.is_empty());

    // The other direction: team-x + bar against team + x-bar.
    let owner = f.s("team-x", "bar");
    let intruder = f.s("team", "x-bar");
    st.create(&owner, "team-x's value").await.unwrap();
    st.create_policy(&owner).await.unwrap();
    assert_cannot_touch(&f, &intruder, &owner).await;
    assert_eq!(f.names("team-x").await, ["bar"]);

    // Scheduled for deletion, the name is still not the intruder's, and
    // the intruder learns nothing about a deletion.
    st.delete(&owner).await.unwrap();
    assert_eq!(
        st.create(&intruder, "mine").await,
        Err(StoreError::AlreadyExists {
            name: "x-bar".into()
        })
    );
    assert_eq!(st.restore(&intruder).await, Err(f.not_found(&intruder)));
    assert!(f.deleted_names("team").await.is_empty());
    assert_eq!(f.deleted_names("team-x").await, ["bar"]);
    st.restore(&owner).await.unwrap();
}

async fn underscore_separator_keeps_names_apart(f: Fixture) {
    let st = &f.store;
    let a = f.s("team", "x-foo");
    let b = f.s("team-x", "foo");
    st.create(&a, "a").await.unwrap();
    st.create(&b, "b").await.unwrap();
    let details = st.get(&a, false).await.unwrap();
    assert_eq!(
        details.aws_name,
        format!("k8s-secret_{}_x-foo", a.namespace)
    );
    assert_eq!(f.value(&b).await.as_deref(), Some("b"));
    assert_eq!(f.names("team").await, ["x-foo"]);
    assert_eq!(f.names("team-x").await, ["foo"]);
}

async fn listings_are_sorted_and_exact(f: Fixture) {
    let st = &f.store;
    for name in ["m", "b", "z-last", "a", "b-2", "a1"] {
        st.create(&f.s("ns", name), name).await.unwrap();
    }
    // Neighbours by prefix, in name and in namespace.
    st.create(&f.s("ns-x", "n"), "v").await.unwrap();
    st.create(&f.s("nsx", "n"), "v").await.unwrap();
    assert_eq!(f.names("ns").await, ["a", "a1", "b", "b-2", "m", "z-last"]);
    assert!(f.names("n").await.is_empty());
    assert_eq!(f.names("ns-x").await, ["n"]);
    for name in ["m", "a1", "b"] {
        st.delete(&f.s("ns", name)).await.unwrap();
    }
    assert_eq!(f.deleted_names("ns").await, ["a1", "b", "m"]);
    assert_eq!(f.names("ns").await, ["a", "b-2", "z-last"]);
    assert!(f.deleted_names("ns-x").await.is_empty());
}

async fn policies_and_bindings(f: Fixture) {
    let st = &f.store;
    let x = f.s("apps", "x");
    for sa in ["web", "worker"] {
        f.role("apps", sa).await;
    }
    st.create(&x, "v").await.unwrap();
    let missing = Err(StoreError::PolicyMissing { name: "x".into() });
    assert_eq!(st.bind(&x, "web").await, missing);
    assert_eq!(st.delete_policy(&x, false).await.map(drop), missing);
    assert_eq!(
        st.unbind(&x, "web").await,
        Err(StoreError::NotBound {
            name: "x".into(),
            service_account: "web".into()
        })
    );

    let arn = st.create_policy(&x).await.unwrap();
    assert!(
        arn.ends_with(&format!(":policy/k8s-secret_{}_x", x.namespace)),
        "{arn}"
    );
    assert_eq!(
        st.create_policy(&x).await,
        Err(StoreError::PolicyExists { name: "x".into() })
    );
    st.bind(&x, "worker").await.unwrap();
    st.bind(&x, "web").await.unwrap();
    st.bind(&x, "web").await.unwrap();
    let details = st.get(&x, false).await.unwrap();
    assert_eq!(details.policy_arn.as_deref(), Some(arn.as_str()));
    assert_eq!(details.bound_service_accounts, ["web", "worker"]);
    assert_eq!(
        st.delete_policy(&x, false).await,
        Err(StoreError::PolicyAttached {
            name: "x".into(),
            service_accounts: vec!["web".into(), "worker".into()]
        })
    );
    st.unbind(&x, "worker").await.unwrap();
    assert_eq!(
        st.unbind(&x, "worker").await,
        Err(StoreError::NotBound {
            name: "x".into(),
            service_account: "worker".into()
        })
    );
    assert_eq!(
        st.get(&x, false).await.unwrap().bound_service_accounts,
        ["web"]
    );
    assert_eq!(st.delete_policy(&x, true).await.unwrap(), ["web"]);
    let details = st.get(&x, false).await.unwrap();
    assert_eq!(details.policy_arn, None);
    assert!(details.bound_service_accounts.is_empty());
    assert_eq!(st.bind(&x, "web").await, missing);
    // Without bindings, deleting needs no unbind.
    st.create_policy(&x).await.unwrap();
    assert_eq!(
        st.delete_policy(&x, false).await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(st.delete_policy(&x, false).await.map(drop), missing);
}

async fn a_deleted_secret_can_only_be_unbound_and_lose_its_policy(f: Fixture) {
    let st = &f.store;
    let x = f.s("apps", "x");
    f.role("apps", "web").await;
    st.create(&x, "v").await.unwrap();
    st.create_policy(&x).await.unwrap();
    st.bind(&x, "web").await.unwrap();
    st.delete(&x).await.unwrap();
    let nf = Err(f.not_found(&x));
    assert_eq!(st.bind(&x, "web").await, nf);
    assert_eq!(st.create_policy(&x).await.map(drop), nf);
    assert_eq!(st.get(&x, false).await.map(drop), nf);
    assert_eq!(
        st.delete_policy(&x, false).await.map(drop),
        Err(StoreError::PolicyAttached {
            name: "x".into(),
            service_accounts: vec!["web".into()]
        })
    );
    st.unbind(&x, "web").await.unwrap();
    assert_eq!(
        st.delete_policy(&x, false).await.unwrap(),
        Vec::<String>::new()
    );
    st.restore(&x).await.unwrap();
    assert_eq!(st.get(&x, false).await.unwrap().policy_arn, None);
}

async fn values_at_and_over_the_limit(f: Fixture) {
    let st = &f.store;
    let big = f.s("ns", "big");
    let err = st.create(&big, &"x".repeat(65_537)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref m) if m.contains("65536")),
        "{err}"
    );
    assert_eq!(st.get(&big, false).await.map(drop), Err(f.not_found(&big)));
    st.create(&big, &"x".repeat(65_536)).await.unwrap();
    let err = st
        .update(&big, &"y".repeat(65_537), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(f.value(&big).await.map(|v| v.len()), Some(65_536));
}

async fn names_over_aws_limits_are_refused_with_the_limit(f: Fixture) {
    let st = &f.store;
    // 128 characters of policy name at most: the secret fits, its policy not.
    let long = f.s("ns", &"n".repeat(120));
    st.create(&long, "v").await.unwrap();
    let err = st.create_policy(&long).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref m) if m.contains("at most 128")),
        "{err}"
    );
    // It is still a secret like any other, only without a read policy.
    let details = st.get(&long, true).await.unwrap();
    assert_eq!(details.value.as_deref(), Some("v"));
    assert_eq!(details.policy_arn, None);
    assert!(details.bound_service_accounts.is_empty());
    let x = f.s("ns", "x");
    st.create(&x, "v").await.unwrap();
    st.create_policy(&x).await.unwrap();
    let err = st.bind(&x, &"s".repeat(60)).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Invalid(ref m) if m.contains("at most 64")),
        "{err}"
    );
}

async fn history_rollback_and_authors(f: Fixture) {
    let st = &f.store;
    let db = f.s("team", "db");
    let v1 = st
        .create_as(&db, "one", Some("alice@example.com"))
        .await
        .unwrap();
    let v2 = st
        .update_as(&db, "two", Some(&v1), Some("bob@example.com"))
        .await
        .unwrap();
    // Written by nobody kiss knows (an operator, a rotation lambda).
    let v3 = st.update(&db, "three", Some(&v2)).await.unwrap();
    let history = st.versions(&db).await.unwrap();
    let seen: Vec<(&str, Vec<&str>, Option<&str>)> = history
        .iter()
        .map(|v| {
            let labels = v.labels.iter().map(String::as_str).collect();
            (v.version_id.as_str(), labels, v.author.as_deref())
        })
        .collect();
    assert_eq!(
        seen,
        [
            (v3.as_str(), vec![CURRENT], None),
            (v2.as_str(), vec![PREVIOUS], Some("bob@example.com")),
            (v1.as_str(), vec![], Some("alice@example.com")),
        ]
    );
    assert!(history.iter().all(|v| v.created.is_some()));

    // An earlier version, with and without its value.
    let old = st.get_version(&db, &v1, true).await.unwrap();
    assert_eq!(
        (old.version_id.as_str(), old.value.as_deref()),
        (v1.as_str(), Some("one"))
    );
    assert_eq!(st.get_version(&db, &v1, false).await.unwrap().value, None);
    let now = st.get_version(&db, &v3, true).await.unwrap();
    assert_eq!(now.value.as_deref(), Some("three"));

    // Based on a stale version: refused, nothing written.
    let stale = st
        .rollback(&db, &v1, Some(&v2), Some("carol@example.com"))
        .await;
    assert_eq!(
        stale,
        Err(StoreError::VersionConflict {
            name: "db".into(),
            expected: v2.clone()
        })
    );
    assert_eq!(f.value(&db).await.as_deref(), Some("three"));
    assert_eq!(st.versions(&db).await.unwrap().len(), 3);

    // The rollback is itself a new version, by whoever made it.
    let v4 = st
        .rollback(&db, &v1, Some(&v3), Some("carol@example.com"))
        .await
        .unwrap();
    assert!(![&v1, &v2, &v3].contains(&&v4), "a new version id");
    assert_eq!(f.value(&db).await.as_deref(), Some("one"));
    let history = st.versions(&db).await.unwrap();
    let ids: Vec<&str> = history.iter().map(|v| v.version_id.as_str()).collect();
    assert_eq!(ids, [v4.as_str(), &v3, &v2, &v1]);
    assert_eq!(history[0].labels, [CURRENT]);
    assert_eq!(history[0].author.as_deref(), Some("carol@example.com"));
    assert_eq!(history[1].labels, [PREVIOUS]);
    assert_eq!(st.get(&db, false).await.unwrap().version_id, v4);

    // A version the backend does not hold: named in the answer, nothing written.
    let gone = "00000000-0000-4000-8000-000000000000";
    let missing = Err(StoreError::VersionNotFound {
        name: "db".into(),
        version: gone.into(),
    });
    assert_eq!(st.rollback(&db, gone, None, None).await.map(drop), missing);
    assert_eq!(st.get_version(&db, gone, true).await.map(drop), missing);
    assert_eq!(st.get_version(&db, gone, false).await.map(drop), missing);
    assert_eq!(st.versions(&db).await.unwrap().len(), 4);

    // A missing secret has no history.
    let nope = f.s("team", "nope");
    assert_eq!(st.versions(&nope).await.map(drop), Err(f.not_found(&nope)));
}

// -------------------------------------------------------------- harness

type CaseFn = fn(Fixture) -> Pin<Box<dyn Future<Output = ()> + Send>>;

macro_rules! cases {
    ($($name:ident $(with $flags:expr)?),* $(,)?) => {
        vec![$((
            stringify!($name),
            (|f| Box::pin($name(f))) as CaseFn,
            None::<&'static [&'static str]>$(.or(Some($flags)))?.unwrap_or(&[]),
        )),*]
    };
}

/// What the cases share.
struct Env {
    #[cfg(feature = "aws")]
    aws: Option<Arc<aws_backend::Aws>>,
}

fn backends() -> Vec<Backend> {
    vec![
        Backend::Local,
        #[cfg(feature = "aws")]
        Backend::Aws,
    ]
}

/// The filter words and the `--skip` words among libtest's arguments.
fn words(args: impl Iterator<Item = String>) -> (Vec<String>, Vec<String>) {
    const WITH_VALUE: [&str; 6] = [
        "--test-threads",
        "--format",
        "--color",
        "--logfile",
        "-Z",
        "--shuffle-seed",
    ];
    let (mut filters, mut skips) = (Vec::new(), Vec::new());
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        if arg == "--skip" {
            skips.extend(args.next());
        } else if WITH_VALUE.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') {
            filters.push(arg);
        }
    }
    (filters, skips)
}

fn main() {
    let cases = cases![
        lifecycle,
        missing_secrets_are_not_found_everywhere,
        zero_recovery_days_delete_at_once with &["--deletion-recovery-days", "0"],
        colliding_names_stay_with_their_owner,
        underscore_separator_keeps_names_apart with &["--secret-name-separator", "_"],
        listings_are_sorted_and_exact,
        policies_and_bindings,
        a_deleted_secret_can_only_be_unbound_and_lose_its_policy,
        values_at_and_over_the_limit,
        names_over_aws_limits_are_refused_with_the_limit,
        history_rollback_and_authors,
    ];
    // libtest's own flags (--nocapture, --test-threads N, ...) are accepted
    // and ignored, `--skip WORD` leaves cases out, other words select them.
    let (filters, skips) = words(std::env::args().skip(1));
    let selected = |name: &str, backend: Backend| {
        let full = format!("{name}::{backend:?}").to_lowercase();
        let hit = |w: &String| full.contains(&w.to_lowercase());
        (filters.is_empty() || filters.iter().any(hit)) && !skips.iter().any(hit)
    };
    let runs: Vec<_> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, case)| backends().into_iter().map(move |b| (i, case, b)))
        .filter(|(_, (name, _, _), b)| selected(name, *b))
        .map(|(i, (name, run, flags), b)| (i, *name, *run, *flags, b))
        .collect();
    if std::env::args().any(|a| a == "--list") {
        for (_, name, _, _, b) in &runs {
            println!("{name}::{b:?}: test");
        }
        return;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let started = Instant::now();
    let mut passed = 0usize;
    let failed = runtime.block_on(async {
        let env = Arc::new(Env {
            #[cfg(feature = "aws")]
            aws: if runs.iter().any(|r| r.4 == Backend::Aws) {
                Some(Arc::new(aws_backend::Aws::start().await))
            } else {
                None
            },
        });
        println!("\nrunning {} store contract cases", runs.len());
        let tasks: Vec<_> = runs
            .into_iter()
            .map(|(i, name, run, flags, backend)| {
                let env = env.clone();
                let task = tokio::spawn(async move {
                    let fixture = Fixture::new(backend, &env, format!("c{i}"), flags).await;
                    tokio::time::timeout(Duration::from_secs(120), run(fixture))
                        .await
                        .expect("the case finishes within two minutes");
                });
                (format!("{name}::{backend:?}"), task)
            })
            .collect();
        let mut failed = Vec::new();
        for (name, task) in tasks {
            match task.await {
                Ok(()) => {
                    passed += 1;
                    println!("test {name} ... ok");
                }
                Err(e) => {
                    println!("test {name} ... FAILED ({e})");
                    failed.push(name);
                }
            }
        }
        failed
    });
    // Drop moto (and its process) before exiting.
    drop(runtime);
    println!(
        "\ntest result: {}. {passed} passed; {} failed; 0 ignored; 0 measured; 0 filtered out; finished in {:.2}s",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if !failed.is_empty() {
        println!("failures:\n    {}", failed.join("\n    "));
        std::process::exit(1);
    }
}
