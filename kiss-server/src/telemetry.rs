//! Optional trace export over OTLP/gRPC (`--otlp-endpoint`): one span per
//! KISS call, opened by the auth layer, sent in batches to a collector.
//!
//! Without the flag nothing listens for the call span, so [`rpc_span`] is a
//! disabled span and every `record_*` here returns at once. The call span
//! never carries a token or a secret value: only the RPC, its status, the
//! namespace and the caller's identifier.
//!
//! The exporter itself needs the `otlp` cargo feature (in the shipped
//! binary's defaults, not in embedders such as kiss-tui); a build without it
//! refuses the flag instead of ignoring it.

use std::sync::atomic::{AtomicBool, Ordering};

use tonic::Code;
use tracing::Span;
use tracing::field::Empty;

/// The target of the per-call span. Logs leave it out, so turning export on
/// does not change a log line; only the OTLP layer listens for it.
pub const RPC_SPAN_TARGET: &str = "kiss_server::rpc";

/// Set once an exporter is installed; spares handlers the current-span
/// lookup when nothing would see what they record.
static EXPORTING: AtomicBool = AtomicBool::new(false);

/// Why trace export could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    /// The binary was built without the `otlp` feature.
    #[error(
        "--otlp-endpoint: this build has no OTLP support; drop the flag (and KISS_OTLP_ENDPOINT) \
         or use a kiss-server built with the `otlp` feature (the default build)"
    )]
    NotBuiltIn,
    /// The endpoint is not a usable collector URL.
    #[error("--otlp-endpoint: {0}")]
    Endpoint(String),
    /// The exporter could not be built.
    #[error("cannot set up OTLP export to {endpoint}: {reason}")]
    Exporter {
        /// The collector URL.
        endpoint: String,
        /// Why.
        reason: String,
    },
}

/// Checks an `--otlp-endpoint` value without connecting: an `http` or
/// `https` URL of a host (and port), with no path. Empty means "no export".
pub fn parse_endpoint(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new());
    }
    let example = "give the collector's gRPC URL, e.g. http://otel-collector.monitoring:4317";
    let uri: http::Uri = s
        .parse()
        .map_err(|e| format!("'{s}' is not a URL ({e}); {example}"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        Some(other) => {
            return Err(format!(
                "'{s}' uses the scheme '{other}'; OTLP/gRPC needs http or https; {example}"
            ));
        }
        None => {
            return Err(format!(
                "'{s}' has no http:// or https:// scheme; {example}"
            ));
        }
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("'{s}' names no host; {example}"));
    }
    if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
        return Err(format!(
            "'{s}' has a path; OTLP/gRPC takes only scheme, host and port \
             (usually port 4317; paths like /v1/traces are OTLP/HTTP, which kiss-server does not speak)"
        ));
    }
    Ok(s.to_owned())
}

/// What `--check-config` and startup say about the OTLP flags: an error if
/// an endpoint is given to a build without OTLP support.
pub fn check(endpoint: Option<&str>) -> Result<(), TelemetryError> {
    match endpoint.filter(|e| !e.is_empty()) {
        Some(e) => {
            parse_endpoint(e).map_err(TelemetryError::Endpoint)?;
            if cfg!(feature = "otlp") {
                Ok(())
            } else {
                Err(TelemetryError::NotBuiltIn)
            }
        }
        None => Ok(()),
    }
}

/// The span of one KISS call (`None`: a path that is not one of ours).
/// Named `package.Service/Method` as OpenTelemetry's RPC conventions ask;
/// the namespace, caller and status are recorded as they become known.
pub fn rpc_span(rpc: Option<kiss_proto::Rpc>) -> Span {
    let method = rpc.map_or("unknown", kiss_proto::Rpc::name);
    let full = match rpc {
        Some(r) => format!("{}/{}", kiss_proto::SERVICE_NAME, r.name()),
        None => format!("{}/unknown", kiss_proto::SERVICE_NAME),
    };
    let service = kiss_proto::SERVICE_NAME;
    tracing::info_span!(
        target: RPC_SPAN_TARGET,
        "rpc",
        otel.name = full.as_str(),
        otel.kind = "server",
        otel.status_code = Empty,
        rpc.system = "grpc",
        rpc.service = service,
        rpc.method = method,
        rpc.grpc.status_code = Empty,
        kiss.namespace = Empty,
        enduser.id = Empty,
    )
}

/// Records the verified caller's identifier (never the token).
pub fn record_user(span: &Span, identifier: &str) {
    if !span.is_disabled() {
        span.record("enduser.id", identifier);
    }
}

/// Records the namespace on the current call's span, if there is one.
pub fn record_namespace(namespace: &str) {
    if EXPORTING.load(Ordering::Relaxed) && !namespace.is_empty() {
        Span::current().record("kiss.namespace", namespace);
    }
}

/// Records the gRPC status the call was answered with.
pub fn record_code(span: &Span, code: Code) {
    if span.is_disabled() {
        return;
    }
    span.record("rpc.grpc.status_code", code as i64);
    // OpenTelemetry's gRPC conventions: only these mark a server span failed;
    // a refusal (not found, permission denied) is the server working.
    if matches!(
        code,
        Code::Unknown
            | Code::DeadlineExceeded
            | Code::Unimplemented
            | Code::Internal
            | Code::Unavailable
            | Code::DataLoss
    ) {
        span.record("otel.status_code", "error");
    }
}

#[cfg(feature = "otlp")]
mod export {
    use opentelemetry::InstrumentationScope;
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing::Subscriber;
    use tracing_subscriber::Layer;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::registry::LookupSpan;

    use super::TelemetryError;

