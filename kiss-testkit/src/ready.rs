//! Readiness: a kiss-server is ready when `grpc.health.v1` says its KISS
//! service is SERVING, which it only does once its token keys are loaded.
//! Listening is not enough: calls made before then fail as unauthenticated.

use std::net::SocketAddr;
use std::process::Child;
use std::time::{Duration, Instant};

use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// The health service name of kiss's API: SERVING means ready.
pub const KISS_SERVICE: &str = "kiss.resources.KISS";

/// How long a server may take to become ready.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// The health status of `service` ("" = the process, [`KISS_SERVICE`] =
/// ready to serve) at plaintext `addr`, or None when it does not answer.
pub async fn health(addr: SocketAddr, service: &str) -> Option<i32> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .ok()?
        .connect()
        .await
        .ok()?;
    health_on(channel, service).await
}

/// As [`health`], over a channel of the caller's (TLS, say).
pub async fn health_on(channel: Channel, service: &str) -> Option<i32> {
    let reply = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .ok()?;
    Some(reply.into_inner().status)
}

/// Waits until the server behind `channel` is ready; `gone` says whether
/// it can no longer become ready (Some(why), e.g. its process exited with
/// its log), which fails at once. Panics after a minute.
pub async fn wait_ready_on(channel: Channel, mut gone: impl FnMut() -> Option<String>) {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if let Some(why) = gone() {
            panic!("kiss-server will not become ready: {why}");
        }
        if health_on(channel.clone(), KISS_SERVICE).await == Some(ServingStatus::Serving as i32) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "kiss-server is not ready after {READY_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the in-process server at plaintext `addr` is ready.
pub async fn wait_ready_at(addr: SocketAddr) {
    wait_ready_on(lazy_channel(addr), || None).await;
}

/// Waits until the kiss-server process `child` at `addr` is ready; panics
/// with `log()` if it exits or a minute passes.
pub async fn wait_ready(addr: SocketAddr, child: &mut Child, log: impl Fn() -> String) {
    let deadline = Instant::now() + READY_WITHIN;
    let channel = lazy_channel(addr);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("kiss-server exited with {status}:\n{}", log());
        }
        if health_on(channel.clone(), KISS_SERVICE).await == Some(ServingStatus::Serving as i32) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "kiss-server is not ready after {READY_WITHIN:?}:\n{}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A channel that connects on first use and reconnects after failures, so
/// polling can start before anything listens.
fn lazy_channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .expect("a loopback URI")
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .connect_lazy()
}
