//! The delete confirmation: names the secret, offers to remove its read
//! policy too (policy first, then the secret).

use crossterm::event::{KeyCode, KeyEvent};

use super::App;
use super::action::{Call, Effect};
use super::state::{Dialog, Purpose};

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

impl App {
    pub(super) fn on_delete_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let namespace = self.ns();
        let Some(Dialog::Delete(d)) = &mut self.state.dialog else {
            return Vec::new();
        };
        if d.busy {
            return Vec::new();
        }
        match key.code {
            KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => {
                self.state.dialog = None;
                Vec::new()
            }
            KeyCode::Char(' ' | 'p') | KeyCode::Tab => {
                d.remove_policy = !d.remove_policy;
                Vec::new()
            }
            KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                d.busy = true;
                d.error = None;
                let name = d.name.clone();
                let call = if d.remove_policy {
                    // Detach it from every service account first: a policy
                    // still attached cannot be deleted.
                    self.call(
                        Purpose::DeletePolicy(name.clone()),
                        Call::DeletePolicy {
                            namespace,
                            name,
                            unbind: true,
                        },
                    )
                } else {
                    self.call(
                        Purpose::Delete(name.clone()),
                        Call::DeleteSecret { namespace, name },
                    )
                };
                vec![call]
            }
            _ => Vec::new(),
        }
    }
}
