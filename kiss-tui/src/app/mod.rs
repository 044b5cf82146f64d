//! The app's logic: [`State`], the [`Action`]s that change it and the
//! [`Effect`]s it asks for. [`App::update`] is pure — no I/O, no clock, no
//! terminal — so every flow is unit-tested by feeding it actions.

pub mod action;
pub mod format;
pub mod keymap;
pub mod layout;
pub mod line;
pub mod nav;
pub mod state;

#[doc(hidden)]
pub mod fixtures;

mod advice;
mod bind;
pub mod command;
mod conflict;
pub mod contexts;
mod copy;
mod delete;
mod deleted;
mod editor;
mod exposure;
mod external;
mod filter;
pub mod help;
pub mod history;
pub mod key_table;
pub mod mouse;
mod namespaces;
mod pending;
mod quit;
mod refresh;
mod replies;
pub mod search;
mod secrets;
mod tokens;
pub mod value_view;

#[cfg(test)]
mod keymap_tests;
#[cfg(test)]
mod tests;

use std::time::{Duration, SystemTime};

use crossterm::event::{KeyEvent, KeyEventKind};

pub use action::{Action, Call, CallError, Effect, ErrorKind, Reply, RequestId, Sensitive};
pub use state::State;

use keymap::{Command, GlobalCmd, Key, KeyContext};
use state::{Flash, Level, Pending, Purpose, Screen};

/// How long an info message stays in the message line.
const INFO_FOR: Duration = Duration::from_secs(5);

/// How long the selection must rest on a secret before its details load,
/// so that scrolling through a long list does not fire a call per row.
pub const DETAILS_DELAY: Duration = Duration::from_millis(120);

/// What the app starts from.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The server address, for the status bar.
    pub server: String,
    /// `--namespace`: skips the namespace picker.
    pub namespace: Option<String>,
    /// The time at start.
    pub now: SystemTime,
    /// The terminal size at start.
    pub size: (u16, u16),
    /// Show the diff and ask before saving an edited value.
    pub confirm_save: bool,
    /// How long a revealed value stays shown; None: until hidden.
    pub reveal_for: Option<Duration>,
    /// How long a copied value stays on the clipboard; None: not cleared.
    pub clear_clipboard_after: Option<Duration>,
    /// How often the secrets list reloads by itself; None: only on `r`.
    pub refresh: Option<Duration>,
    /// The namespaces used last on this server, the most recent first.
    pub recent_namespaces: Vec<String>,
    /// Started in a kubeconfig context: its name and its plugin's token,
    /// used instead of the token files.
    pub context: Option<(String, Sensitive)>,
    /// The kubeconfig's contexts, for `:ctx`.
    pub contexts: Vec<String>,
}

/// The app: its state and the logic that changes it.
#[derive(Debug)]
pub struct App {
    /// Everything the views draw.
    pub state: State,
}

impl App {
    /// A new app on the token picker, and the effects that start it.
    pub fn new(config: AppConfig) -> (App, Vec<Effect>) {
        let state = State {
            server: config.server,
            now: config.now,
            size: config.size,
            spinner: 0,
            screen: Screen::Tokens,
            tokens: state::TokenPicker {
                auto_pick: true,
                ..Default::default()
            },
            session: None,
            fixed_namespace: config.namespace,
            namespace: None,
            namespaces: Default::default(),
            secrets: Default::default(),
            deleted: Default::default(),
            history: Default::default(),
            dialog: None,
            help: None,
            help_query: Default::default(),
            help_searching: false,
            auth_problem: None,
            quit_confirm: false,
            flash: None,
            pending: Default::default(),
            next_id: 1,
            confirm_save: config.confirm_save,
            reveal_for: config.reveal_for,
            clear_clipboard_after: config.clear_clipboard_after,
            copying_value: None,
            clipboard: None,
            refresh: config.refresh,
            tokens_scanned_at: None,
            command: None,
            recent_namespaces: config.recent_namespaces,
            context: config.context.as_ref().map(|(c, _)| c.clone()),
            contexts: config.contexts.clone(),
            last_namespace: Default::default(),
            context_renewing: false,
            context_renewed_at: None,
        };
        let app = App { state };
        if let Some((context, token)) = config.context {
            return app.start_in_context(&context, token);
        }
        (app, vec![Effect::ScanTokens])
    }

