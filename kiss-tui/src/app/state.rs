//! Everything the app knows, and nothing else: the views draw it, `update`
//! changes it.
//!
//! [`State`] is the whole; each screen's and dialog's part is defined next
//! to the code that updates it (`tokens.rs`, `secrets.rs`, `bind.rs`, ...)
//! and re-exported here, so the views find all of it in one place.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::action::{RequestId, Sensitive};

pub use super::bind::{BindDialog, BindFocus};
pub use super::command::CommandLine;
pub use super::conflict::Conflict;
pub use super::copy::{CopyItem, CopyMenu};
pub use super::delete::{DeleteDialog, Recovery};
pub use super::deleted::Deleted;
pub use super::editor::{Editor, EditorFocus, EditorMode, SaveConfirm};
pub use super::history::{History, HistoryPane};
use super::line::LineInput;
pub use super::namespaces::{NamespacePicker, NamespaceRow};
pub use super::pending::{Pending, Purpose};
pub use super::secrets::{Secrets, SortKey};
pub use super::tokens::{Session, TokenPicker};
pub use super::value_view::ValueView;

/// The whole app state.
#[derive(Debug)]
pub struct State {
    /// The server address, for the status bar.
    pub server: String,
    /// The current time, advanced by ticks.
    pub now: SystemTime,
    /// The terminal size (columns, rows).
    pub size: (u16, u16),
    /// The spinner frame.
    pub spinner: usize,
    /// The screen shown.
    pub screen: Screen,
    /// The token picker.
    pub tokens: TokenPicker,
    /// The token in use, once one was picked.
    pub session: Option<Session>,
    /// The namespace given with `--namespace`, which skips the picker.
    pub fixed_namespace: Option<String>,
    /// The namespace the secrets screen shows.
    pub namespace: Option<String>,
    /// The namespace picker.
    pub namespaces: NamespacePicker,
    /// The secrets screen.
    pub secrets: Secrets,
    /// The recently deleted view.
    pub deleted: Deleted,
    /// The history of one secret.
    pub history: History,
    /// A dialog over the secrets screen.
    pub dialog: Option<Dialog>,
    /// The help overlay, with its scroll position.
    pub help: Option<u16>,
    /// What the help is narrowed to (`/` in the help).
    pub help_query: LineInput,
    /// The help search is being typed.
    pub help_searching: bool,
    /// The server refused the token: this message, with an offer to pick
    /// another one.
    pub auth_problem: Option<String>,
    /// "Quit?" asks: quitting would lose unsaved text.
    pub quit_confirm: bool,
    /// A message in the message line.
    pub flash: Option<Flash>,
    /// Calls in flight, by id. A reply whose id is not here is stale.
    pub pending: BTreeMap<RequestId, Pending>,
    /// The id of the next call.
    pub next_id: u64,
    /// Show the diff and ask before saving an edited value.
    pub confirm_save: bool,
    /// How long a revealed value stays shown; None: until hidden.
    pub reveal_for: Option<Duration>,
    /// How long a copied value stays on the clipboard; None: not cleared.
    pub clear_clipboard_after: Option<Duration>,
    /// A secret value on its way to the clipboard.
    pub copying_value: Option<Sensitive>,
    /// A secret value on the clipboard, cleared at `until`.
    pub clipboard: Option<ClipboardHold>,
    /// How often the secrets list reloads by itself; None: only on `r`.
    pub refresh: Option<Duration>,
    /// When the token files were last read.
    pub tokens_scanned_at: Option<SystemTime>,
    /// The `:` command line, while open.
    pub command: Option<CommandLine>,
    /// The namespaces used last on this server, the most recent first.
    pub recent_namespaces: Vec<String>,
    /// The kubeconfig context the app runs in, if it was started in one.
    pub context: Option<String>,
    /// The kubeconfig's contexts, for `:ctx` and its completion.
    pub contexts: Vec<String>,
    /// The namespace last used in each context.
    pub last_namespace: super::contexts::LastNamespaces,
    /// The context's plugin is asked for a fresh token.
    pub context_renewing: bool,
    /// When it was last asked.
    pub context_renewed_at: Option<SystemTime>,
}

