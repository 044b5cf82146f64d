//! A secret's history (`h` on a secret): its versions, newest first, with
//! who wrote each; one version's value, a diff against the current value,
//! and rolling back to a version after a confirmation that shows the diff.
//! Values are read only when a key asks for them, and shown masked until
//! `v`, in a diff too.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use crossterm::event::KeyCode;

use super::App;
use super::action::{Call, CallError, Effect, ErrorKind, Reply, Sensitive, VersionRow};
use super::format;
use super::keymap::{Binding, bind, ch, key};
use super::nav::{ListNav, Move, moves};
use super::state::{Purpose, Screen};
use crate::diff::{self, Diff};

/// What the pane beside the versions shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HistoryPane {
    /// What the keys do, until one is pressed.
    #[default]
    Hint,
    /// The selected version's details.
    Version,
    /// The selected version against the current one.
    Diff,
}

/// The history screen.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The secret.
    pub name: String,
    /// Its versions, newest first.
    pub rows: Vec<VersionRow>,
    /// Whether a listing arrived.
    pub loaded: bool,
    /// Why the last listing failed, if it did.
    pub load_error: Option<String>,
    /// The cursor.
    pub nav: ListNav,
    /// The values read so far, by version id.
    pub values: BTreeMap<String, Sensitive>,
    /// What the pane shows.
    pub pane: HistoryPane,
    /// Whether values are shown (else masked).
    pub revealed: bool,
    /// When shown values hide again by themselves.
    pub revealed_until: Option<SystemTime>,
    /// Waiting for `y` to roll back to this version.
    pub confirm: Option<String>,
    /// A rollback is on its way.
    pub rolling_back: bool,
    /// Diffs made so far.
    pub diffs: DiffMemo,
}

/// The diffs the screen shows, kept by the versions they compare. The
/// screen is drawn ten times a second and diffing two 64 KiB values takes
/// far longer than a frame; a version's value never changes, so a diff of
/// two versions made once stays true. A few are kept: the pane's and the
/// rollback confirmation's.
#[derive(Debug, Clone, Default)]
pub struct DiffMemo {
    kept: RefCell<Vec<(String, String, Arc<Diff>)>>,
    /// How many diffs were computed, for the tests.
    made: Cell<usize>,
}

impl DiffMemo {
    const KEPT: usize = 4;

    fn get(&self, from: &str, to: &str, make: impl FnOnce() -> Diff) -> Arc<Diff> {
        let mut kept = self.kept.borrow_mut();
        if let Some((_, _, d)) = kept.iter().find(|(f, t, _)| f == from && t == to) {
            return Arc::clone(d);
        }
        let d = Arc::new(make());
        self.made.set(self.made.get() + 1);
        if kept.len() >= Self::KEPT {
            kept.remove(0);
        }
        kept.push((from.to_owned(), to.to_owned(), Arc::clone(&d)));
        d
    }

    /// How many diffs were computed since the screen opened.
    pub fn made(&self) -> usize {
        self.made.get()
    }
}

impl History {
    /// The selected version.
    pub fn selected(&self) -> Option<&VersionRow> {
        self.rows.get(self.nav.selected)
    }

    /// The current version (labelled AWSCURRENT).
    pub fn current(&self) -> Option<&VersionRow> {
        self.rows.iter().find(|r| r.is_current())
    }

    /// The diff from `version` to the current value, once both are read.
    pub fn diff_to_current(&self, version: &str) -> Option<Arc<Diff>> {
        let current = self.current()?;
        let old = self.values.get(version)?;
        let new = self.values.get(&current.version_id)?;
        Some(self.diffs.get(version, &current.version_id, || {
            diff::diff(old.expose(), new.expose())
        }))
    }

    /// The diff a rollback to `version` would make: current to it.
    pub fn rollback_diff(&self, version: &str) -> Option<Arc<Diff>> {
        let current = self.current()?;
        let now = self.values.get(&current.version_id)?;
        let then = self.values.get(version)?;
        Some(self.diffs.get(&current.version_id, version, || {
            diff::diff(now.expose(), then.expose())
        }))
    }
}

/// What a key does on the history screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryCmd {
    /// Move the cursor.
    Move(Move),
    /// Show the selected version's details.
    Show,
    /// Show or hide values.
    Reveal,
    /// Diff the selected version against the current one.
    Diff,
    /// Ask to roll back to the selected version.
    Rollback,
    /// List the versions again.
    Reload,
    /// Back to the secrets.
    Back,
}

/// What a key does while a rollback waits for its confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmCmd {
    /// Roll back.
    Yes,
    /// Do not.
    No,
    /// Show or hide the values in the diff.
    Reveal,
}

