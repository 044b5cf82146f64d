//! The moto the tests run answers concurrent requests the way AWS would.
//!
//! Plain `moto_server` serves each connection on its own thread over
//! backends that are not thread-safe: a ListSecrets running while a
//! CreateSecret adds a secret now and then fails with an HTTP 500 and no
//! error code. The soak counted one such answer against kiss-server. This
//! drives the same mix straight at [`Moto`] with the SDK's retries off, so
//! every 500 shows.

use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::config::retry::RetryConfig;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use kiss_testkit::Moto;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The HTTP status and error code of a failed call, or how it failed.
fn answer<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> String {
    match e.raw_response() {
        Some(r) => format!(
            "HTTP {} ({})",
            r.status().as_u16(),
            e.code().unwrap_or("no error code")
        ),
        None => format!("{e}"),
    }
}

const CREATORS: usize = 4;
const LISTERS: usize = 4;
const SECRETS_EACH: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lists_running_beside_creates_never_fail() {
    let moto = Moto::start();
    let config = aws_sdk_secretsmanager::config::Builder::from(&moto.sdk_config().await)
        .retry_config(RetryConfig::disabled())
        .build();
    let client = aws_sdk_secretsmanager::Client::from_conf(config);
    let done = Arc::new(AtomicBool::new(false));

    let mut creators = Vec::new();
    for c in 0..CREATORS {
        let client = client.clone();
        creators.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            for i in 0..SECRETS_EACH {
                if let Err(e) = client
                    .create_secret()
                    .name(format!("k8s-secret-ns{c}-s{i}"))
                    .secret_string("x")
                    .send()
                    .await
                {
                    failures.push(format!("CreateSecret: {}", answer(&e)));
                }
            }
            failures
        }));
    }
    let mut listers = Vec::new();
    for _ in 0..LISTERS {
        let client = client.clone();
        let done = done.clone();
        listers.push(tokio::spawn(async move {
            let (mut lists, mut failures) = (0, Vec::new());
            while !done.load(Ordering::SeqCst) {
                let filter = Filter::builder()
                    .key(FilterNameStringType::Name)
                    .values("k8s-secret-ns1-")
                    .build();
                match client
                    .list_secrets()
                    .include_planned_deletion(true)
                    .filters(filter)
                    .max_results(100)
                    .send()
                    .await
                {
                    Ok(_) => lists += 1,
                    Err(e) => failures.push(format!("ListSecrets: {}", answer(&e))),
                }
            }
            (lists, failures)
        }));
    }

    let mut failures = Vec::new();
    for c in creators {
        failures.extend(c.await.expect("a creator task"));
    }
    done.store(true, Ordering::SeqCst);
    let mut lists = 0;
    for l in listers {
        let (n, f) = l.await.expect("a lister task");
        lists += n;
        failures.extend(f);
    }
    assert!(lists > 0, "no ListSecrets ran beside the creates");
    assert!(
        failures.is_empty(),
        "{} of {} calls failed, first: {:?}",
        failures.len(),
        CREATORS * SECRETS_EACH + lists,
        failures.first()
    );
}
