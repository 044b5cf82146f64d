//! The config file, `~/.config/kiss/config.toml` (`KISS_CONFIG` or `--config`
//! name another), and resolving it with the flags into [`Settings`].
//! Flags override the file; the file overrides the built-in defaults.
//!
//! ```toml
//! server_addr = "kiss.example.com:443"
//! secure = true
//! ca_file = "~/certs/corp-ca.pem"
//! token_dir = "~/.kube/cache/oidc-login"
//! namespace = "team-a"
//! reveal_seconds = 60           # the app hides a revealed value again (0: never)
//! clear_clipboard_seconds = 30  # the app clears a copied value (0: never)
//! mouse = true                  # the app takes the wheel and clicks
//! refresh_seconds = 30          # the app reloads the list (default 0: only on r)
//!
//! # Which kiss server serves a kubeconfig context (see crate::kubeconfig::servers)
//! [contexts.prod]
//! server_addr = "kiss.prod.example.com:443"
//! namespace = "team-a"
//!
//! # ... or every context whose token comes from this issuer
//! [issuers."https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"]
//! server_addr = "kiss.example.com:443"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::options::CommonFlags;
use crate::settings::Settings;

/// The environment variable naming the config file.
pub const CONFIG_ENV: &str = "KISS_CONFIG";

/// What the config file may set. Every key is optional.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `host:port` of kiss-server.
    pub server_addr: Option<String>,
    /// Use TLS.
    pub secure: Option<bool>,
    /// A PEM CA bundle to trust instead of the system's roots (`~/` allowed).
    pub ca_file: Option<PathBuf>,
    /// Where token files are listed from (`~/` allowed).
    pub token_dir: Option<PathBuf>,
    /// The namespace used when none is given.
    pub namespace: Option<String>,
    /// Show the diff and ask before saving an edited value (default true).
    pub confirm_save: Option<bool>,
    /// Seconds a revealed value stays shown in the app (default 60; 0: until hidden).
    pub reveal_seconds: Option<u64>,
    /// Seconds a copied value stays on the clipboard (default 30; 0: not cleared).
    pub clear_clipboard_seconds: Option<u64>,
    /// The app takes the mouse (default true).
    pub mouse: Option<bool>,
    /// Seconds between the app's reloads of the list (default 0: only on `r`).
    pub refresh_seconds: Option<u64>,
    /// `[contexts.NAME]`: the kiss server of a kubeconfig context.
    #[serde(default)]
    pub contexts: BTreeMap<String, ContextEntry>,
    /// `[issuers."URL"]`: the kiss server of tokens from an issuer (`iss`).
    #[serde(default)]
    pub issuers: BTreeMap<String, IssuerEntry>,
}

/// `[contexts.NAME]`: which kiss server serves a kubeconfig context.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextEntry {
    /// `host:port` of the context's kiss-server.
    pub server_addr: Option<String>,
    /// Use TLS (default true).
    pub secure: Option<bool>,
    /// A PEM CA bundle to trust instead of the system's roots (`~/` allowed).
    pub ca_file: Option<PathBuf>,
    /// The namespace used in this context when none is given (before the
    /// kubeconfig context's own namespace).
    pub namespace: Option<String>,
}

/// `[issuers."URL"]`: which kiss server accepts tokens from an issuer.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerEntry {
    /// `host:port` of the kiss-server.
    pub server_addr: Option<String>,
    /// Use TLS (default true).
    pub secure: Option<bool>,
    /// A PEM CA bundle to trust instead of the system's roots (`~/` allowed).
    pub ca_file: Option<PathBuf>,
}

/// Why the config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config file that was asked for by name does not exist or cannot be read.
    #[error("cannot read the config file {}: {source}; check --config or ${CONFIG_ENV}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or holds an unknown key.
    #[error("the config file {} is not valid: {message}(the keys are server_addr, secure, ca_file, token_dir, namespace, confirm_save, reveal_seconds, clear_clipboard_seconds, mouse, refresh_seconds, and the tables [contexts.NAME] with server_addr, secure, ca_file, namespace and [issuers.\"URL\"] with server_addr, secure, ca_file)", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML parser's message, which points at the line.
        message: String,
    },
}

/// The default config file: `~/.config/kiss/config.toml` (on Linux
/// `$XDG_CONFIG_HOME/kiss/config.toml` when that is set).
pub fn default_path() -> Option<PathBuf> {
    let base = if cfg!(target_os = "macos") {
        // dirs' macOS config dir is ~/Library/Application Support; command-line
        // tools there conventionally use ~/.config, as the docs promise.
        dirs::home_dir().map(|h| h.join(".config"))
    } else {
        dirs::config_dir()
    };
    base.map(|b| b.join("kiss").join("config.toml"))
}

