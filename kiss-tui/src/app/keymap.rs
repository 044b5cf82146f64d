//! The keys of each screen as data: one table per screen maps key events to
//! that screen's command enum, with the label and words the footer, the `?`
//! help overlay and docs/tui.md show. `App::on_key` finds the command in the
//! table of the context the focus is in and hands it to the screen's
//! handler, so what is shown is what works: a key that is in no table does
//! nothing, and a key in a table always reaches its handler.
//!
//! Typed text is the one thing outside the tables: in a filter, an input or
//! the editor, a key that no table holds is text for the field (a character,
//! or the text area's own editing keys), as a `type` row in the table says.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::state::{BindFocus, Dialog, EditorFocus, EditorMode, Screen, State};
use super::{
    bind, command, conflict, copy, delete, deleted, editor, filter, help, history, key_table,
    namespaces, quit, search, secrets, tokens, value_view,
};

/// A key as the tables name it: a code, and whether Ctrl is held. Shift is
/// in the character itself (`G`), and Alt is not told apart, as the
/// terminal reports it unevenly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Whether Ctrl is held.
    pub ctrl: bool,
}

impl Key {
    /// The key of a terminal event.
    pub fn of(event: &KeyEvent) -> Key {
        Key {
            code: event.code,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
        }
    }

    /// A terminal event of this key, for tests and benches.
    pub fn event(self) -> KeyEvent {
        let mods = if self.ctrl {
            KeyModifiers::CONTROL
        } else {
            KeyModifiers::NONE
        };
        KeyEvent::new(self.code, mods)
    }

    /// Whether the key types a character into a text field.
    pub fn is_char(self) -> bool {
        matches!(self.code, KeyCode::Char(_)) && !self.ctrl
    }
}

/// A key without Ctrl.
pub const fn key(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

/// A character key.
pub const fn ch(c: char) -> Key {
    key(KeyCode::Char(c))
}

/// Ctrl and a (lower-case) letter.
pub const fn ctrl(c: char) -> Key {
    Key {
        code: KeyCode::Char(c),
        ctrl: true,
    }
}

/// One row of a table: the keys that do one thing, each with the command it
/// sends (the move keys send one direction each), as the row is shown.
#[derive(Debug, Clone)]
pub struct Binding<C> {
    /// The keys as shown, e.g. `Ctrl-S` or `↑/↓ j/k`; names every key of
    /// the row and no other (a test holds the two together).
    pub label: String,
    /// What they do, a few words.
    pub what: &'static str,
    /// Whether the footer shows the row (the help overlay shows all).
    pub footer: bool,
    /// A shorter label for the footer, naming some of the keys.
    pub short: Option<&'static str>,
    /// Fewer words for the footer, where room is short.
    pub brief: Option<&'static str>,
    /// Whether the footer keeps the row however narrow it is (the way out).
    pub pinned: bool,
    /// The keys and their commands; empty for a row that describes typed
    /// text, which the field takes itself.
    pub keys: Vec<(Key, C)>,
}

/// A row whose keys all send `command`.
pub fn bind<C: Copy>(
    label: &str,
    what: &'static str,
    footer: bool,
    keys: &[Key],
    command: C,
) -> Binding<C> {
    Binding {
        label: label.to_owned(),
        what,
        footer,
        short: None,
        brief: None,
        pinned: false,
        keys: keys.iter().map(|k| (*k, command)).collect(),
    }
}

/// A row that describes typed text: no key of its own, the field takes it.
pub fn text<C>(label: &str, what: &'static str, footer: bool) -> Binding<C> {
    Binding {
        label: label.to_owned(),
        what,
        footer,
        short: None,
        brief: None,
        pinned: false,
        keys: Vec::new(),
    }
}

impl<C> Binding<C> {
    /// The row with a shorter footer label, for keys that have aliases.
    pub fn short(mut self, short: &'static str) -> Binding<C> {
        self.short = Some(short);
        self
    }

    /// The row with fewer words in the footer.
    pub fn brief(mut self, brief: &'static str) -> Binding<C> {
        self.brief = Some(brief);
        self
    }

    /// The row kept in the footer however narrow it is.
    pub fn pinned(mut self) -> Binding<C> {
        self.pinned = true;
        self
    }

    /// The same row sending another command type.
    pub fn map<D>(self, f: impl Fn(C) -> D) -> Binding<D> {
        Binding {
            label: self.label,
            what: self.what,
            footer: self.footer,
            short: self.short,
            brief: self.brief,
            pinned: self.pinned,
            keys: self.keys.into_iter().map(|(k, c)| (k, f(c))).collect(),
        }
    }
}

/// The command a key sends in a table, if the table holds the key.
pub fn lookup<C: Copy>(table: &[Binding<C>], key: Key) -> Option<C> {
    table
        .iter()
        .flat_map(|b| b.keys.iter())
        .find(|(k, _)| *k == key)
        .map(|(_, c)| *c)
}

/// Where the keyboard focus is; selects the table that applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// The create form, on the name.
    EditorName,
    /// The create form, on the value.
    Editor,
    /// The create form, on the read-policy checkbox.
    EditorPolicy,
    /// The update form: the value is its one field.
    EditorUpdate,
    /// "Discard?" over the form.
    Discard,
    /// "Save these changes?" over the update form.
    SaveConfirm,
    /// A version conflict over the update form.
    Conflict,
    /// The delete confirmation.
    Delete,
    /// The delete confirmation where a delete is final: the name is typed.
    DeleteForGood,
    /// The bindings dialog, typing a service account.
    BindInput,
    /// The bindings dialog, in the list of bound service accounts.
    BindList,
    /// "Unbind?" over the bindings dialog.
    Unbind,
    /// The recently deleted view.
    Deleted,
    /// A secret's history.
    History,
    /// "Roll back?" over the history.
    Rollback,
    /// The copy menu.
    Copy,
    /// The read-only value view.
    Value,
    /// The value view of a JSON object, key by key.
    ValueKeys,
    /// Editing or adding one key of a JSON object.
    KeyEdit,
    /// "Remove the key?" over the key table.
    KeyRemove,
    /// Searching every namespace.
    Search,
    /// The help overlay.
    Help,
    /// Typing a search in the help overlay.
    HelpSearch,
    /// The `:` command line.
    Command,
    /// The "token refused" message.
    AuthProblem,
    /// "Quit?": quitting would lose unsaved text.
    Quit,
}

