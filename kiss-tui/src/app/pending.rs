//! The calls in flight: what each one is for, so that its reply lands where
//! it belongs and the spinner can say what is happening.

use super::state::CopyItem;

/// What a call in flight is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// Opening the channel with a token.
    Connect,
    /// Asking who the token belongs to.
    WhoAmI,
    /// Connecting with the token kubelogin rewrote in its file.
    Reconnect,
    /// Listing one namespace for the search across namespaces.
    SearchList(String),
    /// Saving a change to one key of a JSON secret: the secret, what the
    /// change is (for the message), and the JSON sent, shown once saved.
    KeyUpdate {
        /// The secret.
        name: String,
        /// "the new value of key 'pass'".
        what: String,
        /// The whole new value.
        value: super::action::Sensitive,
    },
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
    /// Listing a secret's versions.
    Versions(String),
    /// Reading one version's value (secret, version).
    VersionValue(String, String),
    /// Rolling a secret back.
    Rollback(String),
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
            Purpose::Reconnect => "taking up the refreshed token".into(),
            Purpose::SearchList(ns) => format!("searching {ns}"),
            Purpose::List => "loading secrets".into(),
            Purpose::Details(n) => format!("loading '{n}'"),
            Purpose::Reveal(n) => format!("reading the value of '{n}'"),
            Purpose::Copy(n, _) => format!("preparing to copy '{n}'"),
            Purpose::EditLoad(n) => format!("reading the value of '{n}'"),
            Purpose::Create { name, .. } => format!("creating '{name}'"),
            Purpose::CreatePolicy { name, .. } => format!("creating the read policy of '{name}'"),
            Purpose::Update(n) | Purpose::KeyUpdate { name: n, .. } => format!("saving '{n}'"),
            Purpose::ConflictCheck(n) => format!("checking '{n}'"),
            Purpose::DeletePolicy(n) => format!("deleting the read policy of '{n}'"),
            Purpose::Delete(n) => format!("deleting '{n}'"),
            Purpose::ListDeleted => "loading recently deleted secrets".into(),
            Purpose::Restore(n) => format!("restoring '{n}'"),
            Purpose::Versions(n) => format!("loading the history of '{n}'"),
            Purpose::VersionValue(n, v) => format!(
                "reading version {} of '{n}'",
                super::format::short_version(v)
            ),
            Purpose::Rollback(n) => format!("rolling back '{n}'"),
            Purpose::Bind(n, sa) => format!("binding '{n}' to '{sa}'"),
            Purpose::Unbind(n, sa) => format!("unbinding '{n}' from '{sa}'"),
        }
    }

    /// Whether the call is the history screen's ([`super::history`]).
    pub fn is_history(&self) -> bool {
        matches!(
            self,
            Purpose::Versions(_) | Purpose::VersionValue(..) | Purpose::Rollback(_)
        )
    }

    /// Whether the call belongs to the session as a whole rather than to
    /// one namespace.
    pub fn is_session(&self) -> bool {
        matches!(
            self,
            Purpose::Connect | Purpose::WhoAmI | Purpose::Reconnect
        )
    }
}

/// A call in flight.
#[derive(Debug, Clone)]
pub struct Pending {
    /// What it is for.
    pub purpose: Purpose,
}