/// A copied secret value the app will clear from the clipboard.
#[derive(Debug, Clone)]
pub struct ClipboardHold {
    /// What was copied: cleared only if the clipboard still holds it.
    pub text: Sensitive,
    /// When.
    pub until: SystemTime,
}

/// The screens, from the first to the last of the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    /// Pick a token file.
    Tokens,
    /// Pick a namespace.
    Namespaces,
    /// The namespace's secrets.
    Secrets,
    /// The namespace's recently deleted secrets.
    Deleted,
    /// One secret's versions.
    History,
}

/// A dialog over the secrets screen.
#[derive(Debug)]
pub enum Dialog {
    /// Create or update a secret.
    Editor(Box<Editor>),
    /// Confirm a deletion.
    Delete(DeleteDialog),
    /// See, add and remove bindings.
    Bind(BindDialog),
    /// Choose what to copy.
    Copy(CopyMenu),
    /// Read a value, full-screen.
    View(ValueView),
    /// Search every granted namespace.
    Search(super::search::SearchDialog),
}

/// How serious a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// It worked.
    Info,
    /// Something failed; the message says what to do.
    Error,
}

/// A message in the message line.
#[derive(Debug, Clone)]
pub struct Flash {
    /// The sentence.
    pub text: String,
    /// Info or error.
    pub level: Level,
    /// When an info message goes away; errors stay until a key is pressed.
    pub until: Option<SystemTime>,
}

impl State {
    /// Whether keys are being typed as text, so `?` is a character and F1
    /// is the help key.
    pub fn is_typing(&self) -> bool {
        if self.command.is_some() {
            return true;
        }
        if let Some(Dialog::View(v)) = &self.dialog
            && self.help.is_none()
        {
            return v.keys.edit.is_some();
        }
        if self.help.is_some() {
            return self.help_searching;
        }
        match self.screen {
            Screen::Secrets => match &self.dialog {
                Some(Dialog::Editor(_)) => true,
                Some(Dialog::Bind(b)) => b.focus == BindFocus::Input,
                Some(Dialog::Delete(d)) => d.for_good(),
                Some(Dialog::Search(_)) => true,
                Some(_) => false,
                None => self.secrets.filtering,
            },
            _ => false,
        }
    }

    /// Whether the value view's secret has a shown value that is a JSON
    /// object, which the view lists key by key.
    pub fn view_is_object(&self, view: &ValueView) -> bool {
        matches!(&self.secrets.revealed, Some((n, v)) if *n == view.name
            && crate::keyvalue::KeyValues::from_json(v.expose()).is_ok())
    }

    /// The label of the most recent call in flight, for the spinner.
    pub fn busy_label(&self) -> Option<String> {
        self.pending.values().next_back().map(|p| p.purpose.label())
    }

    /// Whether a call with this purpose is in flight.
    pub fn is_pending(&self, purpose: &Purpose) -> bool {
        self.pending.values().any(|p| &p.purpose == purpose)
    }

    /// The identifier shown in the status bar.
    pub fn identifier(&self) -> Option<&str> {
        let s = self.session.as_ref()?;
        s.identity
            .as_ref()
            .map(|i| i.identifier.as_str())
            .or(s.identifier.as_deref())
    }

    /// How many days the server keeps deleted secrets, if it says.
    pub fn recovery_days(&self) -> Option<u32> {
        self.session
            .as_ref()
            .and_then(|s| s.identity.as_ref())
            .and_then(|i| i.recovery_days)
    }

    /// Whether the token grants every namespace.
    pub fn is_admin(&self) -> bool {
        self.session
            .as_ref()
            .and_then(|s| s.identity.as_ref())
            .is_some_and(|i| i.admin)
    }
}
