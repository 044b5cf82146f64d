//! Reading the kubeconfig as kubectl does, with kube-rs's types and merge
//! rules ([`kube::config::Kubeconfig::merge`]: the first file that sets a
//! map key — a cluster, user or context name — or `current-context` wins).
//!
//! Which files: every path in `KUBECONFIG` (split like `PATH`, empty entries
//! and repeats ignored, files that do not exist skipped, as kubectl skips
//! them), else `~/.kube/config` (none at all is an empty kubeconfig). Each
//! file is read here, not by kube-rs, so that no file can make kiss-tui
//! panic, and its users' relative `exec` commands that contain a `/` are
//! resolved against that file's directory, as kubectl does.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use kube::config::{ExecInteractiveMode, Kubeconfig, NamedAuthInfo};

use super::exec::{ExecPlugin, InteractiveMode};

/// The environment variable listing kubeconfig files.
pub const KUBECONFIG_ENV: &str = "KUBECONFIG";

/// A kubeconfig file larger than this is refused unread.
const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Why the kubeconfig, or something in it, cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    /// A file exists but cannot be read.
    #[error("cannot read the kubeconfig {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not text, or too large to be a kubeconfig.
    #[error("the kubeconfig {} cannot be used: {reason}", path.display())]
    NotText {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A file is not a valid kubeconfig.
    #[error("the kubeconfig {} is not valid: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// Two files cannot be merged (different `kind` or `apiVersion`).
    #[error("the kubeconfig {} cannot be merged with the files before it: {message}", path.display())]
    Merge {
        /// The file that did not fit.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// No `KUBECONFIG` and no home directory to find `~/.kube/config` in.
    #[error("cannot find the kubeconfig: $KUBECONFIG is not set and the home directory is unknown")]
    NoHome,
    /// No context of that name.
    #[error("{}", unknown_context(name, known, files))]
    UnknownContext {
        /// The name asked for.
        name: String,
        /// The contexts there are.
        known: Vec<String>,
        /// The files read.
        files: Vec<PathBuf>,
    },
    /// No context was named and the kubeconfig has no `current-context`.
    #[error(
        "the kubeconfig has no current-context; give one with -context NAME (kubectl config get-contexts lists them)"
    )]
    NoCurrentContext,
    /// The context names no user, or a user the kubeconfig does not have.
    #[error("the context '{context}' {}; fix it with kubectl config set-context {context} --user=NAME", match user { Some(u) => format!("names the user '{u}', which the kubeconfig does not have"), None => "names no user".to_owned() })]
    NoUser {
        /// The context.
        context: String,
        /// The user it names, if any.
        user: Option<String>,
    },
    /// The user has no `exec` plugin, so there is no way to get its token.
    #[error(
        "the user '{user}' of context '{context}' has no exec credential plugin, so kiss cannot get an ID token for it; give -token-path, or use a context whose user logs in with `kubectl oidc-login get-token`"
    )]
    NoExec {
        /// The context.
        context: String,
        /// Its user.
        user: String,
    },
    /// The user's `exec` section lacks something kubectl requires.
    #[error("the exec plugin of user '{user}' (context '{context}') is incomplete: {reason}")]
    BadExec {
        /// The context.
        context: String,
        /// Its user.
        user: String,
        /// What is missing.
        reason: String,
    },
}

fn unknown_context(name: &str, known: &[String], files: &[PathBuf]) -> String {
    let files = if files.is_empty() {
        "no kubeconfig file was found".to_owned()
    } else {
        let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        format!("read {}", list.join(", "))
    };
    if known.is_empty() {
        format!("there is no kubeconfig context '{name}': the kubeconfig has no contexts ({files})")
    } else {
        format!(
            "there is no kubeconfig context '{name}'; the contexts are {} ({files})",
            known.join(", ")
        )
    }
}

/// One context: a name for a (cluster, user, namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextInfo {
    /// The context's name (what `-context` takes).
    pub name: String,
    /// The cluster it names.
    pub cluster: String,
    /// The user it names.
    pub user: Option<String>,
    /// Its default namespace.
    pub namespace: Option<String>,
    /// The cluster's API server URL, when the kubeconfig has the cluster.
    pub server: Option<String>,
}

/// The merged kubeconfig and the files it came from.
#[derive(Debug, Clone, Default)]
pub struct Kubeconfigs {
    config: Kubeconfig,
    files: Vec<PathBuf>,
}

