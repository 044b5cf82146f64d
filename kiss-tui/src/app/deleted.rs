//! The recently deleted view and restoring from it.

use crossterm::event::{KeyCode, KeyEvent};

use super::App;
use super::action::{Call, DeletedRow, Effect};
use super::nav::{ListNav, Move};
use super::state::{Purpose, Screen};

/// The recently deleted view.
#[derive(Debug, Clone, Default)]
pub struct Deleted {
    /// The deleted secrets.
    pub rows: Vec<DeletedRow>,
    /// Whether a listing arrived.
    pub loaded: bool,
    /// Why the last listing failed, if it did.
    pub load_error: Option<String>,
    /// The cursor.
    pub nav: ListNav,
}

impl App {
    pub(super) fn on_deleted_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(m) = Move::from_key(&key, true) {
            let len = self.state.deleted.rows.len();
            let page = self.page();
            self.state.deleted.nav.apply(m, len, page);
            return Vec::new();
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {
                self.state.screen = Screen::Secrets;
                self.supersede(|p| *p == Purpose::ListDeleted);
                self.refit();
                Vec::new()
            }
            KeyCode::Char('r') | KeyCode::F(5) => {
                self.supersede(|p| *p == Purpose::ListDeleted);
                let namespace = self.ns();
                vec![self.call(Purpose::ListDeleted, Call::ListDeleted { namespace })]
            }
            KeyCode::Enter | KeyCode::Char('u' | 'R') => {
                let Some(row) = self.state.deleted.rows.get(self.state.deleted.nav.selected) else {
                    self.error("Nothing to restore here.");
                    return Vec::new();
                };
                let name = row.name.clone();
                if self.state.is_pending(&Purpose::Restore(name.clone())) {
                    return Vec::new();
                }
                let namespace = self.ns();
                vec![self.call(
                    Purpose::Restore(name.clone()),
                    Call::Restore { namespace, name },
                )]
            }
            KeyCode::Char('N') => {
                self.leave_namespace();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }
}
