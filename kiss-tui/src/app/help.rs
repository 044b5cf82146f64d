//! The `?` help overlay: scrolling it and closing it.

use crossterm::event::KeyCode;

use super::App;
use super::keymap::{Binding, bind, ch, key};

/// What a key does over the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpCmd {
    /// Close the help.
    Close,
    /// Scroll by this many lines (negative: up).
    Scroll(i8),
}

/// The help overlay's keys.
pub fn keys() -> Vec<Binding<HelpCmd>> {
    vec![
        Binding {
            label: "↑/↓ j/k".into(),
            what: "scroll",
            footer: true,
            short: None,
            keys: vec![
                (key(KeyCode::Up), HelpCmd::Scroll(-1)),
                (key(KeyCode::Down), HelpCmd::Scroll(1)),
                (ch('k'), HelpCmd::Scroll(-1)),
                (ch('j'), HelpCmd::Scroll(1)),
            ],
        },
        Binding {
            label: "PgUp/PgDn".into(),
            what: "scroll a page",
            footer: false,
            short: None,
            keys: vec![
                (key(KeyCode::PageUp), HelpCmd::Scroll(-10)),
                (key(KeyCode::PageDown), HelpCmd::Scroll(10)),
            ],
        },
        bind(
            "?/F1/Esc/q",
            "close help",
            true,
            &[ch('?'), key(KeyCode::F(1)), key(KeyCode::Esc), ch('q')],
            HelpCmd::Close,
        )
        .short("?/Esc/q"),
    ]
}

impl App {
    pub(super) fn on_help(&mut self, cmd: HelpCmd) {
        let Some(scroll) = self.state.help else {
            return;
        };
        self.state.help = match cmd {
            HelpCmd::Close => None,
            HelpCmd::Scroll(by) => Some(scroll.saturating_add_signed(i16::from(by))),
        };
    }
}