/// Every context, for the tests and docs that go through all tables.
pub const ALL_CONTEXTS: &[KeyContext] = &[
    KeyContext::Global,
    KeyContext::Tokens,
    KeyContext::TokensBack,
    KeyContext::Namespaces,
    KeyContext::Secrets,
    KeyContext::Filter,
    KeyContext::EditorName,
    KeyContext::Editor,
    KeyContext::EditorPolicy,
    KeyContext::EditorUpdate,
    KeyContext::Discard,
    KeyContext::SaveConfirm,
    KeyContext::Conflict,
    KeyContext::Delete,
    KeyContext::DeleteForGood,
    KeyContext::BindInput,
    KeyContext::BindList,
    KeyContext::Unbind,
    KeyContext::Deleted,
    KeyContext::History,
    KeyContext::Rollback,
    KeyContext::Copy,
    KeyContext::Value,
    KeyContext::ValueKeys,
    KeyContext::KeyEdit,
    KeyContext::KeyRemove,
    KeyContext::Search,
    KeyContext::Help,
    KeyContext::HelpSearch,
    KeyContext::Command,
    KeyContext::AuthProblem,
    KeyContext::Quit,
];

/// A command of any screen: what a key asks for, before its handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Everywhere.
    Global(GlobalCmd),
    /// The help overlay.
    Help(help::HelpCmd),
    /// Typing a help search.
    HelpSearch(help::HelpSearchCmd),
    /// The `:` command line.
    CommandLine(command::CommandCmd),
    /// The token-refused message.
    Auth(tokens::AuthCmd),
    /// The token picker.
    Tokens(tokens::TokensCmd),
    /// The namespace picker.
    Namespaces(namespaces::NamespacesCmd),
    /// The secrets table.
    Secrets(secrets::SecretsCmd),
    /// The secrets filter.
    Filter(filter::FilterCmd),
    /// The create / update form.
    Editor(editor::EditorCmd),
    /// "Discard?".
    Discard(editor::DiscardCmd),
    /// "Save these changes?".
    SaveConfirm(editor::SaveConfirmCmd),
    /// A version conflict.
    Conflict(conflict::ConflictCmd),
    /// The delete confirmation.
    Delete(delete::DeleteCmd),
    /// The bindings dialog.
    Bind(bind::BindCmd),
    /// The recently deleted view.
    Deleted(deleted::DeletedCmd),
    /// A secret's history.
    History(history::HistoryCmd),
    /// "Roll back?".
    Rollback(history::ConfirmCmd),
    /// The copy menu.
    Copy(copy::CopyCmd),
    /// The value view.
    View(value_view::ValueCmd),
    /// The key table.
    KeyTable(key_table::KeyTableCmd),
    /// Editing a key.
    KeyEdit(key_table::KeyEditCmd),
    /// "Remove the key?".
    KeyRemove(key_table::KeyRemoveCmd),
    /// The search across namespaces.
    Search(search::SearchCmd),
    /// "Quit?".
    Quit(quit::QuitCmd),
}

