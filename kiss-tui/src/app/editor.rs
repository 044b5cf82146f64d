//! The create / update form: a name checked as it is typed, a multi-line
//! value editor, and the read-policy checkbox. Typed text is never thrown
//! away without asking, and never by an error.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use kiss_proto::names::validate_secret_name;
use ratatui_textarea::{CursorMove, TextArea};

use super::App;
use super::action::{Call, Effect, Sensitive};
use super::conflict::{Conflict, diff_rows, scrolled};
use super::keymap::{Binding, bind, ch, ctrl, key, text};
use super::nav::{Move, moves};
use super::state::{Dialog, Purpose};

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
    /// Asking to confirm a save: what it changes.
    pub save_diff: Option<SaveConfirm>,
    /// Someone else saved a version after the editor opened.
    pub conflict: Option<Conflict>,
    /// Ctrl-V was pressed: the next key is typed as it is (Tab as a tab).
    pub literal_next: bool,
    /// The user's editor opens once the value has loaded (`E`).
    pub external_pending: bool,
    /// A value that was a JSON object and no longer parses, which the
    /// user was told about: Ctrl-S again on this text saves it.
    pub json_warned: Option<String>,
    /// Create: the value is typed as `KEY=value` lines and saved as a JSON
    /// object (Ctrl-T), else as the text it is.
    pub key_value: bool,
}

/// "Save these changes?": the diff a save makes, scrolled as the user reads.
#[derive(Debug, Clone)]
pub struct SaveConfirm {
    /// What the save changes.
    pub diff: crate::diff::Diff,
    /// Against their version after a conflict (else the version opened).
    pub over_theirs: bool,
    /// The first diff line on screen.
    pub scroll: usize,
}

impl SaveConfirm {
    fn scroll(&mut self, m: Move) {
        self.scroll = scrolled(self.scroll, m, diff_rows(&self.diff));
    }
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

/// A text area set up the way the editor wants it.
pub fn text_area(lines: Vec<String>) -> TextArea<'static> {
    let mut t = TextArea::new(lines);
    t.set_max_histories(200);
    t.set_tab_length(2);
    t
}

/// A textarea holding `text`, lines split at `\n` so that joining them with
/// `\n` gives `text` back exactly.
pub fn text_area_with(text: &str) -> TextArea<'static> {
    let mut t = text_area(text.split('\n').map(str::to_owned).collect());
    t.move_cursor(CursorMove::Bottom);
    t.move_cursor(CursorMove::End);
    t
}

fn new_editor(mode: EditorMode) -> Editor {
    let create = mode == EditorMode::Create;
    let mut ed = Editor {
        loading: !create,
        mode,
        name: text_area(Vec::new()),
        name_error: None,
        value: text_area(Vec::new()),
        with_policy: false,
        focus: if create {
            EditorFocus::Name
        } else {
            EditorFocus::Value
        },
        saving: false,
        error: None,
        confirm_discard: false,
        original: String::new(),
        save_diff: None,
        conflict: None,
        literal_next: false,
        external_pending: false,
        json_warned: None,
        key_value: false,
    };
    restyle(&mut ed);
    ed
}

/// Shows the cursor only in the focused text area.
pub fn restyle(ed: &mut Editor) {
    use ratatui::style::{Modifier, Style};
    let on = Style::new().add_modifier(Modifier::REVERSED);
    let off = Style::new();
    for (area, focus) in [
        (&mut ed.name, EditorFocus::Name),
        (&mut ed.value, EditorFocus::Value),
    ] {
        area.set_cursor_line_style(Style::new());
        area.set_cursor_style(if ed.focus == focus { on } else { off });
    }
}

/// What a key does in the create / update form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorCmd {
    /// Send the form.
    Save,
    /// Close the form, asking first if text would be lost.
    Cancel,
    /// The next field (create only).
    NextField,
    /// The previous field (create only).
    PrevField,
    /// From the name or the checkbox to the value.
    ToValue,
    /// Undo in the value.
    Undo,
    /// Tick or untick the read-policy checkbox.
    Toggle,
    /// Type the next key as it is (Ctrl-V Tab types a tab).
    Literal,
    /// Edit the value in `$VISUAL`/`$EDITOR`.
    External,
    /// Create: switch between a text value and `KEY=value` lines.
    Kind,
}

