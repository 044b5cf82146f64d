//! The `?` help overlay: what it lists, scrolling it and closing it.

use crossterm::event::KeyCode;

use super::App;
use super::keymap::{self, Binding, HELP_SECTIONS, KeyContext, bind, ch, ctrl, key};
use super::layout;

/// What a key does over the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpCmd {
    /// Close the help.
    Close,
    /// Scroll by this many lines (negative: up).
    Scroll(i8),
    /// Scroll by this many halves of the visible height (negative: up).
    Halves(i8),
    /// To the first line.
    Top,
    /// To the last page.
    Bottom,
}

/// The help overlay's keys.
pub fn keys() -> Vec<Binding<HelpCmd>> {
    vec![
        Binding {
            label: "↑/↓ j/k".into(),
            what: "scroll",
            footer: true,
            short: None,
            brief: None,
            pinned: false,
            keys: vec![
                (key(KeyCode::Up), HelpCmd::Scroll(-1)),
                (key(KeyCode::Down), HelpCmd::Scroll(1)),
                (ch('k'), HelpCmd::Scroll(-1)),
                (ch('j'), HelpCmd::Scroll(1)),
            ],
        },
        Binding {
            label: "PgUp/PgDn Space".into(),
            what: "scroll a page",
            footer: false,
            short: None,
            brief: None,
            pinned: false,
            keys: vec![
                (key(KeyCode::PageUp), HelpCmd::Halves(-2)),
                (key(KeyCode::PageDown), HelpCmd::Halves(2)),
                (ch(' '), HelpCmd::Halves(2)),
            ],
        },
        Binding {
            label: "Ctrl-U/Ctrl-D".into(),
            what: "scroll half a page",
            footer: false,
            short: None,
            brief: None,
            pinned: false,
            keys: vec![
                (ctrl('u'), HelpCmd::Halves(-1)),
                (ctrl('d'), HelpCmd::Halves(1)),
            ],
        },
        Binding {
            label: "g/G Home/End".into(),
            what: "top/bottom",
            footer: false,
            short: None,
            brief: None,
            pinned: false,
            keys: vec![
                (ch('g'), HelpCmd::Top),
                (key(KeyCode::Home), HelpCmd::Top),
                (ch('G'), HelpCmd::Bottom),
                (key(KeyCode::End), HelpCmd::Bottom),
            ],
        },
        bind(
            "?/F1/Esc/q",
            "close help",
            true,
            &[ch('?'), key(KeyCode::F(1)), key(KeyCode::Esc), ch('q')],
            HelpCmd::Close,
        )
        .short("?/Esc/q")
        .pinned(),
    ]
}

/// The sections of the help, in order: the one of `here` first, as the
/// variant that applies here, so the help says what the keys do here.
pub fn sections(here: KeyContext) -> Vec<(&'static str, KeyContext)> {
    let mut sections: Vec<(&'static str, KeyContext)> = HELP_SECTIONS.to_vec();
    if let Some(i) = sections
        .iter()
        .position(|(_, c)| *c == keymap::section_of(here))
    {
        let (title, _) = sections.remove(i);
        sections.insert(0, (title, here));
    }
    sections
}

/// How many lines the help has: per section a title and its keys, with a
/// blank line between sections.
pub fn line_count(here: KeyContext) -> usize {
    let sections = sections(here);
    let keys: usize = sections
        .iter()
        .map(|(_, ctx)| 1 + keymap::keys(*ctx).len())
        .sum();
    keys + sections.len().saturating_sub(1)
}

impl App {
    pub(super) fn on_help(&mut self, cmd: HelpCmd) {
        let Some(scroll) = self.state.help else {
            return;
        };
        let rows = layout::help_rows(self.state.size);
        let total = u16::try_from(line_count(self.state.context_below_help())).unwrap_or(u16::MAX);
        let last = total.saturating_sub(rows);
        let half = (rows / 2).max(1);
        self.state.help = match cmd {
            HelpCmd::Close => None,
            HelpCmd::Scroll(by) => Some(scroll.saturating_add_signed(i16::from(by))),
            HelpCmd::Halves(n) => {
                Some(scroll.saturating_add_signed(i16::from(n).saturating_mul(half as i16)))
            }
            HelpCmd::Top => Some(0),
            HelpCmd::Bottom => Some(last),
        }
        .map(|s| s.min(last));
    }
}
