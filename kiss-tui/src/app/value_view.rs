//! The read-only view of a secret's value (Enter; `x` reads the value at
//! once, as k9s does): full-screen, scrollable, with line numbers and
//! control characters written as what they are (ESC as `^[`), so a value
//! can neither hide bytes nor drive the terminal. The value stays masked
//! until `v`, as everywhere; `e` edits it, `y` copies.

use crossterm::event::KeyCode;

use super::key_table::KeyTable;
use super::keymap::{Binding, bind, ch, key};
use super::nav::scroll_keys;
use super::secrets::SecretsCmd;
use super::state::Dialog;
use super::{App, Effect, layout};

/// The view's state: which secret, and how far it is scrolled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueView {
    /// The secret shown.
    pub name: String,
    /// The first line on screen.
    pub scroll: usize,
    /// A JSON object's keys, one by one.
    pub keys: KeyTable,
}

/// What a key does in the value view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueCmd {
    /// Scroll by this many lines (negative: up).
    Scroll(i8),
    /// Scroll by this many halves of the visible height (negative: up).
    Halves(i8),
    /// To the first line.
    Top,
    /// To the last page.
    Bottom,
    /// Reveal or hide the value.
    Reveal,
    /// Edit the value.
    Edit,
    /// Open the copy menu.
    Copy,
    /// Show a JSON object's keys one by one.
    Keys,
    /// Back to the secrets.
    Close,
}

/// The value view's keys.
pub fn keys() -> Vec<Binding<ValueCmd>> {
    use ValueCmd as V;
    let mut rows =
        vec![bind("v", "reveal/hide value", true, &[ch('v')], V::Reveal).brief("reveal")];
    rows.extend(scroll_keys(V::Scroll, V::Halves, V::Top, V::Bottom));
    rows.extend([
        bind("e", "edit value", true, &[ch('e')], V::Edit).brief("edit"),
        bind("y", "copy…", true, &[ch('y')], V::Copy),
        bind(
            "t",
            "show a JSON object key by key",
            true,
            &[ch('t')],
            V::Keys,
        )
        .brief("keys"),
        bind(
            "q/Esc/Enter",
            "back to the secrets",
            true,
            &[ch('q'), key(KeyCode::Esc), key(KeyCode::Enter)],
            V::Close,
        )
        .short("Esc")
        .brief("back")
        .pinned(),
    ]);
    rows
}

/// `line` with every control character written visibly: C0 controls and
/// DEL in caret notation (ESC as `^[`, tab as `^I`, CR as `^M`), C1
/// controls as `<U+0085>`. Nothing the terminal would act on is left.
pub fn visible(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\u{0}'..='\u{1f}' => {
                out.push('^');
                out.push(char::from(b'@' + c as u8));
            }
            '\u{7f}' => out.push_str("^?"),
            '\u{80}'..='\u{9f}' => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A value's lines as the views show them; a final newline ends the last
/// line rather than starting an empty one.
pub fn lines(value: &str) -> Vec<String> {
    let body = value.strip_suffix('\n').unwrap_or(value);
    body.split('\n').map(visible).collect()
}

/// One screen row of the value view: the line number on a line's first
/// row (wrapped rows have none), and the text.
pub type DisplayRow = (Option<usize>, String);

/// The columns the line numbers take, with their separator.
pub fn gutter_width(lines: usize) -> usize {
    lines.max(1).to_string().len() + 3
}

/// A value as the view's rows, wrapped to the `width` of the view's
/// inside, so scrolling counts what is on screen and reaches the end.
pub fn display_rows(value: &str, width: usize) -> Vec<DisplayRow> {
    let lines = lines(value);
    let room = width.saturating_sub(gutter_width(lines.len())).max(1);
    let mut rows = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        if chars.is_empty() {
            rows.push((Some(i + 1), String::new()));
            continue;
        }
        for (j, piece) in chars.chunks(room).enumerate() {
            rows.push(((j == 0).then_some(i + 1), piece.iter().collect()));
        }
    }
    rows
}

impl App {
    /// Opens the view of `name`; `reveal` also reads its value.
    pub(super) fn open_view(&mut self, name: String, reveal: bool) -> Vec<Effect> {
        self.state.dialog = Some(Dialog::View(ValueView {
            name: name.clone(),
            scroll: 0,
            keys: KeyTable::default(),
        }));
        if reveal && !self.state.secrets.is_revealed(&name) {
            return self.toggle_reveal(name);
        }
        Vec::new()
    }

    pub(super) fn on_value_view(&mut self, cmd: ValueCmd) -> Vec<Effect> {
        let Some(Dialog::View(view)) = &self.state.dialog else {
            return Vec::new();
        };
        let name = view.name.clone();
        let inside = layout::value_view(&self.state);
        let total = match &self.state.secrets.revealed {
            Some((n, v)) if *n == name => display_rows(v.expose(), usize::from(inside.width)).len(),
            _ => 0,
        };
        let rows = usize::from(inside.height);
        let last = total.saturating_sub(rows);
        let half = (rows / 2).max(1);
        let scroll = view.scroll;
        let moved = match cmd {
            ValueCmd::Scroll(by) => scroll.saturating_add_signed(isize::from(by)),
            ValueCmd::Halves(n) => scroll.saturating_add_signed(isize::from(n) * half as isize),
            ValueCmd::Top => 0,
            ValueCmd::Bottom => last,
            ValueCmd::Reveal => return self.toggle_reveal(name),
            ValueCmd::Edit => {
                self.state.dialog = None;
                return self.on_selected(SecretsCmd::Edit, name);
            }
            ValueCmd::Copy => {
                self.state.dialog = None;
                return self.on_selected(SecretsCmd::Copy, name);
            }
            ValueCmd::Close => {
                self.state.dialog = None;
                return Vec::new();
            }
            ValueCmd::Keys => {
                let is_object = self.view_object().is_some();
                if let Some(Dialog::View(view)) = &mut self.state.dialog {
                    if is_object {
                        view.keys.raw = false;
                    } else {
                        let read = self.state.secrets.is_revealed(&view.name);
                        self.error(if read {
                            format!("'{name}' is not a JSON object: it has no keys.")
                        } else {
                            "The value is hidden: v reads it, then t shows a JSON object's keys."
                                .to_owned()
                        });
                    }
                }
                return Vec::new();
            }
        };
        if let Some(Dialog::View(view)) = &mut self.state.dialog {
            view.scroll = moved.min(last);
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(visible("a\u{1b}[31mred"), "a^[[31mred");
        assert_eq!(visible("tab\there\r"), "tab^Ihere^M");
        assert_eq!(visible("nul\u{0} del\u{7f}"), "nul^@ del^?");
        assert_eq!(visible("c1\u{85}"), "c1<U+0085>");
        assert_eq!(visible("ünïcode ✓"), "ünïcode ✓");
        assert_eq!(lines("a\nb\n"), ["a", "b"]);
        assert_eq!(lines("a\n\n"), ["a", ""]);
        assert_eq!(lines(""), [""]);
    }
}
