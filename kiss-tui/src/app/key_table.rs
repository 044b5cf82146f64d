//! A JSON secret key by key, in the value view: the keys listed, each
//! value masked until `v` shows that one; `y` copies one key's value; `e`
//! edits a key (its value, or its name), `a` adds one, `d` removes one —
//! each saved as one update of the whole JSON under the version check, so
//! a change made meanwhile by someone else is never overwritten: the value
//! is read again and the typed change stays, to be applied to it.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};

use super::App;
use super::action::{Call, Effect, Sensitive};
use super::keymap::{Binding, bind, ch, key, text};
use super::line::{self, LineInput};
use super::nav::{ListNav, Move, moves};
use super::state::{Dialog, Purpose};
use crate::keyvalue::{KeyValues, Value};

/// The key table's state, inside the value view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyTable {
    /// The selected key.
    pub nav: ListNav,
    /// The keys whose value is shown.
    pub shown: BTreeSet<String>,
    /// Show the value as text instead (`t`).
    pub raw: bool,
    /// A key being edited or added.
    pub edit: Option<KeyEdit>,
    /// Asking whether to remove this key.
    pub confirm_remove: Option<String>,
    /// A change is on its way to the server.
    pub saving: bool,
}

/// Editing one key: its name and its value, one line each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyEdit {
    /// The key edited (None: a new key).
    pub original: Option<String>,
    /// The key's name.
    pub key: LineInput,
    /// Its value.
    pub value: LineInput,
    /// Whether the value field has the keyboard (else the name).
    pub on_value: bool,
    /// Why the last save did not happen; the text stays.
    pub error: Option<String>,
    /// The value was typed into.
    pub value_changed: bool,
    /// Esc was pressed once on typed text: a second one discards it.
    pub confirm_cancel: bool,
}

impl KeyEdit {
    /// Whether anything was typed that is not saved.
    pub fn is_dirty(&self) -> bool {
        match &self.original {
            Some(k) => *k != *self.key || self.value_changed,
            None => !self.key.trim().is_empty() || !self.value.is_empty(),
        }
    }
}

/// What a key does in the key table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTableCmd {
    /// Move the selection.
    Move(Move),
    /// Show or mask the selected key's value.
    Reveal,
    /// Copy the selected key's value.
    Copy,
    /// Edit the selected key.
    Edit,
    /// Add a key.
    Add,
    /// Remove the selected key (asks first).
    Remove,
    /// Show the value as text.
    Text,
    /// Back to the secrets.
    Close,
}

/// What a key does while a key is edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEditCmd {
    /// Save the change.
    Save,
    /// Between the name and the value.
    Switch,
    /// Give up the change.
    Cancel,
}

/// What a key does when asked to remove a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRemoveCmd {
    /// Remove it.
    Yes,
    /// Keep it.
    No,
}

/// The key table's keys.
pub fn keys() -> Vec<Binding<KeyTableCmd>> {
    use KeyTableCmd as K;
    let mut rows = moves(true, false, K::Move);
    rows.extend([
        bind(
            "v",
            "show/mask the key's value",
            true,
            &[ch('v')],
            K::Reveal,
        )
        .brief("show"),
        bind("y", "copy the key's value", true, &[ch('y')], K::Copy).brief("copy"),
        bind(
            "e/Enter",
            "edit the key",
            true,
            &[ch('e'), key(KeyCode::Enter)],
            K::Edit,
        )
        .short("e")
        .brief("edit"),
        bind("a", "add a key", true, &[ch('a')], K::Add).brief("add"),
        bind(
            "d/Del",
            "remove the key",
            true,
            &[ch('d'), key(KeyCode::Delete)],
            K::Remove,
        )
        .short("d")
        .brief("remove"),
        bind("t", "show the value as text", true, &[ch('t')], K::Text).brief("text"),
        bind(
            "q/Esc",
            "back to the secrets",
            true,
            &[ch('q'), key(KeyCode::Esc)],
            K::Close,
        )
        .short("Esc")
        .brief("back")
        .pinned(),
    ]);
    rows
}

/// The keys while a key is edited.
pub fn edit_keys() -> Vec<Binding<KeyEditCmd>> {
    let mut rows = vec![
        text("type", "the key's name, then its value", false),
        bind(
            "Enter",
            "save the key",
            true,
            &[key(KeyCode::Enter)],
            KeyEditCmd::Save,
        )
        .brief("save"),
        bind(
            "Tab/Shift-Tab",
            "name/value",
            true,
            &[key(KeyCode::Tab), key(KeyCode::BackTab)],
            KeyEditCmd::Switch,
        )
        .short("Tab"),
        bind(
            "Esc",
            "cancel",
            true,
            &[key(KeyCode::Esc)],
            KeyEditCmd::Cancel,
        )
        .pinned(),
    ];
    rows.extend(line::keys());
    rows
}

