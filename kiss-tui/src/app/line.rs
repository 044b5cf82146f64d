//! One line of typed text with a cursor and undo: the filter, the
//! namespace input and the bind input all edit through it, so the same keys
//! do the same thing in every field (the editor's text areas map the same
//! keys onto their own operations, see `editor.rs`).
//!
//! The keys are readline's, which terminal users already have in their
//! fingers: Ctrl-U deletes to the start, Ctrl-W a word, Ctrl-K to the end,
//! Ctrl-A/Ctrl-E jump, and Ctrl-Z undoes. Home/End stay the list's (top and
//! bottom) where a field filters a list.

use std::fmt;
use std::ops::Deref;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::{Binding, text};

/// How many earlier states Ctrl-Z can go back to.
const UNDO_DEPTH: usize = 100;

/// A one-line text field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineInput {
    text: String,
    /// A byte offset on a char boundary.
    cursor: usize,
    undo: Vec<(String, usize)>,
}

impl LineInput {
    /// The text before the cursor and from the cursor on, for drawing.
    pub fn split(&self) -> (&str, &str) {
        self.text.split_at(self.cursor)
    }

    /// Replaces the text (undoable) and puts the cursor at its end.
    pub fn set(&mut self, text: &str) {
        if self.text != text {
            self.remember();
            self.text = text.to_owned();
        }
        self.cursor = self.text.len();
    }

    /// Empties the field (undoable).
    pub fn clear(&mut self) {
        self.set("");
    }

    /// Inserts text at the cursor (undoable); control characters are
    /// dropped, as a field is one line of printable text.
    pub fn insert_str(&mut self, s: &str) {
        let clean: String = s.chars().filter(|c| !c.is_control()).collect();
        if clean.is_empty() {
            return;
        }
        self.remember();
        self.text.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
    }

    /// Applies an editing key. Returns whether the key was an editing key
    /// (handled, whether or not the text changed); other keys are the
    /// caller's.
    pub fn input(&mut self, event: KeyEvent) -> bool {
        let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
        let alt = event.modifiers.contains(KeyModifiers::ALT);
        match event.code {
            KeyCode::Char(c) if !ctrl && !alt => {
                let mut buf = [0; 4];
                self.insert_str(c.encode_utf8(&mut buf));
            }
            KeyCode::Char('u') if ctrl => self.delete(0, self.cursor),
            KeyCode::Char('k') if ctrl => self.delete(self.cursor, self.text.len()),
            KeyCode::Char('w') if ctrl => self.delete(self.word_start(), self.cursor),
            KeyCode::Backspace if alt || ctrl => self.delete(self.word_start(), self.cursor),
            KeyCode::Char('h') if ctrl => self.delete(self.prev(), self.cursor),
            KeyCode::Backspace => self.delete(self.prev(), self.cursor),
            KeyCode::Char('d') if ctrl => self.delete(self.cursor, self.next()),
            KeyCode::Delete => self.delete(self.cursor, self.next()),
            KeyCode::Char('z') if ctrl => self.undo(),
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Home => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.len(),
            KeyCode::End => self.cursor = self.text.len(),
            KeyCode::Char('b') if ctrl => self.cursor = self.prev(),
            KeyCode::Left if ctrl || alt => self.cursor = self.word_start(),
            KeyCode::Left => self.cursor = self.prev(),
            KeyCode::Char('f') if ctrl => self.cursor = self.next(),
            KeyCode::Right if ctrl || alt => self.cursor = self.word_end(),
            KeyCode::Right => self.cursor = self.next(),
            KeyCode::Char('b') if alt => self.cursor = self.word_start(),
            KeyCode::Char('f') if alt => self.cursor = self.word_end(),
            _ => return false,
        }
        true
    }

    /// Goes back to the text before the last change.
    pub fn undo(&mut self) {
        if let Some((text, cursor)) = self.undo.pop() {
            self.text = text;
            self.cursor = cursor;
        }
    }

    fn remember(&mut self) {
        if self.undo.len() == UNDO_DEPTH {
            self.undo.remove(0);
        }
        self.undo.push((self.text.clone(), self.cursor));
    }

    fn delete(&mut self, from: usize, to: usize) {
        if from < to {
            self.remember();
            self.text.replace_range(from..to, "");
            self.cursor = from;
        }
    }

