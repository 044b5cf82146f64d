//! Each context's token, kept in memory until it expires (less a small
//! skew) or until the server refuses it ([`CredentialCache::invalidate`]);
//! then the plugin runs again. A credential without an expiry is kept until
//! invalidated, as kubectl keeps it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::credential::Credential;
use super::exec::{ExecError, ExecPlugin, PluginRunner, needs_terminal};

/// How long before its expiry a token is no longer handed out, so that it
/// does not expire on the way to the server.
pub const EXPIRY_SKEW: Duration = Duration::from_secs(10);

/// Tokens by context name, and the runner that gets new ones.
pub struct CredentialCache<R: PluginRunner> {
    runner: R,
    skew: Duration,
    entries: Mutex<HashMap<String, Credential>>,
}

impl<R: PluginRunner> std::fmt::Debug for CredentialCache<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialCache")
            .field("skew", &self.skew)
            .finish_non_exhaustive()
    }
}

impl<R: PluginRunner> CredentialCache<R> {
    /// An empty cache over `runner`, with [`EXPIRY_SKEW`].
    pub fn new(runner: R) -> Self {
        Self::with_skew(runner, EXPIRY_SKEW)
    }

    /// An empty cache that stops handing out a token `skew` before it expires.
    pub fn with_skew(runner: R, skew: Duration) -> Self {
        CredentialCache {
            runner,
            skew,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The runner (the app's may hold its suspend hook).
    pub fn runner(&self) -> &R {
        &self.runner
    }

    /// The context's token if one is cached and still fresh at `now`;
    /// `None` means [`CredentialCache::token`] will run the plugin.
    pub fn fresh(&self, context: &str, now: SystemTime) -> Option<Credential> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(context)
            .filter(|c| self.is_fresh(c, now))
            .cloned()
    }

    /// Whether getting the context's token now would run the plugin with
    /// the terminal (so the app must suspend its screen first): `Ok(false)`
    /// when a fresh token is cached.
    pub fn needs_terminal(
        &self,
        context: &str,
        plugin: &ExecPlugin,
        terminal_available: bool,
        now: SystemTime,
    ) -> Result<bool, ExecError> {
        if self.fresh(context, now).is_some() {
            return Ok(false);
        }
        needs_terminal(plugin, terminal_available)
    }

    /// The context's token: the cached one while fresh, else the plugin's
    /// (run with the terminal when [`needs_terminal`] says so), which is
    /// then cached. Blocks while the plugin runs.
    pub fn token(
        &self,
        context: &str,
        plugin: &ExecPlugin,
        terminal_available: bool,
    ) -> Result<Credential, ExecError> {
        if let Some(c) = self.fresh(context, SystemTime::now()) {
            return Ok(c);
        }
        let interactive = needs_terminal(plugin, terminal_available)?;
        tracing::debug!(
            context,
            command = %plugin.display_name(),
            interactive,
            "running the credential plugin"
        );
        let credential = self.runner.run(plugin, interactive)?;
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(context.to_owned(), credential.clone());
        Ok(credential)
    }

    /// Forgets the context's token (the server refused it): the next
    /// [`CredentialCache::token`] runs the plugin again.
    pub fn invalidate(&self, context: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(context);
    }

    fn is_fresh(&self, c: &Credential, now: SystemTime) -> bool {
        match c.expires_at {
            None => true,
            Some(exp) => exp
                .checked_sub(self.skew)
                .is_some_and(|usable_until| now < usable_until),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::exec::InteractiveMode;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Hands out `token-N`, expiring `lifetime` from now (None: never).
    struct Counting {
        runs: AtomicUsize,
        interactive_runs: AtomicUsize,
        lifetime: Option<i64>,
    }

    impl PluginRunner for Counting {
        fn run(&self, _: &ExecPlugin, interactive: bool) -> Result<Credential, ExecError> {
            let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
            if interactive {
                self.interactive_runs.fetch_add(1, Ordering::SeqCst);
            }
            let now = SystemTime::now();
            Ok(Credential {
                token: format!("token-{n}"),
                expires_at: self.lifetime.map(|s| {
                    if s >= 0 {
                        now + Duration::from_secs(s as u64)
                    } else {
                        now - Duration::from_secs((-s) as u64)
                    }
                }),
            })
        }
    }

    fn counting(lifetime: Option<i64>) -> Counting {
        Counting {
            runs: AtomicUsize::new(0),
            interactive_runs: AtomicUsize::new(0),
            lifetime,
        }
    }

    fn plugin(mode: InteractiveMode) -> ExecPlugin {
        ExecPlugin {
            api_version: crate::kubeconfig::credential::V1.into(),
            command: "get-token".into(),
            args: Vec::new(),
            env: Vec::new(),
            interactive_mode: mode,
            install_hint: None,
            provide_cluster_info: false,
            cluster_server: None,
        }
    }

    #[test]
    fn a_fresh_token_is_reused_per_context_until_invalidated() {
        let cache = CredentialCache::new(counting(Some(3600)));
        let p = plugin(InteractiveMode::Never);
        assert_eq!(cache.token("a", &p, false).unwrap().token, "token-1");
        assert_eq!(cache.token("a", &p, false).unwrap().token, "token-1");
        assert_eq!(cache.token("b", &p, false).unwrap().token, "token-2");
        cache.invalidate("a");
        assert_eq!(cache.token("a", &p, false).unwrap().token, "token-3");
        assert_eq!(cache.token("b", &p, false).unwrap().token, "token-2");
        assert_eq!(cache.runner().runs.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn an_expired_or_nearly_expired_token_runs_the_plugin_again() {
        for lifetime in [-5, 0, 5] {
            let cache = CredentialCache::new(counting(Some(lifetime)));
            let p = plugin(InteractiveMode::Never);
            cache.token("a", &p, false).unwrap();
            assert!(cache.fresh("a", SystemTime::now()).is_none(), "{lifetime}");
            assert_eq!(cache.token("a", &p, false).unwrap().token, "token-2");
        }
        // Without an expiry it is kept.
        let cache = CredentialCache::new(counting(None));
        let p = plugin(InteractiveMode::Never);
        cache.token("a", &p, false).unwrap();
        cache.token("a", &p, false).unwrap();
        assert_eq!(cache.runner().runs.load(Ordering::SeqCst), 1);
        // A fresh token is fresh now, not an hour later.
        let cache = CredentialCache::new(counting(Some(3600)));
        cache.token("a", &p, false).unwrap();
        let later = SystemTime::now() + Duration::from_secs(3595);
        assert!(cache.fresh("a", later).is_none());
    }

    #[test]
    fn the_terminal_is_asked_for_only_when_the_plugin_will_run_with_it() {
        let cache = CredentialCache::new(counting(Some(3600)));
        let p = plugin(InteractiveMode::IfAvailable);
        let now = SystemTime::now();
        assert_eq!(cache.needs_terminal("a", &p, true, now), Ok(true));
        assert_eq!(cache.needs_terminal("a", &p, false, now), Ok(false));
        cache.token("a", &p, true).unwrap();
        assert_eq!(cache.runner().interactive_runs.load(Ordering::SeqCst), 1);
        assert_eq!(
            cache.needs_terminal("a", &p, true, SystemTime::now()),
            Ok(false),
            "a cached token needs no terminal"
        );
        let always = plugin(InteractiveMode::Always);
        assert!(cache.needs_terminal("b", &always, false, now).is_err());
        assert!(cache.token("b", &always, false).is_err());
        assert_eq!(cache.runner().runs.load(Ordering::SeqCst), 1, "not run");
    }

    #[cfg(unix)]
    #[test]
    fn a_real_plugin_runs_again_only_once_its_token_expires() {
        use crate::kubeconfig::exec::ProcessRunner;
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("runs.log");
        let make = |name: &str, expiry: &str| {
            let path = dir.path().join(name);
            std::fs::write(
                &path,
                format!(
                    "#!/bin/sh\necho run >> '{}'\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"a.b.c\",\"expirationTimestamp\":\"{expiry}\"}}}}'\n",
                    log.display()
                ),
            )
            .unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            ExecPlugin {
                command: path.display().to_string(),
                ..plugin(InteractiveMode::Never)
            }
        };
        let runs = || {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .count()
        };
        let cache = CredentialCache::new(ProcessRunner::default());
        let past = make("past.sh", "2001-01-01T00:00:00Z");
        cache.token("old", &past, false).unwrap();
        cache.token("old", &past, false).unwrap();
        assert_eq!(runs(), 2, "an expired token makes the plugin run again");
        let future = make("future.sh", "2999-01-01T00:00:00Z");
        cache.token("new", &future, false).unwrap();
        cache.token("new", &future, false).unwrap();
        assert_eq!(runs(), 3, "a fresh one does not");
        cache.invalidate("new");
        cache.token("new", &future, false).unwrap();
        assert_eq!(runs(), 4, "a refused one does");
    }
}
