//! Dev mode as a user meets it: token files that work, a restart that keeps
//! them working, and files no other local user can read.

use std::net::SocketAddr;

use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_server::dev::{DevOptions, DevServer};
use tonic::Request;

fn token_of(path: &std::path::Path) -> String {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    json["id_token"].as_str().unwrap().to_owned()
}

async fn ping(addr: SocketAddr, token: &str) -> Result<(), tonic::Status> {
    let mut client = KissClient::connect(format!("http://{addr}")).await.unwrap();
    let mut req = Request::new(pb::PingRequest {
        metadata: Some(pb::ClientMeta {
            namespace: "team-a".into(),
        }),
    });
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    client.ping(req).await.map(|_| ())
}

#[tokio::test]
async fn a_restarted_dev_server_still_accepts_its_token_files() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DevOptions {
        data_dir: dir.path().join("data"),
        token_dir: dir.path().join("tokens"),
        addr: "127.0.0.1:0".parse().unwrap(),
        seed_samples: true,
    };
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
    let opts = DevOptions {
        data_dir: dir.path().join("data"),
        token_dir: dir.path().join("tokens"),
        addr: "127.0.0.1:0".parse().unwrap(),
        seed_samples: true,
    };
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
    let mut client = KissClient::connect(format!("http://{}", dev.addr))
        .await
        .unwrap();
    let mut req = Request::new(pb::DeleteSecretRequest {
        metadata: Some(pb::ClientMeta {
            namespace: "team-a".into(),
        }),
        name: "database-url".into(),
    });
    req.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    client.delete_secret(req).await.unwrap();
    dev.shutdown().await;
    let again = DevServer::start(opts)
        .await
        .expect("restarts after samples were deleted");
    again.shutdown().await;
}