/// The files kubectl would read: `KUBECONFIG` (as given by `env`), else
/// `~/.kube/config`.
pub fn paths(env: Option<OsString>, home: Option<&Path>) -> Result<Vec<PathBuf>, KubeconfigError> {
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        let mut paths: Vec<PathBuf> = Vec::new();
        for p in std::env::split_paths(&value) {
            if !p.as_os_str().is_empty() && !paths.contains(&p) {
                paths.push(p);
            }
        }
        if !paths.is_empty() {
            return Ok(paths);
        }
    }
    let home = home.ok_or(KubeconfigError::NoHome)?;
    Ok(vec![home.join(".kube").join("config")])
}

/// Loads the kubeconfig from `$KUBECONFIG`, else `~/.kube/config`.
pub fn load() -> Result<Kubeconfigs, KubeconfigError> {
    let files = paths(
        std::env::var_os(KUBECONFIG_ENV),
        dirs::home_dir().as_deref(),
    )?;
    load_files(&files)
}

/// Loads and merges `files` in order; files that do not exist are skipped.
pub fn load_files(files: &[PathBuf]) -> Result<Kubeconfigs, KubeconfigError> {
    let mut merged: Option<Kubeconfig> = None;
    let mut read = Vec::new();
    for path in files {
        let Some(text) = read_text(path)? else {
            continue;
        };
        let config = parse(path, &text)?;
        read.push(path.clone());
        merged = Some(match merged {
            None => config,
            Some(m) => m.merge(config).map_err(|e| KubeconfigError::Merge {
                path: path.clone(),
                message: e.to_string(),
            })?,
        });
    }
    Ok(Kubeconfigs {
        config: merged.unwrap_or_default(),
        files: read,
    })
}

