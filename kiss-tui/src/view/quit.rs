//! "Quit?": quitting now would lose text typed and not saved.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;

pub fn draw(f: &mut Frame, body: Rect) {
    let popup = layout::centered(body, 52, 6);
    let inner = widgets::dialog(f, popup, " Quit? ", theme::warn());
    f.render_widget(
        Paragraph::new(vec![
            Line::raw("The editor holds text you have not saved. Quit and lose it?"),
            widgets::key_hints(&[("y/Ctrl-C", "quit, losing the text"), ("n/Esc", "keep it")]),
        ])
        .wrap(Wrap { trim: true }),
        inner,
    );
}