/// The form's keys where the focus is; `None` for the update form, whose
/// one field is the value. What no row holds is typed into the field.
pub fn keys(focus: Option<EditorFocus>) -> Vec<Binding<EditorCmd>> {
    use EditorCmd as E;
    let mut rows = vec![bind("Ctrl-S", "save", true, &[ctrl('s')], E::Save)];
    if focus.is_some() {
        rows.push(Binding {
            label: "Tab/Shift-Tab".into(),
            what: "next field",
            footer: true,
            short: None,
            brief: None,
            pinned: false,
            keys: vec![
                (key(KeyCode::Tab), E::NextField),
                (key(KeyCode::BackTab), E::PrevField),
            ],
        });
    }
    match focus {
        Some(EditorFocus::Name) => rows.extend([
            text("type", "the name, checked as typed", false),
            bind(
                "Enter/↓",
                "to the value",
                true,
                &[key(KeyCode::Enter), key(KeyCode::Down)],
                E::ToValue,
            ),
        ]),
        Some(EditorFocus::Policy) => rows.extend([
            bind(
                "Space/x/Enter",
                "toggle checkbox",
                true,
                &[ch(' '), ch('x'), key(KeyCode::Enter)],
                E::Toggle,
            )
            .short("Space"),
            bind("↑", "to the value", false, &[key(KeyCode::Up)], E::ToValue),
        ]),
        Some(EditorFocus::Value) | None => rows.extend([
            text("Enter", "new line", true),
            bind("Ctrl-Z", "undo", false, &[ctrl('z')], E::Undo),
            text("Ctrl-R", "redo", false),
            bind(
                "Ctrl-V",
                "type the next key as it is (Ctrl-V Tab: a tab)",
                false,
                &[ctrl('v')],
                E::Literal,
            ),
            bind(
                "Ctrl-O",
                "edit in $VISUAL/$EDITOR",
                false,
                &[ctrl('o')],
                E::External,
            ),
        ]),
    }
    if focus.is_some() {
        rows.push(
            bind(
                "Ctrl-T",
                "new secret: text, or KEY=value lines saved as JSON",
                true,
                &[ctrl('t')],
                E::Kind,
            )
            .brief("text/keys"),
        );
    }
    if focus != Some(EditorFocus::Policy) {
        // The keys every text field shares (see line.rs).
        rows.extend([
            text("Ctrl-U/Ctrl-K", "delete to line start/end", false),
            text("Ctrl-W", "delete a word", false),
            text("Ctrl-A/Ctrl-E", "to line start/end", false),
        ]);
    }
    rows.push(bind("Esc", "cancel", true, &[key(KeyCode::Esc)], E::Cancel).pinned());
    rows
}

/// What a key does when asked to confirm a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveConfirmCmd {
    /// Save.
    Save,
    /// Back to the editor, text as it is.
    Back,
    /// Scroll the diff.
    Scroll(Move),
}

/// The keys of "Save these changes?".
pub fn save_confirm_keys() -> Vec<Binding<SaveConfirmCmd>> {
    vec![
        bind(
            "y/Ctrl-S",
            "save",
            true,
            &[ch('y'), ctrl('s')],
            SaveConfirmCmd::Save,
        ),
        bind(
            "n/Esc",
            "keep editing",
            true,
            &[ch('n'), key(KeyCode::Esc)],
            SaveConfirmCmd::Back,
        ),
    ]
    .into_iter()
    .chain(moves(true, false, SaveConfirmCmd::Scroll))
    .collect()
}

/// What a key does when asked whether to throw typed text away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscardCmd {
    /// Close the form, text and all.
    Discard,
    /// Back to the form.
    Keep,
}

/// The keys of "Discard?".
pub fn discard_keys() -> Vec<Binding<DiscardCmd>> {
    vec![
        bind(
            "y/Y",
            "discard typed text",
            true,
            &[ch('y'), ch('Y')],
            DiscardCmd::Discard,
        )
        .short("y"),
        bind(
            "n/N/Esc",
            "keep editing",
            true,
            &[ch('n'), ch('N'), key(KeyCode::Esc)],
            DiscardCmd::Keep,
        )
        .short("n/Esc"),
    ]
}