/// The keys when asked to remove a key.
pub fn remove_keys() -> Vec<Binding<KeyRemoveCmd>> {
    vec![
        bind("y", "remove the key", true, &[ch('y')], KeyRemoveCmd::Yes),
        bind(
            "n/Esc",
            "keep it",
            true,
            &[ch('n'), key(KeyCode::Esc)],
            KeyRemoveCmd::No,
        )
        .pinned(),
    ]
}

/// The new value of a key, kept a number, boolean or null if it was one
/// and still reads as one; else text.
fn typed_value(before: Option<&Value>, typed: &str) -> Value {
    match before {
        Some(Value::Literal(_))
            if serde_json::from_str::<serde_json::Value>(typed)
                .is_ok_and(|v| !v.is_string() && !v.is_object() && !v.is_array()) =>
        {
            Value::Literal(typed.to_owned())
        }
        _ => Value::Text(typed.to_owned()),
    }
}

impl App {
    /// The view's secret as keys, when its shown value is a JSON object.
    pub(super) fn view_object(&self) -> Option<(String, KeyValues)> {
        let Some(Dialog::View(view)) = &self.state.dialog else {
            return None;
        };
        match &self.state.secrets.revealed {
            Some((n, v)) if *n == view.name => KeyValues::from_json(v.expose())
                .ok()
                .map(|o| (view.name.clone(), o)),
            _ => None,
        }
    }

    fn key_table(&mut self) -> Option<&mut KeyTable> {
        match &mut self.state.dialog {
            Some(Dialog::View(view)) => Some(&mut view.keys),
            _ => None,
        }
    }

    pub(super) fn on_key_table(&mut self, cmd: KeyTableCmd) -> Vec<Effect> {
        let Some((name, object)) = self.view_object() else {
            return Vec::new();
        };
        let keys: Vec<String> = object.keys().map(str::to_owned).collect();
        let page = super::layout::value_view(&self.state)
            .height
            .saturating_sub(1);
        let Some(table) = self.key_table() else {
            return Vec::new();
        };
        table.nav.fit(keys.len(), usize::from(page));
        let selected = keys.get(table.nav.selected).cloned();
        match cmd {
            KeyTableCmd::Move(m) => {
                table.nav.apply(m, keys.len(), usize::from(page));
            }
            KeyTableCmd::Text => table.raw = true,
            KeyTableCmd::Close => self.state.dialog = None,
            KeyTableCmd::Add => {
                table.edit = Some(KeyEdit::default());
            }
            _ if table.saving => {}
            KeyTableCmd::Reveal | KeyTableCmd::Copy | KeyTableCmd::Edit | KeyTableCmd::Remove => {
                let Some(k) = selected else {
                    self.error(format!("'{name}' has no keys yet: press a to add one."));
                    return Vec::new();
                };
                match cmd {
                    KeyTableCmd::Reveal => {
                        // The selected key's value only: showing one masks
                        // the others again.
                        let was = table.shown.contains(&k);
                        table.shown.clear();
                        if !was {
                            table.shown.insert(k);
                        }
                    }
                    KeyTableCmd::Edit => {
                        let mut edit = KeyEdit {
                            original: Some(k.clone()),
                            on_value: true,
                            ..Default::default()
                        };
                        edit.key.set(&k);
                        edit.value
                            .set(object.get(&k).map(Value::as_text).unwrap_or_default());
                        table.edit = Some(edit);
                    }
                    KeyTableCmd::Remove => table.confirm_remove = Some(k),
                    _ => {
                        let text = Sensitive(
                            object
                                .get(&k)
                                .map(Value::as_text)
                                .unwrap_or_default()
                                .to_owned(),
                        );
                        self.copying_value(&text);
                        return vec![Effect::Copy {
                            what: format!("the value of key '{k}' of '{name}'"),
                            text,
                        }];
                    }
                }
            }
        }
        Vec::new()
    }

    pub(super) fn key_edit_text(&mut self, event: KeyEvent) {
        if let Some(edit) = self.key_table().and_then(|t| t.edit.as_mut()) {
            let field = if edit.on_value {
                &mut edit.value
            } else {
                &mut edit.key
            };
            if field.input(event) {
                edit.error = None;
                edit.confirm_cancel = false;
                if edit.on_value {
                    edit.value_changed = true;
                }
            }
        }
    }

    pub(super) fn on_key_edit(&mut self, cmd: KeyEditCmd) -> Vec<Effect> {
        let Some(table) = self.key_table() else {
            return Vec::new();
        };
        let Some(edit) = table.edit.as_mut() else {
            return Vec::new();
        };
        match cmd {
            KeyEditCmd::Switch => {
                edit.on_value = !edit.on_value;
                Vec::new()
            }
            KeyEditCmd::Cancel => {
                if edit.is_dirty() && !edit.confirm_cancel {
                    edit.confirm_cancel = true;
                    edit.error =
                        Some("Esc again throws the typed key away; Enter saves it.".into());
                } else {
                    table.edit = None;
                }
                Vec::new()
            }
            // Enter on the name goes on to the value, as in the forms.
            KeyEditCmd::Save if !edit.on_value => {
                edit.on_value = true;
                Vec::new()
            }
            KeyEditCmd::Save => self.save_key_edit(),
        }
    }