/// Parses one file's text (several YAML documents are merged); `path` names
/// the file in errors and is the directory relative exec commands are
/// resolved against.
pub fn parse(path: &Path, text: &str) -> Result<Kubeconfig, KubeconfigError> {
    let mut config = Kubeconfig::from_yaml(text).map_err(|e| KubeconfigError::Parse {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    let dir = path.parent().unwrap_or(Path::new(""));
    for exec in config
        .auth_infos
        .iter_mut()
        .filter_map(|n| n.auth_info.as_mut())
        .filter_map(|a| a.exec.as_mut())
    {
        // kubectl resolves a command with a slash against the file's
        // directory; a bare name is looked up on PATH when run.
        if let Some(command) = &exec.command
            && command.contains('/')
            && Path::new(command).is_relative()
        {
            exec.command = Some(dir.join(command).to_string_lossy().into_owned());
        }
    }
    Ok(config)
}

/// A file's text: `None` when it does not exist. A UTF-8 or UTF-16 byte
/// order mark is honoured, as kubectl does.
fn read_text(path: &Path) -> Result<Option<String>, KubeconfigError> {
    use std::io::Read;
    let not_text = |reason: &str| KubeconfigError::NotText {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(KubeconfigError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(not_text("it is a directory"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| KubeconfigError::Read {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(not_text("it is larger than 16 MiB"));
    }
    decode_text(&bytes).map(Some).map_err(not_text)
}

/// Bytes to text: UTF-8 (with or without a byte order mark) or UTF-16 with one.
fn decode_text(bytes: &[u8]) -> Result<String, &'static str> {
    let utf16 = |rest: &[u8], le: bool| {
        if !rest.len().is_multiple_of(2) {
            return Err("it is not valid UTF-16 (an odd number of bytes)");
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| "it is not valid UTF-16")
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| "it is not valid UTF-8")
        }
        _ => String::from_utf8(bytes.to_vec()).map_err(|_| "it is not valid UTF-8"),
    }
}

impl Kubeconfigs {
    /// Builds from an already merged kubeconfig (tests, embedders).
    pub fn from_config(config: Kubeconfig, files: Vec<PathBuf>) -> Kubeconfigs {
        Kubeconfigs { config, files }
    }

    /// The files that were read, in order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Every context, in the order the files list them.
    pub fn contexts(&self) -> Vec<ContextInfo> {
        self.config
            .contexts
            .iter()
            .map(|named| {
                let ctx = named.context.as_ref();
                let cluster = ctx.map(|c| c.cluster.clone()).unwrap_or_default();
                let server = self
                    .config
                    .clusters
                    .iter()
                    .find(|c| c.name == cluster)
                    .and_then(|c| c.cluster.as_ref())
                    .and_then(|c| c.server.clone());
                ContextInfo {
                    name: named.name.clone(),
                    cluster,
                    user: ctx.and_then(|c| c.user.clone()).filter(|u| !u.is_empty()),
                    namespace: ctx
                        .and_then(|c| c.namespace.clone())
                        .filter(|n| !n.is_empty()),
                    server,
                }
            })
            .collect()
    }

    /// The `current-context`, if set (it may name a context that does not exist).
    pub fn current_context(&self) -> Option<&str> {
        self.config
            .current_context
            .as_deref()
            .filter(|c| !c.is_empty())
    }

    /// The context `name`, or the current one when `name` is `None`.
    pub fn context(&self, name: Option<&str>) -> Result<ContextInfo, KubeconfigError> {
        let name = match name {
            Some(n) => n,
            None => self
                .current_context()
                .ok_or(KubeconfigError::NoCurrentContext)?,
        };
        let all = self.contexts();
        let known: Vec<String> = all.iter().map(|c| c.name.clone()).collect();
        all.into_iter()
            .find(|c| c.name == name)
            .ok_or_else(|| KubeconfigError::UnknownContext {
                name: name.to_owned(),
                known,
                files: self.files.clone(),
            })
    }

    /// The `exec` plugin of the context's user.
    pub fn exec_plugin(&self, context: &ContextInfo) -> Result<ExecPlugin, KubeconfigError> {
        let no_user = || KubeconfigError::NoUser {
            context: context.name.clone(),
            user: context.user.clone(),
        };
        let user_name = context.user.as_deref().ok_or_else(no_user)?;
        let user: &NamedAuthInfo = self
            .config
            .auth_infos
            .iter()
            .find(|u| u.name == user_name)
            .ok_or_else(no_user)?;
        let exec = user
            .auth_info
            .as_ref()
            .and_then(|a| a.exec.as_ref())
            .ok_or_else(|| KubeconfigError::NoExec {
                context: context.name.clone(),
                user: user_name.to_owned(),
            })?;
        let bad = |reason: &str| KubeconfigError::BadExec {
            context: context.name.clone(),
            user: user_name.to_owned(),
            reason: reason.to_owned(),
        };
        let command = exec
            .command
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad("it has no command"))?;
        let api_version = exec
            .api_version
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad("it has no apiVersion"))?;
        let mut env = Vec::new();
        for entry in exec.env.iter().flatten() {
            match (entry.get("name"), entry.get("value")) {
                (Some(n), Some(v)) if !n.is_empty() => env.push((n.clone(), v.clone())),
                _ => return Err(bad("an env entry needs a name and a value")),
            }
        }
        let interactive_mode = match &exec.interactive_mode {
            Some(ExecInteractiveMode::Never) => InteractiveMode::Never,
            Some(ExecInteractiveMode::IfAvailable) => InteractiveMode::IfAvailable,
            Some(ExecInteractiveMode::Always) => InteractiveMode::Always,
            // client-go: required in v1, IfAvailable for older versions.
            None if api_version == super::credential::V1 => {
                return Err(bad(
                    "interactiveMode is required with client.authentication.k8s.io/v1 (Never, IfAvailable or Always)",
                ));
            }
            None => InteractiveMode::IfAvailable,
        };
        let cluster_server = exec
            .provide_cluster_info
            .then(|| context.server.clone())
            .flatten();
        Ok(ExecPlugin {
            api_version,
            command,
            args: exec.args.clone().unwrap_or_default(),
            env,
            interactive_mode,
            install_hint: exec.install_hint.clone().filter(|h| !h.is_empty()),
            provide_cluster_info: exec.provide_cluster_info,
            cluster_server,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    const FIRST: &str = r#"
apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: prod-cluster
  cluster: {server: "https://prod.example:6443"}
contexts:
- name: prod
  context: {cluster: prod-cluster, user: alice, namespace: team-a}
- name: shared
  context: {cluster: prod-cluster, user: alice}
users:
- name: alice
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [oidc-login, get-token, --oidc-issuer-url=https://idp]
      env: [{name: A, value: "1"}]
      interactiveMode: Never
"#;

    const SECOND: &str = r#"
apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: dev-cluster, user: bob}
- name: shared
  context: {cluster: dev-cluster, user: bob, namespace: from-second}
users:
- name: alice
  user: {token: not-used}
- name: bob
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubectl
"#;

    #[test]
    fn the_first_file_that_sets_a_key_or_the_current_context_wins() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), "a.yaml", FIRST);
        let b = write(dir.path(), "b.yaml", SECOND);
        let missing = dir.path().join("missing.yaml");
        let k = load_files(&[a.clone(), missing, b.clone()]).unwrap();
        assert_eq!(k.files(), [a.clone(), b]);
        assert_eq!(k.current_context(), Some("prod"));
        let names: Vec<String> = k.contexts().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["prod", "shared", "dev"]);
        let shared = k.context(Some("shared")).unwrap();
        assert_eq!(shared.cluster, "prod-cluster");
        assert_eq!(
            shared.namespace, None,
            "the second file's entry is discarded whole"
        );
        let prod = k.context(None).unwrap();
        assert_eq!(prod.namespace.as_deref(), Some("team-a"));
        assert_eq!(prod.server.as_deref(), Some("https://prod.example:6443"));
        // alice comes from the first file, with its exec plugin.
        let plugin = k.exec_plugin(&prod).unwrap();
        assert_eq!(
            Path::new(&plugin.command),
            dir.path().join("./bin/get-token"),
            "a command with a slash is relative to its file"
        );
        assert_eq!(plugin.env, [("A".to_owned(), "1".to_owned())]);
        assert_eq!(plugin.interactive_mode, InteractiveMode::Never);
        let dev = k.context(Some("dev")).unwrap();
        let bob = k.exec_plugin(&dev).unwrap();
        assert_eq!(bob.command, "kubectl", "a bare name is left for PATH");
        assert_eq!(bob.interactive_mode, InteractiveMode::IfAvailable);

        // The other order: the second file's current-context and entries win.
        let k = load_files(&[dir.path().join("b.yaml"), a]).unwrap();
        assert_eq!(k.current_context(), Some("dev"));
        let shared = k.context(Some("shared")).unwrap();
        assert_eq!(shared.namespace.as_deref(), Some("from-second"));
        let err = k
            .exec_plugin(&k.context(Some("prod")).unwrap())
            .unwrap_err();
        assert!(matches!(err, KubeconfigError::NoExec { .. }), "{err}");
    }

    #[test]
    fn kubeconfig_paths_follow_kubectl() {
        let home = Path::new("/home/me");
        assert_eq!(
            paths(None, Some(home)).unwrap(),
            [PathBuf::from("/home/me/.kube/config")]
        );
        assert_eq!(
            paths(Some("".into()), Some(home)).unwrap(),
            [PathBuf::from("/home/me/.kube/config")]
        );
        assert_eq!(
            paths(Some("/a::/b:/a".into()), Some(home)).unwrap(),
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert!(matches!(paths(None, None), Err(KubeconfigError::NoHome)));
        // No file at all: an empty kubeconfig, as kubectl sees it.
        let k = load_files(&[PathBuf::from("/nonexistent/kubeconfig")]).unwrap();
        assert!(k.contexts().is_empty());
        let err = k.context(Some("prod")).unwrap_err().to_string();
        assert!(err.contains("no contexts") && err.contains("prod"), "{err}");
    }

    #[test]
    fn errors_name_the_file_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let k = load_files(&[write(dir.path(), "a", FIRST)]).unwrap();
        let err = k.context(Some("nope")).unwrap_err().to_string();
        assert!(
            err.contains("prod, shared") && err.contains("nope"),
            "{err}"
        );
        let bad = write(dir.path(), "bad", "contexts: [1, 2");
        let err = load_files(&[bad]).unwrap_err().to_string();
        assert!(err.contains("bad") && err.contains("not valid"), "{err}");
        let v1_without_mode = FIRST.replace("      interactiveMode: Never\n", "");
        let k = load_files(&[write(dir.path(), "c", &v1_without_mode)]).unwrap();
        let err = k
            .exec_plugin(&k.context(None).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("interactiveMode is required"), "{err}");
        let no_user = "contexts:\n- name: x\n  context: {cluster: c, user: ghost}\n";
        let k = load_files(&[write(dir.path(), "d", no_user)]).unwrap();
        let err = k
            .exec_plugin(&k.context(Some("x")).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("ghost"), "{err}");
    }

    #[test]
    fn odd_bytes_are_errors_not_panics() {
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("utf16-odd", &[0xFF, 0xFE, 0x41][..]),
            ("utf16-be-odd", &[0xFE, 0xFF, 0x00]),
            ("latin1", &[0x63, 0xE9, 0x0A]),
            ("bom-bad", &[0xEF, 0xBB, 0xBF, 0xFF]),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).unwrap();
            assert!(load_files(&[p]).is_err(), "{name}");
        }
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(
                "current-context: x\n"
                    .encode_utf16()
                    .flat_map(u16::to_le_bytes),
            )
            .collect();
        let p = dir.path().join("utf16");
        std::fs::write(&p, utf16).unwrap();
        assert_eq!(load_files(&[p]).unwrap().current_context(), Some("x"));
        assert!(load_files(&[dir.path().to_path_buf()]).is_err());
    }
}
