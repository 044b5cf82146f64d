//! The mouse, as lazygit and k9s users expect it: the wheel scrolls what
//! is under the keyboard focus, a click selects a list row (a second click
//! on the selected row opens it, as Enter does), and a click on a footer
//! hint presses its key. Every mouse action is turned into the keys it
//! stands for and goes through the same key tables, so the mouse can do
//! nothing the keyboard cannot, and the keyboard stays first.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap;
use super::layout;
use super::state::{Screen, State};
use super::{App, Effect};

/// What the mouse did, in terminal cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseInput {
    /// The wheel turned up.
    WheelUp,
    /// The wheel turned down.
    WheelDown,
    /// The left button was pressed here.
    Click {
        /// The column.
        column: u16,
        /// The row.
        row: u16,
    },
}

/// A list the user can click into: where its rows start, how many show,
/// how long it is, which is selected, and whether Enter on it is safe to
/// send by a second click (not on "recently deleted", where Enter restores).
struct ClickableList {
    area: ratatui::layout::Rect,
    first_row: u16,
    page: usize,
    len: usize,
    selected: usize,
    offset: usize,
    enter: bool,
}

fn list_under(s: &State) -> Option<ClickableList> {
    if s.dialog.is_some()
        || s.help.is_some()
        || s.auth_problem.is_some()
        || s.quit_confirm
        || s.command.is_some()
        || s.history.confirm.is_some()
    {
        return None;
    }
    let body = layout::bands_of(s).body;
    // (area, rows above the first data row: border, and a header for tables)
    let (area, top, len, nav, enter) = match s.screen {
        Screen::Tokens => (
            layout::tokens(body).0,
            2,
            s.tokens.tokens.len(),
            s.tokens.nav,
            true,
        ),
        Screen::Namespaces => (
            layout::namespaces(body).1,
            1,
            s.namespace_rows().len(),
            s.namespaces.nav,
            true,
        ),
        Screen::Secrets => (
            layout::secrets(body).0,
            2,
            s.secrets.visible.len(),
            s.secrets.nav,
            true,
        ),
        Screen::History => (
            layout::history(body).0,
            2,
            s.history.rows.len(),
            s.history.nav,
            true,
        ),
        Screen::Deleted => (body, 2, s.deleted.rows.len(), s.deleted.nav, false),
    };
    let page = if top == 1 {
        layout::list_rows(area)
    } else {
        layout::table_rows(area)
    };
    let (offset, rel) = nav.window(len, page);
    Some(ClickableList {
        area,
        first_row: area.y + top,
        page,
        len,
        selected: offset + rel,
        offset,
        enter,
    })
}

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

impl App {
    pub(super) fn on_mouse(&mut self, input: MouseInput) -> Vec<Effect> {
        if layout::too_small(self.state.size) {
            return Vec::new();
        }
        match input {
            MouseInput::WheelUp => self.on_key(press(KeyCode::Up)),
            MouseInput::WheelDown => self.on_key(press(KeyCode::Down)),
            MouseInput::Click { column, row } => self.on_click(column, row),
        }
    }

    fn on_click(&mut self, column: u16, row: u16) -> Vec<Effect> {
        let bands = layout::bands_of(&self.state);
        if row == bands.footer.y {
            let hint = keymap::footer(&self.state, bands.footer.width)
                .into_iter()
                .find(|h| (h.columns.0..h.columns.1).contains(&column));
            return match hint.and_then(|h| h.key) {
                Some(key) => self.on_key(key.event()),
                None => Vec::new(),
            };
        }
        // A list row: what the keys would do to get there. Typed-text
        // contexts move with the arrows too, so a filter stays as typed.
        let Some(list) = list_under(&self.state) else {
            return Vec::new();
        };
        let inside = column > list.area.x && column + 1 < list.area.right();
        if !inside || row < list.first_row {
            return Vec::new();
        }
        let index = list.offset + usize::from(row - list.first_row);
        if usize::from(row - list.first_row) >= list.page || index >= list.len {
            return Vec::new();
        }
        if index == list.selected {
            return if list.enter {
                self.on_key(press(KeyCode::Enter))
            } else {
                Vec::new()
            };
        }
        // Put the cursor next to the row and press one arrow, so what a
        // move does (load details, read a shown version's value) runs once
        // for the row clicked, not for every row on the way.
        let (code, next_to) = if index > list.selected {
            (KeyCode::Down, index - 1)
        } else {
            (KeyCode::Up, index + 1)
        };
        self.nav_of_screen().selected = next_to;
        self.on_key(press(code))
    }

    fn nav_of_screen(&mut self) -> &mut super::nav::ListNav {
        match self.state.screen {
            Screen::Tokens => &mut self.state.tokens.nav,
            Screen::Namespaces => &mut self.state.namespaces.nav,
            Screen::Secrets => &mut self.state.secrets.nav,
            Screen::History => &mut self.state.history.nav,
            Screen::Deleted => &mut self.state.deleted.nav,
        }
    }
}
