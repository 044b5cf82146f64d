//! The secrets table: moving, filtering, sorting, details and revealing.

use std::collections::HashMap;
use std::time::SystemTime;

use crossterm::event::KeyCode;

use super::action::{Call, Details, Effect, SecretRow, Sensitive};
use super::filter::apply_filter;
use super::keymap::{Binding, bind, ch, key};
use super::line::LineInput;
use super::nav::{ListNav, Move, moves};
use super::state::{
    BindDialog, BindFocus, CopyMenu, DeleteDialog, Dialog, Purpose, Recovery, Screen,
};
use super::{App, DETAILS_DELAY};

/// How the secrets table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By name, a to z.
    #[default]
    Name,
    /// Most recently changed first.
    LastChanged,
    /// Most recently created first.
    Created,
}

impl SortKey {
    /// The next key in the `s` cycle.
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::LastChanged,
            SortKey::LastChanged => SortKey::Created,
            SortKey::Created => SortKey::Name,
        }
    }

    /// How the key is named in the table header and messages.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::LastChanged => "last changed",
            SortKey::Created => "created",
        }
    }
}

/// The secrets screen.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// All secrets, in sort order.
    pub rows: Vec<SecretRow>,
    /// Indexes into `rows` of those matching the filter, in order.
    pub visible: Vec<usize>,
    /// Whether a listing arrived.
    pub loaded: bool,
    /// Why the last listing failed, if it did.
    pub load_error: Option<String>,
    /// The cursor in `visible`.
    pub nav: ListNav,
    /// The filter, matched case-insensitively anywhere in the name.
    pub filter: LineInput,
    /// Whether keys go to the filter.
    pub filtering: bool,
    /// The sort column.
    pub sort: SortKey,
    /// Whether the sort is reversed.
    pub reversed: bool,
    /// Details fetched so far, by name, without values.
    pub details: HashMap<String, Details>,
    /// The secret whose details could not be loaded, and why: the pane
    /// says so instead of promising a load that is not coming.
    pub details_error: Option<(String, String)>,
    /// The value shown for the selected secret.
    pub revealed: Option<(String, Sensitive)>,
    /// When the shown value hides again by itself.
    pub revealed_until: Option<SystemTime>,
    /// When the list last arrived.
    pub listed_at: Option<SystemTime>,
    /// A secret to select once the list arrives (opened from the search).
    pub want_selected: Option<String>,
}

impl Secrets {
    /// The selected secret, if any.
    pub fn selected(&self) -> Option<&SecretRow> {
        self.visible
            .get(self.nav.selected)
            .and_then(|&i| self.rows.get(i))
    }

    /// The name of the selected secret, if any.
    pub fn selected_name(&self) -> Option<&str> {
        self.selected().map(|r| r.name.as_str())
    }

    /// Whether `name`'s value is the one shown.
    pub fn is_revealed(&self, name: &str) -> bool {
        self.revealed.as_ref().is_some_and(|(n, _)| n == name)
    }

    /// Hides `name`'s value if it is the one shown: it is stale or gone.
    pub fn hide(&mut self, name: &str) {
        if self.is_revealed(name) {
            self.revealed = None;
        }
    }
}

/// What a key does on the secrets table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsCmd {
    /// Move the cursor.
    Move(Move),
    /// Start typing a filter.
    Filter,
    /// Clear a kept filter, else back to the namespace picker.
    Escape,
    /// Leave the app (asking if text is unsaved).
    Quit,
    /// Sort by the next column.
    Sort,
    /// Reverse the sort.
    Reverse,
    /// List the secrets again.
    Reload,
    /// Open the create form.
    New,
    /// Pick another namespace.
    SwitchNamespace,
    /// Pick another token.
    SwitchToken,
    /// Open the recently deleted view.
    Deleted,
    /// Open the selected secret in the update form.
    Edit,
    /// Show or hide the selected value.
    Reveal,
    /// Open the copy menu.
    Copy,
    /// Ask to delete the selected secret.
    Delete,
    /// Open the bindings dialog.
    Bindings,
    /// Create the selected secret's read policy.
    CreatePolicy,
    /// Open the selected secret's history.
    History,
    /// Open the read-only value view.
    View,
    /// Edit the value in the user's editor.
    EditExternally,
    /// Search every granted namespace.
    Search,
    /// Switch kubeconfig context: the command line, ready for `ctx NAME`.
    SwitchContext,
    /// Open the value view with the value read.
    ViewRevealed,
}

