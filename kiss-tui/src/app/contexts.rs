//! Kubeconfig contexts inside the app: `C` (or `:ctx NAME`, completed from
//! the kubeconfig's contexts) switches to another context — its kiss
//! server, its token from its exec plugin — and each context remembers the
//! namespace last used in it, so switching back lands there.

use std::collections::BTreeMap;

use super::App;
use super::action::{Effect, Sensitive};
use super::state::{Purpose, Screen};

/// The least time between two renewals of a context's token.
const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// What a context switch needs from the runtime once it is done.
#[derive(Debug, Clone)]
pub struct ContextReady {
    /// The context switched to.
    pub context: String,
    /// Its token (from the exec plugin).
    pub token: Sensitive,
    /// The namespace its config entry or kubeconfig context names.
    pub namespace: Option<String>,
    /// Its kiss server, for the status bar.
    pub server: String,
}

impl App {
    /// `:ctx NAME`: switches, unless text would be lost.
    pub(super) fn switch_context(&mut self, name: &str) -> Vec<Effect> {
        if self.state.unsaved_text() {
            self.error(
                "The form holds unsaved text: save it (Ctrl-S) or discard it (Esc) before you switch context.",
            );
            return Vec::new();
        }
        if !self.state.contexts.iter().any(|c| c == name) {
            let known = if self.state.contexts.is_empty() {
                "your kubeconfig has none".to_owned()
            } else {
                format!("the contexts are {}", self.state.contexts.join(", "))
            };
            self.error(format!("There is no kubeconfig context '{name}': {known}."));
            return Vec::new();
        }
        vec![Effect::SwitchContext {
            context: name.to_owned(),
            renew: false,
        }]
    }

    /// The runtime has the new context's server and token: start over in
    /// it, in the namespace last used there.
    pub(super) fn on_context_ready(&mut self, result: Result<ContextReady, String>) -> Vec<Effect> {
        let renewing = std::mem::take(&mut self.state.context_renewing);
        let ready = match result {
            Ok(r) => r,
            Err(e) if renewing => {
                self.error(format!(
                    "Could not get a fresh token from the context's plugin: {e}"
                ));
                return Vec::new();
            }
            Err(e) => {
                self.error(format!("Could not switch context: {e}"));
                return Vec::new();
            }
        };
        // The same context's plugin again (its token expired or was
        // refused): a fresh token, and the user stays where they are.
        if renewing && self.state.context.as_deref() == Some(ready.context.as_str()) {
            let info = crate::tokens::TokenInfo::from_jwt(ready.token.expose()).ok();
            if let Some(session) = &mut self.state.session {
                session.expires_at = info.as_ref().and_then(|i| i.expires_at);
            }
            self.state.auth_problem = None;
            return vec![Effect::Connect {
                id: self.expect(Purpose::Reconnect),
                token: ready.token,
            }];
        }
        if let (Some(old), Some(ns)) = (&self.state.context, &self.state.namespace) {
            self.state.last_namespace.insert(old.clone(), ns.clone());
        }
        let back_in = self
            .state
            .last_namespace
            .get(&ready.context)
            .cloned()
            .or(ready.namespace);
        // Nothing of the old context's server carries over.
        self.state.pending.clear();
        self.state.dialog = None;
        self.state.secrets = Default::default();
        self.state.deleted = Default::default();
        self.state.history = Default::default();
        self.state.namespace = None;
        self.state.fixed_namespace = back_in;
        self.state.recent_namespaces.clear();
        self.state.server = ready.server;
        self.state.context = Some(ready.context.clone());
        self.state.screen = Screen::Tokens;
        let info = crate::tokens::TokenInfo::from_jwt(ready.token.expose()).ok();
        self.state.session = Some(super::tokens::Session {
            path: format!("the exec plugin of kubeconfig context '{}'", ready.context).into(),
            identifier: info.as_ref().and_then(|i| i.identifier.clone()),
            expires_at: info.as_ref().and_then(|i| i.expires_at),
            identity: None,
        });
        self.info(format!(
            "Switched to kubeconfig context '{}'.",
            ready.context
        ));
        vec![Effect::Connect {
            id: self.expect(Purpose::Connect),
            token: ready.token,
        }]
    }
}

impl App {
    /// In a context whose token expired (or is about to) or was refused,
    /// asks its plugin for a fresh one, once until it answers.
    pub(super) fn renew_context_token(&mut self) -> Vec<Effect> {
        let Some(context) = self.state.context.clone() else {
            return Vec::new();
        };
        // At most once a minute: a plugin that hands back the same token
        // (kubelogin's cache) is not run on every tick or every refusal.
        let now = self.state.now;
        let recently = self
            .state
            .context_renewed_at
            .is_some_and(|t| now.duration_since(t).unwrap_or_default() < RENEW_EVERY);
        if self.state.context_renewing || recently {
            return Vec::new();
        }
        self.state.context_renewing = true;
        self.state.context_renewed_at = Some(now);
        vec![Effect::SwitchContext {
            context,
            renew: true,
        }]
    }

    /// On each tick: a context token within a minute of expiring is renewed.
    pub(super) fn context_token_due(&mut self, now: std::time::SystemTime) -> Vec<Effect> {
        let soon = self
            .state
            .session
            .as_ref()
            .and_then(|s| s.expires_at)
            .is_some_and(|t| t <= now + std::time::Duration::from_secs(60));
        if soon && self.state.context.is_some() {
            return self.renew_context_token();
        }
        Vec::new()
    }
}

/// The namespace last used in each context.
pub type LastNamespaces = BTreeMap<String, String>;
