//! Which kiss server serves a kubeconfig context, and so the [`Settings`]
//! to use in it.
//!
//! In order, flags first: `-server-addr`; the context's `[contexts.NAME]`
//! entry; the `[issuers."URL"]` entry of the token's issuer (`iss`). The
//! entry that names the server also gives `secure` and `ca_file` (flags
//! still override them). The namespace: `-namespace`, else the entry's
//! `namespace`, else the kubeconfig context's namespace.
//!
//! There is no default beyond these: the kubeconfig says where the
//! Kubernetes API server is, not where kiss-server is, and the top-level
//! `server_addr` of config.toml (what runs without `-context`) is not
//! assumed to serve every cluster, since a token would then go to a server
//! of another cluster. Without an entry, [`NoServer`] says exactly what to
//! add to config.toml.

use std::path::{Path, PathBuf};

use crate::config::{ConfigFile, resolve};
use crate::options::CommonFlags;
use crate::settings::Settings;

use super::load::ContextInfo;

/// Where the server of a context came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerChoice {
    /// `-server-addr`.
    Flag,
    /// `[contexts.NAME]`.
    Context(String),
    /// `[issuers."URL"]`.
    Issuer(String),
}

/// No kiss server is known for a context; the message says what to add.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct NoServer {
    /// The context.
    pub context: ContextInfo,
    /// The token's issuer, when it was known.
    pub issuer: Option<String>,
    /// The config file to add the entry to.
    pub config_path: Option<PathBuf>,
    /// Whether the config file has `[issuers]` entries (so knowing the
    /// token's issuer may find the server).
    pub issuers_configured: bool,
}

impl NoServer {
    /// The entry to add, as TOML text.
    pub fn suggested_entry(&self) -> String {
        let mut s = format!(
            "[contexts.{}]\nserver_addr = \"HOST:PORT\"   # the kiss-server of cluster '{}'\n",
            toml_key(&self.context.name),
            self.context.cluster
        );
        if let Some(ns) = &self.context.namespace {
            s.push_str(&format!("# namespace = \"{ns}\"\n"));
        }
        s
    }

    fn message(&self) -> String {
        let file = self.config_path.as_ref().map_or_else(
            || "~/.config/kiss/config.toml".to_owned(),
            |p| p.display().to_string(),
        );
        let or_issuer = match &self.issuer {
            Some(iss) => format!(
                "or, for every context whose token comes from {iss}, an [issuers.{}] table with server_addr; ",
                toml_key(iss)
            ),
            None => String::new(),
        };
        format!(
            "no kiss server is set for the kubeconfig context '{}'; add to {file}:\n\n{}\n{or_issuer}or give -server-addr",
            self.context.name,
            self.suggested_entry(),
        )
    }
}

