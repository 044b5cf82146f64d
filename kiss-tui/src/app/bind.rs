//! The bindings dialog: the service accounts holding the secret's read
//! policy, an input to bind another, and unbinding from the list.

use crossterm::event::{KeyCode, KeyEvent};
use kiss_proto::names::validate_service_account;

use super::App;
use super::action::{Call, Effect};
use super::keymap::{Binding, bind, ch, key};
use super::layout;
use super::line::{self, LineInput};
use super::nav::{ListNav, Move, moves};
use super::state::{Dialog, Purpose};
use crate::workflows::bind;

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
    pub input: LineInput,
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

/// What a key does in the bindings dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindCmd {
    /// Close the dialog.
    Close,
    /// Between the input and the list.
    SwitchFocus,
    /// From the input down to the list.
    ToList,
    /// Move in the list (up from the top goes to the input).
    Move(Move),
    /// Bind the typed service account.
    Bind,
    /// Ask to unbind the selected service account.
    Unbind,
    /// Unbind, as asked.
    ConfirmUnbind,
    /// Do not unbind.
    KeepBinding,
}

/// The bindings dialog's keys where the focus is.
pub fn keys(focus: BindFocus) -> Vec<Binding<BindCmd>> {
    let switch = bind(
        "Tab/Shift-Tab",
        "switch to list/input",
        true,
        &[key(KeyCode::Tab), key(KeyCode::BackTab)],
        BindCmd::SwitchFocus,
    )
    .short("Tab");
    let close = bind("Esc", "close", true, &[key(KeyCode::Esc)], BindCmd::Close).pinned();
    match focus {
        BindFocus::Input => vec![
            bind(
                "type + Enter",
                "bind service account",
                true,
                &[key(KeyCode::Enter)],
                BindCmd::Bind,
            ),
            switch,
            bind(
                "↓",
                "to the list",
                false,
                &[key(KeyCode::Down)],
                BindCmd::ToList,
            ),
            close,
        ]
        .into_iter()
        .chain(line::keys())
        .collect(),
        BindFocus::List => {
            let mut rows = moves(true, true, BindCmd::Move);
            rows.extend([
                bind(
                    "x/d/u/Del/Backspace",
                    "unbind selected",
                    true,
                    &[
                        ch('x'),
                        ch('d'),
                        ch('u'),
                        key(KeyCode::Delete),
                        key(KeyCode::Backspace),
                    ],
                    BindCmd::Unbind,
                )
                .short("x/Del"),
                switch,
                close,
            ]);
            rows
        }
    }
}

/// The keys of "Unbind?".
pub fn confirm_keys() -> Vec<Binding<BindCmd>> {
    vec![
        bind(
            "y/Y/Enter",
            "unbind",
            true,
            &[ch('y'), ch('Y'), key(KeyCode::Enter)],
            BindCmd::ConfirmUnbind,
        )
        .short("y/Enter"),
        bind(
            "n/N/Esc",
            "keep the binding",
            true,
            &[ch('n'), ch('N'), key(KeyCode::Esc)],
            BindCmd::KeepBinding,
        )
        .short("n/Esc"),
    ]
}

impl App {
    pub(super) fn on_bind(&mut self, cmd: BindCmd) -> Vec<Effect> {
        let namespace = self.ns();
        let page = layout::bind_list_rows(self.state.size);
        let Some(Dialog::Bind(b)) = &self.state.dialog else {
            return Vec::new();
        };
        let details = self.state.secrets.details.get(&b.name);
        let bound: Vec<String> = details
            .map(|d| d.bound_service_accounts.clone())
            .unwrap_or_default();
        let has_policy = details.map(|d| d.has_read_policy);
        let Some(Dialog::Bind(b)) = &mut self.state.dialog else {
            return Vec::new();
        };
        match cmd {
            BindCmd::ConfirmUnbind => {
                let Some(sa) = b.confirm_unbind.take() else {
                    return Vec::new();
                };
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
            BindCmd::KeepBinding => b.confirm_unbind = None,
            BindCmd::Close => self.state.dialog = None,
            BindCmd::SwitchFocus => {
                b.focus = match b.focus {
                    BindFocus::Input => BindFocus::List,
                    BindFocus::List => BindFocus::Input,
                };
            }
            // Nothing else while a bind or unbind is in flight.
            _ if b.busy => {}
            BindCmd::ToList => {
                if !bound.is_empty() {
                    b.focus = BindFocus::List;
                }
            }
            BindCmd::Move(m) => {
                if m == Move::Up && b.nav.selected == 0 {
                    b.focus = BindFocus::Input;
                } else {
                    b.nav.apply(m, bound.len(), page);
                }
            }
            BindCmd::Unbind => {
                if let Some(sa) = bound.get(b.nav.selected) {
                    b.confirm_unbind = Some(sa.clone());
                }
            }
            BindCmd::Bind => {
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
                return vec![self.bind_step(name, sa, bind::first(has_policy))];
            }
        }
        Vec::new()
    }

    /// The call of one step of binding ([`crate::workflows::bind`]).
    pub(super) fn bind_step(&mut self, name: String, sa: String, step: bind::Step) -> Effect {
        let namespace = self.ns();
        match step {
            bind::Step::CreatePolicy => self.call(
                Purpose::CreatePolicy {
                    name: name.clone(),
                    then_bind: Some(sa),
                    after_create: false,
                },
                Call::CreatePolicy { namespace, name },
            ),
            bind::Step::Bind => self.call(
                Purpose::Bind(name.clone(), sa.clone()),
                Call::Bind {
                    namespace,
                    name,
                    service_account: sa,
                },
            ),
        }
    }

    /// A typed character goes to the service account input.
    pub(super) fn bind_text(&mut self, event: KeyEvent) {
        if let Some(Dialog::Bind(b)) = &mut self.state.dialog
            && !b.busy
        {
            let before = b.input.to_string();
            if b.input.input(event) && b.input != *before {
                revalidate(b);
            }
        }
    }
}