    fn save_key_edit(&mut self) -> Vec<Effect> {
        let Some((name, mut object)) = self.view_object() else {
            return Vec::new();
        };
        let Some(table) = self.key_table() else {
            return Vec::new();
        };
        if table.saving {
            return Vec::new();
        }
        let Some(edit) = table.edit.as_mut() else {
            return Vec::new();
        };
        let new_key = edit.key.trim().to_owned();
        let refuse = |edit: &mut KeyEdit, why: String| {
            edit.error = Some(why);
            Vec::new()
        };
        if new_key.is_empty() {
            edit.on_value = false;
            return refuse(edit, "A key needs a name.".into());
        }
        let before = edit
            .original
            .as_deref()
            .and_then(|k| object.get(k))
            .cloned();
        let value = typed_value(before.as_ref(), &edit.value);
        match edit.original.clone() {
            Some(old) if old != new_key => {
                if let Err(e) = object.rename(&old, &new_key) {
                    return refuse(edit, format!("Not saved: {e}."));
                }
            }
            Some(_) if before.as_ref() == Some(&value) => {
                return refuse(edit, "Nothing changed, so nothing was saved.".into());
            }
            None if object.get(&new_key).is_some() => {
                return refuse(
                    edit,
                    format!(
                        "Not saved: there is already a key '{new_key}'; press Esc and e to edit it."
                    ),
                );
            }
            _ => {}
        }
        object.set(&new_key, value);
        let what = match &edit.original {
            Some(old) if *old != new_key => format!("key '{old}' as '{new_key}'"),
            Some(_) => format!("the new value of key '{new_key}'"),
            None => format!("the new key '{new_key}'"),
        };
        table.saving = true;
        self.send_object(name, object, what)
    }

    pub(super) fn on_key_remove(&mut self, cmd: KeyRemoveCmd) -> Vec<Effect> {
        let Some((name, mut object)) = self.view_object() else {
            return Vec::new();
        };
        let Some(table) = self.key_table() else {
            return Vec::new();
        };
        let Some(k) = table.confirm_remove.take() else {
            return Vec::new();
        };
        if cmd == KeyRemoveCmd::No {
            return Vec::new();
        }
        if object.unset(&k).is_err() {
            return Vec::new();
        }
        table.saving = true;
        table.shown.remove(&k);
        self.send_object(name, object, format!("the removal of key '{k}'"))
    }

    /// One update of the whole JSON, based on the version that was read.
    fn send_object(&mut self, name: String, object: KeyValues, what: String) -> Vec<Effect> {
        let namespace = self.ns();
        let expected_version_id = self
            .state
            .secrets
            .details
            .get(&name)
            .map(|d| d.version_id.clone())
            .unwrap_or_default();
        let value = Sensitive(object.to_json());
        vec![self.call(
            Purpose::KeyUpdate {
                name: name.clone(),
                what,
                value: value.clone(),
            },
            Call::UpdateSecret {
                namespace,
                name,
                value,
                expected_version_id,
            },
        )]
    }

    /// The key change was saved: the table shows the new JSON.
    pub(super) fn key_update_saved(
        &mut self,
        name: &str,
        what: &str,
        value: Sensitive,
        version: &str,
    ) -> Vec<Effect> {
        if let Some(table) = self.key_table() {
            table.saving = false;
            table.edit = None;
        }
        if let Some((n, shown)) = &mut self.state.secrets.revealed
            && n == name
        {
            *shown = value;
        }
        if let Some(d) = self.state.secrets.details.get_mut(name) {
            d.version_id = version.to_owned();
        }
        let short: String = version.chars().take(8).collect();
        self.info(format!("Saved {what} in '{name}' (version {short})."));
        vec![self.list_call()]
    }

    /// The key change was refused. On a version conflict the value is read
    /// again, and the typed change stays to be applied to it.
    pub(super) fn key_update_failed(
        &mut self,
        name: String,
        conflict: bool,
        msg: &str,
    ) -> Vec<Effect> {
        let Some(table) = self.key_table() else {
            return Vec::new();
        };
        table.saving = false;
        let why = if conflict {
            format!(
                "Not saved: '{name}' was changed meanwhile. It is read again; press Enter to apply your change to it."
            )
        } else {
            format!("Not saved: {msg}")
        };
        match table.edit.as_mut() {
            Some(edit) => edit.error = Some(why),
            None => self.error(why),
        }
        if !conflict {
            return Vec::new();
        }
        let namespace = self.ns();
        vec![self.call(
            Purpose::Reveal(name.clone()),
            Call::GetSecret {
                namespace,
                name,
                include_value: true,
            },
        )]
    }
}