/// What works everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalCmd {
    /// Open the help overlay.
    Help,
    /// Leave the app.
    Quit,
    /// Open the `:` command line.
    Command,
}

fn global() -> Vec<Binding<GlobalCmd>> {
    vec![
        Binding {
            label: "?/F1".into(),
            what: "help (F1 while typing)",
            footer: true,
            short: None,
            brief: None,
            pinned: false,
            keys: vec![
                (ch('?'), GlobalCmd::Help),
                (key(KeyCode::F(1)), GlobalCmd::Help),
            ],
        },
        bind("Ctrl-C", "quit", false, &[ctrl('c')], GlobalCmd::Quit),
        bind(
            ":",
            "commands: :ns, :ctx, :search, :token, :deleted, :q",
            false,
            &[ch(':')],
            GlobalCmd::Command,
        ),
    ]
}

/// The table of a context, its own rows only (not the global ones).
pub fn table(ctx: KeyContext) -> Vec<Binding<Command>> {
    fn all<C>(rows: Vec<Binding<C>>, f: fn(C) -> Command) -> Vec<Binding<Command>> {
        rows.into_iter().map(|b| b.map(f)).collect()
    }
    match ctx {
        KeyContext::Global => all(global(), Command::Global),
        KeyContext::Help => all(help::keys(), Command::Help),
        KeyContext::HelpSearch => all(help::search_keys(), Command::HelpSearch),
        KeyContext::Command => all(command::keys(), Command::CommandLine),
        KeyContext::AuthProblem => all(tokens::auth_keys(), Command::Auth),
        KeyContext::Tokens => all(tokens::keys(false), Command::Tokens),
        KeyContext::TokensBack => all(tokens::keys(true), Command::Tokens),
        KeyContext::Namespaces => all(namespaces::keys(), Command::Namespaces),
        KeyContext::Secrets => all(secrets::keys(), Command::Secrets),
        KeyContext::Filter => all(filter::filter_keys(), Command::Filter),
        KeyContext::EditorName => all(editor::keys(Some(EditorFocus::Name)), Command::Editor),
        KeyContext::Editor => all(editor::keys(Some(EditorFocus::Value)), Command::Editor),
        KeyContext::EditorPolicy => all(editor::keys(Some(EditorFocus::Policy)), Command::Editor),
        KeyContext::EditorUpdate => all(editor::keys(None), Command::Editor),
        KeyContext::Discard => all(editor::discard_keys(), Command::Discard),
        KeyContext::SaveConfirm => all(editor::save_confirm_keys(), Command::SaveConfirm),
        KeyContext::Conflict => all(conflict::keys(), Command::Conflict),
        KeyContext::Delete => all(delete::keys(), Command::Delete),
        KeyContext::DeleteForGood => all(delete::for_good_keys(), Command::Delete),
        KeyContext::BindInput => all(bind::keys(BindFocus::Input), Command::Bind),
        KeyContext::BindList => all(bind::keys(BindFocus::List), Command::Bind),
        KeyContext::Unbind => all(bind::confirm_keys(), Command::Bind),
        KeyContext::Deleted => all(deleted::keys(), Command::Deleted),
        KeyContext::History => all(history::keys(), Command::History),
        KeyContext::Rollback => all(history::confirm_keys(), Command::Rollback),
        KeyContext::Copy => all(copy::keys(), Command::Copy),
        KeyContext::Value => all(value_view::keys(), Command::View),
        KeyContext::ValueKeys => all(key_table::keys(), Command::KeyTable),
        KeyContext::KeyEdit => all(key_table::edit_keys(), Command::KeyEdit),
        KeyContext::KeyRemove => all(key_table::remove_keys(), Command::KeyRemove),
        KeyContext::Search => all(search::keys(), Command::Search),
        KeyContext::Quit => all(quit::keys(), Command::Quit),
    }
}

