//! What the AWS backend logs: every AWS error once, with its AWS request id,
//! and never a secret value.
//!
//! Alone in its own test binary: tracing caches per-callsite interest
//! process-wide, so a thread-local subscriber can miss events while other
//! tests run in parallel threads.
#![cfg(feature = "aws")]

use kiss_server::config::Config;
use kiss_server::store::aws::AwsStore;
use kiss_server::store::{SecretRef, SecretStore};
use kiss_testkit::Moto;

/// Collects log output, to check what the backend logs.
#[derive(Clone, Default)]
struct LogBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> LogBuffer {
        self.clone()
    }
}

#[tokio::test]
async fn aws_errors_are_logged_with_request_ids_and_never_values() {
    let logs = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .finish();
    // The test runtime is single-threaded, so the default holds for every call.
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut moto = Moto::start();
    let sdk = moto.sdk_config().await;
    let config = Config::try_parse_args(["kiss-server", "--jwks-url", "http://127.0.0.1:1/unused"])
        .expect("test flags parse");
    let store = AwsStore::from_sdk_config(&sdk, &config).await.unwrap();
    let x = SecretRef::new("ns", "x");
    let secret_value = "SUPER-SECRET-VALUE-\u{1F511}";
    store.create(&x, secret_value).await.unwrap();
    // CreateSecret refused (the name is taken) while carrying a value.
    assert!(store.create(&x, secret_value).await.is_err());
    assert!(
        store
            .get(&SecretRef::new("ns", "missing"), false)
            .await
            .is_err()
    );
    store.get(&x, true).await.unwrap();
    moto.stop();
    assert!(store.update(&x, secret_value, None).await.is_err());

    let out = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        !out.contains("SUPER-SECRET-VALUE"),
        "a value reached the log:\n{out}"
    );
    let create = out
        .lines()
        .find(|l| l.contains("secretsmanager:CreateSecret"))
        .unwrap_or_else(|| panic!("the refused CreateSecret is not logged:\n{out}"));
    assert!(create.contains("ResourceExistsException"), "{create}");
    assert!(
        !create.contains("aws.request_id=\"-\""),
        "no request id: {create}"
    );
    assert!(create.contains("aws.request_id="), "{create}");
    let describe = out
        .lines()
        .find(|l| {
            l.contains("secretsmanager:DescribeSecret") && l.contains("ResourceNotFoundException")
        })
        .unwrap_or_else(|| panic!("the failed DescribeSecret is not logged:\n{out}"));
    assert!(
        !describe.contains("aws.request_id=\"-\""),
        "no request id: {describe}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("WARN") && l.contains("secretsmanager:DescribeSecret")),
        "the outage is not logged as a warning:\n{out}"
    );
}