/// The secrets table's keys.
pub fn keys() -> Vec<Binding<SecretsCmd>> {
    use SecretsCmd as S;
    let mut rows = moves(true, false, S::Move);
    // In the order of the footer's priority: up to `T` fits at 120
    // columns, `q` is always kept.
    rows.extend([
        bind("/", "filter", true, &[ch('/')], S::Filter),
        bind("n/c", "new", true, &[ch('n'), ch('c')], S::New).short("n"),
        bind("e/u", "edit value", true, &[ch('e'), ch('u')], S::Edit)
            .short("e")
            .brief("edit"),
        bind(
            "E",
            "edit value in $VISUAL/$EDITOR",
            false,
            &[ch('E')],
            S::EditExternally,
        ),
        bind(
            "Enter",
            "view value (read-only; x: revealed)",
            false,
            &[key(KeyCode::Enter)],
            S::View,
        ),
        bind(
            "x",
            "view value, revealed",
            false,
            &[ch('x')],
            S::ViewRevealed,
        ),
        bind("v", "reveal/hide value", true, &[ch('v')], S::Reveal).brief("reveal"),
        bind("y", "copy…", true, &[ch('y')], S::Copy),
        bind(
            "d/Del",
            "delete",
            true,
            &[ch('d'), key(KeyCode::Delete)],
            S::Delete,
        )
        .short("d"),
        bind("b", "bindings", true, &[ch('b')], S::Bindings).brief("bind"),
        bind("h", "history", true, &[ch('h')], S::History),
        bind(
            "r/F5",
            "reload",
            true,
            &[ch('r'), key(KeyCode::F(5))],
            S::Reload,
        )
        .short("r"),
        bind(
            "N",
            "switch namespace",
            true,
            &[ch('N')],
            S::SwitchNamespace,
        )
        .brief("namespace"),
        bind("T", "switch token", true, &[ch('T')], S::SwitchToken).brief("token"),
        bind(
            "C",
            "switch kubeconfig context (:ctx NAME)",
            false,
            &[ch('C')],
            S::SwitchContext,
        ),
        bind("D", "recently deleted", true, &[ch('D')], S::Deleted).brief("deleted"),
        bind(
            "F",
            "find a secret in every namespace",
            true,
            &[ch('F')],
            S::Search,
        )
        .brief("find"),
        Binding {
            label: "s/S".into(),
            what: "sort by / reverse",
            footer: true,
            short: None,
            brief: Some("sort"),
            pinned: false,
            keys: vec![(ch('s'), S::Sort), (ch('S'), S::Reverse)],
        },
        bind("p", "create read policy", true, &[ch('p')], S::CreatePolicy).brief("policy"),
        bind(
            "Esc",
            "back to namespaces (first clears a kept filter)",
            false,
            &[key(KeyCode::Esc)],
            S::Escape,
        ),
        bind("q", "quit", true, &[ch('q')], S::Quit).pinned(),
    ]);
    rows
}

impl App {
    pub(super) fn on_secrets(&mut self, cmd: SecretsCmd) -> Vec<Effect> {
        use SecretsCmd as S;
        let selected = self.state.secrets.selected_name().map(str::to_owned);
        match cmd {
            S::Move(m) => self.move_selection(m),
            S::Filter => {
                self.state.secrets.filtering = true;
                Vec::new()
            }
            S::Escape if !self.state.secrets.filter.is_empty() => {
                self.state.secrets.filter.clear();
                self.refilter()
            }
            S::Quit => self.quit(),
            S::Search => self.open_search(),
            S::SwitchContext if self.state.contexts.is_empty() => {
                self.error(
                    "Your kubeconfig has no contexts ($KUBECONFIG or ~/.kube/config): kiss-tui uses the token files instead.",
                );
                Vec::new()
            }
            S::SwitchContext => {
                let mut line = super::command::CommandLine::default();
                line.input.set("ctx ");
                line.choices = self.state.contexts.clone();
                self.state.command = Some(line);
                Vec::new()
            }
            S::Escape | S::SwitchNamespace => {
                self.leave_namespace();
                Vec::new()
            }
            S::Sort => {
                let s = &mut self.state.secrets;
                s.sort = s.sort.next();
                s.reversed = false;
                let label = s.sort.label();
                self.resort();
                self.info(format!("Sorted by {label}."));
                Vec::new()
            }
            S::Reverse => {
                self.state.secrets.reversed = !self.state.secrets.reversed;
                self.resort();
                Vec::new()
            }
            S::Reload => {
                self.state.secrets.details.clear();
                vec![self.list_call()]
            }
            S::New => {
                self.open_create();
                Vec::new()
            }
            S::SwitchToken => self.open_token_picker(),
            S::Deleted => {
                self.state.screen = Screen::Deleted;
                self.state.deleted.nav = Default::default();
                self.supersede(|p| *p == Purpose::ListDeleted);
                let namespace = self.ns();
                vec![self.call(Purpose::ListDeleted, Call::ListDeleted { namespace })]
            }
            S::Edit
            | S::Reveal
            | S::Copy
            | S::Delete
            | S::Bindings
            | S::CreatePolicy
            | S::History
            | S::View
            | S::ViewRevealed
            | S::EditExternally => match selected {
                Some(name) => self.on_selected(cmd, name),
                None => {
                    self.error("No secret is selected. Press n to create one.");
                    Vec::new()
                }
            },
        }
    }