/// Whether, in a context, keys no table holds are typed text.
pub fn takes_text(ctx: KeyContext) -> bool {
    matches!(
        ctx,
        KeyContext::Namespaces
            | KeyContext::Filter
            | KeyContext::EditorName
            | KeyContext::Editor
            | KeyContext::EditorUpdate
            | KeyContext::BindInput
            | KeyContext::DeleteForGood
            | KeyContext::HelpSearch
            | KeyContext::Command
            | KeyContext::KeyEdit
            | KeyContext::Search
    )
}

/// Every table that applies in a context, the first holding a key winning:
/// Ctrl-C everywhere; over the help and the token-refused message only
/// their own keys; elsewhere help, then the context's own. Where keys are
/// typed text, `?` is a character, so only F1 opens the help.
pub fn effective(ctx: KeyContext, typing: bool) -> Vec<Binding<Command>> {
    let mut rows = table(KeyContext::Global);
    match ctx {
        KeyContext::Help
        | KeyContext::HelpSearch
        | KeyContext::AuthProblem
        | KeyContext::Command => {
            rows.retain(|b| {
                b.keys
                    .iter()
                    .any(|(_, c)| *c == Command::Global(GlobalCmd::Quit))
            });
        }
        _ if typing => {
            for b in &mut rows {
                b.keys.retain(|(k, _)| !k.is_char());
            }
        }
        _ => {}
    }
    rows.extend(table(ctx));
    rows
}

/// One row as the views draw it.
#[derive(Debug, Clone)]
pub struct KeyHelp {
    /// The keys as shown.
    pub keys: String,
    /// The keys as the footer shows them.
    pub short: String,
    /// What they do.
    pub what: &'static str,
    /// What they do, in the footer's fewer words.
    pub brief: &'static str,
    /// Whether the footer shows it.
    pub footer: bool,
    /// Whether the footer keeps it however narrow it is.
    pub pinned: bool,
}

/// One hint of the footer, where it is drawn and the key a click sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FooterHint {
    /// The keys as shown.
    pub keys: String,
    /// What they do, in the footer's words.
    pub what: &'static str,
    /// The first column it takes and the column after it.
    pub columns: (u16, u16),
    /// The key a click on it sends, if one does (typed-text rows have none).
    pub key: Option<Key>,
}

/// The footer's hints at `width` columns. The help key comes first so a
/// narrow footer still says how to see every key, and says "more" when
/// some are left out; pinned rows (the way out) are kept before the
/// others; the rest go in table order, which is their priority, while
/// they fit. Drawn after one leading space, two spaces between hints.
pub fn footer(s: &State, width: u16) -> Vec<FooterHint> {
    const SEP: usize = 2;
    let ctx = s.key_context();
    // Where `?` is typed text, F1 is the help key; the token-refused
    // message sits over the form but takes no text.
    let f1 = s.is_typing() && ctx != KeyContext::AuthProblem;
    let rows: Vec<Binding<Command>> = table(ctx).into_iter().filter(|b| b.footer).collect();
    let label = |b: &Binding<Command>| b.short.map_or_else(|| b.label.clone(), str::to_owned);
    let words = |b: &Binding<Command>| b.brief.unwrap_or(b.what);
    let cost = |k: &str, w: &str| k.chars().count() + 1 + w.chars().count() + SEP;
    let room = usize::from(width).saturating_sub(1) + SEP;
    // Over the help, the command line and the token-refused message the
    // help key does nothing, so it is not offered there.
    let help_works = !matches!(
        ctx,
        KeyContext::Help | KeyContext::HelpSearch | KeyContext::Command | KeyContext::AuthProblem
    );
    let help = help_works.then_some(if f1 {
        ("F1", key(KeyCode::F(1)))
    } else {
        ("?", ch('?'))
    });
    // "help" and "more" are as wide, so the first pick does not change.
    let mut used = help.map_or(0, |(k, _)| cost(k, "help"));
    let mut keep = vec![false; rows.len()];
    for pinned in [true, false] {
        for (i, b) in rows.iter().enumerate() {
            let c = cost(&label(b), words(b));
            if b.pinned == pinned && used + c <= room {
                used += c;
                keep[i] = true;
            }
        }
    }
    let dropped = keep.iter().any(|k| !k);
    let mut shown: Vec<(String, &'static str, Option<Key>)> = Vec::new();
    if let Some((k, key)) = help {
        shown.push((
            k.to_owned(),
            if dropped { "more" } else { "help" },
            Some(key),
        ));
    }
    shown.extend(
        rows.iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(b, _)| (label(b), words(b), b.keys.first().map(|(k, _)| *k))),
    );
    let mut x = 1u16;
    shown
        .into_iter()
        .map(|(keys, what, key)| {
            let w =
                u16::try_from(keys.chars().count() + 1 + what.chars().count()).unwrap_or(u16::MAX);
            let hint = FooterHint {
                keys,
                what,
                columns: (x, x.saturating_add(w)),
                key,
            };
            x = x.saturating_add(w).saturating_add(SEP as u16);
            hint
        })
        .collect()
}