/// A TOML key: bare when it can be, else quoted.
pub fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return key.to_owned();
    }
    let mut out = String::from("\"");
    for c in key.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The settings for `context`: flags over its config entries (see the
/// module's rules). `issuer` is the token's `iss` when known; call again
/// with it when the first answer is [`NoServer`] with
/// `issuers_configured`. `config_path` only names the file in the error.
pub fn resolve_context(
    flags: &CommonFlags,
    file: &ConfigFile,
    context: &ContextInfo,
    issuer: Option<&str>,
    config_path: Option<&Path>,
) -> Result<(Settings, ServerChoice), Box<NoServer>> {
    let base = resolve(flags, file);
    let entry = file.contexts.get(&context.name);
    let by_issuer = issuer.and_then(|iss| {
        let want = iss.trim_end_matches('/');
        file.issuers
            .iter()
            .find(|(url, _)| url.trim_end_matches('/') == want)
    });
    type Source<'a> = (ServerChoice, String, Option<bool>, Option<&'a PathBuf>);
    let source: Option<Source<'_>> = if let Some(addr) = &flags.server_addr {
        Some((ServerChoice::Flag, addr.clone(), None, None))
    } else if let Some((e, addr)) = entry.and_then(|e| e.server_addr.as_ref().map(|a| (e, a))) {
        Some((
            ServerChoice::Context(context.name.clone()),
            addr.clone(),
            e.secure,
            e.ca_file.as_ref(),
        ))
    } else if let Some((url, e)) = by_issuer
        && let Some(addr) = &e.server_addr
    {
        Some((
            ServerChoice::Issuer(url.clone()),
            addr.clone(),
            e.secure,
            e.ca_file.as_ref(),
        ))
    } else {
        None
    };
    let Some((choice, server_addr, secure, ca_file)) = source else {
        return Err(Box::new(NoServer {
            context: context.clone(),
            issuer: issuer.map(str::to_owned),
            config_path: config_path.map(Path::to_path_buf),
            issuers_configured: !file.issuers.is_empty(),
        }));
    };
    let settings = Settings {
        server_addr,
        secure: flags.secure.or(secure).unwrap_or(true),
        ca_file: flags.ca_file.clone().or_else(|| ca_file.cloned()),
        namespace: flags
            .namespace
            .clone()
            .or_else(|| entry.and_then(|e| e.namespace.clone()))
            .or_else(|| context.namespace.clone()),
        ..base
    };
    Ok((settings, choice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    fn ctx(name: &str, namespace: Option<&str>) -> ContextInfo {
        ContextInfo {
            name: name.into(),
            cluster: format!("{name}-cluster"),
            user: Some("me".into()),
            namespace: namespace.map(str::to_owned),
            server: Some("https://api:6443".into()),
        }
    }

    const FILE: &str = r#"
server_addr = "top-level:443"
namespace = "top-ns"
secure = false
[contexts.prod]
server_addr = "kiss.prod:443"
namespace = "team-prod"
[contexts.dev]
server_addr = "kiss.dev:80"
secure = false
ca_file = "/dev-ca.pem"
[contexts.named-only]
namespace = "only-ns"
[issuers."https://idp.example/"]
server_addr = "kiss.idp:443"
ca_file = "/idp-ca.pem"
"#;

    #[test]
    fn the_context_entry_then_the_issuer_then_nothing() {
        let file = parse(Path::new("c.toml"), FILE).unwrap();
        let none = CommonFlags::default();
        let (s, choice) =
            resolve_context(&none, &file, &ctx("prod", Some("kube-ns")), None, None).unwrap();
        assert_eq!(choice, ServerChoice::Context("prod".into()));
        assert_eq!(s.server_addr, "kiss.prod:443");
        assert!(
            s.secure,
            "the top-level secure = false is not the context's"
        );
        assert_eq!(s.namespace.as_deref(), Some("team-prod"));

        let (s, _) =
            resolve_context(&none, &file, &ctx("dev", Some("kube-ns")), None, None).unwrap();
        assert_eq!((s.server_addr.as_str(), s.secure), ("kiss.dev:80", false));
        assert_eq!(s.ca_file, Some(PathBuf::from("/dev-ca.pem")));
        assert_eq!(
            s.namespace.as_deref(),
            Some("kube-ns"),
            "the kubeconfig's namespace"
        );

        let ctx_only = ctx("named-only", None);
        let err = resolve_context(&none, &file, &ctx_only, None, None).unwrap_err();
        assert!(err.issuers_configured);
        let (s, choice) =
            resolve_context(&none, &file, &ctx_only, Some("https://idp.example"), None).unwrap();
        assert_eq!(choice, ServerChoice::Issuer("https://idp.example/".into()));
        assert_eq!(s.server_addr, "kiss.idp:443");
        assert_eq!(s.ca_file, Some(PathBuf::from("/idp-ca.pem")));
        assert_eq!(s.namespace.as_deref(), Some("only-ns"));

        let err = resolve_context(
            &none,
            &file,
            &ctx("arn:aws:eks:eu-west-1:1:cluster/x", Some("team-x")),
            Some("https://other"),
            Some(Path::new("/home/me/.config/kiss/config.toml")),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(
                "[contexts.\"arn:aws:eks:eu-west-1:1:cluster/x\"]\nserver_addr = \"HOST:PORT\""
            ) && msg.contains("/home/me/.config/kiss/config.toml")
                && msg.contains("[issuers.\"https://other\"]")
                && msg.contains("-server-addr")
                && msg.contains("# namespace = \"team-x\""),
            "{msg}"
        );
        // What the message suggests parses, and then resolves.
        let fixed = err.suggested_entry().replace("HOST:PORT", "kiss.x:443");
        let file = parse(Path::new("c.toml"), &fixed).unwrap();
        let (s, _) = resolve_context(&none, &file, &err.context, None, None).unwrap();
        assert_eq!(s.server_addr, "kiss.x:443");
    }

    #[test]
    fn flags_override_every_entry() {
        let file = parse(Path::new("c.toml"), FILE).unwrap();
        let flags = CommonFlags {
            server_addr: Some("flag:1".into()),
            secure: Some(true),
            namespace: Some("flag-ns".into()),
            ca_file: Some("/flag-ca.pem".into()),
            ..CommonFlags::default()
        };
        let (s, choice) = resolve_context(&flags, &file, &ctx("dev", None), None, None).unwrap();
        assert_eq!(choice, ServerChoice::Flag);
        assert_eq!(s.server_addr, "flag:1");
        assert!(s.secure);
        assert_eq!(s.namespace.as_deref(), Some("flag-ns"));
        assert_eq!(s.ca_file, Some(PathBuf::from("/flag-ca.pem")));
        // A context with no entry at all works with -server-addr alone.
        let (s, _) = resolve_context(&flags, &file, &ctx("unknown", None), None, None).unwrap();
        assert_eq!(s.server_addr, "flag:1");
    }

    #[test]
    fn keys_are_quoted_when_toml_needs_it() {
        assert_eq!(toml_key("prod-1_a"), "prod-1_a");
        assert_eq!(toml_key("a.b"), "\"a.b\"");
        assert_eq!(toml_key("q\"\\"), "\"q\\\"\\\\\"");
        assert_eq!(toml_key(""), "\"\"");
        assert_eq!(toml_key("\u{1}"), "\"\\u0001\"");
    }
}