/// The history screen's keys.
pub fn keys() -> Vec<Binding<HistoryCmd>> {
    use HistoryCmd as H;
    let mut rows = moves(true, true, H::Move);
    rows.extend([
        bind(
            "Enter",
            "show version",
            true,
            &[key(KeyCode::Enter)],
            H::Show,
        ),
        bind("v", "reveal/hide values", true, &[ch('v')], H::Reveal),
        bind("d", "diff against current", true, &[ch('d')], H::Diff),
        bind("R", "roll back to it", true, &[ch('R')], H::Rollback),
        bind(
            "r/F5",
            "reload",
            false,
            &[ch('r'), key(KeyCode::F(5))],
            H::Reload,
        ),
        bind(
            "q/Esc",
            "back",
            true,
            &[ch('q'), key(KeyCode::Esc)],
            H::Back,
        )
        .pinned(),
    ]);
    rows
}

/// The rollback confirmation's keys.
pub fn confirm_keys() -> Vec<Binding<ConfirmCmd>> {
    vec![
        bind("y", "roll back", true, &[ch('y')], ConfirmCmd::Yes),
        bind(
            "v",
            "reveal/hide values",
            true,
            &[ch('v')],
            ConfirmCmd::Reveal,
        ),
        bind(
            "n/Esc",
            "cancel",
            true,
            &[ch('n'), key(KeyCode::Esc)],
            ConfirmCmd::No,
        )
        .pinned(),
    ]
}

impl App {
    /// Opens the history of `name`.
    pub(super) fn open_history(&mut self, name: String) -> Vec<Effect> {
        self.supersede(|p| matches!(p, Purpose::Versions(_) | Purpose::VersionValue(..)));
        self.state.history = History {
            name: name.clone(),
            ..History::default()
        };
        self.state.screen = Screen::History;
        vec![self.versions_call(name)]
    }

    /// Lists the versions, dropping a listing still in flight: a late,
    /// older one must not replace this one (its current version is what a
    /// rollback sends as expected).
    fn versions_call(&mut self, name: String) -> Effect {
        self.supersede(|p| matches!(p, Purpose::Versions(_)));
        let namespace = self.ns();
        self.call(
            Purpose::Versions(name.clone()),
            Call::ListVersions { namespace, name },
        )
    }

    /// Reads the values of `versions` not read yet.
    fn read_values(&mut self, versions: Vec<String>) -> Vec<Effect> {
        let name = self.state.history.name.clone();
        let mut effects = Vec::new();
        for version in versions {
            let purpose = Purpose::VersionValue(name.clone(), version.clone());
            if self.state.history.values.contains_key(&version) || self.state.is_pending(&purpose) {
                continue;
            }
            let namespace = self.ns();
            effects.push(self.call(
                purpose,
                Call::GetVersion {
                    namespace,
                    name: name.clone(),
                    version_id: version,
                },
            ));
        }
        effects
    }

    /// The selected version and the current one.
    fn selected_and_current(&mut self) -> Option<(String, String)> {
        let h = &self.state.history;
        let pair = h
            .selected()
            .zip(h.current())
            .map(|(s, c)| (s.version_id.clone(), c.version_id.clone()));
        if pair.is_none() {
            self.error("No version is selected.");
        }
        pair
    }

    pub(super) fn on_history(&mut self, cmd: HistoryCmd) -> Vec<Effect> {
        use HistoryCmd as H;
        match cmd {
            H::Move(m) => {
                let len = self.state.history.rows.len();
                let page = self.page();
                self.state.history.nav.apply(m, len, page);
                if self.state.history.pane == HistoryPane::Diff
                    && let Some((selected, current)) = self.selected_and_current()
                {
                    return self.read_values(vec![selected, current]);
                }
                if self.state.history.revealed
                    && let Some(row) = self.state.history.selected()
                {
                    let version = row.version_id.clone();
                    return self.read_values(vec![version]);
                }
                Vec::new()
            }
            H::Show => {
                self.state.history.pane = HistoryPane::Version;
                Vec::new()
            }
            H::Reveal => {
                let until = self.reveal_deadline();
                let h = &mut self.state.history;
                h.revealed = !h.revealed;
                h.revealed_until = until;
                if !h.revealed {
                    return Vec::new();
                }
                let Some((selected, current)) = self.selected_and_current() else {
                    return Vec::new();
                };
                match self.state.history.pane {
                    HistoryPane::Hint | HistoryPane::Version => {
                        self.state.history.pane = HistoryPane::Version;
                        self.read_values(vec![selected])
                    }
                    HistoryPane::Diff => self.read_values(vec![selected, current]),
                }
            }
            H::Diff => {
                let Some((selected, current)) = self.selected_and_current() else {
                    return Vec::new();
                };
                self.state.history.pane = HistoryPane::Diff;
                self.read_values(vec![selected, current])
            }
            H::Rollback => {
                let Some((selected, current)) = self.selected_and_current() else {
                    return Vec::new();
                };
                if selected == current {
                    self.info("That is the current version already; pick an earlier one.");
                    return Vec::new();
                }
                self.state.history.confirm = Some(selected.clone());
                self.read_values(vec![selected, current])
            }
            H::Reload => {
                let name = self.state.history.name.clone();
                vec![self.versions_call(name)]
            }
            H::Back => {
                self.supersede(|p| matches!(p, Purpose::Versions(_) | Purpose::VersionValue(..)));
                self.state.history = History::default();
                self.state.screen = Screen::Secrets;
                self.refit();
                Vec::new()
            }
        }
    }

