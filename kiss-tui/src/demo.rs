//! `kiss-tui --demo`: a dev-mode kiss-server started in this process, with
//! sample secrets, and the app opened against it. Nothing is faked: every
//! action still travels over gRPC to the real server code, with the local
//! backend instead of AWS.
//!
//! This module sits above [`crate::tui`]: it starts a server, then runs the
//! app against it. `tui` knows nothing of the demo, so the two do not form a
//! cycle and the app cannot grow demo-only paths.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context as _;
use kiss_server::dev::{DevOptions, DevServer};

use crate::settings::Settings;

/// Starts the demo server in a temporary directory, runs the app against it,
/// then stops the server and removes the directory.
///
/// The directory holds a signing key and tokens the demo server accepts, so
/// it is private to the user (0700) and removed on every way out: a return,
/// an error, or a panic unwinding through here.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let dir = tempfile::Builder::new()
        .prefix("kiss-demo-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .context("could not create a temporary directory for the demo")?;
    let base = dir.path();
    let server = DevServer::start(DevOptions {
        data_dir: base.join("data"),
        token_dir: base.join("tokens"),
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        seed_samples: true,
    })
    .await
    .with_context(|| format!("could not start the demo server in {}", base.display()))?;
    let settings = demo_settings(settings, &server);
    let result = crate::tui::run(settings).await;
    server.shutdown().await;
    drop(dir);
    result
}

/// The settings that point the app at a demo server; `--namespace` and
/// `--timeout` are kept.
pub fn demo_settings(settings: Settings, server: &DevServer) -> Settings {
    Settings {
        server_addr: server.addr.to_string(),
        secure: false,
        ca_file: None,
        token_path: None,
        token_dir: Some(server.token_dir.clone()),
        remember_namespaces: false,
        ..settings
    }
}
