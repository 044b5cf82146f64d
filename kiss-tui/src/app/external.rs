//! Editing a value in the user's own editor (`$VISUAL`, else `$EDITOR`),
//! as `git commit` and `kubectl edit` do: `E` on a secret, or Ctrl-O in
//! the form. The app only asks for it; the runtime suspends the screen,
//! runs the editor on a private temporary file and hands the text back.
//! The text lands in the update form, so saving it is the form's usual
//! save: the diff, the version check, and nothing written until Ctrl-S.

use super::App;
use super::action::{Effect, Sensitive};
use super::editor::{restyle, text_area_with};
use super::state::{EditorFocus, EditorMode};

/// What the editor left, as the value to save: an editor adds a final
/// newline to every file it writes, which the value did not have, and one
/// set to DOS line ends writes `\r\n` where the value had `\n`.
pub fn settle(original: &str, edited: String) -> String {
    let edited = if original.contains('\r') {
        edited
    } else {
        edited.replace("\r\n", "\n")
    };
    match edited.strip_suffix('\n') {
        Some(trimmed) if !original.ends_with('\n') => trimmed.to_owned(),
        _ => edited,
    }
}

impl App {
    /// Sends the form's value to the user's editor.
    pub(super) fn edit_externally(&mut self) -> Vec<Effect> {
        let Some(ed) = self.editor() else {
            return Vec::new();
        };
        if ed.loading {
            // The value is on its way: the editor opens once it is here.
            ed.external_pending = true;
            return Vec::new();
        }
        if ed.saving {
            return Vec::new();
        }
        ed.external_pending = false;
        vec![Effect::EditExternally {
            text: Sensitive(ed.value_text()),
        }]
    }

    /// The user's editor exited: its text goes into the form, unsaved.
    pub(super) fn on_edited_externally(&mut self, result: Result<Sensitive, String>) {
        let Some(ed) = self.editor() else { return };
        match result {
            Ok(text) => {
                let before = ed.value_text();
                let text = settle(&before, text.0);
                if text == before {
                    self.info("Nothing changed in the editor.");
                    return;
                }
                ed.value = text_area_with(&text);
                ed.error = None;
                ed.focus = EditorFocus::Value;
                restyle(ed);
                let what = match ed.mode {
                    EditorMode::Create => "Ctrl-S creates it",
                    EditorMode::Update { .. } => {
                        "Ctrl-S saves it, checked against the version you opened"
                    }
                };
                self.info(format!("Edited in your editor: {what}."));
            }
            Err(e) => self.error(format!("{e} Your text in the form is unchanged.")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::settle;

    #[test]
    fn the_final_newline_an_editor_adds_is_dropped_only_if_the_value_had_none() {
        assert_eq!(settle("a", "a\n".into()), "a");
        assert_eq!(settle("a", "b\n".into()), "b");
        assert_eq!(settle("a\n", "b\n".into()), "b\n");
        assert_eq!(settle("a", "b\n\n".into()), "b\n");
        assert_eq!(settle("a", "b".into()), "b");
        assert_eq!(settle("a\nb", "a\r\nc\r\n".into()), "a\nc");
        assert_eq!(settle("a\r\nb", "a\r\nc".into()), "a\r\nc");
    }
}
