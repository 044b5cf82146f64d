//! Trace export end to end: the real `kiss-server` binary in dev mode with
//! `--otlp-endpoint` pointing at a fake OTLP collector in this test. After a
//! few calls and SIGTERM, the collector must hold one span per call, named
//! for the RPC, with its namespace, caller and status, and neither the
//! secret value nor the token anywhere in what was exported.
#![cfg(feature = "otlp")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_testkit::authorized as req;
use kiss_testkit::{KissServer, ServerProcess, meta};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use tonic::transport::Channel;
use tonic::{Code, Request, Response, Status};

const SECRET_VALUE: &str = "otlp-probe-value-5d8e1c77b0a9";
const SERVICE_NAME: &str = "kiss-otlp-test";

/// An OTLP trace receiver that keeps every export request.
#[derive(Clone, Default)]
struct Collector {
    received: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.received.lock().unwrap().push(request.into_inner());
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

async fn start_collector() -> (Collector, SocketAddr) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let collector = Collector::default();
    let service = TraceServiceServer::new(collector.clone());
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
    (collector, addr)
}

/// The dev-mode server process, exporting to `collector`, and its token
/// directory.
fn start_server(collector: SocketAddr) -> (ServerProcess, PathBuf) {
    let server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"));
    let tokens = server.dir().join("tokens");
    let data = server.dir().join("data");
    let server = server
        .arg("--dev")
        .arg("--dev-token-dir")
        .arg(&tokens)
        .arg("--data-dir")
        .arg(data)
        .args(["--otlp-endpoint", &format!("http://{collector}")])
        .args(["--otlp-service-name", SERVICE_NAME])
        .spawn();
    (server, tokens)
}

async fn client(server: &ServerProcess) -> KissClient<Channel> {
    KissClient::new(kiss_testkit::connect(server.addr).await)
}

fn dev_token(dir: &Path) -> String {
    let file = std::fs::read(dir.join("kiss-dev-1-demo-user")).expect("dev token file");
    let json: serde_json::Value = serde_json::from_slice(&file).expect("token file is JSON");
    json["id_token"]
        .as_str()
        .expect("token file has id_token")
        .to_owned()
}

fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn string_attr<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    match attr(&span.attributes, key)? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}

fn int_attr(span: &Span, key: &str) -> Option<i64> {
    match attr(&span.attributes, key)? {
        any_value::Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_spans_reach_the_collector_without_secrets() {
    let (collector, collector_addr) = start_collector().await;
    let (mut server, tokens) = start_server(collector_addr);
    server.wait_ready().await;
    let token = dev_token(&tokens);
    let mut client = client(&server).await;

    client
        .ping(req(
            &token,
            pb::PingRequest {
                metadata: meta("team-a"),
            },
        ))
        .await
        .expect("Ping in team-a");
    client
        .create_secret(req(
            &token,
            pb::CreateSecretRequest {
                metadata: meta("team-a"),
                name: "otlp-probe".into(),
                value: SECRET_VALUE.into(),
            },
        ))
        .await
        .expect("CreateSecret in team-a");
    let denied = client
        .ping(req(
            &token,
            pb::PingRequest {
                metadata: meta("not-granted"),
            },
        ))
        .await
        .expect_err("Ping in a namespace the user lacks");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let refused = client
        .ping(req(
            "not-a-token",
            pb::PingRequest {
                metadata: meta("team-a"),
            },
        ))
        .await
        .expect_err("Ping with a bad token");
    assert_eq!(refused.code(), Code::Unauthenticated);

    // The batch exporter sends what it holds when the server shuts down.
    let status = server.terminate().await;
    assert!(
        status.success(),
        "kiss-server exited with {status}:\n{}",
        server.log()
    );

    let received = collector.received.lock().unwrap().clone();
    let dump = format!("{received:?}");
    assert!(
        !dump.contains(SECRET_VALUE),
        "the secret value was exported"
    );
    let signature = token.rsplit('.').next().unwrap();
    assert!(
        !dump.contains(&token) && !dump.contains(signature),
        "the token was exported"
    );

    let resources: Vec<_> = received
        .iter()
        .flat_map(|r| &r.resource_spans)
        .filter_map(|rs| rs.resource.as_ref())
        .collect();
    assert!(
        !resources.is_empty(),
        "no spans reached the collector:\n{}",
        server.log()
    );
    for resource in resources {
        assert!(
            matches!(
                attr(&resource.attributes, "service.name"),
                Some(any_value::Value::StringValue(s)) if s == SERVICE_NAME
            ),
            "service.name is not {SERVICE_NAME}: {resource:?}"
        );
    }
    let spans: Vec<&Span> = received
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .collect();
    let named = |name: &str| -> Vec<&Span> {
        spans
            .iter()
            .copied()
            .filter(|s| s.name == format!("kiss.resources.KISS/{name}"))
            .collect()
    };

    let pings = named("Ping");
    assert_eq!(pings.len(), 3, "three Ping spans: {pings:#?}");
    for span in &pings {
        assert_eq!(string_attr(span, "rpc.system"), Some("grpc"));
        assert_eq!(
            string_attr(span, "rpc.service"),
            Some("kiss.resources.KISS")
        );
        assert_eq!(string_attr(span, "rpc.method"), Some("Ping"));
    }
    let by_status = |code: Code| -> Vec<&&Span> {
        pings
            .iter()
            .filter(|s| int_attr(s, "rpc.grpc.status_code") == Some(code as i64))
            .collect()
    };
    let ok = by_status(Code::Ok);
    assert_eq!(ok.len(), 1, "one Ping answered OK: {pings:#?}");
    assert_eq!(string_attr(ok[0], "kiss.namespace"), Some("team-a"));
    assert_eq!(
        string_attr(ok[0], "enduser.id"),
        Some(kiss_server::dev::DEMO_USER)
    );
    let denied = by_status(Code::PermissionDenied);
    assert_eq!(denied.len(), 1, "one Ping denied: {pings:#?}");
    assert_eq!(
        string_attr(denied[0], "kiss.namespace"),
        Some("not-granted")
    );
    let unauthenticated = by_status(Code::Unauthenticated);
    assert_eq!(unauthenticated.len(), 1, "one Ping refused: {pings:#?}");
    assert_eq!(
        string_attr(unauthenticated[0], "enduser.id"),
        None,
        "no identity for a refused token"
    );

    let creates = named("CreateSecret");
    assert_eq!(creates.len(), 1, "one CreateSecret span: {spans:#?}");
    let create = creates[0];
    assert_eq!(string_attr(create, "rpc.method"), Some("CreateSecret"));
    assert_eq!(string_attr(create, "kiss.namespace"), Some("team-a"));
    assert_eq!(int_attr(create, "rpc.grpc.status_code"), Some(0));
}
