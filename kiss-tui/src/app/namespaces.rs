//! The namespace picker, and entering a namespace.

use crossterm::event::{KeyCode, KeyEvent};
use kiss_proto::names::validate_namespace;

use super::App;
use super::action::{Call, Effect};
use super::keymap::{Binding, bind, ctrl, key, text};
use super::line::{self, LineInput};
use super::nav::{ListNav, Move, moves};
use super::state::{Deleted, Purpose, Screen, Secrets, State};

/// The namespace picker.
#[derive(Debug, Clone, Default)]
pub struct NamespacePicker {
    /// What was typed to filter, or the namespace to open.
    pub filter: LineInput,
    /// The cursor in the filtered list.
    pub nav: ListNav,
}

/// One row of the namespace picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceRow {
    /// The namespace.
    pub name: String,
    /// Typed rather than listed by the server.
    pub typed: bool,
}

impl State {
    /// The rows of the namespace picker: the granted namespaces that match
    /// the filter, and the typed namespace when it is not one of them: for
    /// an admin first, for anyone else once no listed one matches. The list
    /// is what the server could tell (under the cluster's RBAC it checks at
    /// most 500 namespaces), so a namespace missing from it may still be
    /// allowed: the server decides when it is opened.
    pub fn namespace_rows(&self) -> Vec<NamespaceRow> {
        let Some(identity) = self.session.as_ref().and_then(|s| s.identity.as_ref()) else {
            return Vec::new();
        };
        let f = self.namespaces.filter.trim().to_lowercase();
        let listed: Vec<NamespaceRow> = identity
            .namespaces
            .iter()
            .filter(|n| n.contains(&f))
            .map(|n| NamespaceRow {
                name: n.clone(),
                typed: false,
            })
            .collect();
        let offer_typed = !f.is_empty()
            && !identity.namespaces.contains(&f)
            && (identity.admin || (listed.is_empty() && validate_namespace(&f).is_ok()));
        let mut rows = Vec::new();
        if offer_typed {
            rows.push(NamespaceRow {
                name: f,
                typed: true,
            });
        }
        rows.extend(listed);
        rows
    }
}

/// What a key does on the namespace picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespacesCmd {
    /// Move the cursor.
    Move(Move),
    /// Open the selected namespace.
    Open,
    /// Ask the server again which namespaces the token grants.
    Reload,
    /// Back to the token picker.
    Back,
}

/// The namespace picker's keys. Letters are the filter, so no vim keys.
pub fn keys() -> Vec<Binding<NamespacesCmd>> {
    let mut rows = moves(false, true, NamespacesCmd::Move);
    rows.extend([
        text("type", "filter", true),
        bind(
            "Enter",
            "open namespace",
            true,
            &[key(KeyCode::Enter)],
            NamespacesCmd::Open,
        ),
        bind(
            "Ctrl-R",
            "reload",
            false,
            &[ctrl('r')],
            NamespacesCmd::Reload,
        ),
        bind(
            "Esc",
            "back to tokens",
            true,
            &[key(KeyCode::Esc)],
            NamespacesCmd::Back,
        )
        .pinned(),
    ]);
    rows.extend(line::keys());
    rows
}

impl App {
    pub(super) fn on_namespaces(&mut self, cmd: NamespacesCmd) -> Vec<Effect> {
        match cmd {
            NamespacesCmd::Move(m) => {
                let len = self.state.namespace_rows().len();
                let page = self.page();
                self.state.namespaces.nav.apply(m, len, page);
                Vec::new()
            }
            NamespacesCmd::Back => self.open_token_picker(),
            NamespacesCmd::Open => self.open_selected_namespace(),
            NamespacesCmd::Reload => {
                self.supersede(|p| *p == Purpose::WhoAmI);
                vec![self.call(Purpose::WhoAmI, Call::WhoAmI)]
            }
        }
    }

    /// A typed or editing key goes to the filter.
    pub(super) fn namespaces_text(&mut self, event: KeyEvent) {
        let filter = &mut self.state.namespaces.filter;
        let before = filter.to_string();
        if filter.input(event) && *filter != *before {
            self.state.namespaces.nav.selected = 0;
            self.refit();
        }
    }

    fn open_selected_namespace(&mut self) -> Vec<Effect> {
        let rows = self.state.namespace_rows();
        match rows.get(self.state.namespaces.nav.selected) {
            Some(row) => {
                if let Err(e) = validate_namespace(&row.name) {
                    self.error(format!("{e}."));
                    return Vec::new();
                }
                let ns = row.name.clone();
                self.enter_namespace(ns)
            }
            None if self.state.namespaces.filter.is_empty() => {
                self.error(
                    "Your token grants no namespaces. Ask for a group that maps to a namespace, or pick another token (Esc).",
                );
                Vec::new()
            }
            None => {
                self.error(format!(
                    "No namespace you may use matches '{}'.",
                    self.state.namespaces.filter
                ));
                Vec::new()
            }
        }
    }

    /// Opens a namespace on the secrets screen and lists its secrets.
    pub(super) fn enter_namespace(&mut self, ns: String) -> Vec<Effect> {
        let same = self.state.namespace.as_deref() == Some(ns.as_str());
        if !same {
            let sort = self.state.secrets.sort;
            let reversed = self.state.secrets.reversed;
            self.state.secrets = Secrets {
                sort,
                reversed,
                ..Default::default()
            };
            self.state.deleted = Deleted::default();
            self.state.dialog = None;
        }
        self.state.namespace = Some(ns);
        self.state.screen = Screen::Secrets;
        // Whatever was asked about another namespace is no longer wanted.
        self.supersede(|p| !p.is_session());
        vec![self.list_call()]
    }

    /// Leaves the secrets screen for the namespace picker.
    pub(super) fn leave_namespace(&mut self) {
        self.state.screen = Screen::Namespaces;
        self.state.namespace = None;
        self.state.namespaces.filter.clear();
        self.state.dialog = None;
        self.supersede(|p| !p.is_session());
        self.refit();
    }

    pub(super) fn list_call(&mut self) -> Effect {
        self.supersede(|p| *p == Purpose::List);
        let namespace = self.ns();
        self.call(Purpose::List, Call::ListSecrets { namespace })
    }
}
