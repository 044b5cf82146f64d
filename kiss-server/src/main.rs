//! `kiss-server`: see `kiss-server --help`.

use std::process::ExitCode;

use kiss_server::config::{Config, LogFormat};
use kiss_server::dev::{DevOptions, DevServer, SharedFlags};
use kiss_server::telemetry::{self, Telemetry, TelemetryError};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Logs to stdout and, with --otlp-endpoint (but not --check-config), exports
/// the call spans; the returned handle flushes them on exit.
fn init_logging(config: &Config) -> Result<Option<Telemetry>, TelemetryError> {
    let endpoint = config.otlp_endpoint.as_deref().filter(|e| !e.is_empty());
    telemetry::check(endpoint)?;
    let (otlp, exporter) = match endpoint.filter(|_| !config.check_config) {
        Some(url) => {
            let (layer, exporter) = telemetry::otlp_layer(url, &config.otlp_service_name)?;
            (Some(layer), Some(exporter))
        }
        None => (None, None),
    };
    let filter = EnvFilter::try_from_env("KISS_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stdout)
        .with_ansi(telemetry::stdout_log_colour());
    let fmt = match config.log_format {
        LogFormat::Text => fmt.boxed(),
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .boxed(),
    };
    tracing_subscriber::registry()
        .with(otlp)
        .with(fmt.with_filter(filter.and(telemetry::without_rpc_span())))
        .init();
    Ok(exporter)
}

async fn check_config(config: &Config) -> Result<(), kiss_server::ServeError> {
    config.validate().map_err(kiss_server::ServeError::Config)?;
    let settings = kiss_server::server::auth_settings(config)?;
    kiss_server::server::tls_config(config)?;
    // The mode's flags, and for the Kubernetes modes that the client
    // configuration loads.
    kiss_server::server::authorizer(config, &settings).await?;
    Ok(())
}

/// `-enable-tracing` (the Go server's Datadog switch): said once at start.
fn note_tracing(config: &Config) {
    if config.enable_tracing != Some(true) {
        return;
    }
    match config.otlp_endpoint.as_deref().filter(|e| !e.is_empty()) {
        Some(endpoint) => tracing::info!(
            "-enable-tracing: Datadog tracing is not built in; spans go out over OTLP to {endpoint} (--otlp-endpoint), which the Datadog Agent accepts"
        ),
        None => tracing::info!(
            "-enable-tracing: Datadog tracing is not built in; spans go out over OTLP with --otlp-endpoint (e.g. the Datadog Agent's OTLP receiver, http://<agent>:4317), and none is set, so no spans are sent"
        ),
    }
}

async fn run_dev(config: &Config) -> anyhow::Result<()> {
    let base = kiss_server::dev::default_dir().join(config.port.to_string());
    let token_dir = config
        .dev_token_dir
        .clone()
        .unwrap_or_else(|| base.join("tokens"));
    let data_dir = if config.data_dir.as_os_str() == "./kiss-data" {
        base.join("data")
    } else {
        config.data_dir.clone()
    };
    let host = if config.host.is_loopback() {
        config.host
    } else {
        // Dev mode trusts a key anyone with the token files holds: loopback only.
        std::net::Ipv4Addr::LOCALHOST.into()
    };
    let mut dev = DevServer::start_with(
        DevOptions {
            data_dir: data_dir.clone(),
            token_dir: token_dir.clone(),
            addr: (host, config.port).into(),
            seed_samples: true,
        },
        SharedFlags::from_config(config),
    )
    .await?;
    println!(
        "kiss-server dev mode on {addr} (local backend in {data}; no AWS, no identity provider)\n\
         token files in {tokens}:\n  {user} ({ns})\n  {admin} (admin)\n\n\
         open the app with (from a checkout, `cargo run -p kiss-tui --` instead of `kiss-tui`):\n  \
         kiss-tui --server-addr {addr} --secure=false --token-dir {tokens}\n\
         or script it:\n  \
         kiss-tui list --server-addr {addr} --secure=false --token-path {user} --namespace team-a",
        addr = dev.addr,
        data = data_dir.display(),
        tokens = token_dir.display(),
        user = dev.user_token_path.display(),
        admin = dev.admin_token_path.display(),
        ns = kiss_server::dev::DEMO_NAMESPACES.join(", "),
    );
    dev.stop_on_signal();
    dev.wait().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::from_env_args();
    let exporter = match init_logging(&config) {
        Ok(exporter) => exporter,
        Err(e) => {
            eprintln!("kiss-server: {e}");
            return ExitCode::from(2);
        }
    };
    if !config.dev {
        for warning in config.startup_warnings() {
            tracing::warn!("{warning}");
        }
    }
    note_tracing(&config);
    if config.check_config {
        return match check_config(&config).await {
            Ok(()) => {
                println!("configuration OK");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kiss-server: {e}");
                ExitCode::from(2)
            }
        };
    }
    let result = if config.dev {
        run_dev(&config).await
    } else {
        kiss_server::server::run(config).await.map_err(Into::into)
    };
    if let Some(exporter) = exporter {
        exporter.shutdown().await;
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("kiss-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}
