//! The bindings dialog: the service accounts holding the secret's read
//! policy, an input to bind another, and unbinding from the list.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kiss_proto::names::validate_service_account;

use super::App;
use super::action::{Call, Effect};
use super::layout;
use super::nav::{ListNav, Move};
use super::state::{Dialog, Purpose};

/// Which part of the bindings dialog has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindFocus {
    /// The service account name input.
    Input,
    /// The list of current bindings.
    List,
}

/// The bindings dialog.
#[derive(Debug, Clone)]
pub struct BindDialog {
    /// The secret.
    pub name: String,
    /// The service account name being typed.
    pub input: String,
    /// Why the typed name is refused.
    pub input_error: Option<String>,
    /// Focus.
    pub focus: BindFocus,
    /// The cursor in the bindings list.
    pub nav: ListNav,
    /// A bind or unbind is in flight.
    pub busy: bool,
    /// Why the last bind or unbind failed.
    pub error: Option<String>,
    /// Asking whether to unbind this service account.
    pub confirm_unbind: Option<String>,
}

/// Checks the typed service account name as it is typed.
pub fn revalidate(b: &mut BindDialog) {
    b.input_error = if b.input.is_empty() {
        None
    } else {
        validate_service_account(&b.input)
            .err()
            .map(|e| e.to_string())
    };
}

impl App {
    pub(super) fn on_bind_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let namespace = self.ns();
        let page = layout::bind_list_rows(self.state.size);
        let bound: Vec<String> = match &self.state.dialog {
            Some(Dialog::Bind(b)) => self
                .state
                .secrets
                .details
                .get(&b.name)
                .map(|d| d.bound_service_accounts.clone())
                .unwrap_or_default(),
            _ => return Vec::new(),
        };
        let has_policy = match &self.state.dialog {
            Some(Dialog::Bind(b)) => self
                .state
                .secrets
                .details
                .get(&b.name)
                .map(|d| d.has_read_policy),
            _ => None,
        };
        let Some(Dialog::Bind(b)) = &mut self.state.dialog else {
            return Vec::new();
        };
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if let Some(sa) = b.confirm_unbind.clone() {
            match key.code {
                KeyCode::Char('y' | 'Y') | KeyCode::Enter => {
                    b.confirm_unbind = None;
                    b.busy = true;
                    b.error = None;
                    let name = b.name.clone();
                    return vec![self.call(
                        Purpose::Unbind(name.clone(), sa.clone()),
                        Call::Unbind {
                            namespace,
                            name,
                            service_account: sa,
                        },
                    )];
                }
                KeyCode::Char('n' | 'N') | KeyCode::Esc => b.confirm_unbind = None,
                _ => {}
            }
            return Vec::new();
        }
        if key.code == KeyCode::Esc {
            self.state.dialog = None;
            return Vec::new();
        }
        if key.code == KeyCode::Tab || key.code == KeyCode::BackTab {
            b.focus = match b.focus {
                BindFocus::Input => BindFocus::List,
                BindFocus::List => BindFocus::Input,
            };
            return Vec::new();
        }
        if b.busy {
            return Vec::new();
        }
        match b.focus {
            BindFocus::Input => match key.code {
                KeyCode::Down if !bound.is_empty() => b.focus = BindFocus::List,
                KeyCode::Backspace => {
                    b.input.pop();
                    revalidate(b);
                }
                KeyCode::Char('u') if ctrl => {
                    b.input.clear();
                    revalidate(b);
                }
                KeyCode::Char(c) if !ctrl => {
                    b.input.push(c);
                    revalidate(b);
                }
                KeyCode::Enter => {
                    let sa = b.input.trim().to_owned();
                    if let Err(e) = validate_service_account(&sa) {
                        b.input_error = Some(e.to_string());
                        return Vec::new();
                    }
                    if bound.contains(&sa) {
                        b.error = Some(format!("'{sa}' is already bound to this secret."));
                        return Vec::new();
                    }
                    b.busy = true;
                    b.error = None;
                    let name = b.name.clone();
                    // Binding attaches the read policy, so it must exist.
                    let call = if has_policy == Some(false) {
                        self.call(
                            Purpose::CreatePolicy {
                                name: name.clone(),
                                then_bind: Some(sa),
                                after_create: false,
                            },
                            Call::CreatePolicy { namespace, name },
                        )
                    } else {
                        self.call(
                            Purpose::Bind(name.clone(), sa.clone()),
                            Call::Bind {
                                namespace,
                                name,
                                service_account: sa,
                            },
                        )
                    };
                    return vec![call];
                }
                _ => {}
            },
            BindFocus::List => {
                if let Some(m) = Move::from_key(&key, true) {
                    if m == Move::Up && b.nav.selected == 0 {
                        b.focus = BindFocus::Input;
                    } else {
                        b.nav.apply(m, bound.len(), page);
                    }
                    return Vec::new();
                }
                if let KeyCode::Char('x' | 'd' | 'u') | KeyCode::Delete | KeyCode::Backspace =
                    key.code
                    && let Some(sa) = bound.get(b.nav.selected)
                {
                    b.confirm_unbind = Some(sa.clone());
                }
            }
        }
        Vec::new()
    }
}
