//! The `?` help overlay: every key of every screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{theme, widgets};
use crate::app::keymap::{self, HELP_SECTIONS};
use crate::app::layout;

/// Every line of the help, unscrolled.
pub fn lines() -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (i, (title, ctx)) in HELP_SECTIONS.iter().enumerate() {
        if i > 0 {
            lines.push(Line::default());
        }
        lines.push(Line::styled((*title).to_owned(), theme::header()));
        for k in keymap::keys(*ctx) {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:<16}", k.keys), theme::key()),
                Span::raw(k.what),
            ]));
        }
    }
    lines
}

pub fn draw(f: &mut Frame, body: Rect, scroll: u16) {
    let area = layout::centered(body, 66, 40);
    let all = lines();
    let inner_h = area.height.saturating_sub(2);
    let max_scroll = (all.len() as u16).saturating_sub(inner_h);
    let scroll = scroll.min(max_scroll);
    let more = if max_scroll > 0 {
        format!(" Keys · {}/{} · j/k scroll ", scroll + 1, max_scroll + 1)
    } else {
        " Keys ".to_owned()
    };
    let inner = widgets::dialog(f, area, more, theme::border_focus());
    f.render_widget(Paragraph::new(all).scroll((scroll, 0)), inner);
}
