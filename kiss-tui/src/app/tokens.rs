//! The token picker: choosing the token, connecting with it, and learning
//! who it belongs to.

use std::path::PathBuf;
use std::time::SystemTime;

use crossterm::event::KeyCode;

use super::App;
use super::action::{Effect, Identity, Sensitive, TokenScan};
use super::format;
use super::keymap::{Binding, bind, ch, key};
use super::nav::{ListNav, Move, moves};
use super::state::{Purpose, Screen};
use crate::tokens::{TokenDirProblem, TokenFile, TokenStatus};

/// The token in use and who the server says it belongs to.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token file.
    pub path: PathBuf,
    /// The identifier, from the token until WhoAmI answers.
    pub identifier: Option<String>,
    /// When the token expires.
    pub expires_at: Option<SystemTime>,
    /// WhoAmI's answer, once it came.
    pub identity: Option<Identity>,
}

/// The token picker.
#[derive(Debug, Clone, Default)]
pub struct TokenPicker {
    /// The directory listed.
    pub dir: Option<PathBuf>,
    /// Whether the one file came from `--token-path`.
    pub explicit: bool,
    /// The files found.
    pub tokens: Vec<TokenFile>,
    /// How to refresh a kubelogin token.
    pub refresh_hint: String,
    /// Why nothing could be listed.
    pub problem: Option<String>,
    /// Whether a scan finished at least once.
    pub scanned: bool,
    /// Whether the picker may pick the only usable token by itself; true
    /// only for the first scan, so that coming back to pick another token
    /// does not bounce straight forward again.
    pub auto_pick: bool,
    /// The screen the picker was opened from mid-session; Esc goes back to
    /// it, dialog and typed text intact. `None` at startup, where Esc quits.
    pub back_to: Option<Screen>,
    /// The cursor.
    pub nav: ListNav,
}

/// What a key does on the token picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokensCmd {
    /// Move the cursor.
    Move(Move),
    /// Use the selected token.
    Pick,
    /// List the files again.
    Rescan,
    /// Quit at startup; back to where the picker was opened from otherwise.
    Leave,
    /// Leave the app (asking if text is unsaved).
    Quit,
}

/// The token picker's keys; `back` when it was opened mid-session.
pub fn keys(back: bool) -> Vec<Binding<TokensCmd>> {
    let mut rows = moves(true, true, TokensCmd::Move);
    rows.extend([
        bind(
            "Enter",
            "use token",
            true,
            &[key(KeyCode::Enter)],
            TokensCmd::Pick,
        ),
        bind("r", "rescan files", true, &[ch('r')], TokensCmd::Rescan),
        if back {
            bind("Esc", "back", true, &[key(KeyCode::Esc)], TokensCmd::Leave).pinned()
        } else {
            bind(
                "q/Esc",
                "quit",
                true,
                &[ch('q'), key(KeyCode::Esc)],
                TokensCmd::Leave,
            )
            .pinned()
        },
    ]);
    if back {
        rows.push(bind("q", "quit", true, &[ch('q')], TokensCmd::Quit).pinned());
    }
    rows
}

/// What a key does over the "token refused" message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthCmd {
    /// Go to the token picker.
    PickAnother,
    /// Close the message.
    Dismiss,
}

/// The keys of the "token refused" message. `T` is the secrets screen's
/// "switch token", which does the same.
pub fn auth_keys() -> Vec<Binding<AuthCmd>> {
    vec![
        bind(
            "T/t/Enter",
            "pick another token",
            true,
            &[ch('T'), ch('t'), key(KeyCode::Enter)],
            AuthCmd::PickAnother,
        )
        .short("T"),
        bind(
            "Esc/q",
            "dismiss",
            true,
            &[key(KeyCode::Esc), ch('q')],
            AuthCmd::Dismiss,
        )
        .short("Esc"),
    ]
}

impl App {
    pub(super) fn on_tokens(&mut self, cmd: TokensCmd) -> Vec<Effect> {
        match cmd {
            TokensCmd::Move(m) => {
                let len = self.state.tokens.tokens.len();
                let page = self.page();
                self.state.tokens.nav.apply(m, len, page);
                Vec::new()
            }
            TokensCmd::Pick => self.pick_token(self.state.tokens.nav.selected),
            TokensCmd::Rescan => {
                self.state.tokens.auto_pick = false;
                vec![Effect::ScanTokens]
            }
            TokensCmd::Leave => {
                if let Some(back) = self.state.tokens.back_to.take() {
                    self.state.screen = back;
                    self.refit();
                    return Vec::new();
                }
                self.quit()
            }
            TokensCmd::Quit => self.quit(),
        }
    }

    pub(super) fn on_auth(&mut self, cmd: AuthCmd) -> Vec<Effect> {
        self.state.auth_problem = None;
        match cmd {
            AuthCmd::PickAnother => self.open_token_picker(),
            AuthCmd::Dismiss => Vec::new(),
        }
    }

