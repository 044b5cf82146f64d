//! `--source-identity-role-arn` against moto: what the server really sends,
//! read from moto's request recorder. Each caller's first call assumes the
//! role with `SourceIdentity` = their identifier, later calls reuse those
//! credentials (no new AssumeRole), and the Secrets Manager and IAM calls
//! are signed with the caller's credentials, not the server's. moto checks
//! no trust policy, so a refusal is covered by the unit tests of the error
//! messages; the expiry of the credentials by those of the per-caller cache.
#![cfg(feature = "aws")]

use std::collections::BTreeSet;
use std::sync::Arc;

use kiss_server::config::Config;
use kiss_server::store::aws::AwsStore;
use kiss_server::store::{SecretRef, SecretStore, caller};
use kiss_testkit::recorder::Recorded;
use kiss_testkit::{Caller, Cognito, KissServer, Moto, NAMESPACES_REGEX};

const ROLE: &str = "arn:aws:iam::123456789012:role/kiss-callers";
const ALICE: &str = "alice@example.com";
const BOB: &str = "bob@example.com";

fn config(extra: &[&str]) -> Config {
    let mut args = vec![
        "kiss-server",
        "--jwks-url",
        "http://127.0.0.1:1/unused",
        "--source-identity-role-arn",
        ROLE,
    ];
    args.extend_from_slice(extra);
    Config::try_parse_args(args).expect("test flags parse")
}

/// `f` as a store operation done for `who`, as the pipeline runs it.
async fn as_caller<T>(who: &str, f: impl Future<Output = T>) -> T {
    caller::scope(Some(Arc::from(who)), f).await
}

/// The (RoleArn, RoleSessionName, SourceIdentity, DurationSeconds) of each
/// AssumeRole moto received.
fn assumed(moto: &Moto) -> Vec<[String; 4]> {
    moto.recorded_calls("AssumeRole")
        .iter()
        .map(|r| {
            [
                "RoleArn",
                "RoleSessionName",
                "SourceIdentity",
                "DurationSeconds",
            ]
            .map(|p| r.param(p).unwrap_or_default())
        })
        .collect()
}

fn assume(who: &str, seconds: &str) -> [String; 4] {
    [ROLE, who, who, seconds].map(str::to_owned)
}

/// The access keys the Secrets Manager and IAM requests in `recorded` were
/// signed with.
fn signing_keys(recorded: &[Recorded]) -> BTreeSet<String> {
    recorded
        .iter()
        .filter(|r| matches!(r.service().as_deref(), Some("secretsmanager" | "iam")))
        .filter_map(Recorded::access_key)
        .collect()
}

#[tokio::test]
async fn each_caller_assumes_the_role_once_with_their_identifier_as_source_identity() {
    let moto = Moto::start();
    moto.start_recording();
    let sdk = moto.sdk_config().await;
    let store =
        AwsStore::from_sdk_config(&sdk, &config(&["--source-identity-session-seconds=900"]))
            .await
            .expect("the store connects to moto");
    // At start, once as the server itself: a trust policy that refuses
    // stops the start, not every user's calls.
    assert_eq!(assumed(&moto), [assume("kiss-server", "900")]);

    // Outside any caller's operation: the server's own credentials.
    moto.start_recording();
    store.list("team").await.unwrap();
    let own = signing_keys(&moto.recorded());
    assert_eq!(own.len(), 1, "{own:?}");
    assert!(assumed(&moto).is_empty());

    // Alice's first call assumes the role as her; her next ones reuse it.
    moto.start_recording();
    let db = SecretRef::new("team", "db");
    as_caller(ALICE, store.create_as(&db, "v1", Some(ALICE)))
        .await
        .unwrap();
    as_caller(ALICE, async {
        store.list("team").await.unwrap();
        store.get(&db, true).await.unwrap();
        store.update_as(&db, "v2", None, Some(ALICE)).await.unwrap();
        store.create_policy(&db).await.unwrap();
    })
    .await;
    assert_eq!(assumed(&moto), [assume(ALICE, "900")]);
    let alices = signing_keys(&moto.recorded());
    assert_eq!(
        alices.len(),
        1,
        "Secrets Manager and IAM, one key: {alices:?}"
    );
    assert!(
        alices.is_disjoint(&own),
        "Alice's calls are not the server's"
    );

    // Bob is another session; Alice, back, still none.
    moto.start_recording();
    as_caller(BOB, store.list("team")).await.unwrap();
    as_caller(ALICE, store.get(&db, false)).await.unwrap();
    assert_eq!(assumed(&moto), [assume(BOB, "900")]);
    let keys = signing_keys(&moto.recorded());
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.is_superset(&alices));

    // Concurrent first calls of one caller: one AssumeRole between them.
    moto.start_recording();
    let carol = "carol@example.com";
    let calls = (0..8).map(|_| as_caller(carol, store.list("team")));
    for listing in futures::future::join_all(calls).await {
        listing.unwrap();
    }
    assert_eq!(assumed(&moto), [assume(carol, "900")]);

    // An identifier AWS would refuse is made to fit.
    moto.start_recording();
    as_caller("Jane Doe (contractor)", store.list("team"))
        .await
        .unwrap();
    let [_, session, source, _] = assumed(&moto).pop().expect("one AssumeRole");
    assert!(source.starts_with("Jane_Doe__contractor_-"), "{source}");
    assert_eq!(session, source);
}

#[tokio::test]
async fn the_server_acts_as_each_user_of_its_grpc_calls() {
    let moto = Moto::start();
    let cognito = Cognito::setup(&moto, &[(ALICE, &["kaluza:team"]), (BOB, &["kaluza:team"])]);
    let mut server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"))
        .aws(&moto)
        .cognito(&cognito, NAMESPACES_REGEX)
        .args(["--source-identity-role-arn", ROLE])
        .spawn();
    server.wait_ready().await;
    let log = server.log();
    assert!(log.contains("assumed per caller"), "{log}");

    moto.start_recording();
    let mut alice = Caller::connect(server.addr, cognito.token(ALICE)).await;
    let mut bob = Caller::connect(server.addr, cognito.token(BOB)).await;
    let v1 = alice.create("team", "db", "v1").await.unwrap();
    alice.get("team", "db", true).await.unwrap();
    alice.update("team", "db", "v2", &v1).await.unwrap();
    bob.get("team", "db", false).await.unwrap();
    bob.versions("team", "db").await.unwrap();
    alice.list("team").await.unwrap();

    // One AssumeRole each, in the order they first called, as themselves.
    assert_eq!(assumed(&moto), [assume(ALICE, "3600"), assume(BOB, "3600")]);
    // Every Secrets Manager call was made with one of the two sessions.
    let keys = signing_keys(&moto.recorded());
    assert_eq!(keys.len(), 2, "{keys:?}");
}
