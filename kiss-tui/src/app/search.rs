//! Searching secret names across every namespace the token grants (`F`,
//! or `:search`): one listing per namespace, at most [`IN_FLIGHT`] at a
//! time, results shown as they arrive and narrowed as the name is typed;
//! a namespace that refuses is noted and the others still show. Enter
//! opens the secret in its namespace.

use std::collections::VecDeque;
use std::time::SystemTime;

use crossterm::event::{KeyCode, KeyEvent};

use super::App;
use super::action::{Call, Effect, SecretRow};
use super::keymap::{Binding, bind, key, text};
use super::line::{self, LineInput};
use super::nav::{ListNav, Move, moves};
use super::state::{Dialog, Purpose};

/// How many namespaces are listed at once.
pub const IN_FLIGHT: usize = 8;

/// One secret found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// When its value last changed.
    pub last_changed: Option<SystemTime>,
}

/// The search dialog.
#[derive(Debug, Clone, Default)]
pub struct SearchDialog {
    /// What the names must hold (case-insensitive).
    pub query: LineInput,
    /// Everything found so far, sorted by namespace and name.
    pub hits: Vec<Hit>,
    /// Namespaces not asked yet.
    pub queue: VecDeque<String>,
    /// Namespaces being listed.
    pub in_flight: usize,
    /// How many namespaces are searched.
    pub total: usize,
    /// Namespaces that refused, and why.
    pub failed: Vec<(String, String)>,
    /// The selected hit among those matching.
    pub nav: ListNav,
}

impl SearchDialog {
    /// The hits whose name holds the query.
    pub fn matching(&self) -> Vec<&Hit> {
        let q = self.query.trim().to_lowercase();
        self.hits
            .iter()
            .filter(|h| h.name.to_lowercase().contains(&q))
            .collect()
    }

    /// How many namespaces have answered.
    pub fn answered(&self) -> usize {
        self.total - self.queue.len() - self.in_flight
    }
}

/// What a key does in the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchCmd {
    /// Move the selection.
    Move(Move),
    /// Open the selected secret in its namespace.
    Open,
    /// Close the search.
    Close,
}

/// The search's keys.
pub fn keys() -> Vec<Binding<SearchCmd>> {
    let mut rows = vec![
        text("type", "part of a secret's name", true),
        bind(
            "Enter",
            "open it in its namespace",
            true,
            &[key(KeyCode::Enter)],
            SearchCmd::Open,
        )
        .brief("open"),
        bind("Esc", "close", true, &[key(KeyCode::Esc)], SearchCmd::Close).pinned(),
    ];
    let mut moving = moves(false, false, SearchCmd::Move);
    if let Some(first) = moving.first_mut() {
        first.footer = true;
        first.short = Some("↑/↓");
    }
    rows.extend(moving);
    rows.extend(line::keys());
    rows
}

impl App {
    /// Opens the search and starts listing the granted namespaces.
    pub(super) fn open_search(&mut self) -> Vec<Effect> {
        if self.state.screen != super::state::Screen::Secrets {
            self.error("Open a namespace first (:ns NAME); the search opens over its secrets.");
            return Vec::new();
        }
        let Some(identity) = self
            .state
            .session
            .as_ref()
            .and_then(|s| s.identity.as_ref())
        else {
            self.error("Pick a token first: the search covers the namespaces it grants.");
            return Vec::new();
        };
        let mut namespaces = identity.namespaces.clone();
        namespaces.sort();
        namespaces.dedup();
        if namespaces.is_empty() {
            self.error("Your token grants no namespaces to search.");
            return Vec::new();
        }
        self.supersede(|p| matches!(p, Purpose::SearchList(_)));
        self.state.dialog = Some(Dialog::Search(SearchDialog {
            total: namespaces.len(),
            queue: namespaces.into(),
            ..Default::default()
        }));
        self.search_next()
    }

    /// Starts listings while fewer than [`IN_FLIGHT`] are on their way.
    fn search_next(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        loop {
            let Some(Dialog::Search(d)) = &mut self.state.dialog else {
                return effects;
            };
            if d.in_flight >= IN_FLIGHT {
                return effects;
            }
            let Some(ns) = d.queue.pop_front() else {
                return effects;
            };
            d.in_flight += 1;
            effects.push(self.call(
                Purpose::SearchList(ns.clone()),
                Call::ListSecrets { namespace: ns },
            ));
        }
    }

    /// One namespace answered (its secrets, or why not).
    pub(super) fn search_listed(
        &mut self,
        namespace: String,
        result: Result<Vec<SecretRow>, String>,
    ) -> Vec<Effect> {
        let Some(Dialog::Search(d)) = &mut self.state.dialog else {
            return Vec::new();
        };
        d.in_flight = d.in_flight.saturating_sub(1);
        match result {
            Ok(rows) => {
                d.hits.extend(rows.into_iter().map(|r| Hit {
                    namespace: namespace.clone(),
                    name: r.name,
                    last_changed: r.last_changed,
                }));
                d.hits
                    .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            }
            Err(why) => d.failed.push((namespace, why)),
        }
        self.search_next()
    }

    pub(super) fn search_text(&mut self, event: KeyEvent) {
        if let Some(Dialog::Search(d)) = &mut self.state.dialog
            && d.query.input(event)
        {
            d.nav = ListNav::default();
        }
    }

    pub(super) fn on_search(&mut self, cmd: SearchCmd) -> Vec<Effect> {
        let Some(Dialog::Search(d)) = &mut self.state.dialog else {
            return Vec::new();
        };
        match cmd {
            SearchCmd::Move(m) => {
                let len = d.matching().len();
                d.nav.apply(m, len, 10);
                Vec::new()
            }
            SearchCmd::Close => {
                self.state.dialog = None;
                self.supersede(|p| matches!(p, Purpose::SearchList(_)));
                Vec::new()
            }
            SearchCmd::Open => {
                let Some(hit) = d.matching().get(d.nav.selected).map(|h| (*h).clone()) else {
                    return Vec::new();
                };
                self.state.dialog = None;
                self.supersede(|p| matches!(p, Purpose::SearchList(_)));
                if self.state.namespace.as_deref() == Some(hit.namespace.as_str()) {
                    self.select_name(&hit.name);
                    return Vec::new();
                }
                let effects = self.enter_namespace(hit.namespace);
                self.state.secrets.want_selected = Some(hit.name);
                effects
            }
        }
    }
}
