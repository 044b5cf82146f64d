//! `-context NAME`: the kiss server and namespace of a kubeconfig context
//! (from `[contexts.NAME]`, else the token's `[issuers."URL"]`; flags
//! override), and its token from the context user's exec plugin — run
//! once per verb, as kubectl runs it once per command.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use super::CliError;
use super::token::{self, Chosen};
use crate::config::ConfigFile;
use crate::kubeconfig::{self, CredentialCache, ProcessRunner};
use crate::options::CommonFlags;
use crate::settings::Settings;
use crate::tokens::TokenInfo;

/// How long a plugin run without the terminal may take (a browser login
/// that nobody finishes would otherwise hang a script for ever).
const PLUGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// The settings and token for a verb run in `name`.
pub fn prepare(
    name: &str,
    flags: &CommonFlags,
    file: &ConfigFile,
    config_path: Option<&Path>,
) -> Result<(Settings, Chosen), CliError> {
    let cache = CredentialCache::new(ProcessRunner {
        timeout: Some(PLUGIN_TIMEOUT),
    });
    prepare_cached(name, flags, file, config_path, &cache)
}

/// A process-long cache of context tokens, as the app keeps one: a token
/// is reused until it expires.
pub fn app_cache() -> CredentialCache<ProcessRunner> {
    CredentialCache::new(ProcessRunner {
        timeout: Some(PLUGIN_TIMEOUT),
    })
}

/// [`prepare`] with tokens from `cache`, which runs the plugin only when
/// it holds no fresh token for the context.
pub fn prepare_cached(
    name: &str,
    flags: &CommonFlags,
    file: &ConfigFile,
    config_path: Option<&Path>,
    cache: &CredentialCache<ProcessRunner>,
) -> Result<(Settings, Chosen), CliError> {
    if flags.interactive == Some(true) {
        return Err(CliError::Usage(
            "give either --context or --interactive: a context's token comes from its exec plugin, --interactive chooses a token file".into(),
        ));
    }
    let kube = kubeconfig::load().map_err(|e| CliError::Failed(e.to_string()))?;
    let context = kube
        .context(Some(name))
        .map_err(|e| CliError::Failed(e.to_string()))?;
    let first = kubeconfig::resolve_context(flags, file, &context, None, config_path);
    if let Err(no) = &first
        && !no.issuers_configured
    {
        return Err(CliError::Failed(no.to_string()));
    }
    let chosen = if flags.token_path.is_some() {
        // -token-path still wins over the plugin.
        token::choose(&base_settings(flags, file), false)?
    } else {
        let plugin = kube
            .exec_plugin(&context)
            .map_err(|e| CliError::Failed(e.to_string()))?;
        let terminal = std::io::stdin().is_terminal();
        let credential = cache
            .token(name, &plugin, terminal)
            .map_err(|e| CliError::Failed(format!("kubeconfig context '{name}': {e}")))?;
        let identifier = TokenInfo::from_jwt(&credential.token)
            .ok()
            .and_then(|i| i.identifier);
        Chosen {
            path: format!("exec plugin {} of context {name}", plugin.display_name()).into(),
            token: credential.token,
            identifier,
        }
    };
    let (settings, choice) = match first {
        Ok(found) => found,
        Err(_) => {
            let issuer = TokenInfo::from_jwt(&chosen.token)
                .ok()
                .and_then(|i| i.issuer);
            kubeconfig::resolve_context(flags, file, &context, issuer.as_deref(), config_path)
                .map_err(|no| CliError::Failed(no.to_string()))?
        }
    };
    tracing::debug!(context = name, server_from = ?choice, "kubeconfig context");
    Ok((settings, chosen))
}

fn base_settings(flags: &CommonFlags, file: &ConfigFile) -> Settings {
    crate::config::resolve(flags, file)
}
