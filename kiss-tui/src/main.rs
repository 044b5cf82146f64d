//! `kiss-tui`: with no verb, the full-screen app; with a verb (`ping`, `list`,
//! `create`, ...), that one command, as the Go `kiss` client ran it.

use std::process::ExitCode;

use clap::Parser;
use kiss_tui::options::{self, Options};
use kiss_tui::{cli, config, demo, tui};

#[tokio::main]
async fn main() -> ExitCode {
    let args = options::normalize(std::env::args_os());
    if let Some(msg) = options::split_bool_value(&args) {
        eprintln!("kiss-tui: {msg}");
        return ExitCode::from(2);
    }
    let opts = match Options::try_parse_from(args) {
        Ok(opts) => opts,
        // Prints help/version (exit 0) or the usage error (exit 2).
        Err(e) => e.exit(),
    };
    let mut file = match config::load(opts.common.config.as_deref()) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("kiss-tui: {e}");
            return ExitCode::from(2);
        }
    };
    let mut settings = config::resolve(&opts.common, &file);
    if opts.refresh.is_some() {
        settings.refresh = opts.refresh.filter(|d| !d.is_zero());
    }
    match opts.verb {
        Some(verb) => {
            if opts.demo {
                eprintln!(
                    "kiss-tui: --demo opens the app against a demo server; it cannot be combined with the verb '{}'",
                    verb.name()
                );
                return ExitCode::from(2);
            }
            if settings.debug {
                init_debug_log();
            }
            cli::run(verb, &opts.common, &file, settings).await
        }
        None => {
            if opts.demo && opts.common.context.is_some() {
                report(
                    "--demo runs against its own demo server; it cannot be combined with --context",
                );
                return ExitCode::from(2);
            }
            // Read once: for the current context and for `:ctx` in the app.
            let kube_file = (!opts.demo)
                .then(kiss_tui::kubeconfig::load)
                .and_then(Result::ok);
            // A context's token comes from its exec plugin, run before the
            // app takes the screen so a login on the terminal works.
            // Without --context, the kubeconfig's current context when the
            // config file says which kiss server serves it (and no token
            // flag asks for the Go client's way).
            let token_flags = opts.common.token_path.is_some()
                || opts.common.token_dir.is_some()
                || opts.common.interactive == Some(true);
            let context = opts.common.context.clone().or_else(|| {
                kube_file
                    .as_ref()
                    .filter(|_| !token_flags)
                    .and_then(|k| k.current_context().map(str::to_owned))
                    .filter(|c| file.contexts.contains_key(c))
            });
            // A context nobody said a kiss server for: ask once, on the
            // terminal, and keep the answer in the config file.
            if let Some(name) = &context
                && !file.contexts.contains_key(name)
                && file.issuers.is_empty()
                && opts.common.server_addr.is_none()
                && let Some(path) = config::path(opts.common.config.as_deref())
            {
                match cli::first_run::ask_server(name, &path) {
                    Ok(true) => match config::load(Some(&path)) {
                        Ok(f) => file = f,
                        Err(e) => {
                            report(&e.to_string());
                            return ExitCode::from(2);
                        }
                    },
                    Ok(false) => {}
                    Err(e) => {
                        report(&e);
                        return ExitCode::from(2);
                    }
                }
            }
            // One cache of context tokens for the app's whole run.
            let tokens = std::sync::Arc::new(cli::app_token_cache());
            let start = match &context {
                Some(name) => match cli::app_context(name, &opts.common, &file, &tokens) {
                    Ok((context_settings, token)) => {
                        settings = tui::Settings {
                            server_addr: context_settings.server_addr,
                            secure: context_settings.secure,
                            ca_file: context_settings.ca_file,
                            namespace: context_settings.namespace,
                            ..settings
                        };
                        Some(tui::ContextStart {
                            context: name.clone(),
                            token,
                        })
                    }
                    Err(e) => {
                        report(&e);
                        return ExitCode::from(1);
                    }
                },
                _ => None,
            };
            // The app owns the terminal, so nothing is logged to stderr here.
            let result = if opts.demo {
                demo::run(settings).await
            } else {
                let kube = kube_file.map(|k| tui::Kube {
                    flags: opts.common.clone(),
                    file: file.clone(),
                    contexts: k.contexts().into_iter().map(|c| c.name).collect(),
                    tokens: tokens.clone(),
                });
                tui::run_in(settings, start, kube).await
            };
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    report(&format!("{e:#}"));
                    match e.downcast_ref::<tui::Stopped>() {
                        Some(stopped) => ExitCode::from(stopped.exit_status()),
                        None => ExitCode::from(1),
                    }
                }
            }
        }
    }
}

/// Says why the app ended, on stderr. Not `eprintln!`: it panics when stderr
/// is gone, and the terminal having vanished is one reason the app ends.
fn report(message: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "kiss-tui: {message}");
}

/// `-debug` for verbs: kiss-tui's own events on stderr.
fn init_debug_log() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("kiss_tui=debug"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
}