    /// Reveals `name`'s value (reading it: an audited read) or hides it.
    pub(super) fn toggle_reveal(&mut self, name: String) -> Vec<Effect> {
        if self.state.secrets.is_revealed(&name) {
            self.state.secrets.revealed = None;
            if let Some(Dialog::View(v)) = &mut self.state.dialog {
                v.keys.shown.clear();
            }
            return Vec::new();
        }
        let namespace = self.ns();
        vec![self.call(
            Purpose::Reveal(name.clone()),
            Call::GetSecret {
                namespace,
                name,
                include_value: true,
            },
        )]
    }

    pub(super) fn on_selected(&mut self, cmd: SecretsCmd, name: String) -> Vec<Effect> {
        match cmd {
            SecretsCmd::Edit => self.open_update(name),
            SecretsCmd::EditExternally => {
                let effects = self.open_update(name);
                if let Some(ed) = self.editor() {
                    ed.external_pending = true;
                }
                effects
            }
            SecretsCmd::History => self.open_history(name),
            SecretsCmd::Reveal => self.toggle_reveal(name),
            SecretsCmd::View => self.open_view(name, false),
            SecretsCmd::ViewRevealed => self.open_view(name, true),
            SecretsCmd::Copy => {
                self.state.dialog = Some(Dialog::Copy(CopyMenu {
                    name,
                    nav: Default::default(),
                }));
                Vec::new()
            }
            SecretsCmd::Delete => {
                let recovery = Recovery::from_days(self.state.recovery_days());
                self.state.dialog = Some(Dialog::Delete(DeleteDialog::new(name, recovery)));
                Vec::new()
            }
            SecretsCmd::Bindings => {
                self.state.dialog = Some(Dialog::Bind(BindDialog {
                    name: name.clone(),
                    input: LineInput::default(),
                    input_error: None,
                    focus: BindFocus::Input,
                    nav: Default::default(),
                    busy: false,
                    error: None,
                    confirm_unbind: None,
                }));
                // The bindings may have changed since the details were loaded.
                vec![self.details_call(name)]
            }
            SecretsCmd::CreatePolicy => {
                if self
                    .state
                    .secrets
                    .details
                    .get(&name)
                    .is_some_and(|d| d.has_read_policy)
                {
                    self.info(format!("'{name}' already has a read policy."));
                    return Vec::new();
                }
                let namespace = self.ns();
                vec![self.call(
                    Purpose::CreatePolicy {
                        name: name.clone(),
                        then_bind: None,
                        after_create: false,
                    },
                    Call::CreatePolicy { namespace, name },
                )]
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn move_selection(&mut self, m: Move) -> Vec<Effect> {
        let len = self.state.secrets.visible.len();
        let page = self.page();
        if self.state.secrets.nav.apply(m, len, page) {
            self.selection_changed()
        } else {
            Vec::new()
        }
    }

    /// After the selection moved: hide a revealed value and load the new
    /// selection's details once the cursor rests.
    pub(super) fn selection_changed(&mut self) -> Vec<Effect> {
        let Some(name) = self.state.secrets.selected_name().map(str::to_owned) else {
            self.state.secrets.revealed = None;
            return Vec::new();
        };
        if !self.state.secrets.is_revealed(&name) {
            self.state.secrets.revealed = None;
        }
        if self.state.secrets.details.contains_key(&name) {
            return Vec::new();
        }
        vec![Effect::After {
            delay: DETAILS_DELAY,
            action: Box::new(super::Action::DetailsDue { name }),
        }]
    }

    pub(super) fn on_details_due(&mut self, name: String) -> Vec<Effect> {
        let still = self.state.screen == Screen::Secrets
            && self.state.secrets.selected_name() == Some(name.as_str());
        if !still
            || self.state.secrets.details.contains_key(&name)
            || self.state.is_pending(&Purpose::Details(name.clone()))
        {
            return Vec::new();
        }
        vec![self.details_call(name)]
    }

    /// Loads one secret's details (no value), replacing any other details
    /// load in flight.
    pub(super) fn details_call(&mut self, name: String) -> Effect {
        self.supersede(|p| matches!(p, Purpose::Details(_)));
        self.state.secrets.details_error = None;
        let namespace = self.ns();
        self.call(
            Purpose::Details(name.clone()),
            Call::GetSecret {
                namespace,
                name,
                include_value: false,
            },
        )
    }

    /// Sorts again after the sort key changed, keeping the selection.
    pub(super) fn resort(&mut self) {
        let before = self.state.secrets.selected_name().map(str::to_owned);
        sort_rows(&mut self.state.secrets);
        apply_filter(&mut self.state.secrets);
        self.reselect(before);
    }

    /// Selects the row named `before` again wherever it is now, else the first.
    fn reselect(&mut self, before: Option<String>) {
        let s = &self.state.secrets;
        let index = before
            .and_then(|b| s.visible.iter().position(|&i| s.rows[i].name == b))
            .unwrap_or(0);
        let page = self.page();
        let len = self.state.secrets.visible.len();
        self.state.secrets.nav.select(index, len, page);
    }

    /// Replaces the listed secrets, keeping sort, filter and selection.
    pub(super) fn set_rows(&mut self, rows: Vec<SecretRow>) -> Vec<Effect> {
        let before = self
            .state
            .secrets
            .want_selected
            .take()
            .or_else(|| self.state.secrets.selected_name().map(str::to_owned));
        let now = self.state.now;
        let s = &mut self.state.secrets;
        s.rows = rows;
        s.listed_at = Some(now);
        s.loaded = true;
        s.load_error = None;
        // Details of secrets that are gone are of no use.
        let names: std::collections::HashSet<&str> =
            s.rows.iter().map(|r| r.name.as_str()).collect();
        s.details.retain(|n, _| names.contains(n.as_str()));
        sort_rows(s);
        apply_filter(s);
        self.reselect(before);
        let mut effects = match self.state.secrets.selected_name().map(str::to_owned) {
            Some(name) if !self.state.secrets.details.contains_key(&name) => {
                vec![self.details_call(name)]
            }
            _ => Vec::new(),
        };
        // A namespace that listed is one to offer first next time (`:ns`).
        let ns = self.ns();
        if self.state.recent_namespaces.first() != Some(&ns) {
            crate::recent::used(&mut self.state.recent_namespaces, &ns);
            effects.push(Effect::RememberNamespaces {
                namespaces: self.state.recent_namespaces.clone(),
            });
        }
        effects
    }

    /// Selects a secret by name, if it is visible.
    pub(super) fn select_name(&mut self, name: &str) {
        let s = &self.state.secrets;
        if let Some(index) = s.visible.iter().position(|&i| s.rows[i].name == name) {
            let page = self.page();
            let len = s.visible.len();
            self.state.secrets.nav.select(index, len, page);
        }
    }
}

/// Sorts rows by the chosen key; ties by name, so the order is stable.
pub fn sort_rows(s: &mut Secrets) {
    let key = s.sort;
    s.rows.sort_by(|a, b| {
        let o = match key {
            SortKey::Name => a.name.cmp(&b.name),
            // Most recent first.
            SortKey::LastChanged => b.last_changed.cmp(&a.last_changed),
            SortKey::Created => b.created.cmp(&a.created),
        };
        o.then_with(|| a.name.cmp(&b.name))
    });
    if s.reversed {
        s.rows.reverse();
    }
}