impl App {
    pub(super) fn open_create(&mut self) {
        self.state.dialog = Some(Dialog::Editor(Box::new(new_editor(EditorMode::Create))));
    }

    pub(super) fn open_update(&mut self, name: String) -> Vec<Effect> {
        self.state.dialog = Some(Dialog::Editor(Box::new(new_editor(EditorMode::Update {
            name: name.clone(),
            base_version: String::new(),
        }))));
        let namespace = self.ns();
        vec![self.call(
            Purpose::EditLoad(name.clone()),
            Call::GetSecret {
                namespace,
                name,
                include_value: true,
            },
        )]
    }

    pub(super) fn editor(&mut self) -> Option<&mut Editor> {
        match &mut self.state.dialog {
            Some(Dialog::Editor(e)) => Some(e),
            _ => None,
        }
    }

    pub(super) fn on_editor(&mut self, cmd: EditorCmd) -> Vec<Effect> {
        let effects = self.editor_command(cmd);
        if let Some(ed) = self.editor() {
            restyle(ed);
        }
        effects
    }

    fn editor_command(&mut self, cmd: EditorCmd) -> Vec<Effect> {
        let Some(ed) = self.editor() else {
            return Vec::new();
        };
        // Ctrl-V holds for the next key only, whatever it does.
        if !matches!(
            cmd,
            EditorCmd::Literal | EditorCmd::NextField | EditorCmd::PrevField
        ) {
            ed.literal_next = false;
        }
        match cmd {
            // Asked while the value loads, the editor opens once it is here.
            EditorCmd::External => return self.edit_externally(),
            EditorCmd::Save => return self.save(),
            EditorCmd::Cancel => {
                if ed.saving {
                    self.info(
                        "Saving… the answer is on its way; your text stays until it arrives.",
                    );
                } else if ed.is_dirty() {
                    ed.confirm_discard = true;
                } else {
                    self.state.dialog = None;
                }
                return Vec::new();
            }
            _ => {}
        }
        if ed.loading || ed.saving {
            return Vec::new();
        }
        match cmd {
            EditorCmd::Save | EditorCmd::Cancel => {}
            // After Ctrl-V, Tab is a character of the value.
            EditorCmd::NextField | EditorCmd::PrevField
                if ed.literal_next && ed.focus == EditorFocus::Value =>
            {
                ed.literal_next = false;
                ed.value.insert_char('\t');
            }
            EditorCmd::Literal => ed.literal_next = ed.focus == EditorFocus::Value,
            EditorCmd::External => {}
            EditorCmd::Kind => ed.key_value = !ed.key_value,
            EditorCmd::NextField => {
                ed.focus = match ed.focus {
                    EditorFocus::Name => EditorFocus::Value,
                    EditorFocus::Value => EditorFocus::Policy,
                    EditorFocus::Policy => EditorFocus::Name,
                };
            }
            EditorCmd::PrevField => {
                ed.focus = match ed.focus {
                    EditorFocus::Name => EditorFocus::Policy,
                    EditorFocus::Value => EditorFocus::Name,
                    EditorFocus::Policy => EditorFocus::Value,
                };
            }
            EditorCmd::ToValue => ed.focus = EditorFocus::Value,
            EditorCmd::Undo => {
                ed.value.undo();
            }
            EditorCmd::Toggle => ed.with_policy = !ed.with_policy,
        }
        Vec::new()
    }