/// The rows of a context, as the footer and the help overlay show them.
pub fn keys(ctx: KeyContext) -> Vec<KeyHelp> {
    table(ctx)
        .into_iter()
        .map(|b| KeyHelp {
            short: b.short.map_or_else(|| b.label.clone(), str::to_owned),
            keys: b.label,
            what: b.what,
            brief: b.brief.unwrap_or(b.what),
            footer: b.footer,
            pinned: b.pinned,
        })
        .collect()
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

/// The sections of the help overlay and of docs/tui.md, in order, with
/// their titles. Every context is one, or varies one ([`section_of`]).
pub const HELP_SECTIONS: &[(&str, KeyContext)] = &[
    ("Everywhere", KeyContext::Global),
    ("Token picker", KeyContext::Tokens),
    ("Namespace picker", KeyContext::Namespaces),
    ("Secrets", KeyContext::Secrets),
    ("Filter (/)", KeyContext::Filter),
    ("Create / edit form: the value", KeyContext::Editor),
    ("Create form: the name", KeyContext::EditorName),
    ("Create form: the policy checkbox", KeyContext::EditorPolicy),
    ("Discard? (Esc with typed text)", KeyContext::Discard),
    (
        "Save these changes? (Ctrl-S in the edit form)",
        KeyContext::SaveConfirm,
    ),
    (
        "Changed meanwhile (a save finds a newer version)",
        KeyContext::Conflict,
    ),
    ("Delete confirmation", KeyContext::Delete),
    (
        "Delete confirmation, where deletes are final",
        KeyContext::DeleteForGood,
    ),
    ("Bindings (b): the input", KeyContext::BindInput),
    ("Bindings (b): the list", KeyContext::BindList),
    ("Unbind? (x in the list)", KeyContext::Unbind),
    ("Copy menu (y)", KeyContext::Copy),
    ("Value view (Enter, x)", KeyContext::Value),
    (
        "Value view: a JSON object key by key (t)",
        KeyContext::ValueKeys,
    ),
    (
        "Editing a key (e or a in the key table)",
        KeyContext::KeyEdit,
    ),
    (
        "Remove the key? (d in the key table)",
        KeyContext::KeyRemove,
    ),
    ("Find in every namespace (F, :search)", KeyContext::Search),
    ("Recently deleted (D)", KeyContext::Deleted),
    ("History (h)", KeyContext::History),
    ("Roll back? (R in the history)", KeyContext::Rollback),
    ("Help (?)", KeyContext::Help),
    ("Help search (/ in the help)", KeyContext::HelpSearch),
    ("Command line (:)", KeyContext::Command),
    ("Token refused", KeyContext::AuthProblem),
    ("Quit? (unsaved text)", KeyContext::Quit),
];

/// A docs/tui.md-style name of one key: `Ctrl-S`, `Enter`, `g`.
pub fn name(key: Key) -> String {
    let base = match key.code {
        KeyCode::Char(' ') => "Space".to_owned(),
        KeyCode::Char(c) if key.ctrl => c.to_ascii_uppercase().to_string(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Delete => "Del".into(),
        KeyCode::Backspace => "Backspace".into(),
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    };
    if key.ctrl {
        format!("Ctrl-{base}")
    } else {
        base
    }
}

/// The keys a label names, read the way a person reads it: words split at
/// spaces and `/`, and a bare letter after `Ctrl-X` is Ctrl too
/// (`Ctrl-P/N`). `type` and `+` name typed text, not keys.
pub fn parse_label(label: &str) -> Result<Vec<Key>, String> {
    let mut keys = Vec::new();
    for word in label.split_whitespace() {
        if word == "/" {
            keys.push(ch('/'));
            continue;
        }
        let mut ctrl_group = false;
        for part in word.split('/') {
            let k = match part {
                "type" | "+" => continue,
                "↑" => key(KeyCode::Up),
                "↓" => key(KeyCode::Down),
                "PgUp" => key(KeyCode::PageUp),
                "PgDn" => key(KeyCode::PageDown),
                "Home" => key(KeyCode::Home),
                "End" => key(KeyCode::End),
                "Enter" => key(KeyCode::Enter),
                "Esc" => key(KeyCode::Esc),
                "Tab" => key(KeyCode::Tab),
                "Shift-Tab" => key(KeyCode::BackTab),
                "Space" => ch(' '),
                "Del" => key(KeyCode::Delete),
                "Backspace" => key(KeyCode::Backspace),
                p if p.starts_with('F') && p.len() > 1 && p[1..].parse::<u8>().is_ok() => {
                    key(KeyCode::F(p[1..].parse().unwrap_or(0)))
                }
                p if p.starts_with("Ctrl-") && p.chars().count() == 6 => {
                    ctrl_group = true;
                    let c = p.chars().last().unwrap_or(' ');
                    ctrl(c.to_ascii_lowercase())
                }
                p if p.chars().count() == 1 => {
                    let c = p.chars().next().unwrap_or(' ');
                    if ctrl_group {
                        ctrl(c.to_ascii_lowercase())
                    } else {
                        ch(c)
                    }
                }
                other => return Err(format!("'{other}' in '{label}' names no key")),
            };
            keys.push(k);
        }
    }
    Ok(keys)
}

impl State {
    /// The keys that apply where the focus is.
    pub fn key_context(&self) -> KeyContext {
        if self.command.is_some() {
            return KeyContext::Command;
        }
        if self.help.is_some() {
            return if self.help_searching {
                KeyContext::HelpSearch
            } else {
                KeyContext::Help
            };
        }
        self.context_below_help()
    }

    /// The keys that apply under the help overlay, listed first in it.
    pub fn context_below_help(&self) -> KeyContext {
        if self.quit_confirm {
            return KeyContext::Quit;
        }
        if self.auth_problem.is_some() {
            return KeyContext::AuthProblem;
        }
        match self.screen {
            Screen::Tokens if self.tokens.back_to.is_some() => KeyContext::TokensBack,
            Screen::Tokens => KeyContext::Tokens,
            Screen::Namespaces => KeyContext::Namespaces,
            Screen::Deleted => KeyContext::Deleted,
            Screen::History if self.history.confirm.is_some() => KeyContext::Rollback,
            Screen::History => KeyContext::History,
            Screen::Secrets => match &self.dialog {
                Some(Dialog::Editor(e)) if e.confirm_discard => KeyContext::Discard,
                Some(Dialog::Editor(e)) if e.save_diff.is_some() => KeyContext::SaveConfirm,
                Some(Dialog::Editor(e)) if e.conflict.as_ref().is_some_and(|c| c.shown) => {
                    KeyContext::Conflict
                }
                Some(Dialog::Editor(e)) if e.mode != EditorMode::Create => KeyContext::EditorUpdate,
                Some(Dialog::Editor(e)) => match e.focus {
                    EditorFocus::Name => KeyContext::EditorName,
                    EditorFocus::Value => KeyContext::Editor,
                    EditorFocus::Policy => KeyContext::EditorPolicy,
                },
                Some(Dialog::Delete(d)) if d.for_good() => KeyContext::DeleteForGood,
                Some(Dialog::Delete(_)) => KeyContext::Delete,
                Some(Dialog::Bind(b)) if b.confirm_unbind.is_some() => KeyContext::Unbind,
                Some(Dialog::Bind(b)) if b.focus == BindFocus::Input => KeyContext::BindInput,
                Some(Dialog::Bind(_)) => KeyContext::BindList,
                Some(Dialog::Copy(_)) => KeyContext::Copy,
                Some(Dialog::View(v)) if v.keys.edit.is_some() => KeyContext::KeyEdit,
                Some(Dialog::View(v)) if v.keys.confirm_remove.is_some() => KeyContext::KeyRemove,
                Some(Dialog::View(v)) if !v.keys.raw && self.view_is_object(v) => {
                    KeyContext::ValueKeys
                }
                Some(Dialog::View(_)) => KeyContext::Value,
                Some(Dialog::Search(_)) => KeyContext::Search,
                None if self.secrets.filtering => KeyContext::Filter,
                None => KeyContext::Secrets,
            },
        }
    }
}