    pub(super) fn on_rollback_confirm(&mut self, cmd: ConfirmCmd) -> Vec<Effect> {
        match cmd {
            // The reply of a rollback on its way names its version.
            ConfirmCmd::No if self.state.history.rolling_back => Vec::new(),
            ConfirmCmd::No => {
                self.state.history.confirm = None;
                Vec::new()
            }
            ConfirmCmd::Reveal => {
                self.state.history.revealed = !self.state.history.revealed;
                self.state.history.revealed_until = self.reveal_deadline();
                Vec::new()
            }
            ConfirmCmd::Yes => {
                let h = &self.state.history;
                let (Some(version), Some(current)) = (h.confirm.clone(), h.current()) else {
                    return Vec::new();
                };
                // Nobody confirms a change they were not shown.
                if h.rolling_back || h.rollback_diff(&version).is_none() {
                    return Vec::new();
                }
                let expected = current.version_id.clone();
                let name = h.name.clone();
                self.state.history.rolling_back = true;
                let namespace = self.ns();
                vec![self.call(
                    Purpose::Rollback(name.clone()),
                    Call::Rollback {
                        namespace,
                        name,
                        version_id: version,
                        expected_version_id: expected,
                    },
                )]
            }
        }
    }

    /// A reply to one of the history's calls ([`Purpose::is_history`]).
    pub(super) fn on_history_reply(
        &mut self,
        purpose: Purpose,
        result: Result<Reply, CallError>,
    ) -> Vec<Effect> {
        let same = |name: &str, h: &History| h.name == name;
        match (purpose, result) {
            (Purpose::Versions(name), Ok(Reply::Versions(rows))) => {
                if same(&name, &self.state.history) {
                    let h = &mut self.state.history;
                    h.rows = rows;
                    h.loaded = true;
                    h.load_error = None;
                    self.refit();
                }
                Vec::new()
            }
            (Purpose::VersionValue(name, version), Ok(Reply::Details(d))) => {
                if same(&name, &self.state.history)
                    && let Some(value) = d.value
                {
                    self.state.history.values.insert(version, value);
                }
                Vec::new()
            }
            (Purpose::Rollback(name), Ok(Reply::RolledBack { version_id })) => {
                let from = self.state.history.confirm.take().unwrap_or_default();
                self.state.history.rolling_back = false;
                // The secrets screen shows the new value once it looks again.
                self.state.secrets.details.remove(&name);
                if self.state.secrets.is_revealed(&name) {
                    self.state.secrets.revealed = None;
                }
                self.info(format!(
                    "Rolled back '{name}' to the value of version {}; it is now version {}.",
                    format::short_version(&from),
                    format::short_version(&version_id)
                ));
                self.state.history.nav.selected = 0;
                vec![self.versions_call(name)]
            }
            (Purpose::Versions(name), Err(e)) => {
                let msg = e.message.clone();
                let next = super::advice::next_step_in_history(e.kind);
                if same(&name, &self.state.history) {
                    self.state.history.load_error = Some(format!("{msg} {next}"));
                }
                if e.kind != ErrorKind::Unauthenticated {
                    self.error(format!(
                        "Could not list the versions of '{name}': {msg} {next}"
                    ));
                }
                Vec::new()
            }
            (Purpose::VersionValue(name, version), Err(e)) => {
                if e.kind != ErrorKind::Unauthenticated {
                    self.error(format!(
                        "Could not read version {} of '{name}': {}",
                        format::short_version(&version),
                        e.message
                    ));
                }
                Vec::new()
            }
            (Purpose::Rollback(name), Err(e)) => {
                self.state.history.rolling_back = false;
                self.state.history.confirm = None;
                let conflict = e.kind == ErrorKind::Conflict;
                if conflict {
                    self.error(format!(
                        "Not rolled back: someone changed '{name}' meanwhile. The versions are listed again; look at the new one first."
                    ));
                } else if e.kind != ErrorKind::Unauthenticated {
                    self.error(format!("Not rolled back: {}", e.message));
                }
                vec![self.versions_call(name)]
            }
            (purpose, Ok(reply)) => {
                self.error(format!(
                    "Unexpected answer while {}: {reply:?}. Please report this.",
                    purpose.label()
                ));
                Vec::new()
            }
            (_, Err(e)) => {
                self.error(e.message);
                Vec::new()
            }
        }
    }
}
