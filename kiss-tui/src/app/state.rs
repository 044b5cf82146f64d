//! Everything the app knows, and nothing else: the views draw it, `update`
//! changes it.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::SystemTime;

use ratatui_textarea::TextArea;

use super::action::{DeletedRow, Details, Identity, RequestId, SecretRow, Sensitive};
use super::keymap::KeyContext;
use super::nav::ListNav;
use crate::tokens::TokenFile;

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
    /// A dialog over the secrets screen.
    pub dialog: Option<Dialog>,
    /// The help overlay, with its scroll position.
    pub help: Option<u16>,
    /// The server refused the token: this message, with an offer to pick
    /// another one.
    pub auth_problem: Option<String>,
    /// A message in the message line.
    pub flash: Option<Flash>,
    /// Calls in flight, by id. A reply whose id is not here is stale.
    pub pending: BTreeMap<RequestId, Pending>,
    /// The id of the next call.
    pub next_id: u64,
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
}

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

/// The namespace picker.
#[derive(Debug, Clone, Default)]
pub struct NamespacePicker {
    /// What was typed to filter (or, for an admin, the namespace to open).
    pub filter: String,
    /// The cursor in the filtered list.
    pub nav: ListNav,
}

/// How the secrets table is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// By name, a to z.
    #[default]
    Name,
    /// Most recently changed first.
    LastChanged,
    /// Most recently created first.
    Created,
}

impl SortKey {
    /// The next key in the `s` cycle.
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::LastChanged,
            SortKey::LastChanged => SortKey::Created,
            SortKey::Created => SortKey::Name,
        }
    }

    /// How the key is named in the table header and messages.
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::LastChanged => "last changed",
            SortKey::Created => "created",
        }
    }
}

/// The secrets screen.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// All secrets, in sort order.
    pub rows: Vec<SecretRow>,
    /// Indexes into `rows` of those matching the filter, in order.
    pub visible: Vec<usize>,
    /// Whether a listing arrived.
    pub loaded: bool,
    /// Why the last listing failed, if it did.
    pub load_error: Option<String>,
    /// The cursor in `visible`.
    pub nav: ListNav,
    /// The filter, matched case-insensitively anywhere in the name.
    pub filter: String,
    /// Whether keys go to the filter.
    pub filtering: bool,
    /// The sort column.
    pub sort: SortKey,
    /// Whether the sort is reversed.
    pub reversed: bool,
    /// Details fetched so far, by name, without values.
    pub details: HashMap<String, Details>,
    /// The value shown for the selected secret.
    pub revealed: Option<(String, Sensitive)>,
}

impl Secrets {
    /// The selected secret, if any.
    pub fn selected(&self) -> Option<&SecretRow> {
        self.visible
            .get(self.nav.selected)
            .and_then(|&i| self.rows.get(i))
    }

    /// The name of the selected secret, if any.
    pub fn selected_name(&self) -> Option<&str> {
        self.selected().map(|r| r.name.as_str())
    }
}

/// The recently deleted view.
#[derive(Debug, Clone, Default)]
pub struct Deleted {
    /// The deleted secrets.
    pub rows: Vec<DeletedRow>,
    /// Whether a listing arrived.
    pub loaded: bool,
    /// Why the last listing failed, if it did.
    pub load_error: Option<String>,
    /// The cursor.
    pub nav: ListNav,
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
}

/// Whether the editor creates a new secret or updates one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditorMode {
    /// A new secret.
    Create,
    /// A new value for an existing secret.
    Update {
        /// The secret.
        name: String,
        /// The version the editor's text started from; sent as
        /// `expected_version_id`.
        base_version: String,
        /// After a conflict: the version that is current now. Saving again
        /// overwrites it, deliberately.
        conflict_version: Option<String>,
    },
}

/// Which field of the editor has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorFocus {
    /// The name (create only).
    Name,
    /// The value.
    Value,
    /// The "also create the read policy" checkbox (create only).
    Policy,
}

/// The create / update form.
#[derive(Debug)]
pub struct Editor {
    /// Create or update.
    pub mode: EditorMode,
    /// The name (create only), one line.
    pub name: TextArea<'static>,
    /// Why the name is refused, checked as it is typed.
    pub name_error: Option<String>,
    /// The value.
    pub value: TextArea<'static>,
    /// Also create the read policy (create only).
    pub with_policy: bool,
    /// The focused field.
    pub focus: EditorFocus,
    /// Waiting for the current value (update).
    pub loading: bool,
    /// A save is in flight.
    pub saving: bool,
    /// Why the last save failed; the text stays.
    pub error: Option<String>,
    /// Asking whether to throw the typed text away.
    pub confirm_discard: bool,
    /// The value the editor opened with, to know whether anything was typed.
    pub original: String,
}