    /// Keys no table holds go to the focused text area: characters, and
    /// the editing keys every text field shares (see line.rs), mapped onto
    /// the text area's operations; the rest are the text area's own.
    pub(super) fn editor_text(&mut self, event: KeyEvent) {
        let Some(ed) = self.editor() else { return };
        if ed.loading || ed.saving {
            return;
        }
        let ctrl_key = event.modifiers.contains(KeyModifiers::CONTROL);
        if std::mem::take(&mut ed.literal_next) && ed.focus == EditorFocus::Value && !ctrl_key {
            match event.code {
                KeyCode::Tab => ed.value.insert_char('\t'),
                KeyCode::Char(c) => ed.value.insert_char(c),
                KeyCode::Enter => ed.value.insert_newline(),
                _ => {}
            }
            ed.error = None;
            restyle(ed);
            return;
        }
        // A tab in a secret value is far more often a field switch gone
        // wrong (the update form has one field) than meant: Ctrl-V Tab
        // types one.
        if matches!(event.code, KeyCode::Tab | KeyCode::BackTab) {
            return;
        }
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let area = match ed.focus {
            EditorFocus::Name => &mut ed.name,
            EditorFocus::Value => &mut ed.value,
            EditorFocus::Policy => return,
        };
        // Ctrl-U deletes to the line's start, as in the one-line fields and
        // readline, not the text area's own undo (Ctrl-Z undoes).
        if ctrl && event.code == KeyCode::Char('u') {
            if area.delete_line_by_head() {
                ed.error = None;
            }
            if ed.focus == EditorFocus::Name {
                revalidate_name(ed);
            }
            restyle(ed);
            return;
        }
        let changed = match ed.focus {
            EditorFocus::Name => {
                let changed = ed.name.input(event);
                if changed {
                    // A name is one line; the text area would take Ctrl-M.
                    if ed.name.lines().len() > 1 {
                        let joined = ed.name.lines().join("");
                        ed.name = text_area_with(&joined);
                    }
                    revalidate_name(ed);
                }
                changed
            }
            EditorFocus::Value => ed.value.input(event),
            EditorFocus::Policy => false,
        };
        // A save's error is about the text as it was: changing it moves on.
        if changed {
            ed.error = None;
        }
        restyle(ed);
    }

    pub(super) fn on_save_confirm(&mut self, cmd: SaveConfirmCmd) -> Vec<Effect> {
        let Some(ed) = self.editor() else {
            return Vec::new();
        };
        match cmd {
            SaveConfirmCmd::Save => {
                ed.save_diff = None;
                self.send_save()
            }
            SaveConfirmCmd::Back => {
                ed.save_diff = None;
                Vec::new()
            }
            SaveConfirmCmd::Scroll(m) => {
                if let Some(c) = ed.save_diff.as_mut() {
                    c.scroll(m);
                }
                Vec::new()
            }
        }
    }

    pub(super) fn on_discard(&mut self, cmd: DiscardCmd) {
        let Some(ed) = self.editor() else { return };
        match cmd {
            DiscardCmd::Discard => self.state.dialog = None,
            DiscardCmd::Keep => ed.confirm_discard = false,
        }
    }

    pub(super) fn editor_paste(&mut self, text: &str) {
        let Some(ed) = self.editor() else { return };
        if ed.loading
            || ed.saving
            || ed.confirm_discard
            || ed.save_diff.is_some()
            || ed.conflict.as_ref().is_some_and(|c| c.shown)
        {
            return;
        }
        match ed.focus {
            EditorFocus::Name => {
                // A surrounding newline is a copying accident; lines inside
                // are not a name, and keeping only one would be a guess.
                let trimmed = text.trim();
                if trimmed.contains('\n') {
                    let lines = trimmed.lines().count();
                    self.error(format!(
                        "Not pasted: a name is one line and the clipboard holds {lines}. Copy just the name, or press Tab and paste into the value."
                    ));
                    return;
                }
                ed.name.insert_str(trimmed);
                ed.error = None;
                revalidate_name(ed);
            }
            EditorFocus::Value => {
                ed.value.insert_str(text);
                ed.error = None;
            }
            EditorFocus::Policy => {}
        }
    }

