//! Kubeconfig contexts inside the app: `C` (or `:ctx NAME`, completed from
//! the kubeconfig's contexts) switches to another context — its kiss
//! server, its token from its exec plugin — and each context remembers the
//! namespace last used in it, so switching back lands there.

use std::collections::BTreeMap;

use super::App;
use super::action::{Effect, Sensitive};
use super::state::{Purpose, Screen};

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
        }]
    }

    /// The runtime has the new context's server and token: start over in
    /// it, in the namespace last used there.
    pub(super) fn on_context_ready(&mut self, result: Result<ContextReady, String>) -> Vec<Effect> {
        let ready = match result {
            Ok(r) => r,
            Err(e) => {
                self.error(format!("Could not switch context: {e}"));
                return Vec::new();
            }
        };
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

/// The namespace last used in each context.
pub type LastNamespaces = BTreeMap<String, String>;
