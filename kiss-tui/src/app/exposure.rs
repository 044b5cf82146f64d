//! How long secret values stay exposed: a value revealed on screen hides
//! again after `reveal_for`, and a value copied to the system clipboard is
//! cleared after `clear_clipboard_after` (password-manager behaviour), both
//! said on screen while they count down. Quitting clears the clipboard too.

use std::time::SystemTime;

use super::action::{CopyVia, Effect, Sensitive};
use super::state::ClipboardHold;
use super::{App, format};

impl App {
    /// When a value revealed now hides again, if it does.
    pub(super) fn reveal_deadline(&self) -> Option<SystemTime> {
        // A time past the clock's end (a huge setting) is "never".
        self.state
            .reveal_for
            .and_then(|d| self.state.now.checked_add(d))
    }

    /// A secret value is about to be copied: once it is on the system
    /// clipboard, it is cleared after the configured time.
    pub(super) fn copying_value(&mut self, text: &Sensitive) {
        self.state.copying_value = Some(text.clone());
    }

    /// A copy finished: says so, and how long a copied value stays.
    pub(super) fn on_copied(&mut self, what: &str, outcome: Result<CopyVia, String>) {
        let value = self.state.copying_value.take();
        match (outcome, value) {
            (Ok(CopyVia::Native), Some(text)) => match self
                .state
                .clear_clipboard_after
                .and_then(|after| self.state.now.checked_add(after).map(|t| (after, t)))
            {
                Some((after, until)) => {
                    self.state.clipboard = Some(ClipboardHold { text, until });
                    self.info(format!(
                        "Copied {what} to the clipboard; it is cleared in {}.",
                        format::duration_short(after)
                    ));
                }
                None => self.info(format!("Copied {what} to the clipboard.")),
            },
            (Ok(CopyVia::Native), None) => self.info(format!("Copied {what} to the clipboard.")),
            (Ok(CopyVia::Osc52), value) => {
                let tail = if value.is_some() && self.state.clear_clipboard_after.is_some() {
                    " kiss cannot clear it from there: clear it yourself when done."
                } else {
                    ""
                };
                self.info(format!(
                    "Copied {what} through the terminal (OSC 52); no system clipboard was found.{tail}"
                ));
            }
            (Err(e), _) => self.error(format!("Could not copy {what}: {e}")),
        }
    }

    /// On each tick: hides values shown for long enough and clears the
    /// clipboard when its time is up.
    pub(super) fn expire(&mut self, now: SystemTime) -> Vec<Effect> {
        let due = |until: Option<SystemTime>| until.is_some_and(|t| t <= now);
        // A key being edited keeps its value shown until the edit ends.
        let editing = matches!(&self.state.dialog,
            Some(super::state::Dialog::View(v)) if v.keys.edit.is_some() || v.keys.confirm_remove.is_some() || v.keys.saving);
        let secrets = &mut self.state.secrets;
        if !editing && secrets.revealed.is_some() && due(secrets.revealed_until) {
            secrets.revealed = None;
            secrets.revealed_until = None;
            if let Some(super::state::Dialog::View(v)) = &mut self.state.dialog {
                v.keys.shown.clear();
            }
        }
        let history = &mut self.state.history;
        if history.revealed && due(history.revealed_until) {
            history.revealed = false;
            history.revealed_until = None;
        }
        match self.state.clipboard.take() {
            Some(hold) if hold.until <= now => vec![Effect::ClearClipboard { text: hold.text }],
            hold => {
                self.state.clipboard = hold;
                Vec::new()
            }
        }
    }

    /// Leaving the app: a copied value does not outlive it.
    pub(super) fn leave(&mut self) -> Vec<Effect> {
        let mut effects: Vec<Effect> = self
            .state
            .clipboard
            .take()
            .map(|hold| Effect::ClearClipboard { text: hold.text })
            .into_iter()
            .collect();
        effects.push(Effect::Quit);
        effects
    }
}