    /// Ctrl-S: an update that changes nothing is not sent; one that does
    /// shows its diff first unless the settings say not to ask. After a
    /// conflict the diff is against their version, which the save replaces.
    fn save(&mut self) -> Vec<Effect> {
        let confirm = self.state.confirm_save;
        let Some(ed) = self.editor() else {
            return Vec::new();
        };
        if ed.saving || ed.loading {
            return Vec::new();
        }
        let EditorMode::Update { name, .. } = &ed.mode else {
            return self.send_save();
        };
        let name = name.clone();
        let text = ed.value_text();
        let theirs = match &ed.conflict {
            Some(c) => match c.theirs_text() {
                Some(t) => Some((t.to_owned(), c.version.clone())),
                None if c.error.is_none() => {
                    self.info(format!(
                        "Reading the version of '{name}' saved meanwhile; wait a moment."
                    ));
                    return Vec::new();
                }
                // Their version could not be read: save against the base
                // again, which finds the conflict again and retries the read.
                None => None,
            },
            None => None,
        };
        if theirs.is_none() {
            ed.conflict = None;
        }
        // A JSON object that no longer parses breaks every consumer that
        // reads its keys: say where, and save only when asked again.
        if crate::keyvalue::KeyValues::from_json(&ed.original).is_ok()
            && ed.json_warned.as_deref() != Some(text.as_str())
            && let Err(e) = crate::keyvalue::KeyValues::from_json(&text)
        {
            ed.error = Some(format!(
                "'{name}' was a JSON object and no longer is one: {e}. Consumers that read its keys would break. Fix it, or press Ctrl-S again to save it as it is."
            ));
            ed.json_warned = Some(text);
            return Vec::new();
        }
        let (against, over_theirs) = match theirs {
            Some((theirs, version)) if theirs == text => {
                // The same text as theirs: nothing to write, and their
                // version is the one the edit now starts from.
                ed.original = theirs;
                ed.conflict = None;
                if let EditorMode::Update { base_version, .. } = &mut ed.mode {
                    *base_version = version;
                }
                self.info(format!(
                    "Your text is the same as the version of '{name}' saved meanwhile, so nothing was saved."
                ));
                return Vec::new();
            }
            Some((theirs, _)) => (theirs, true),
            None if text == ed.original => {
                self.info(format!(
                    "Nothing changed in '{name}', so nothing was saved."
                ));
                return Vec::new();
            }
            None => (ed.original.clone(), false),
        };
        if confirm {
            ed.save_diff = Some(SaveConfirm {
                diff: crate::diff::diff(&against, &text),
                over_theirs,
                scroll: 0,
            });
            return Vec::new();
        }
        self.send_save()
    }

    pub(super) fn send_save(&mut self) -> Vec<Effect> {
        let namespace = self.ns();
        let Some(ed) = self.editor() else {
            return Vec::new();
        };
        let mut value = Sensitive(ed.value_text());
        // Key/value: the lines become one JSON object, or say where not.
        if ed.mode == EditorMode::Create && ed.key_value {
            match crate::keyvalue::KeyValues::from_dotenv(value.expose()) {
                Ok(object) if !object.is_empty() => value = Sensitive(object.to_json()),
                Ok(_) => {
                    ed.error = Some(
                        "Not saved: no KEY=value line yet. Type one per line, or Ctrl-T to save the text as it is."
                            .into(),
                    );
                    ed.focus = EditorFocus::Value;
                    return Vec::new();
                }
                Err(e) => {
                    ed.error = Some(format!(
                        "Not saved: {e}. Fix the line, or Ctrl-T to save the text as it is."
                    ));
                    ed.focus = EditorFocus::Value;
                    return Vec::new();
                }
            }
        }
        match ed.mode.clone() {
            EditorMode::Create => {
                let name = ed.name_text();
                revalidate_name(ed);
                if let Some(why) = &ed.name_error {
                    ed.error = Some(format!("Fix the name first: {why}"));
                    ed.focus = EditorFocus::Name;
                    return Vec::new();
                }
                ed.saving = true;
                ed.error = None;
                let with_policy = ed.with_policy;
                vec![self.call(
                    Purpose::Create {
                        name: name.clone(),
                        with_policy,
                    },
                    Call::CreateSecret {
                        namespace,
                        name,
                        value,
                    },
                )]
            }
            EditorMode::Update { name, base_version } => {
                ed.saving = true;
                ed.error = None;
                // After a conflict the save overwrites their version, on
                // purpose: it is the one expected now.
                let expected_version_id = match &ed.conflict {
                    Some(c) if c.theirs.is_some() => c.version.clone(),
                    _ => base_version,
                };
                vec![self.call(
                    Purpose::Update(name.clone()),
                    Call::UpdateSecret {
                        namespace,
                        name,
                        value,
                        expected_version_id,
                    },
                )]
            }
        }
    }
}

/// Checks the typed name against kiss-proto's rules.
fn revalidate_name(ed: &mut Editor) {
    let name = ed.name_text();
    ed.name_error = validate_secret_name(&name).err().map(|e| e.to_string());
}
