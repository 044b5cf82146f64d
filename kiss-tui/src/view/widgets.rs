//! Small drawing helpers shared by the screens.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear};

use super::theme;
use crate::app::line::LineInput;

/// A rounded box with a title, focused or not.
pub fn block(title: impl Into<Line<'static>>, focused: bool) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(if focused {
            theme::border_focus()
        } else {
            theme::border()
        })
        .title(title.into().style(theme::title()))
}

/// Clears `area` and draws a dialog box on it; returns the inside.
pub fn dialog(f: &mut Frame, area: Rect, title: impl Into<Line<'static>>, border: Style) -> Rect {
    f.render_widget(Clear, area);
    let b = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(border)
        .title(title.into().style(theme::title()));
    let inner = b.inner(area);
    f.render_widget(b, area);
    inner
}

/// ` key what ` pairs, for footers and hints.
pub fn key_hints(pairs: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (i, (k, what)) in pairs.iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled("  ", theme::muted()));
        }
        spans.push(Span::styled((*k).to_owned(), theme::key()));
        spans.push(Span::styled(format!(" {what}"), theme::muted()));
    }
    Line::from(spans)
}

/// The spinner frame for a tick count.
pub fn spinner(tick: usize) -> &'static str {
    theme::SPINNER[tick % theme::SPINNER.len()]
}

/// A labelled value that may be longer than the line: the value continues
/// on the next lines, indented under itself, cut at `width` columns.
pub fn field_wrapped(
    label: &str,
    label_w: usize,
    value: &str,
    style: Style,
    width: u16,
) -> Vec<Line<'static>> {
    let room = usize::from(width).saturating_sub(label_w).max(8);
    let chunks = hard_wrap(value, room);
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let head = if i == 0 { label } else { "" };
            Line::from(vec![
                Span::styled(format!("{head:<label_w$}"), theme::label()),
                Span::styled(chunk, style),
            ])
        })
        .collect()
}

/// Cuts `text` into pieces of at most `width` characters (at least one piece).
pub fn hard_wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(width).map(|c| c.iter().collect()).collect()
}

/// A one-line text field: the text, with the cursor drawn where it is when
/// the field has focus, so a Ctrl-A or ← is visible.
pub fn line_input(input: &LineInput, focused: bool, style: Style) -> Vec<Span<'static>> {
    let (before, after) = input.split();
    let mut spans = vec![Span::styled(before.to_owned(), style)];
    if focused {
        spans.push(Span::styled("▏", theme::key()));
    }
    if !after.is_empty() {
        spans.push(Span::styled(after.to_owned(), style));
    }
    spans
}
