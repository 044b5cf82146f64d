//! Bracketed paste: `\r\n` and bare `\r` become `\n` before the text
//! reaches the app, which then pastes it into the secrets filter, the
//! editor's name or its value; the screen is then drawn.
//!
//! Properties: normalising leaves no `\r`, is idempotent and only changes
//! line breaks; a paste into an open, empty value is kept exactly
//! (normalised); nothing panics, drawing included. Below the minimum
//! terminal size keys are ignored, so the editor may never open there.

#![no_main]

use crossterm::event::KeyCode;
use kiss_tui::app::Action;
use kiss_tui::app::fixtures::{Driver, sample_rows};
use kiss_tui::app::normalize_paste;
use kiss_tui::app::state::Dialog;
use libfuzzer_sys::fuzz_target;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let once = normalize_paste(text);
    assert!(!once.contains('\r'));
    assert_eq!(normalize_paste(&once), once);
    let strip = |s: &str| s.replace(['\r', '\n'], "");
    assert_eq!(strip(&once), strip(text));
    assert!(once.len() <= text.len());
    // One line break per `\r\n`, `\r` or `\n`.
    let breaks =
        text.matches('\n').count() + text.matches('\r').count() - text.matches("\r\n").count();
    assert_eq!(once.matches('\n').count(), breaks);

    let size = (
        20 + u16::from(mode >> 2) % 100,
        8 + u16::from(mode >> 4) % 30,
    );
    let mut d = Driver::in_namespace(size, sample_rows());
    match mode % 4 {
        0 => {}
        1 => {
            d.key(KeyCode::Char('n'));
        }
        _ => {
            d.key(KeyCode::Char('n')).type_str("db-pass\n");
        }
    }
    let value_open = matches!(&d.app.state.dialog, Some(Dialog::Editor(_))) && mode % 4 >= 2;
    d.act(Action::Paste(text.to_owned()));
    if value_open {
        let Some(Dialog::Editor(ed)) = &d.app.state.dialog else {
            panic!("the editor closed on a paste");
        };
        assert_eq!(ed.value_text(), once, "the value is not what was pasted");
    }
    let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("a test terminal");
    terminal
        .draw(|frame| kiss_tui::view::draw(frame, &d.app.state))
        .expect("a frame");
});
