//! The secrets table's filter: typing it, and which rows it lets through.

use crossterm::event::{KeyCode, KeyEvent};

use super::App;
use super::action::Effect;
use super::keymap::{Binding, bind, key, text};
use super::line;
use super::nav::{Move, moves};
use super::state::Secrets;

/// What a key does while typing a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterCmd {
    /// Move the cursor.
    Move(Move),
    /// Stop typing, keep the filter.
    Keep,
    /// Stop typing, drop the filter.
    Clear,
}

/// The filter's keys. Letters are the filter, so no vim keys.
pub fn filter_keys() -> Vec<Binding<FilterCmd>> {
    let mut moving = moves(false, true, FilterCmd::Move);
    moving[0].short = Some("↑/↓");
    let mut rows = vec![
        text("type", "filter by name", true),
        bind(
            "Enter",
            "keep filter",
            true,
            &[key(KeyCode::Enter)],
            FilterCmd::Keep,
        ),
        bind(
            "Esc",
            "clear filter",
            true,
            &[key(KeyCode::Esc)],
            FilterCmd::Clear,
        ),
    ];
    rows.extend(moving);
    rows.extend(line::keys());
    rows.push(text(
        "Backspace",
        "on an empty filter: stop filtering",
        false,
    ));
    rows
}

impl App {
    pub(super) fn on_filter(&mut self, cmd: FilterCmd) -> Vec<Effect> {
        match cmd {
            FilterCmd::Move(m) => self.move_selection(m),
            FilterCmd::Keep => {
                self.state.secrets.filtering = false;
                Vec::new()
            }
            FilterCmd::Clear => {
                self.state.secrets.filtering = false;
                self.state.secrets.filter.clear();
                self.refilter()
            }
        }
    }

    /// A typed or editing key goes to the filter; Backspace with nothing
    /// left to delete stops filtering, as it did before the field had a
    /// cursor.
    pub(super) fn filter_text(&mut self, event: KeyEvent) -> Vec<Effect> {
        let filter = &mut self.state.secrets.filter;
        if event.code == KeyCode::Backspace && filter.split().0.is_empty() {
            if filter.is_empty() {
                self.state.secrets.filtering = false;
            }
            return Vec::new();
        }
        let before = filter.to_string();
        if filter.input(event) && *filter != *before {
            self.refilter()
        } else {
            Vec::new()
        }
    }

    /// Recomputes the visible rows after the filter changed, keeping the
    /// selected secret selected when it still matches.
    pub(super) fn refilter(&mut self) -> Vec<Effect> {
        let before = self.state.secrets.selected_name().map(str::to_owned);
        apply_filter(&mut self.state.secrets);
        let s = &self.state.secrets;
        let index = before
            .as_ref()
            .and_then(|b| s.visible.iter().position(|&i| s.rows[i].name == *b))
            .unwrap_or(0);
        let page = self.page();
        let len = self.state.secrets.visible.len();
        self.state.secrets.nav.select(index, len, page);
        if self.state.secrets.selected_name() != before.as_deref() {
            self.selection_changed()
        } else {
            Vec::new()
        }
    }
}

/// Recomputes which rows match the filter: case-insensitive, anywhere in
/// the name.
pub fn apply_filter(s: &mut Secrets) {
    let f = s.filter.to_lowercase();
    s.visible.clear();
    if f.is_empty() {
        s.visible.extend(0..s.rows.len());
    } else if f.is_ascii() {
        // Names are ASCII; comparing bytes avoids allocating per row.
        let needle = f.as_bytes();
        s.visible.extend(
            s.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| contains_ignore_ascii_case(r.name.as_bytes(), needle))
                .map(|(i, _)| i),
        );
    } else {
        s.visible.extend(
            s.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.name.to_lowercase().contains(&f))
                .map(|(i, _)| i),
        );
    }
}

fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.len() <= hay.len()
        && hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}
