//! The delete confirmation: names the secret, offers to remove its read
//! policy too (policy first, then the secret).

use crossterm::event::KeyCode;

use super::App;
use super::action::{Call, Effect};
use super::keymap::{Binding, bind, ch, key};
use super::state::{Dialog, Purpose};
use crate::workflows::delete::{self, PolicyRemoval, Step};

/// The delete confirmation.
#[derive(Debug, Clone)]
pub struct DeleteDialog {
    /// The secret.
    pub name: String,
    /// Also delete its read policy (detaching it first).
    pub remove_policy: bool,
    /// The deletion is in flight.
    pub busy: bool,
    /// Why the last attempt failed.
    pub error: Option<String>,
}

/// What a key does in the delete confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteCmd {
    /// Delete.
    Confirm,
    /// Tick or untick "also remove the read policy".
    TogglePolicy,
    /// Close without deleting.
    Cancel,
}

/// The delete confirmation's keys.
pub fn keys() -> Vec<Binding<DeleteCmd>> {
    vec![
        bind(
            "y/Y/Enter",
            "delete",
            true,
            &[ch('y'), ch('Y'), key(KeyCode::Enter)],
            DeleteCmd::Confirm,
        )
        .short("y/Enter"),
        bind(
            "Space/p/Tab",
            "toggle remove policy",
            true,
            &[ch(' '), ch('p'), key(KeyCode::Tab)],
            DeleteCmd::TogglePolicy,
        )
        .short("Space/p"),
        bind(
            "n/N/q/Esc",
            "cancel",
            true,
            &[ch('n'), ch('N'), ch('q'), key(KeyCode::Esc)],
            DeleteCmd::Cancel,
        )
        .short("n/Esc"),
    ]
}

impl App {
    pub(super) fn on_delete(&mut self, cmd: DeleteCmd) -> Vec<Effect> {
        let Some(Dialog::Delete(d)) = &mut self.state.dialog else {
            return Vec::new();
        };
        if d.busy {
            return Vec::new();
        }
        match cmd {
            DeleteCmd::Cancel => {
                self.state.dialog = None;
                Vec::new()
            }
            DeleteCmd::TogglePolicy => {
                d.remove_policy = !d.remove_policy;
                Vec::new()
            }
            DeleteCmd::Confirm => {
                d.busy = true;
                d.error = None;
                let name = d.name.clone();
                let removal = if d.remove_policy {
                    PolicyRemoval::DetachFirst
                } else {
                    PolicyRemoval::Keep
                };
                vec![self.delete_step(name, delete::first(removal))]
            }
        }
    }

    /// The call of one step of deleting a secret ([`crate::workflows::delete`]).
    pub(super) fn delete_step(&mut self, name: String, step: Step) -> Effect {
        let namespace = self.ns();
        match step {
            Step::DeletePolicy { unbind } => self.call(
                Purpose::DeletePolicy(name.clone()),
                Call::DeletePolicy {
                    namespace,
                    name,
                    unbind,
                },
            ),
            Step::DeleteSecret => self.call(
                Purpose::Delete(name.clone()),
                Call::DeleteSecret { namespace, name },
            ),
        }
    }
}