impl Editor {
    /// The value as one string, lines joined with `\n`.
    pub fn value_text(&self) -> String {
        self.value.lines().join("\n")
    }

    /// The name as typed.
    pub fn name_text(&self) -> String {
        self.name.lines().join("")
    }

    /// Whether closing would lose typed text.
    pub fn is_dirty(&self) -> bool {
        match self.mode {
            EditorMode::Create => !self.name_text().is_empty() || !self.value_text().is_empty(),
            EditorMode::Update { .. } => !self.loading && self.value_text() != self.original,
        }
    }

    /// The name of the secret being edited or created.
    pub fn target(&self) -> String {
        match &self.mode {
            EditorMode::Create => self.name_text(),
            EditorMode::Update { name, .. } => name.clone(),
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
}

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

/// Something that can be copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyItem {
    /// The secret's value.
    Value,
    /// Its AWS name.
    AwsName,
    /// An `external-secrets.io/v1` ExternalSecret.
    ExternalSecret,
    /// A `kubernetes-client.io/v1` ExternalSecret (legacy operator).
    ExternalSecretLegacy,
    /// A Secrets Store CSI SecretProviderClass.
    SecretProviderClass,
}

impl CopyItem {
    /// Every item, in menu order, with its key.
    pub const MENU: [(char, CopyItem); 5] = [
        ('v', CopyItem::Value),
        ('a', CopyItem::AwsName),
        ('e', CopyItem::ExternalSecret),
        ('l', CopyItem::ExternalSecretLegacy),
        ('c', CopyItem::SecretProviderClass),
    ];

    /// What the menu and the message call it.
    pub fn label(self) -> &'static str {
        match self {
            CopyItem::Value => "value",
            CopyItem::AwsName => "AWS secret name",
            CopyItem::ExternalSecret => "ExternalSecret (external-secrets.io/v1)",
            CopyItem::ExternalSecretLegacy => "ExternalSecret (kubernetes-client.io/v1, legacy)",
            CopyItem::SecretProviderClass => "SecretProviderClass (Secrets Store CSI, AWS)",
        }
    }
}

/// The copy menu.
#[derive(Debug, Clone)]
pub struct CopyMenu {
    /// The secret.
    pub name: String,
    /// The highlighted item.
    pub nav: ListNav,
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

/// What a call in flight is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Opening the channel with a token.
    Connect,
    /// Asking who the token belongs to.
    WhoAmI,
    /// Listing the namespace's secrets.
    List,
    /// Loading details for the details pane.
    Details(String),
    /// Loading the value to show it.
    Reveal(String),
    /// Loading what is needed to copy an item.
    Copy(String, CopyItem),
    /// Loading the value into the editor.
    EditLoad(String),
    /// Creating a secret.
    Create {
        /// The secret.
        name: String,
        /// Create the read policy afterwards.
        with_policy: bool,
    },
    /// Creating a read policy.
    CreatePolicy {
        /// The secret.
        name: String,
        /// Bind this service account afterwards.
        then_bind: Option<String>,
        /// The secret was just created with the policy box ticked.
        after_create: bool,
    },
    /// Saving a new value.
    Update(String),
    /// After a conflict: learning the version that is current now.
    ConflictCheck(String),
    /// Deleting the read policy, then the secret.
    DeletePolicy(String),
    /// Deleting the secret.
    Delete(String),
    /// Listing the recently deleted secrets.
    ListDeleted,
    /// Restoring a secret.
    Restore(String),
    /// Binding a service account.
    Bind(String, String),
    /// Unbinding a service account.
    Unbind(String, String),
}

