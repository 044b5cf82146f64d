//! The keys of each screen, in one table that both the footer and the `?`
//! help overlay read, so that what is shown is what works.

/// Where the keyboard focus is; selects the keys that apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyContext {
    /// Keys that work everywhere.
    Global,
    /// The token picker at startup, where Esc quits.
    Tokens,
    /// The token picker opened mid-session, where Esc goes back.
    TokensBack,
    /// The namespace picker.
    Namespaces,
    /// The secrets table.
    Secrets,
    /// Typing a filter into the secrets table.
    Filter,
    /// The create form (name, value, checkbox).
    Editor,
    /// The update form: the value is its one field.
    EditorUpdate,
    /// "Discard?" over the form.
    Discard,
    /// The delete confirmation.
    Delete,
    /// The bindings dialog.
    Bindings,
    /// The recently deleted view.
    Deleted,
    /// The copy menu.
    Copy,
    /// The help overlay.
    Help,
    /// The "token refused" message.
    AuthProblem,
}

/// One key (or group of keys) and what it does.
#[derive(Debug, Clone, Copy)]
pub struct KeyHelp {
    /// The key as shown, e.g. `Ctrl-S` or `j/k ↑/↓`.
    pub keys: &'static str,
    /// What it does, a few words.
    pub what: &'static str,
    /// Whether the footer shows it (the help overlay shows all).
    pub footer: bool,
}

const fn k(keys: &'static str, what: &'static str, footer: bool) -> KeyHelp {
    KeyHelp { keys, what, footer }
}

const GLOBAL: &[KeyHelp] = &[
    k("?/F1", "help (F1 while typing)", true),
    k("Esc/q", "back", false),
    k("Ctrl-C", "quit", false),
];

const TOKENS: &[KeyHelp] = &[
    k("↑/↓ j/k", "move", true),
    k("Enter", "use token", true),
    k("r", "rescan files", true),
    k("q/Esc", "quit", true),
];

const TOKENS_BACK: &[KeyHelp] = &[
    k("↑/↓ j/k", "move", true),
    k("Enter", "use token", true),
    k("r", "rescan files", true),
    k("Esc/q", "back", true),
];

const NAMESPACES: &[KeyHelp] = &[
    k("↑/↓ Ctrl-P/N", "move", true),
    k("type", "filter", true),
    k("Enter", "open namespace", true),
    k("Ctrl-R", "reload", false),
    k("Esc", "back to tokens", true),
];

const SECRETS: &[KeyHelp] = &[
    k("↑/↓ j/k", "move", false),
    k("g/G PgUp/PgDn", "top/bottom/page", false),
    k("/", "filter", true),
    k("n", "new", true),
    k("e", "edit value", true),
    k("v", "reveal/hide value", true),
    k("y", "copy…", true),
    k("b", "bindings", true),
    k("d", "delete", true),
    k("D", "recently deleted", true),
    k("p", "create read policy", false),
    k("s/S", "sort by / reverse", false),
    k("r", "reload", false),
    k("N", "switch namespace", false),
    k("T", "switch token", false),
    k("q/Esc", "back", false),
];

const FILTER: &[KeyHelp] = &[
    k("type", "filter by name", true),
    k("Enter", "keep filter", true),
    k("Esc", "clear filter", true),
    k("↑/↓", "move", true),
];

const EDITOR: &[KeyHelp] = &[
    k("Ctrl-S", "save", true),
    k("Tab/Shift-Tab", "next field", true),
    k("Enter", "new line", true),
    k("Space", "toggle checkbox", false),
    k("Ctrl-Z/Ctrl-U", "undo", false),
    k("Ctrl-R", "redo", false),
    k("Esc", "cancel", true),
];

const EDITOR_UPDATE: &[KeyHelp] = &[
    k("Ctrl-S", "save", true),
    k("Enter", "new line", true),
    k("Ctrl-Z/Ctrl-U", "undo", false),
    k("Ctrl-R", "redo", false),
    k("Esc", "cancel", true),
];

const DISCARD: &[KeyHelp] = &[
    k("y", "discard typed text", true),
    k("n/Esc", "keep editing", true),
];

const DELETE: &[KeyHelp] = &[
    k("y/Enter", "delete", true),
    k("Space/p", "toggle remove policy", true),
    k("n/Esc", "cancel", true),
];

const BINDINGS: &[KeyHelp] = &[
    k("type + Enter", "bind service account", true),
    k("Tab", "switch to list/input", true),
    k("x/Del", "unbind selected", true),
    k("Esc", "close", true),
];

const DELETED: &[KeyHelp] = &[
    k("↑/↓ j/k", "move", true),
    k("Enter/u", "restore", true),
    k("r", "reload", true),
    k("q/Esc", "back", true),
];

const COPY: &[KeyHelp] = &[
    k("v", "value", true),
    k("a", "AWS name", true),
    k("e", "ExternalSecret (external-secrets.io)", true),
    k("l", "ExternalSecret (legacy kubernetes-client.io)", true),
    k("c", "SecretProviderClass (CSI)", true),
    k("Esc", "close", true),
];

const HELP: &[KeyHelp] = &[
    k("↑/↓ j/k", "scroll", true),
    k("?/Esc/q", "close help", true),
];

const AUTH: &[KeyHelp] = &[
    k("t", "pick another token", true),
    k("Esc", "dismiss", true),
];

/// The keys of a context.
pub fn keys(ctx: KeyContext) -> &'static [KeyHelp] {
    match ctx {
        KeyContext::Global => GLOBAL,
        KeyContext::Tokens => TOKENS,
        KeyContext::TokensBack => TOKENS_BACK,
        KeyContext::Namespaces => NAMESPACES,
        KeyContext::Secrets => SECRETS,
        KeyContext::Filter => FILTER,
        KeyContext::Editor => EDITOR,
        KeyContext::EditorUpdate => EDITOR_UPDATE,
        KeyContext::Discard => DISCARD,
        KeyContext::Delete => DELETE,
        KeyContext::Bindings => BINDINGS,
        KeyContext::Deleted => DELETED,
        KeyContext::Copy => COPY,
        KeyContext::Help => HELP,
        KeyContext::AuthProblem => AUTH,
    }
}

/// The help section that shows a context's keys: a context that only
/// varies another one for the footer's sake shares its section.
pub fn section_of(ctx: KeyContext) -> KeyContext {
    match ctx {
        KeyContext::TokensBack => KeyContext::Tokens,
        KeyContext::EditorUpdate => KeyContext::Editor,
        other => other,
    }
}

/// The sections of the help overlay, in order, with their titles.
pub const HELP_SECTIONS: &[(&str, KeyContext)] = &[
    ("Everywhere", KeyContext::Global),
    ("Token picker", KeyContext::Tokens),
    ("Namespace picker", KeyContext::Namespaces),
    ("Secrets", KeyContext::Secrets),
    ("Filter (/)", KeyContext::Filter),
    ("Create / edit form", KeyContext::Editor),
    ("Discard? (Esc with typed text)", KeyContext::Discard),
    ("Delete confirmation", KeyContext::Delete),
    ("Bindings (b)", KeyContext::Bindings),
    ("Copy menu (y)", KeyContext::Copy),
    ("Recently deleted (D)", KeyContext::Deleted),
    ("Token refused", KeyContext::AuthProblem),
];
