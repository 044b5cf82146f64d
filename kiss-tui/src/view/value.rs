//! The read-only value view: full-screen, line numbers, control characters
//! shown, masked until `v`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::state::{Purpose, State, ValueView};
use crate::app::value_view;

pub fn draw(f: &mut Frame, area: Rect, s: &State, view: &ValueView) {
    f.render_widget(Clear, area);
    let mut block = widgets::block(format!(" {} · read-only ", view.name), true);
    let inner = block.inner(area);
    let revealed = match &s.secrets.revealed {
        Some((n, v)) if *n == view.name => Some(v),
        _ => None,
    };
    let Some(value) = revealed else {
        let text = if s.is_pending(&Purpose::Reveal(view.name.clone())) {
            Line::from(vec![
                Span::styled(widgets::spinner(s.spinner), theme::key()),
                Span::raw(" Reading the value…"),
            ])
        } else {
            Line::styled(
                "The value is hidden. v reveals it (each read is logged by the server).",
                theme::muted(),
            )
        };
        f.render_widget(
            Paragraph::new(text).block(block).wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let rows = value_view::display_rows(value.expose(), usize::from(inner.width));
    let line_count = value_view::lines(value.expose()).len();
    let gutter = value_view::gutter_width(line_count);
    let page = usize::from(inner.height);
    let first = view.scroll.min(rows.len().saturating_sub(page));
    let shown: Vec<Line> = rows
        .iter()
        .skip(first)
        .take(page)
        .map(|(number, text)| {
            let n = number.map_or_else(String::new, |n| n.to_string());
            Line::from(vec![
                Span::styled(format!("{n:>w$} │ ", w = gutter - 3), theme::muted()),
                Span::styled(text.clone(), theme::value()),
            ])
        })
        .collect();
    if let Some(when) = widgets::hides_in(s.secrets.revealed_until, s.now) {
        block = block.title_bottom(Line::styled(format!(" {when} "), theme::warn()));
    }
    let first_line = rows[..=first.min(rows.len().saturating_sub(1))]
        .iter()
        .rev()
        .find_map(|(n, _)| *n)
        .unwrap_or(1);
    block = block.title_bottom(
        Line::styled(format!(" line {first_line}/{line_count} "), theme::muted()).right_aligned(),
    );
    f.render_widget(Paragraph::new(shown).block(block), area);
}