impl Purpose {
    /// What the spinner says while the call is in flight.
    pub fn label(&self) -> String {
        match self {
            Purpose::Connect => "connecting".into(),
            Purpose::WhoAmI => "asking who you are".into(),
            Purpose::List => "loading secrets".into(),
            Purpose::Details(n) => format!("loading '{n}'"),
            Purpose::Reveal(n) => format!("reading the value of '{n}'"),
            Purpose::Copy(n, _) => format!("preparing to copy '{n}'"),
            Purpose::EditLoad(n) => format!("reading the value of '{n}'"),
            Purpose::Create { name, .. } => format!("creating '{name}'"),
            Purpose::CreatePolicy { name, .. } => format!("creating the read policy of '{name}'"),
            Purpose::Update(n) => format!("saving '{n}'"),
            Purpose::ConflictCheck(n) => format!("checking '{n}'"),
            Purpose::DeletePolicy(n) => format!("deleting the read policy of '{n}'"),
            Purpose::Delete(n) => format!("deleting '{n}'"),
            Purpose::ListDeleted => "loading recently deleted secrets".into(),
            Purpose::Restore(n) => format!("restoring '{n}'"),
            Purpose::Bind(n, sa) => format!("binding '{n}' to '{sa}'"),
            Purpose::Unbind(n, sa) => format!("unbinding '{n}' from '{sa}'"),
        }
    }

    /// Whether the call belongs to the session as a whole rather than to
    /// one namespace.
    pub fn is_session(&self) -> bool {
        matches!(self, Purpose::Connect | Purpose::WhoAmI)
    }
}

/// A call in flight.
#[derive(Debug, Clone)]
pub struct Pending {
    /// What it is for.
    pub purpose: Purpose,
}

impl State {
    /// The keys that apply where the focus is.
    pub fn key_context(&self) -> KeyContext {
        if self.help.is_some() {
            return KeyContext::Help;
        }
        self.context_below_help()
    }

    /// The keys that apply under the help overlay, listed first in it.
    pub fn context_below_help(&self) -> KeyContext {
        if self.auth_problem.is_some() {
            return KeyContext::AuthProblem;
        }
        match self.screen {
            Screen::Tokens if self.tokens.back_to.is_some() => KeyContext::TokensBack,
            Screen::Tokens => KeyContext::Tokens,
            Screen::Namespaces => KeyContext::Namespaces,
            Screen::Deleted => KeyContext::Deleted,
            Screen::Secrets => match &self.dialog {
                Some(Dialog::Editor(e)) if e.confirm_discard => KeyContext::Discard,
                Some(Dialog::Editor(e)) if e.mode != EditorMode::Create => KeyContext::EditorUpdate,
                Some(Dialog::Editor(_)) => KeyContext::Editor,
                Some(Dialog::Delete(_)) => KeyContext::Delete,
                Some(Dialog::Bind(_)) => KeyContext::Bindings,
                Some(Dialog::Copy(_)) => KeyContext::Copy,
                None if self.secrets.filtering => KeyContext::Filter,
                None => KeyContext::Secrets,
            },
        }
    }

    /// Whether keys are being typed as text, so `?` is a character and F1
    /// is the help key.
    pub fn is_typing(&self) -> bool {
        match self.screen {
            Screen::Secrets => match &self.dialog {
                Some(Dialog::Editor(_)) => true,
                Some(Dialog::Bind(b)) => b.focus == BindFocus::Input,
                Some(_) => false,
                None => self.secrets.filtering,
            },
            _ => false,
        }
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

    /// The rows of the namespace picker: the granted namespaces that match
    /// the filter and, for an admin, the typed namespace first when it is
    /// not one of them.
    pub fn namespace_rows(&self) -> Vec<NamespaceRow> {
        let Some(identity) = self.session.as_ref().and_then(|s| s.identity.as_ref()) else {
            return Vec::new();
        };
        let f = self.namespaces.filter.trim().to_lowercase();
        let mut rows = Vec::new();
        if identity.admin && !f.is_empty() && !identity.namespaces.contains(&f) {
            rows.push(NamespaceRow {
                name: f.clone(),
                typed: true,
            });
        }
        rows.extend(
            identity
                .namespaces
                .iter()
                .filter(|n| n.contains(&f))
                .map(|n| NamespaceRow {
                    name: n.clone(),
                    typed: false,
                }),
        );
        rows
    }

    /// Whether the token grants every namespace.
    pub fn is_admin(&self) -> bool {
        self.session
            .as_ref()
            .and_then(|s| s.identity.as_ref())
            .is_some_and(|i| i.admin)
    }
}

/// One row of the namespace picker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceRow {
    /// The namespace.
    pub name: String,
    /// Typed by an admin rather than granted by name.
    pub typed: bool,
}
