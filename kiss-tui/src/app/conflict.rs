//! A version conflict on save: someone else changed the secret after the
//! editor opened it. The editor keeps the user's text and shows what the
//! other person changed (theirs against the value the edit started from)
//! and what saving over it would do (theirs against the text now), then
//! lets the user keep editing, take theirs into the editor, or overwrite.
//! Values are masked until `v`, as in every diff.

use crossterm::event::KeyCode;

use super::App;
use super::action::{Effect, Sensitive};
use super::editor::{Editor, EditorMode};
use super::keymap::{Binding, bind, ch, key};
use super::nav::{Move, moves};
use crate::diff::{self, Diff};

/// The version another person saved while the editor was open.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// Its version id: what an overwrite names as expected.
    pub version: String,
    /// Its value; `None` until it is read.
    pub theirs: Option<Sensitive>,
    /// What they changed: the value the edit started from against theirs.
    pub theirs_vs_base: Diff,
    /// What saving the text now would change: theirs against it.
    pub theirs_vs_mine: Diff,
    /// Whether the conflict panel is up (else the user is editing on).
    pub shown: bool,
    /// Whether values are shown (else masked).
    pub revealed: bool,
    /// The first line of the panel on screen.
    pub scroll: usize,
    /// Why their version could not be read, if it could not.
    pub error: Option<String>,
}

impl Conflict {
    /// A conflict whose other version is still being read.
    pub fn pending() -> Conflict {
        Conflict {
            version: String::new(),
            theirs: None,
            theirs_vs_base: Diff::default(),
            theirs_vs_mine: Diff::default(),
            shown: true,
            revealed: false,
            scroll: 0,
            error: None,
        }
    }

    /// Their value as text, once read.
    pub fn theirs_text(&self) -> Option<&str> {
        self.theirs.as_ref().map(Sensitive::expose)
    }

    /// The two diffs, computed once per change of the text rather than on
    /// every frame.
    pub fn refresh(&mut self, base: &str, mine: &str) {
        if let Some(theirs) = self.theirs.as_ref().map(|t| t.expose().to_owned()) {
            self.theirs_vs_base = diff::diff(base, &theirs);
            self.theirs_vs_mine = diff::diff(&theirs, mine);
        }
    }

    /// Rows the panel's body takes at most, to bound the scroll.
    fn rows(&self) -> usize {
        diff_rows(&self.theirs_vs_base) + diff_rows(&self.theirs_vs_mine) + 3
    }
}

/// Rows a diff takes on screen at most: its lines wrapped at the narrowest
/// width the dialog is drawn at, and the marks between hunks.
pub fn diff_rows(d: &Diff) -> usize {
    const NARROWEST: usize = 40;
    d.hunks
        .iter()
        .flat_map(|h| h.lines.iter())
        .map(|l| (l.text().chars().count() + 2).div_ceil(NARROWEST).max(1))
        .sum::<usize>()
        + d.hunks.len()
}

/// The first row shown after a scroll `m` from `at`, in a body of `rows`.
pub fn scrolled(at: usize, m: Move, rows: usize) -> usize {
    const PAGE: usize = 10;
    let last = rows.saturating_sub(1);
    match m {
        Move::Up => at.saturating_sub(1),
        Move::Down => (at + 1).min(last),
        Move::PageUp => at.saturating_sub(PAGE),
        Move::PageDown => (at + PAGE).min(last),
        Move::Top => 0,
        Move::Bottom => last,
    }
}

/// What a key does in the conflict panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictCmd {
    /// Back to the editor, text as it is; a save then overwrites theirs.
    KeepEditing,
    /// Replace the text by theirs (the user's text stays in undo).
    TakeTheirs,
    /// Save the text over theirs now.
    Overwrite,
    /// Show or hide the values.
    Reveal,
    /// Scroll the panel.
    Scroll(Move),
}

/// The conflict panel's keys.
pub fn keys() -> Vec<Binding<ConflictCmd>> {
    use ConflictCmd as C;
    let mut rows = vec![
        bind(
            "e/Esc",
            "keep editing",
            true,
            &[ch('e'), key(KeyCode::Esc)],
            C::KeepEditing,
        ),
        bind(
            "t",
            "take theirs into the editor",
            true,
            &[ch('t')],
            C::TakeTheirs,
        ),
        bind("o", "overwrite theirs", true, &[ch('o')], C::Overwrite),
        bind("v", "reveal/hide values", true, &[ch('v')], C::Reveal),
    ];
    rows.extend(moves(true, false, C::Scroll));
    rows
}

/// Replaces the editor's text by `theirs` as one more edit, so that undo
/// (Ctrl-Z, twice) brings the user's text back; the cut also leaves it in
/// the text area's yank buffer.
fn take_theirs(ed: &mut Editor, theirs: &str) {
    ed.value.select_all();
    ed.value.cut();
    ed.value.insert_str(theirs);
}

impl App {
    pub(super) fn on_conflict(&mut self, cmd: ConflictCmd) -> Vec<Effect> {
        let Some(ed) = self.editor() else {
            return Vec::new();
        };
        let Some(conflict) = ed.conflict.as_mut() else {
            return Vec::new();
        };
        match cmd {
            ConflictCmd::KeepEditing => {
                conflict.shown = false;
                Vec::new()
            }
            ConflictCmd::Reveal => {
                conflict.revealed = !conflict.revealed;
                Vec::new()
            }
            ConflictCmd::Scroll(m) => {
                conflict.scroll = scrolled(conflict.scroll, m, conflict.rows());
                Vec::new()
            }
            ConflictCmd::TakeTheirs => {
                let Some(theirs) = conflict.theirs_text().map(str::to_owned) else {
                    self.info("Their version is still being read; wait a moment.");
                    return Vec::new();
                };
                let version = conflict.version.clone();
                take_theirs(ed, &theirs);
                ed.original = theirs;
                ed.conflict = None;
                if let EditorMode::Update { base_version, .. } = &mut ed.mode {
                    *base_version = version;
                }
                ed.error = Some(
                    "Their version is in the editor now; Ctrl-Z twice brings your text back."
                        .into(),
                );
                Vec::new()
            }
            ConflictCmd::Overwrite => {
                if conflict.theirs.is_none() {
                    self.info("Their version is still being read; wait a moment.");
                    return Vec::new();
                }
                conflict.shown = false;
                self.send_save()
            }
        }
    }
}
