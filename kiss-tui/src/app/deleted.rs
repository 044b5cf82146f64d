//! The recently deleted view and restoring from it.

use crossterm::event::KeyCode;

use super::App;
use super::action::{Call, DeletedRow, Effect};
use super::keymap::{Binding, bind, ch, key};
use super::nav::{ListNav, Move, moves};
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

/// What a key does in the recently deleted view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeletedCmd {
    /// Move the cursor.
    Move(Move),
    /// Back to the secrets.
    Back,
    /// List the deleted secrets again.
    Reload,
    /// Restore the selected one.
    Restore,
    /// Pick another namespace.
    SwitchNamespace,
}

/// The recently deleted view's keys.
pub fn keys() -> Vec<Binding<DeletedCmd>> {
    use DeletedCmd as D;
    let mut rows = moves(true, true, D::Move);
    rows.extend([
        bind(
            "Enter/u/R",
            "restore",
            true,
            &[key(KeyCode::Enter), ch('u'), ch('R')],
            D::Restore,
        )
        .short("Enter/u"),
        bind(
            "r/F5",
            "reload",
            true,
            &[ch('r'), key(KeyCode::F(5))],
            D::Reload,
        )
        .short("r"),
        bind(
            "N",
            "switch namespace",
            false,
            &[ch('N')],
            D::SwitchNamespace,
        ),
        bind(
            "q/Esc",
            "back",
            true,
            &[ch('q'), key(KeyCode::Esc)],
            D::Back,
        )
        .pinned(),
    ]);
    rows
}

impl App {
    pub(super) fn on_deleted(&mut self, cmd: DeletedCmd) -> Vec<Effect> {
        match cmd {
            DeletedCmd::Move(m) => {
                let len = self.state.deleted.rows.len();
                let page = self.page();
                self.state.deleted.nav.apply(m, len, page);
                Vec::new()
            }
            DeletedCmd::Back => {
                self.state.screen = Screen::Secrets;
                self.supersede(|p| *p == Purpose::ListDeleted);
                self.refit();
                Vec::new()
            }
            DeletedCmd::Reload => {
                self.supersede(|p| *p == Purpose::ListDeleted);
                let namespace = self.ns();
                vec![self.call(Purpose::ListDeleted, Call::ListDeleted { namespace })]
            }
            DeletedCmd::Restore => {
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
            DeletedCmd::SwitchNamespace => {
                self.leave_namespace();
                Vec::new()
            }
        }
    }
}