    /// Applies one action and returns what the runtime must do next.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.on_key(key),
            Action::Mouse(input) => self.on_mouse(input),
            Action::Paste(text) => {
                self.on_paste(&normalize_paste(&text));
                Vec::new()
            }
            Action::Resize(w, h) => {
                self.state.size = (w, h);
                self.refit();
                Vec::new()
            }
            Action::Tick(now) => {
                self.state.now = now;
                self.state.spinner = self.state.spinner.wrapping_add(1);
                if let Some(Flash {
                    until: Some(until), ..
                }) = &self.state.flash
                    && *until <= now
                {
                    self.state.flash = None;
                }
                let mut effects = self.expire(now);
                effects.extend(self.refresh_due(now));
                effects.extend(self.context_token_due(now));
                effects
            }
            Action::TokensScanned(scan) => {
                let mut effects = self.take_up_rewritten_token(&scan);
                effects.extend(self.on_scan(scan));
                effects
            }
            Action::Reply { id, result } => match self.state.pending.remove(&id) {
                // Nothing waits for it any more: a newer call replaced it, or
                // the user moved on to another token or namespace.
                None => Vec::new(),
                Some(Pending { purpose }) => self.on_reply(purpose, result),
            },
            Action::Copied { what, outcome } => {
                self.on_copied(&what, outcome);
                Vec::new()
            }
            Action::DetailsDue { name } => self.on_details_due(name),
            Action::ContextReady(result) => self.on_context_ready(*result),
            Action::EditedExternally { result } => {
                self.on_edited_externally(result);
                Vec::new()
            }
        }
    }

    fn on_key(&mut self, event: KeyEvent) -> Vec<Effect> {
        if event.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let ctx = self.state.key_context();
        let command = keymap::lookup(
            &keymap::effective(ctx, self.state.is_typing()),
            Key::of(&event),
        );
        // Too small to show what a key would do (a confirmation, say): only
        // quitting acts, and it asks on a screen that says how to answer.
        if layout::too_small(self.state.size) && command != Some(Command::Global(GlobalCmd::Quit)) {
            return Vec::new();
        }
        // An error stays until the user has seen it and pressed something;
        // quitting needs no such moment.
        if command != Some(Command::Global(GlobalCmd::Quit))
            && self
                .state
                .flash
                .as_ref()
                .is_some_and(|f| f.level == Level::Error)
        {
            self.state.flash = None;
        }
        match command {
            Some(command) => self.run(command),
            None if keymap::takes_text(ctx) => self.on_text(ctx, event),
            None => Vec::new(),
        }
    }

    /// Runs a command from a key table: the one way a key reaches a handler.
    fn run(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::Global(GlobalCmd::Quit) => self.quit(),
            Command::Quit(c) => self.on_quit_confirm(c),
            Command::Global(GlobalCmd::Help) => {
                // The message line goes, so the help's height is known
                // here and scrolling stops at its last line.
                self.state.flash = None;
                self.state.help = Some(0);
                Vec::new()
            }
            Command::Help(c) => {
                self.on_help(c);
                Vec::new()
            }
            Command::Global(GlobalCmd::Command) => {
                self.open_command();
                Vec::new()
            }
            Command::CommandLine(c) => self.on_command(c),
            Command::HelpSearch(c) => {
                self.on_help_search(c);
                Vec::new()
            }
            Command::Auth(c) => self.on_auth(c),
            Command::Tokens(c) => self.on_tokens(c),
            Command::Namespaces(c) => self.on_namespaces(c),
            Command::Secrets(c) => self.on_secrets(c),
            Command::Filter(c) => self.on_filter(c),
            Command::Editor(c) => self.on_editor(c),
            Command::SaveConfirm(c) => self.on_save_confirm(c),
            Command::Conflict(c) => self.on_conflict(c),
            Command::Discard(c) => {
                self.on_discard(c);
                Vec::new()
            }
            Command::Delete(c) => self.on_delete(c),
            Command::Bind(c) => self.on_bind(c),
            Command::Deleted(c) => self.on_deleted(c),
            Command::History(c) => self.on_history(c),
            Command::Rollback(c) => self.on_rollback_confirm(c),
            Command::Copy(c) => self.on_copy(c),
            Command::View(c) => self.on_value_view(c),
            Command::KeyTable(c) => self.on_key_table(c),
            Command::Search(c) => self.on_search(c),
            Command::KeyEdit(c) => self.on_key_edit(c),
            Command::KeyRemove(c) => self.on_key_remove(c),
        }
    }

    /// A key no table holds, where the focus takes typed text.
    fn on_text(&mut self, ctx: KeyContext, event: KeyEvent) -> Vec<Effect> {
        match ctx {
            KeyContext::Namespaces => self.namespaces_text(event),
            KeyContext::Filter => return self.filter_text(event),
            KeyContext::EditorName | KeyContext::Editor | KeyContext::EditorUpdate => {
                self.editor_text(event)
            }
            KeyContext::BindInput => self.bind_text(event),
            KeyContext::DeleteForGood => self.delete_text(event),
            KeyContext::HelpSearch => self.help_text(event),
            KeyContext::Command => self.command_text(event),
            KeyContext::KeyEdit => self.key_edit_text(event),
            KeyContext::Search => self.search_text(event),
            _ => {}
        }
        Vec::new()
    }

    fn on_paste(&mut self, text: &str) {
        use state::{BindFocus, Dialog};
        // Pasted text lands nowhere the user cannot see, nor under "Quit?".
        if layout::too_small(self.state.size) || self.state.quit_confirm {
            return;
        }
        let first_line = text.lines().next().unwrap_or("").trim();
        // Over the screen, the command line and the help search take it;
        // the help and the token-refused message take none.
        if let Some(c) = &mut self.state.command {
            c.input.insert_str(first_line);
            c.choices.clear();
            return;
        }
        if self.state.help.is_some() {
            if self.state.help_searching {
                self.state.help_query.insert_str(first_line);
                self.state.help = Some(0);
            }
            return;
        }
        if self.state.auth_problem.is_some() {
            return;
        }
        if let Some(Dialog::View(v)) = &mut self.state.dialog {
            if let Some(edit) = v.keys.edit.as_mut() {
                let field = if edit.on_value {
                    &mut edit.value
                } else {
                    &mut edit.key
                };
                field.insert_str(first_line);
                edit.error = None;
            }
            return;
        }
        match self.state.screen {
            Screen::Namespaces => {
                self.state.namespaces.filter.insert_str(first_line);
                self.refit();
            }
            Screen::Secrets => match &mut self.state.dialog {
                Some(Dialog::Editor(_)) => self.editor_paste(text),
                Some(Dialog::Bind(b)) if b.focus == BindFocus::Input => {
                    b.input.insert_str(first_line);
                    bind::revalidate(b);
                }
                Some(Dialog::Delete(d)) if d.for_good() && !d.busy => {
                    d.typed.insert_str(first_line);
                    d.error = None;
                }
                Some(_) => {}
                None => {
                    if !self.state.secrets.filtering {
                        self.state.secrets.filtering = true;
                    }
                    self.state.secrets.filter.insert_str(first_line);
                    self.refilter();
                }
            },
            _ => {}
        }
    }

    /// Starts a call: records what it is for and returns the effect.
    fn call(&mut self, purpose: Purpose, call: Call) -> Effect {
        Effect::Call {
            id: self.expect(purpose),
            call,
        }
    }

    /// Records that a reply for `purpose` is awaited, under a new id.
    fn expect(&mut self, purpose: Purpose) -> RequestId {
        let id = RequestId(self.state.next_id);
        self.state.next_id += 1;
        self.state.pending.insert(id, Pending { purpose });
        id
    }

    /// Forgets calls in flight that match, so their replies are dropped.
    fn supersede(&mut self, f: impl Fn(&Purpose) -> bool) {
        self.state.pending.retain(|_, p| !f(&p.purpose));
    }

    /// The namespace the secrets screen acts on.
    fn ns(&self) -> String {
        self.state.namespace.clone().unwrap_or_default()
    }

    fn info(&mut self, text: impl Into<String>) {
        self.state.flash = Some(Flash {
            text: text.into(),
            level: Level::Info,
            until: Some(self.state.now + INFO_FOR),
        });
    }

    fn error(&mut self, text: impl Into<String>) {
        self.state.flash = Some(Flash {
            text: text.into(),
            level: Level::Error,
            until: None,
        });
    }

    /// Page sizes of the lists for the current terminal size.
    fn page(&self) -> usize {
        let body = layout::bands_of(&self.state).body;
        match self.state.screen {
            Screen::Tokens => layout::table_rows(layout::tokens(body).0),
            Screen::Namespaces => layout::list_rows(layout::namespaces(body).1),
            Screen::Secrets => layout::table_rows(layout::secrets(body).0),
            Screen::Deleted => layout::table_rows(body),
            Screen::History => layout::table_rows(layout::history(body).0),
        }
    }

    /// Re-clamps every cursor after the terminal or a list changed size.
    fn refit(&mut self) {
        let page = self.page();
        let s = &mut self.state;
        match s.screen {
            Screen::Tokens => s.tokens.nav.fit(s.tokens.tokens.len(), page),
            Screen::Namespaces => {
                let len = self.state.namespace_rows().len();
                self.state.namespaces.nav.fit(len, page);
            }
            Screen::Secrets => s.secrets.nav.fit(s.secrets.visible.len(), page),
            Screen::Deleted => s.deleted.nav.fit(s.deleted.rows.len(), page),
            Screen::History => s.history.nav.fit(s.history.rows.len(), page),
        }
    }
}

/// Pasted text as the editor wants it: terminals send Enter as `\r`, so a
/// pasted `\r\n` or lone `\r` becomes `\n`.
pub fn normalize_paste(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}
