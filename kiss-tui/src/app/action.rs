//! What can happen to the app ([`Action`]), what the app asks the runtime to
//! do in return ([`Effect`], [`Call`]), and the answers of finished calls
//! ([`Reply`], [`CallError`]).
//!
//! These are plain data: the runtime turns terminal events and finished
//! gRPC calls into actions, and turns effects into spawned tasks.

use std::fmt;
use std::time::{Duration, SystemTime};

use crossterm::event::KeyEvent;

pub use crate::tokens::TokenScan;

/// A string that must never be printed in logs or debug output: a token or a
/// secret value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Sensitive(pub String);

impl Sensitive {
    /// The wrapped text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted, {} bytes>", self.0.len())
    }
}

impl From<&str> for Sensitive {
    fn from(s: &str) -> Self {
        Sensitive(s.to_owned())
    }
}

/// Identifies one call, so that its reply can be matched to what asked for
/// it, and dropped when nothing is waiting for it any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Everything the app reacts to.
#[derive(Debug)]
pub enum Action {
    /// A key was pressed.
    Key(KeyEvent),
    /// Text was pasted (bracketed paste), not yet normalised.
    Paste(String),
    /// The terminal was resized to (columns, rows).
    Resize(u16, u16),
    /// Time passed: animates the spinner, counts the token expiry down and
    /// expires messages.
    Tick(SystemTime),
    /// The token files were listed.
    TokensScanned(TokenScan),
    /// A call finished.
    Reply {
        /// The id the call was started with.
        id: RequestId,
        /// What the server answered.
        result: Result<Reply, CallError>,
    },
    /// A copy to the clipboard finished.
    Copied {
        /// What was copied, for the message ("the AWS name of 'db'").
        what: String,
        /// How it reached the clipboard, or why it could not.
        outcome: Result<CopyVia, String>,
    },
    /// The selection rested on a secret long enough to load its details.
    DetailsDue {
        /// The secret that was selected when the delay started.
        name: String,
    },
    /// The mouse: the wheel, or a click.
    Mouse(super::mouse::MouseInput),
    /// A context switch is ready, or why not ([`Effect::SwitchContext`]).
    ContextReady(Box<Result<super::contexts::ContextReady, String>>),
    /// The user's editor exited ([`Effect::EditExternally`]).
    EditedExternally {
        /// The text it left, or why there is none.
        result: Result<Sensitive, String>,
    },
}

/// Which way copied text reached the clipboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyVia {
    /// The system clipboard (arboard).
    Native,
    /// The terminal's OSC 52 escape (headless, SSH).
    Osc52,
}

/// A gRPC call the runtime makes on the app's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// WhoAmI.
    WhoAmI,
    /// ListSecrets.
    ListSecrets {
        /// The namespace.
        namespace: String,
    },
    /// GetSecret.
    GetSecret {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
        /// Whether to return the value too.
        include_value: bool,
    },
    /// CreateSecret.
    CreateSecret {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
        /// Its value.
        value: Sensitive,
    },
    /// CreateSecretIAMPolicy.
    CreatePolicy {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
    },
    /// UpdateSecret.
    UpdateSecret {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
        /// The new value.
        value: Sensitive,
        /// The version the new value is based on.
        expected_version_id: String,
    },
    /// DeleteSecretIAMPolicy.
    DeletePolicy {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
        /// Detach it from every service account first.
        unbind: bool,
    },
    /// DeleteSecret.
    DeleteSecret {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
    },
    /// ListDeletedSecrets.
    ListDeleted {
        /// The namespace.
        namespace: String,
    },
    /// RestoreSecret.
    Restore {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
    },
    /// BindSecret.
    Bind {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
        /// The ServiceAccount.
        service_account: String,
    },
    /// ListSecretVersions.
    ListVersions {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
    },
    /// GetSecret of one version, with its value.
    GetVersion {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
        /// The version.
        version_id: String,
    },
    /// RollbackSecret.
    Rollback {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
        /// The version whose value becomes current.
        version_id: String,
        /// The version the user saw as current.
        expected_version_id: String,
    },
    /// UnbindSecret.
    Unbind {
        /// The namespace.
        namespace: String,
        /// The secret.
        name: String,
        /// The ServiceAccount.
        service_account: String,
    },
}

/// A successful answer to a [`Call`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The channel is ready.
    Connected,
    /// Who the token says the caller is.
    WhoAmI(Identity),
    /// The namespace's secrets.
    Secrets(Vec<SecretRow>),
    /// One secret's details.
    Details(Box<Details>),
    /// A secret was created.
    Created {
        /// Its first version.
        version_id: String,
    },
    /// A read policy was created.
    PolicyCreated,
    /// A secret's value was replaced.
    Updated {
        /// The new version.
        version_id: String,
    },
    /// A read policy was deleted.
    PolicyDeleted {
        /// The service accounts it was detached from.
        unbound: Vec<String>,
    },
    /// A secret was scheduled for deletion.
    Deleted {
        /// When it is removed for good, if there is a recovery window.
        deletion_date: Option<SystemTime>,
    },
    /// The namespace's recently deleted secrets.
    DeletedSecrets(Vec<DeletedRow>),
    /// A secret was restored.
    Restored,
    /// A secret was bound to a service account.
    Bound,
    /// A secret was unbound from a service account.
    Unbound,
    /// A secret's versions, newest first.
    Versions(Vec<VersionRow>),
    /// A secret was rolled back.
    RolledBack {
        /// The new current version.
        version_id: String,
    },
}

/// One version in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRow {
    /// Its id.
    pub version_id: String,
    /// When it was written.
    pub created: Option<SystemTime>,
    /// Who wrote it through kiss; empty when unknown.
    pub author: String,
    /// Its staging labels.
    pub labels: Vec<String>,
}

