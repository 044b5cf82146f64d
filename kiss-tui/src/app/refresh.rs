//! Keeping what is shown current without a key press: the secrets list is
//! reloaded every `refresh` (off unless asked for, `--refresh 30s` or
//! `refresh_seconds`; the status bar says how long ago), and the token
//! files are read again now and then, so a token kubelogin rewrote in
//! place (after a `kubectl` run refreshed it) is taken up before the old
//! one expires.

use std::time::{Duration, SystemTime};

use super::App;
use super::action::{Effect, Sensitive};
use super::state::{Purpose, Screen};
use crate::tokens::TokenScan;

/// How often the token files are read again during a session.
pub const TOKEN_RESCAN: Duration = Duration::from_secs(15);

impl App {
    /// On each tick: reload the list when its time is up, read the token
    /// files again when theirs is.
    pub(super) fn refresh_due(&mut self, now: SystemTime) -> Vec<Effect> {
        let mut effects = Vec::new();
        let due = |since: Option<SystemTime>, every: Duration| {
            since.is_some_and(|t| now.duration_since(t).unwrap_or_default() >= every)
        };
        // A failed list stops the reloads until one succeeds (r): a refused
        // token or namespace is not asked again every tick.
        if let Some(every) = self.state.refresh
            && self.state.screen == Screen::Secrets
            && !self.state.is_pending(&Purpose::List)
            && self.state.secrets.load_error.is_none()
            && self.state.auth_problem.is_none()
            && due(self.state.secrets.listed_at, every)
        {
            effects.push(self.list_call());
        }
        // Not on the token picker: a scan there would move the cursor back
        // to the token in use while the user picks another.
        if self.state.session.is_some()
            && self.state.screen != Screen::Tokens
            && due(self.state.tokens_scanned_at, TOKEN_RESCAN)
        {
            self.state.tokens_scanned_at = Some(now);
            effects.push(Effect::ScanTokens);
        }
        effects
    }

    /// After a scan: if the file of the token in use now holds a newer
    /// token of the same user, connect with it, quietly.
    pub(super) fn take_up_rewritten_token(&mut self, scan: &TokenScan) -> Vec<Effect> {
        self.state.tokens_scanned_at = Some(self.state.now);
        let Some(session) = &self.state.session else {
            return Vec::new();
        };
        let Some(info) = scan
            .tokens
            .iter()
            .find(|t| t.path == session.path)
            .and_then(|t| t.info())
        else {
            return Vec::new();
        };
        let newer = match (info.expires_at, session.expires_at) {
            (Some(new), Some(old)) => new > old,
            _ => false,
        };
        let same_user = session.identifier.is_none() || info.identifier == session.identifier;
        if !newer || !same_user || info.is_expired(self.state.now) {
            return Vec::new();
        }
        let token = Sensitive(info.token.clone());
        let expires_at = info.expires_at;
        if let Some(session) = &mut self.state.session {
            session.expires_at = expires_at;
        }
        vec![Effect::Connect {
            id: self.expect(Purpose::Reconnect),
            token,
        }]
    }
}