    fn prev(&self) -> usize {
        self.text[..self.cursor]
            .char_indices()
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next(&self) -> usize {
        self.text[self.cursor..]
            .chars()
            .next()
            .map_or(self.cursor, |c| self.cursor + c.len_utf8())
    }

    /// Where the word before the cursor starts: back over separators, then
    /// over the word (a name's `-`, `_`, `.` and `/` end words, so Ctrl-W
    /// takes one part of `team-a-db-password`).
    fn word_start(&self) -> usize {
        let before = &self.text[..self.cursor];
        let mut start = before.len();
        let mut in_word = false;
        for (i, c) in before.char_indices().rev() {
            let word = is_word(c);
            if in_word && !word {
                break;
            }
            in_word |= word;
            start = i;
        }
        start
    }

    fn word_end(&self) -> usize {
        let mut end = self.cursor;
        let mut in_word = false;
        for (i, c) in self.text[self.cursor..].char_indices() {
            let word = is_word(c);
            if in_word && !word {
                break;
            }
            in_word |= word;
            end = self.cursor + i + c.len_utf8();
        }
        end
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric()
}

impl Deref for LineInput {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for LineInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl PartialEq<str> for LineInput {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for LineInput {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl From<&str> for LineInput {
    fn from(s: &str) -> LineInput {
        let mut l = LineInput::default();
        l.insert_str(s);
        l.undo.clear();
        l
    }
}

/// The help rows of a one-line field's editing keys, the same in every
/// field's table.
pub fn keys<C>() -> Vec<Binding<C>> {
    vec![
        text("←/→ Ctrl-A/E", "move in the text", false),
        text("Backspace/Del", "delete a character", false),
        text("Ctrl-W", "delete the word before the cursor", false),
        text("Ctrl-U/Ctrl-K", "delete to the start / to the end", false),
        text("Ctrl-Z", "undo", false),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }
    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }
    fn typed(s: &str) -> LineInput {
        let mut l = LineInput::default();
        for c in s.chars() {
            l.input(key(KeyCode::Char(c)));
        }
        l
    }

    #[test]
    fn typing_inserts_at_the_cursor() {
        let mut l = typed("tem-a");
        l.input(key(KeyCode::Home));
        l.input(key(KeyCode::Right));
        l.input(key(KeyCode::Right));
        l.input(key(KeyCode::Char('a')));
        assert_eq!(l, "team-a");
        assert_eq!(l.split(), ("tea", "m-a"));
    }

    #[test]
    fn ctrl_w_deletes_one_part_of_a_name_and_ctrl_z_brings_it_back() {
        let mut l = typed("team-a-db-password");
        l.input(ctrl('w'));
        assert_eq!(l, "team-a-db-");
        l.input(ctrl('w'));
        assert_eq!(l, "team-a-");
        l.input(ctrl('z'));
        assert_eq!(l, "team-a-db-");
        l.input(ctrl('z'));
        assert_eq!(l, "team-a-db-password");
    }

    #[test]
    fn ctrl_u_and_ctrl_k_delete_either_side_of_the_cursor() {
        let mut l = typed("team-a");
        l.input(key(KeyCode::Left));
        l.input(key(KeyCode::Left));
        let mut m = l.clone();
        l.input(ctrl('u'));
        assert_eq!(l, "-a");
        assert_eq!(l.split(), ("", "-a"));
        m.input(ctrl('k'));
        assert_eq!(m, "team");
    }

    #[test]
    fn backspace_and_delete_respect_multibyte_characters() {
        let mut l = typed("zé🔑x");
        l.input(key(KeyCode::Left));
        l.input(key(KeyCode::Backspace));
        assert_eq!(l, "zéx");
        l.input(key(KeyCode::Home));
        l.input(key(KeyCode::Delete));
        assert_eq!(l, "éx");
        l.input(key(KeyCode::Delete));
        l.input(key(KeyCode::Delete));
        l.input(key(KeyCode::Delete));
        assert_eq!(l, "");
        // Nothing left to delete: no panic, and nothing to undo recorded.
        l.input(key(KeyCode::Backspace));
        l.input(ctrl('z'));
        assert_eq!(l, "x");
    }

    #[test]
    fn pasted_control_characters_are_dropped() {
        let mut l = LineInput::default();
        l.insert_str("a\tb\u{1b}[31mc");
        assert_eq!(l, "ab[31mc");
    }

    #[test]
    fn undo_is_bounded() {
        let mut l = LineInput::default();
        for _ in 0..(UNDO_DEPTH * 3) {
            l.input(key(KeyCode::Char('x')));
        }
        assert_eq!(l.undo.len(), UNDO_DEPTH);
    }

    #[test]
    fn other_keys_are_left_to_the_caller() {
        let mut l = typed("a");
        assert!(!l.input(key(KeyCode::Enter)));
        assert!(!l.input(key(KeyCode::Esc)));
        assert!(!l.input(key(KeyCode::Up)));
        assert!(!l.input(ctrl('s')));
        assert_eq!(l, "a");
    }
}