impl VersionRow {
    /// Whether it is the current version.
    pub fn is_current(&self) -> bool {
        self.labels.iter().any(|l| l == "AWSCURRENT")
    }
}

/// Who the server says the caller is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Identity {
    /// The identifier claim (e-mail).
    pub identifier: String,
    /// The namespaces granted, sorted.
    pub namespaces: Vec<String>,
    /// Whether every namespace is granted.
    pub admin: bool,
    /// When the token expires.
    pub expires_at: Option<SystemTime>,
    /// The token's issuer.
    pub issuer: String,
    /// How many days a deleted secret can be restored (0: deletes are
    /// final); `None` from servers that do not say.
    pub recovery_days: Option<u32>,
}

/// One secret in the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRow {
    /// The secret's name.
    pub name: String,
    /// When it was created.
    pub created: Option<SystemTime>,
    /// When its value last changed.
    pub last_changed: Option<SystemTime>,
}

/// Everything known about one secret.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Details {
    /// The secret's name.
    pub name: String,
    /// Its name in AWS Secrets Manager.
    pub aws_name: String,
    /// Its ARN.
    pub arn: String,
    /// When it was created.
    pub created: Option<SystemTime>,
    /// When its value last changed.
    pub last_changed: Option<SystemTime>,
    /// The day it was last read, if ever.
    pub last_accessed: Option<SystemTime>,
    /// The current version id.
    pub version_id: String,
    /// Whether a read policy exists.
    pub has_read_policy: bool,
    /// The service accounts holding the read policy.
    pub bound_service_accounts: Vec<String>,
    /// The value, when it was asked for.
    pub value: Option<Sensitive>,
}

impl fmt::Debug for Details {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Details")
            .field("name", &self.name)
            .field("aws_name", &self.aws_name)
            .field("version_id", &self.version_id)
            .field("has_read_policy", &self.has_read_policy)
            .field("bound_service_accounts", &self.bound_service_accounts)
            .field("value", &self.value)
            .finish_non_exhaustive()
    }
}

/// One secret in the recently deleted view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedRow {
    /// The secret's name.
    pub name: String,
    /// When it was deleted.
    pub deleted: Option<SystemTime>,
    /// When it is removed for good.
    pub deletion_date: Option<SystemTime>,
}

/// Why a call failed, sorted into what the app does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server could not be reached (down, wrong address, TLS mismatch).
    Unreachable,
    /// The token was refused (expired, wrong issuer, ...).
    Unauthenticated,
    /// The token does not grant the namespace.
    PermissionDenied,
    /// The secret changed since the version the update was based on.
    Conflict,
    /// The secret (or policy) does not exist.
    NotFound,
    /// A secret of that name exists.
    AlreadyExists,
    /// A name or value was refused.
    Invalid,
    /// The operation is not possible in the current state.
    FailedPrecondition,
    /// The call took longer than the deadline.
    Timeout,
    /// Anything else.
    Other,
}

/// A failed call: its kind and a sentence for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// What kind of failure it was.
    pub kind: ErrorKind,
    /// The sentence shown to the user.
    pub message: String,
    /// The server's machine-readable reason ([`kiss_proto::reasons`]), which
    /// picks the advice the app adds; `None` from older servers.
    pub reason: Option<String>,
}

impl CallError {
    /// A failure of the given kind.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CallError {
            kind,
            message: message.into(),
            reason: None,
        }
    }

    /// The same failure, carrying the server's reason.
    pub fn with_reason(self, reason: Option<&str>) -> Self {
        CallError {
            reason: reason.map(str::to_owned),
            ..self
        }
    }

    /// Whether the server gave this reason.
    pub fn is(&self, reason: &str) -> bool {
        self.reason.as_deref() == Some(reason)
    }
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the app asks the runtime to do.
#[derive(Debug)]
pub enum Effect {
    /// List the token files and send [`Action::TokensScanned`].
    ScanTokens,
    /// Build the client that sends this token on every later call, and send
    /// [`Action::Reply`] with [`Reply::Connected`]. Not a [`Call`]: nothing
    /// goes over the network (the channel connects on its first call); it
    /// carries an id so that a connect superseded by another token is dropped.
    Connect {
        /// The id the reply must carry.
        id: RequestId,
        /// The token.
        token: Sensitive,
    },
    /// Make a call and send [`Action::Reply`] with this id.
    Call {
        /// The id the reply must carry.
        id: RequestId,
        /// The call.
        call: Call,
    },
    /// Put text on the clipboard and send [`Action::Copied`].
    Copy {
        /// What it is, for the message.
        what: String,
        /// The text.
        text: Sensitive,
    },
    /// Suspend the screen, let the user edit `text` in their editor, and
    /// send [`Action::EditedExternally`].
    EditExternally {
        /// The text to start from.
        text: Sensitive,
    },
    /// Switch to a kubeconfig context: run its exec plugin (with the
    /// terminal if it needs one), point the client at its server, and send
    /// [`Action::ContextReady`].
    SwitchContext {
        /// The context.
        context: String,
        /// The context's token expired or was refused: run the plugin
        /// even if a token is cached.
        renew: bool,
    },
    /// Keep these as the namespaces used last on this server (the state
    /// directory's recent-namespaces file).
    RememberNamespaces {
        /// The most recent first.
        namespaces: Vec<String>,
    },
    /// Clear the system clipboard if it still holds `text` (something
    /// copied since is left alone).
    ClearClipboard {
        /// The value that was copied.
        text: Sensitive,
    },
    /// Send `action` after `delay`.
    After {
        /// How long to wait.
        delay: Duration,
        /// What to send then.
        action: Box<Action>,
    },
    /// Leave the app.
    Quit,
}