/// The config file that [`load`] reads: `flag`, else `$KISS_CONFIG`, else
/// the default path (for messages that say where to add something).
pub fn path(flag: Option<&Path>) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| {
            std::env::var_os(CONFIG_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(default_path)
}

/// Loads the config file: `flag` if given, else `$KISS_CONFIG`, else the
/// default path. A missing default file is an empty config; a missing file
/// that was named explicitly is an error.
pub fn load(flag: Option<&Path>) -> Result<ConfigFile, ConfigError> {
    let env = std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty());
    let (path, explicit) = match (flag, env) {
        (Some(p), _) => (p.to_owned(), true),
        (None, Some(p)) => (PathBuf::from(p), true),
        (None, None) => match default_path() {
            Some(p) => (p, false),
            None => return Ok(ConfigFile::default()),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path, &text),
        Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => {
            Ok(ConfigFile::default())
        }
        Err(source) => Err(ConfigError::Read { path, source }),
    }
}

/// Parses a config file's text; `path` is only used in errors.
pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    let mut file: ConfigFile = toml::from_str(text).map_err(|e| ConfigError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    file.ca_file = file.ca_file.map(expand_home);
    file.token_dir = file.token_dir.map(expand_home);
    for entry in file.contexts.values_mut() {
        entry.ca_file = entry.ca_file.take().map(expand_home);
    }
    for entry in file.issuers.values_mut() {
        entry.ca_file = entry.ca_file.take().map(expand_home);
    }
    Ok(file)
}

/// `~/x` → `$HOME/x`; anything else unchanged.
fn expand_home(path: PathBuf) -> PathBuf {
    match (path.strip_prefix("~"), dirs::home_dir()) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path,
    }
}

/// Flags over file over defaults.
pub fn resolve(flags: &CommonFlags, file: &ConfigFile) -> Settings {
    let defaults = Settings::default();
    Settings {
        server_addr: flags
            .server_addr
            .clone()
            .or_else(|| file.server_addr.clone())
            .unwrap_or(defaults.server_addr),
        secure: flags.secure.or(file.secure).unwrap_or(defaults.secure),
        ca_file: flags.ca_file.clone().or_else(|| file.ca_file.clone()),
        token_path: flags.token_path.clone(),
        token_dir: flags.token_dir.clone().or_else(|| file.token_dir.clone()),
        namespace: flags.namespace.clone().or_else(|| file.namespace.clone()),
        timeout: flags.timeout.unwrap_or(defaults.timeout),
        debug: flags.debug.unwrap_or(false),
        confirm_save: file.confirm_save.unwrap_or(defaults.confirm_save),
        reveal_for: seconds(file.reveal_seconds, defaults.reveal_for),
        clear_clipboard_after: seconds(
            file.clear_clipboard_seconds,
            defaults.clear_clipboard_after,
        ),
        mouse: file.mouse.unwrap_or(defaults.mouse),
        refresh: seconds(file.refresh_seconds, defaults.refresh),
        remember_namespaces: defaults.remember_namespaces,
    }
}

