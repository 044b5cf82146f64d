//! The "token refused" message, with the offer to pick another token.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::State;

pub fn draw(f: &mut Frame, body: Rect, s: &State, msg: &str) {
    let area = layout::centered(body, 70, 12);
    let inner = widgets::dialog(f, area, " Token refused ", Style::new().fg(Color::Red));
    let mut lines = vec![
        Line::styled(msg.to_owned(), theme::error()),
        Line::default(),
    ];
    if !s.tokens.refresh_hint.is_empty() && !msg.contains(&s.tokens.refresh_hint) {
        lines.push(Line::styled(
            format!("To refresh a kubelogin token: {}", s.tokens.refresh_hint),
            theme::muted(),
        ));
        lines.push(Line::default());
    }
    lines.push(Line::raw(
        "Anything you typed is kept while you pick another token.",
    ));
    lines.push(widgets::key_hints(&[
        ("T", "pick another token"),
        ("Esc", "dismiss"),
    ]));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}
