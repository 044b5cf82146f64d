//! Dev mode as a user meets it: token files that work, a restart that keeps
//! them working, and files no other local user can read.

use std::net::SocketAddr;

use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_server::dev::{DevOptions, DevServer};
use kiss_testkit::authorized;

/// Options for a dev server keeping its data and tokens in `dir`.
fn options(dir: &std::path::Path) -> DevOptions {
    DevOptions {
        data_dir: dir.join("data"),
        token_dir: dir.join("tokens"),
        addr: "127.0.0.1:0".parse().unwrap(),
        seed_samples: true,
    }
}

fn token_of(path: &std::path::Path) -> String {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    json["id_token"].as_str().unwrap().to_owned()
}

fn team_a() -> Option<pb::ClientMeta> {
    Some(pb::ClientMeta {
        namespace: "team-a".into(),
    })
}

async fn ping(addr: SocketAddr, token: &str) -> Result<(), tonic::Status> {
    let mut client = KissClient::connect(format!("http://{addr}")).await.unwrap();
    let req = authorized(token, pb::PingRequest { metadata: team_a() });
    client.ping(req).await.map(|_| ())
}

/// The names of team-a's secrets.
async fn team_a_secrets(addr: SocketAddr, token: &str) -> Vec<String> {
    let mut client = KissClient::connect(format!("http://{addr}")).await.unwrap();
    let req = authorized(token, pb::ListSecretsRequest { metadata: team_a() });
    client.list_secrets(req).await.unwrap().into_inner().secrets
}

#[tokio::test]
async fn a_restarted_dev_server_still_accepts_its_token_files() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path());
    let first = DevServer::start(opts.clone()).await.unwrap();
    let token = token_of(&first.user_token_path);
    ping(first.addr, &token).await.unwrap();
    first.shutdown().await;

    let second = DevServer::start(opts).await.unwrap();
    ping(second.addr, &token)
        .await
        .expect("the token from the first run still works");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for path in [&second.user_token_path, &second.admin_token_path] {
            let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{} is readable by others", path.display());
        }
        let mode = std::fs::metadata(&second.token_dir)
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700);
    }
    second.shutdown().await;
}

#[tokio::test]
async fn the_demo_user_comes_first_and_samples_are_seeded_once() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path());
    let dev = DevServer::start(opts.clone()).await.unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dev.token_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(
        files.first(),
        Some(&dev.user_token_path),
        "pickers list the demo user first"
    );

    // Delete a sample; a restart must neither fail nor bring it back.
    let token = token_of(&dev.user_token_path);
    let seeded = team_a_secrets(dev.addr, &token).await;
    assert!(
        seeded.iter().any(|s| s == "database-url"),
        "the samples are seeded: {seeded:?}"
    );
    let mut client = KissClient::connect(format!("http://{}", dev.addr))
        .await
        .unwrap();
    let req = authorized(
        &token,
        pb::DeleteSecretRequest {
            metadata: team_a(),
            name: "database-url".into(),
        },
    );
    client.delete_secret(req).await.unwrap();
    dev.shutdown().await;
    let again = DevServer::start(opts)
        .await
        .expect("restarts after samples were deleted");
    let after = team_a_secrets(again.addr, &token).await;
    assert!(
        !after.iter().any(|s| s == "database-url"),
        "the restart brought the deleted sample back: {after:?}"
    );
    let kept: Vec<&String> = seeded.iter().filter(|s| *s != "database-url").collect();
    assert_eq!(
        after.iter().collect::<Vec<_>>(),
        kept,
        "the other samples are neither lost nor seeded twice"
    );
    again.shutdown().await;
}