    /// The running exporter; [`Telemetry::shutdown`] sends what is buffered.
    pub struct Telemetry {
        provider: SdkTracerProvider,
    }

    impl Telemetry {
        /// Exports the spans still buffered and stops the exporter; waits at
        /// most a few seconds for an unreachable collector.
        pub async fn shutdown(self) {
            // The SDK's shutdown blocks on its export thread, which needs this
            // runtime's workers to drive the gRPC call.
            let done = tokio::task::spawn_blocking(move || self.provider.shutdown()).await;
            match done {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "the last trace spans may not have reached the OTLP collector")
                }
                Err(e) => tracing::warn!(error = %e, "the OTLP exporter did not shut down cleanly"),
            }
        }
    }

    /// A layer that exports the call spans (and the events inside them) to
    /// the collector at `endpoint`. Must be called inside a tokio runtime: the
    /// gRPC channel's worker runs on it.
    pub fn otlp_layer<S>(
        endpoint: &str,
        service_name: &str,
    ) -> Result<(Box<dyn Layer<S> + Send + Sync>, Telemetry), TelemetryError>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        let failed = |reason: String| TelemetryError::Exporter {
            endpoint: endpoint.to_owned(),
            reason,
        };
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_endpoint(endpoint);
        if endpoint.starts_with("https:") {
            builder = builder
                .with_tls_config(tonic::transport::ClientTlsConfig::new().with_enabled_roots());
        }
        let exporter = builder.build().map_err(|e| failed(e.to_string()))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service_name.to_owned())
                    .build(),
            )
            .build();
        let tracer = provider.tracer_with_scope(
            InstrumentationScope::builder(env!("CARGO_PKG_NAME"))
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        let layer = tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_threads(false)
            .with_location(false)
            .with_tracked_inactivity(false)
            // Our spans and the events inside them only: the exporter's own
            // gRPC client logs through tracing too, and must not feed itself.
            .with_filter(Targets::new().with_target("kiss_server", tracing::Level::INFO))
            .boxed();
        super::EXPORTING.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok((layer, Telemetry { provider }))
    }
}

#[cfg(not(feature = "otlp"))]
mod export {
    use tracing::Subscriber;
    use tracing_subscriber::Layer;
    use tracing_subscriber::registry::LookupSpan;

    use super::TelemetryError;

    /// Stands in for the exporter in builds without the `otlp` feature.
    pub struct Telemetry {
        _never: std::convert::Infallible,
    }

    impl Telemetry {
        /// Nothing to flush.
        pub async fn shutdown(self) {}
    }

    /// Always refuses: this build cannot export.
    pub fn otlp_layer<S>(
        _endpoint: &str,
        _service_name: &str,
    ) -> Result<(Box<dyn Layer<S> + Send + Sync>, Telemetry), TelemetryError>
    where
        S: Subscriber + for<'a> LookupSpan<'a> + Send + Sync,
    {
        Err(TelemetryError::NotBuiltIn)
    }
}

pub use export::{Telemetry, otlp_layer};

/// Whether log lines may carry ANSI colour codes: only when the log writer
/// is a terminal, and never when `NO_COLOR` is set to a non-empty value
/// (<https://no-color.org>). A file or a pipe gets plain text, so log
/// collectors and `grep` see no escape sequences.
pub fn log_colour(writer_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    writer_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// [`log_colour`] for a log written to stdout in this process.
pub fn stdout_log_colour() -> bool {
    use std::io::IsTerminal;
    log_colour(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// A filter for the log layer that leaves out the call span, so logs look
/// the same with and without export, and the span costs nothing without it.
/// The verdict is cached per callsite, so the span's check is one atomic load.
pub fn without_rpc_span() -> tracing_subscriber::filter::FilterFn {
    fn keep(meta: &tracing::Metadata<'_>) -> bool {
        !(meta.is_span() && meta.target() == RPC_SPAN_TARGET)
    }
    tracing_subscriber::filter::filter_fn(keep as fn(&tracing::Metadata<'_>) -> bool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            parse_endpoint("http://otel-collector.monitoring:4317").unwrap(),
            "http://otel-collector.monitoring:4317"
        );
        assert!(parse_endpoint("https://collector:4317/").is_ok());
        assert!(parse_endpoint("").is_ok(), "empty means off");
        for bad in [
            "otel-collector:4317",
            "grpc://collector:4317",
            "http://collector:4318/v1/traces",
            "http://",
            "not a url",
        ] {
            let err = parse_endpoint(bad).unwrap_err();
            assert!(
                err.contains("e.g. http://") || err.contains("4317"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn a_build_without_otlp_refuses_the_flag() {
        assert!(check(None).is_ok());
        assert!(check(Some("")).is_ok());
        let given = check(Some("http://collector:4317"));
        if cfg!(feature = "otlp") {
            assert!(given.is_ok());
        } else {
            let err = given.unwrap_err().to_string();
            assert!(err.contains("this build has no OTLP support"), "{err}");
        }
        assert!(check(Some("collector:4317")).is_err());
    }

    #[test]
    fn colour_only_on_a_terminal_and_never_under_no_color() {
        use std::ffi::OsStr;
        assert!(log_colour(true, None));
        assert!(
            log_colour(true, Some(OsStr::new(""))),
            "an empty NO_COLOR is unset"
        );
        assert!(!log_colour(true, Some(OsStr::new("1"))));
        assert!(!log_colour(false, None), "a file or a pipe");
        assert!(!log_colour(false, Some(OsStr::new("1"))));
    }

    #[test]
    fn without_a_listener_the_span_is_disabled() {
        let span = rpc_span(Some(kiss_proto::Rpc::Ping));
        assert!(span.is_disabled());
        record_user(&span, "someone");
        record_code(&span, Code::Ok);
    }
}
