//! The history of a secret with 100 versions (AWS's cap): what listing it
//! costs on moto (AWS calls made, time) and on the local backend (time),
//! and reading one earlier version's value. The screen's own time to first
//! frame is kiss-tui's `tui_history` bench.
//!
//! Run: `cargo bench -p kiss-server --bench history` (moto comes from
//! scripts/setup-test-env.sh).

use std::time::{Duration, Instant};

use kiss_server::config::Config;
use kiss_server::store::aws::AwsStore;
use kiss_server::store::local::LocalStore;
use kiss_server::store::{Naming, SecretRef, SecretStore};
use kiss_testkit::Moto;

const VERSIONS: usize = 100;
const RUNS: usize = 30;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Every AWS call counted so far, by API.
fn aws_calls() -> Vec<(String, u64)> {
    use prometheus::core::Collector;
    let families = kiss_server::metrics::metrics().aws_calls.collect();
    let mut out = Vec::new();
    for f in &families {
        for m in f.get_metric() {
            let api = m
                .get_label()
                .iter()
                .find(|l| l.name() == "api")
                .map(|l| l.value().to_owned())
                .unwrap_or_default();
            let outcome = m
                .get_label()
                .iter()
                .find(|l| l.name() == "outcome")
                .map(|l| l.value().to_owned())
                .unwrap_or_default();
            out.push((
                format!("{api} {outcome}"),
                m.get_counter().get_value() as u64,
            ));
        }
    }
    out
}

fn calls_since(before: &[(String, u64)]) -> Vec<(String, u64)> {
    let mut diff = Vec::new();
    for (api, n) in aws_calls() {
        let was = before
            .iter()
            .find(|(a, _)| *a == api)
            .map_or(0, |(_, n)| *n);
        if n > was {
            diff.push((api, n - was));
        }
    }
    diff
}

async fn fill(store: &dyn SecretStore, secret: &SecretRef) -> String {
    let mut version = store
        .create_as(secret, "v0", Some("ann@example.com"))
        .await
        .unwrap();
    let first = version.clone();
    for i in 1..VERSIONS {
        version = store
            .update_as(
                secret,
                &format!("v{i}"),
                Some(&version),
                Some("bob@example.com"),
            )
            .await
            .unwrap();
    }
    first
}

async fn measure(name: &str, store: &dyn SecretStore, secret: &SecretRef) {
    let first = fill(store, secret).await;
    let mut list = Vec::new();
    let mut get = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        let versions = store.versions(secret).await.unwrap();
        list.push(t.elapsed());
        assert_eq!(versions.len(), VERSIONS);
        let t = Instant::now();
        store.get_version(secret, &first, true).await.unwrap();
        get.push(t.elapsed());
    }
    println!(
        "{name}: list {VERSIONS} versions median {:.3} ms; read the oldest value median {:.3} ms ({RUNS} runs)",
        median(list).as_secs_f64() * 1e3,
        median(get).as_secs_f64() * 1e3
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalStore::open(dir.path(), Naming::default(), 7).unwrap();
        measure("local", &local, &SecretRef::new("team-a", "db")).await;

        let moto = Moto::start();
        let sdk = moto.sdk_config().await;
        let config =
            Config::try_parse_args(["kiss-server", "--jwks-url", "http://127.0.0.1:1/x"]).unwrap();
        let aws = AwsStore::from_sdk_config(&sdk, &config).await.unwrap();
        let secret = SecretRef::new("team-a", "db");
        measure("aws (moto)", &aws, &secret).await;
        let before = aws_calls();
        let versions = aws.versions(&secret).await.unwrap();
        let calls = calls_since(&before);
        let total: u64 = calls.iter().map(|(_, n)| n).sum();
        println!(
            "aws: listing {} versions made {total} AWS calls: {calls:?}",
            versions.len()
        );
        let known = versions.iter().filter(|v| v.author.is_some()).count();
        println!(
            "aws: {known} of {} versions name their author (40 author tags kept)",
            versions.len()
        );
    });
}