/// A number of seconds from the file, where 0 means "never".
fn seconds(file: Option<u64>, default: Option<std::time::Duration>) -> Option<std::time::Duration> {
    match file {
        Some(0) => None,
        Some(s) => Some(std::time::Duration::from_secs(s)),
        None => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_save_confirmation_is_on_unless_the_file_turns_it_off() {
        let none = resolve(&CommonFlags::default(), &ConfigFile::default());
        assert!(none.confirm_save);
        let file = parse(Path::new("c.toml"), "confirm_save = false\n").unwrap();
        assert!(!resolve(&CommonFlags::default(), &file).confirm_save);
    }

    #[test]
    fn reveal_and_clipboard_times_come_from_the_file_and_zero_means_never() {
        let none = resolve(&CommonFlags::default(), &ConfigFile::default());
        assert_eq!(none.reveal_for, Some(Duration::from_secs(60)));
        assert_eq!(none.clear_clipboard_after, Some(Duration::from_secs(30)));
        let file = parse(
            Path::new("c.toml"),
            "reveal_seconds = 15\nclear_clipboard_seconds = 0\n",
        )
        .unwrap();
        let s = resolve(&CommonFlags::default(), &file);
        assert_eq!(s.reveal_for, Some(Duration::from_secs(15)));
        assert_eq!(s.clear_clipboard_after, None);
        let err = parse(Path::new("c.toml"), "reveal_seconds = -1\n").unwrap_err();
        assert!(err.to_string().contains("reveal_seconds"), "{err}");
    }

    #[test]
    fn flags_override_the_file_and_the_file_overrides_defaults() {
        let file = parse(
            Path::new("c.toml"),
            "server_addr = \"kiss.example:443\"\nsecure = false\nnamespace = \"team-a\"\ntoken_dir = \"/tokens\"\n",
        )
        .unwrap();
        let s = resolve(&CommonFlags::default(), &file);
        assert_eq!(s.server_addr, "kiss.example:443");
        assert!(!s.secure);
        assert_eq!(s.namespace.as_deref(), Some("team-a"));
        assert_eq!(s.token_dir, Some(PathBuf::from("/tokens")));
        assert_eq!(s.timeout, Duration::from_secs(10));

        let flags = CommonFlags {
            server_addr: Some("localhost:1".into()),
            secure: Some(true),
            namespace: Some("team-b".into()),
            timeout: Some(Duration::from_millis(500)),
            debug: Some(true),
            ..CommonFlags::default()
        };
        let s = resolve(&flags, &file);
        assert_eq!(s.server_addr, "localhost:1");
        assert!(s.secure && s.debug);
        assert_eq!(s.namespace.as_deref(), Some("team-b"));
        assert_eq!(s.timeout, Duration::from_millis(500));

        let s = resolve(&CommonFlags::default(), &ConfigFile::default());
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let err = parse(Path::new("c.toml"), "sever_addr = \"x\"").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("sever_addr") && msg.contains("c.toml"),
            "{msg}"
        );
        let err = parse(Path::new("c.toml"), "secure = \"yes\"").unwrap_err();
        assert!(err.to_string().contains("secure"), "{err}");
        assert!(parse(Path::new("c.toml"), "not toml at all [").is_err());
        assert_eq!(
            parse(Path::new("c.toml"), "").unwrap(),
            ConfigFile::default()
        );
    }

    #[test]
    fn contexts_and_issuers_have_tables_of_their_own() {
        let file = parse(
            Path::new("c.toml"),
            r#"
server_addr = "default:443"
[contexts.prod]
server_addr = "kiss.prod:443"
namespace = "team-a"
ca_file = "~/prod-ca.pem"
[contexts."arn:aws:eks:eu-west-1:1:cluster/dev"]
secure = false
[issuers."https://idp.example"]
server_addr = "kiss.idp:443"
"#,
        )
        .unwrap();
        let prod = &file.contexts["prod"];
        assert_eq!(prod.server_addr.as_deref(), Some("kiss.prod:443"));
        assert_eq!(prod.namespace.as_deref(), Some("team-a"));
        if let Some(home) = dirs::home_dir() {
            assert_eq!(prod.ca_file, Some(home.join("prod-ca.pem")));
        }
        assert_eq!(
            file.contexts["arn:aws:eks:eu-west-1:1:cluster/dev"].secure,
            Some(false)
        );
        assert_eq!(
            file.issuers["https://idp.example"].server_addr.as_deref(),
            Some("kiss.idp:443")
        );
        for bad in [
            "[contexts.prod]\nserver = \"x\"",
            "[issuers.\"https://i\"]\nnamespace = \"x\"",
        ] {
            let err = parse(Path::new("c.toml"), bad).unwrap_err().to_string();
            assert!(err.contains("[contexts.NAME]"), "{err}");
        }
        let err = parse(Path::new("c.toml"), "contexts = 1").unwrap_err();
        assert!(err.to_string().contains("contexts"), "{err}");
    }

    #[test]
    fn home_is_expanded() {
        let file = parse(Path::new("c.toml"), "ca_file = \"~/ca.pem\"").unwrap();
        if let Some(home) = dirs::home_dir() {
            assert_eq!(file.ca_file, Some(home.join("ca.pem")));
        }
    }

    #[test]
    fn a_named_file_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.toml");
        assert!(matches!(
            load(Some(&missing)),
            Err(ConfigError::Read { .. })
        ));
        let present = dir.path().join("c.toml");
        std::fs::write(&present, "namespace = \"x\"").unwrap();
        assert_eq!(
            load(Some(&present)).unwrap().namespace.as_deref(),
            Some("x")
        );
    }
}