    /// Goes back to the token picker to choose another token; the namespace
    /// and any open dialog are kept, to come back to after.
    pub(super) fn open_token_picker(&mut self) -> Vec<Effect> {
        if self.state.session.is_some() && self.state.screen != Screen::Tokens {
            self.state.tokens.back_to = Some(self.state.screen);
        }
        self.state.screen = Screen::Tokens;
        self.state.tokens.auto_pick = false;
        vec![Effect::ScanTokens]
    }

    pub(super) fn on_scan(&mut self, scan: TokenScan) -> Vec<Effect> {
        let t = &mut self.state.tokens;
        let previous = t.tokens.get(t.nav.selected).map(|c| c.path.clone());
        t.dir = scan.dir;
        t.explicit = scan.explicit;
        t.tokens = scan.tokens;
        t.refresh_hint = scan.refresh_hint;
        t.problem = scan.problem.map(|p| problem_text(&p, t.dir.as_deref()));
        t.scanned = true;
        let in_use = self.state.session.as_ref().map(|s| s.path.clone());
        let t = &mut self.state.tokens;
        // Put the cursor on the token in use, else where it was, else on the
        // first usable one.
        let now = self.state.now;
        let index = in_use
            .or(previous)
            .and_then(|p| t.tokens.iter().position(|c| c.path == p))
            .or_else(|| {
                t.tokens
                    .iter()
                    .position(|c| c.info().is_some_and(|s| !s.is_expired(now)))
            })
            .unwrap_or(0);
        let auto = std::mem::replace(&mut t.auto_pick, false);
        if self.state.screen == Screen::Tokens {
            let page = self.page();
            let len = self.state.tokens.tokens.len();
            self.state.tokens.nav.select(index, len, page);
        } else {
            self.state.tokens.nav.selected = index;
        }
        let usable: Vec<usize> = self
            .state
            .tokens
            .tokens
            .iter()
            .enumerate()
            .filter(|(_, c)| c.info().is_some_and(|s| !s.is_expired(now)))
            .map(|(i, _)| i)
            .collect();
        if auto && self.state.screen == Screen::Tokens && usable.len() == 1 {
            return self.pick_token(usable[0]);
        }
        Vec::new()
    }

    fn pick_token(&mut self, index: usize) -> Vec<Effect> {
        let now = self.state.now;
        let Some(choice) = self.state.tokens.tokens.get(index).cloned() else {
            let dir = self
                .state
                .tokens
                .dir
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "the token directory".into());
            self.error(format!(
                "No token files in {dir}. Log in with kubectl (kubelogin) or start kiss-tui with --token-path FILE."
            ));
            return Vec::new();
        };
        let summary = match choice.status {
            TokenStatus::Unusable { reason } => {
                self.error(format!("{} can't be used: {reason}", choice.path.display()));
                return Vec::new();
            }
            TokenStatus::Usable(s) => s,
        };
        if summary.is_expired(now) {
            let hint = self.state.tokens.refresh_hint.clone();
            self.error(format!(
                "This token {}. {}",
                format::expiry(summary.expires_at, now),
                format::sentence(&hint)
            ));
            return Vec::new();
        }
        // A new session: replies to anything asked with the old token are
        // no longer wanted.
        self.state.pending.clear();
        self.state.session = Some(Session {
            path: choice.path,
            identifier: summary.identifier.clone(),
            expires_at: summary.expires_at,
            identity: None,
        });
        vec![Effect::Connect {
            id: self.expect(Purpose::Connect),
            token: Sensitive(summary.token),
        }]
    }
}

/// Why the picker has no directory to list, as the picker says it.
fn problem_text(problem: &TokenDirProblem, dir: Option<&std::path::Path>) -> String {
    let dir = dir.map_or_else(|| "the token directory".into(), |d| d.display().to_string());
    match problem {
        TokenDirProblem::NoHome => {
            "The home directory is unknown; give --token-dir or --token-path.".into()
        }
        TokenDirProblem::NotADirectory => format!("{dir} is not a directory."),
        TokenDirProblem::Unreadable(e) => format!("{dir} cannot be read: {e}."),
    }
}

impl App {
    /// Starts in a kubeconfig context: its exec plugin's token is used
    /// instead of the token files, and the flow goes on from the
    /// connection as after picking a token.
    pub(super) fn start_in_context(
        mut self,
        context: &str,
        token: Sensitive,
    ) -> (App, Vec<Effect>) {
        let info = crate::tokens::TokenInfo::from_jwt(token.expose()).ok();
        self.state.session = Some(Session {
            path: PathBuf::from(format!("the exec plugin of kubeconfig context '{context}'")),
            identifier: info.as_ref().and_then(|i| i.identifier.clone()),
            expires_at: info.as_ref().and_then(|i| i.expires_at),
            identity: None,
        });
        let effects = vec![Effect::Connect {
            id: self.expect(Purpose::Connect),
            token,
        }];
        (self, effects)
    }
}
