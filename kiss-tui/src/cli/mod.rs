//! The scripting verbs: the Go `kiss` client's commands (ping, list, create,
//! create-from, update, delete, bind) and the new ones (get, unbind, restore,
//! set-key, unset-key, import, export,
//! create-policy, delete-policy, whoami, completions), run once without the
//! full-screen app.
//!
//! Results go to stdout; messages and errors to stderr. Exit status: 0 on
//! success, 1 on a failure (for `list -all-namespaces`: any namespace
//! failed, the others still listed), 2 on a usage error, 3 when a key
//! change met a concurrent change twice.
//!
//! `-context NAME` takes the server, namespace and token from a kubeconfig
//! context ([`crate::kubeconfig`]); without it the token comes from the
//! token directory, as the Go client's did.

mod advice;
mod context;
mod export;
pub mod first_run;
mod import;
mod input;
mod keys;
mod output;
mod search;
mod token;
mod verbs;

use std::process::ExitCode;

use crate::client::{Client, ClientError};
use crate::config::ConfigFile;
use crate::options::{CommonFlags, CreateArgs, Verb};
use crate::settings::Settings;

/// Why a verb failed; decides the exit status.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line was wrong (a missing or invalid flag): exit status 2.
    #[error("{0}")]
    Usage(String),
    /// The call or a local step failed: exit status 1.
    #[error("{0}")]
    Failed(String),
    /// A read-modify-write (`set-key`, `unset-key`) was refused twice
    /// because the secret kept changing; nothing was written: exit status 3.
    #[error("{0}")]
    Conflict(String),
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        CliError::Failed(e.to_string())
    }
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            CliError::Failed(_) => ExitCode::from(1),
            CliError::Conflict(_) => ExitCode::from(3),
        }
    }
}

/// Runs one verb and returns the process exit status. Errors are printed
/// on stderr. `file` is the config file `settings` were resolved from
/// (its `[contexts]` serve `-context`).
pub async fn run(
    verb: Verb,
    flags: &CommonFlags,
    file: &ConfigFile,
    settings: Settings,
) -> ExitCode {
    match run_verb(verb, flags, file, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kiss-tui: {e}");
            e.exit_code()
        }
    }
}

async fn run_verb(
    verb: Verb,
    flags: &CommonFlags,
    file: &ConfigFile,
    settings: Settings,
) -> Result<(), CliError> {
    if let Verb::Completions(args) = &verb {
        return verbs::completions(args.shell);
    }
    if matches!(&verb, Verb::List(a) if a.all_namespaces) && flags.namespace.is_some() {
        return Err(CliError::Usage(
            "give either --namespace or --all-namespaces, not both".into(),
        ));
    }
    // -context decides the server, the namespace and the token; without it
    // nothing changes from the Go client (the token directory, -token-path,
    // -interactive).
    let (settings, chosen) = match &flags.context {
        Some(name) => {
            // Names are checked before a plugin runs.
            verbs::validate_names(&verb)?;
            let config_path = crate::config::path(flags.config.as_deref());
            let (s, c) = context::prepare(name, flags, file, config_path.as_deref())?;
            (s, Some(c))
        }
        None => (settings, None),
    };
    let namespace = if verb.needs_namespace() {
        let ns = settings.namespace.clone().ok_or_else(|| {
            CliError::Usage(
                "the --namespace flag is required: give the namespace to act on, e.g. -namespace team-a (or set namespace in the config file)".into(),
            )
        })?;
        kiss_proto::names::validate_namespace(&ns)
            .map_err(|e| CliError::Usage(format!("--namespace: {e}")))?;
        ns
    } else {
        String::new()
    };
    // Names are checked before anything touches stdin, a token or the network.
    verbs::validate_names(&verb)?;
    // A file that cannot be read fails before a token is chosen or a
    // connection made; its contents then go through `create` unchanged.
    let verb = match verb {
        Verb::CreateFrom(a) => Verb::Create(CreateArgs {
            value: Some(input::file_contents(&a.value)?),
            name: a.name,
            policy: a.policy,
        }),
        verb => verb,
    };
    // An import's file is read and checked, every name with it, before a
    // token is chosen or anything written.
    let import = match &verb {
        Verb::Import(a) => Some(import::plan(a)?),
        _ => None,
    };

    let chosen = match chosen {
        Some(c) => c,
        None => token::choose(&settings, flags.interactive.unwrap_or(false))?,
    };
    tracing::debug!(
        server = %settings.server_addr,
        secure = settings.secure,
        timeout = ?settings.timeout,
        token_file = %chosen.path.display(),
        identifier = chosen.identifier.as_deref().unwrap_or(""),
        "connecting"
    );
    let client = Client::connect(&settings, chosen.token).await?;
    if let Some(plan) = import {
        return import::run(&client, &namespace, plan).await;
    }
    if let Verb::List(a) = &verb
        && a.all_namespaces
    {
        return search::run(&client, a.output).await;
    }
    verbs::run(&client, &namespace, verb).await
}

/// For the app's `--context NAME`: the context's settings and its token
/// from the exec plugin, run before the app takes the screen (so a plugin
/// that logs in through the terminal has it), as for a verb.
pub fn app_context(
    name: &str,
    flags: &CommonFlags,
    file: &ConfigFile,
    cache: &crate::kubeconfig::CredentialCache<crate::kubeconfig::ProcessRunner>,
) -> Result<(Settings, String), String> {
    let config_path = crate::config::path(flags.config.as_deref());
    context::prepare_cached(name, flags, file, config_path.as_deref(), cache)
        .map(|(settings, chosen)| (settings, chosen.token))
        .map_err(|e| e.to_string())
}

/// The app's cache of context tokens (see [`app_context`]).
pub fn app_token_cache() -> crate::kubeconfig::CredentialCache<crate::kubeconfig::ProcessRunner> {
    context::app_cache()
}
