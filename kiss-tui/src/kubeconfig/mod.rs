//! kubectl's view of your clusters: the kubeconfig's contexts, and a token
//! for a context from its user's `exec` credential plugin.
//!
//! - [`load`] reads the kubeconfig as kubectl does (`KUBECONFIG`, several
//!   files merged, else `~/.kube/config`) into [`Kubeconfigs`]: the contexts,
//!   the current one, and the [`ExecPlugin`] of a context's user.
//! - [`exec`] runs a plugin exactly as kubectl does (command, args, env,
//!   `KUBERNETES_EXEC_INFO`, `interactiveMode`) and [`credential`] reads the
//!   `ExecCredential` it prints (v1 and v1beta1).
//! - [`cache`] keeps each context's token in memory until it expires, or
//!   until [`CredentialCache::invalidate`] says the server refused it.
//! - [`servers`] decides which kiss server serves a context, from
//!   `[contexts.NAME]` and `[issuers."URL"]` in the config file.
//!
//! Nothing here prints or logs a token, and nothing panics on any file,
//! plugin output or environment.

pub mod cache;
pub mod credential;
pub mod exec;
pub mod load;
pub mod servers;

pub use cache::CredentialCache;
pub use credential::Credential;
pub use exec::{ExecError, ExecPlugin, InteractiveMode, PluginRunner, ProcessRunner};
pub use load::{ContextInfo, KubeconfigError, Kubeconfigs, load};
pub use servers::{ServerChoice, resolve_context};
