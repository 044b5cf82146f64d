//! The delete confirmation: names the secret, says whether it can be
//! restored, offers to remove its read policy too (policy first, then the
//! secret). Where the server deletes at once and for good, the user types
//! the secret's name: a stray `y` must not destroy it.

use crossterm::event::{KeyCode, KeyEvent};

use super::App;
use super::action::{Call, Effect};
use super::keymap::{Binding, bind, ch, key};
use super::line::{self, LineInput};
use super::state::{Dialog, Purpose};
use crate::workflows::delete::{self, PolicyRemoval, Step};

/// How long a deleted secret can be brought back, as the server said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// For this many days, from recently deleted (D).
    Days(u32),
    /// Never: the server deletes at once.
    Never,
    /// The server did not say (older than the field).
    Unknown,
}

impl Recovery {
    /// What WhoAmI's `deletion_recovery_days` means.
    pub fn from_days(days: Option<u32>) -> Recovery {
        match days {
            Some(0) => Recovery::Never,
            Some(n) => Recovery::Days(n),
            None => Recovery::Unknown,
        }
    }
}

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
    /// Whether and how long it can be restored.
    pub recovery: Recovery,
    /// The name, typed to confirm a delete that cannot be undone.
    pub typed: LineInput,
}

impl DeleteDialog {
    /// A confirmation for `name`, not yet answered.
    pub fn new(name: String, recovery: Recovery) -> DeleteDialog {
        // Unticked: a restore brings the secret back but not a removed
        // policy or its bindings, so removing them is opt-in.
        DeleteDialog {
            name,
            remove_policy: false,
            busy: false,
            error: None,
            recovery,
            typed: LineInput::default(),
        }
    }

    /// Whether the delete is final, so the name must be typed.
    pub fn for_good(&self) -> bool {
        self.recovery == Recovery::Never
    }
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
        .short("n/Esc")
        .pinned(),
    ]
}

/// The keys of the confirmation of a delete that cannot be undone: every
/// letter is part of the name being typed.
pub fn for_good_keys() -> Vec<Binding<DeleteCmd>> {
    vec![
        bind(
            "Enter",
            "delete for good",
            true,
            &[key(KeyCode::Enter)],
            DeleteCmd::Confirm,
        ),
        bind(
            "Tab",
            "toggle remove policy",
            true,
            &[key(KeyCode::Tab)],
            DeleteCmd::TogglePolicy,
        ),
        bind(
            "Esc",
            "cancel",
            true,
            &[key(KeyCode::Esc)],
            DeleteCmd::Cancel,
        )
        .pinned(),
    ]
    .into_iter()
    .chain(line::keys())
    .collect()
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
                if d.for_good() && d.typed != *d.name {
                    d.error = Some(format!(
                        "Type the secret's name, '{}', to delete it for good; Esc keeps it.",
                        d.name
                    ));
                    return Vec::new();
                }
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

    /// A key no table holds in the confirmation of a final delete: the name
    /// being typed.
    pub(super) fn delete_text(&mut self, event: KeyEvent) {
        if let Some(Dialog::Delete(d)) = &mut self.state.dialog
            && d.for_good()
            && !d.busy
            && d.typed.input(event)
        {
            d.error = None;
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
