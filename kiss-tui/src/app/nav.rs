//! Cursor and scroll position of a list or table, kept in State so that the
//! views draw without keeping any state of their own.

use super::keymap::{Binding, Key, ch, ctrl, key};

/// The selected row and the first visible row of a list of `len` rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListNav {
    /// The selected row (0 when the list is empty).
    pub selected: usize,
    /// The first row on screen.
    pub offset: usize,
}

/// A movement asked for by a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// One row up.
    Up,
    /// One row down.
    Down,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// The first row.
    Top,
    /// The last row.
    Bottom,
}

/// The rows of the scroll keys of a pager (the help, the value view): a
/// line with the arrows and j/k, a page with PgUp/PgDn/Space, half a page
/// with Ctrl-U/D, the ends with g/G Home/End. `scroll` and `halves` take a
/// signed count (negative: up).
pub fn scroll_keys<C: Copy>(
    scroll: fn(i8) -> C,
    halves: fn(i8) -> C,
    top: C,
    bottom: C,
) -> Vec<Binding<C>> {
    use crossterm::event::KeyCode::{Down, End, Home, PageDown, PageUp, Up};
    let row = |label: &str, what, footer, keys: Vec<(Key, C)>| Binding {
        label: label.to_owned(),
        what,
        footer,
        short: None,
        brief: None,
        pinned: false,
        keys,
    };
    vec![
        row(
            "↑/↓ j/k",
            "scroll",
            true,
            vec![
                (key(Up), scroll(-1)),
                (key(Down), scroll(1)),
                (ch('k'), scroll(-1)),
                (ch('j'), scroll(1)),
            ],
        ),
        row(
            "PgUp/PgDn Space",
            "scroll a page",
            false,
            vec![
                (key(PageUp), halves(-2)),
                (key(PageDown), halves(2)),
                (ch(' '), halves(2)),
            ],
        ),
        row(
            "Ctrl-U/Ctrl-D",
            "scroll half a page",
            false,
            vec![(ctrl('u'), halves(-1)), (ctrl('d'), halves(1))],
        ),
        row(
            "g/G Home/End",
            "top/bottom",
            false,
            vec![
                (ch('g'), top),
                (key(Home), top),
                (ch('G'), bottom),
                (key(End), bottom),
            ],
        ),
    ]
}

/// The rows of the move keys, for a screen's table: arrows, paging keys and
/// Emacs' Ctrl-P/N everywhere, and with `vim` (where letters are not typed
/// text) j/k/g/G and less's Ctrl-U/D/B/F. Each key sends its direction,
/// wrapped in the screen's command.
pub fn moves<C: Copy>(vim: bool, footer: bool, wrap: fn(Move) -> C) -> Vec<Binding<C>> {
    use crossterm::event::KeyCode::{Down, End, Home, PageDown, PageUp, Up};
    let row = |label: &str, what, footer, keys: &[(Key, Move)]| Binding {
        label: label.to_owned(),
        what,
        footer,
        short: None,
        brief: None,
        pinned: false,
        keys: keys.iter().map(|(k, m)| (*k, wrap(*m))).collect(),
    };
    if !vim {
        return vec![
            row(
                "↑/↓ Ctrl-P/N",
                "move",
                footer,
                &[
                    (key(Up), Move::Up),
                    (key(Down), Move::Down),
                    (ctrl('p'), Move::Up),
                    (ctrl('n'), Move::Down),
                ],
            ),
            row(
                "Home/End PgUp/PgDn",
                "top/bottom/page",
                false,
                &[
                    (key(Home), Move::Top),
                    (key(End), Move::Bottom),
                    (key(PageUp), Move::PageUp),
                    (key(PageDown), Move::PageDown),
                ],
            ),
        ];
    }
    let mut rows = vec![
        row(
            "↑/↓ j/k Ctrl-P/N",
            "move",
            footer,
            &[
                (key(Up), Move::Up),
                (key(Down), Move::Down),
                (ch('k'), Move::Up),
                (ch('j'), Move::Down),
                (ctrl('p'), Move::Up),
                (ctrl('n'), Move::Down),
            ],
        ),
        row(
            "g/G Home/End",
            "top/bottom",
            false,
            &[
                (ch('g'), Move::Top),
                (ch('G'), Move::Bottom),
                (key(Home), Move::Top),
                (key(End), Move::Bottom),
            ],
        ),
        row(
            "PgUp/PgDn Ctrl-U/D Ctrl-B/F",
            "page up/down",
            false,
            &[
                (key(PageUp), Move::PageUp),
                (key(PageDown), Move::PageDown),
                (ctrl('u'), Move::PageUp),
                (ctrl('d'), Move::PageDown),
                (ctrl('b'), Move::PageUp),
                (ctrl('f'), Move::PageDown),
            ],
        ),
    ];
    rows[0].short = Some("↑/↓ j/k");
    rows
}

impl ListNav {
    /// Applies a movement in a list of `len` rows of which `page` are visible.
    /// Returns whether the selection changed.
    pub fn apply(&mut self, m: Move, len: usize, page: usize) -> bool {
        let before = self.selected;
        let last = len.saturating_sub(1);
        let page = page.max(1);
        self.selected = match m {
            Move::Up => self.selected.saturating_sub(1),
            Move::Down => (self.selected + 1).min(last),
            Move::PageUp => self.selected.saturating_sub(page),
            Move::PageDown => (self.selected + page).min(last),
            Move::Top => 0,
            Move::Bottom => last,
        };
        self.fit(len, page);
        before != self.selected
    }

    /// Clamps the selection into a list of `len` rows and scrolls so that it
    /// is visible in a window of `page` rows.
    pub fn fit(&mut self, len: usize, page: usize) {
        let page = page.max(1);
        self.selected = self.selected.min(len.saturating_sub(1));
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        // Never leave empty rows at the bottom while rows above are hidden.
        let max_offset = len.saturating_sub(page);
        self.offset = self.offset.min(max_offset);
    }

    /// Selects row `index` (clamped) and scrolls to it.
    pub fn select(&mut self, index: usize, len: usize, page: usize) {
        self.selected = index;
        self.fit(len, page);
    }

    /// The first visible row and the selected row relative to it, for a
    /// window of `page` rows, without changing anything. Views use this so a
    /// window size that differs from what `update` assumed still shows the
    /// selection.
    pub fn window(&self, len: usize, page: usize) -> (usize, usize) {
        let mut n = *self;
        n.fit(len, page);
        (n.offset, n.selected - n.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrolling_keeps_the_selection_visible_and_the_window_still() {
        let mut n = ListNav::default();
        for _ in 0..12 {
            n.apply(Move::Down, 100, 10);
        }
        assert_eq!((n.selected, n.offset), (12, 3));
        n.apply(Move::Up, 100, 10);
        assert_eq!(
            (n.selected, n.offset),
            (11, 3),
            "moving up inside the window does not scroll"
        );
        n.apply(Move::Bottom, 100, 10);
        assert_eq!((n.selected, n.offset), (99, 90));
        n.apply(Move::PageUp, 100, 10);
        assert_eq!((n.selected, n.offset), (89, 89));
        n.fit(5, 10);
        assert_eq!((n.selected, n.offset), (4, 0));
    }

    #[test]
    fn empty_lists_are_safe() {
        let mut n = ListNav::default();
        assert!(!n.apply(Move::Down, 0, 0));
        assert_eq!(n.window(0, 0), (0, 0));
    }
}
