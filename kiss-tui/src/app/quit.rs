//! Leaving the app. Quitting with text the user typed and has not saved
//! asks first (Ctrl-C included: a reflex must not throw away a value typed
//! for minutes); a second Ctrl-C, or `y`, then quits.

use crossterm::event::KeyCode;

use super::App;
use super::action::Effect;
use super::keymap::{Binding, bind, ch, key};
use super::state::{Dialog, State};

/// What a key does while "Quit?" asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitCmd {
    /// Quit, throwing the text away.
    Yes,
    /// Back to the text.
    No,
}

/// The keys of "Quit?". Ctrl-C, the global quit, quits from here too.
pub fn keys() -> Vec<Binding<QuitCmd>> {
    vec![
        bind("y", "quit, losing the text", true, &[ch('y')], QuitCmd::Yes),
        bind(
            "n/N/q/Esc",
            "keep the text",
            true,
            &[ch('n'), ch('N'), ch('q'), key(KeyCode::Esc)],
            QuitCmd::No,
        ),
    ]
}

impl State {
    /// Whether quitting now would lose text the user typed.
    pub fn unsaved_text(&self) -> bool {
        match &self.dialog {
            Some(Dialog::Editor(e)) => e.is_dirty(),
            Some(Dialog::View(v)) => v.keys.edit.as_ref().is_some_and(|e| e.is_dirty()),
            Some(Dialog::Bind(b)) => !b.input.trim().is_empty(),
            _ => false,
        }
    }
}

impl App {
    /// Quits, or asks first when text would be lost. Asked already, it quits.
    pub(super) fn quit(&mut self) -> Vec<Effect> {
        if self.state.quit_confirm || !self.state.unsaved_text() {
            return self.leave();
        }
        self.state.quit_confirm = true;
        Vec::new()
    }

    pub(super) fn on_quit_confirm(&mut self, cmd: QuitCmd) -> Vec<Effect> {
        match cmd {
            QuitCmd::Yes => self.leave(),
            QuitCmd::No => {
                self.state.quit_confirm = false;
                Vec::new()
            }
        }
    }
}
