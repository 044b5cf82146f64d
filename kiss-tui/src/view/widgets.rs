//! Small drawing helpers shared by the screens.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Clear, Scrollbar, ScrollbarOrientation, ScrollbarState,
};

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

/// "hides in 42s": how long a shown value has left, if it hides by itself.
pub fn hides_in(
    until: Option<std::time::SystemTime>,
    now: std::time::SystemTime,
) -> Option<String> {
    let left = until?.duration_since(now).unwrap_or_default();
    Some(format!(
        "hides in {}",
        crate::app::format::duration_short(left)
    ))
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

/// `text` cut to `width` columns, its end replaced by "…" when cut, so a
/// shortened name never passes for a whole one.
pub fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width - 1).collect();
    cut.push('…');
    cut
}

/// The widths a table gives its columns inside `area` (a bordered box),
/// computed the way `Table` lays them out, so cells can be cut to fit.
pub fn column_widths(area: Rect, widths: &[Constraint], spacing: u16) -> Vec<usize> {
    let inner = Rect {
        width: area.width.saturating_sub(2),
        ..area
    };
    Layout::horizontal(widths.iter().copied())
        .spacing(spacing)
        .split(inner)
        .iter()
        .map(|r| usize::from(r.width))
        .collect()
}

/// Where the selection is in a list drawn in the bordered box `area`:
/// "12/1510" on the bottom border, and a scrollbar on the right border when
/// the list is longer than the `page` of rows it shows.
pub fn list_position(f: &mut Frame, area: Rect, selected: usize, len: usize, page: usize) {
    if len == 0 || area.width < 12 || area.height < 3 {
        return;
    }
    let pos = format!(" {}/{len} ", (selected + 1).min(len));
    let w = pos.chars().count() as u16;
    let at = Rect {
        x: area.right().saturating_sub(w + 2),
        y: area.bottom() - 1,
        width: w,
        height: 1,
    };
    f.render_widget(Span::styled(pos, theme::muted()), at);
    if len > page {
        let mut state = ScrollbarState::new(len)
            .position(selected)
            .viewport_content_length(page);
        let bar = Scrollbar::new(ScrollbarOrientation::VerticalRight)
            .begin_symbol(None)
            .end_symbol(None)
            .track_symbol(Some("│"))
            .thumb_symbol("┃")
            .thumb_style(theme::key())
            .track_style(theme::border());
        let inside = Rect {
            y: area.y + 1,
            height: area.height - 2,
            ..area
        };
        f.render_stateful_widget(bar, inside, &mut state);
    }
}

/// How many rows `lines` take when word-wrapped into `width` columns, as a
/// `Paragraph` with `Wrap { trim: true }` lays them out; dialogs use it to
/// grow to fit their text instead of cutting its end.
pub fn wrapped_height(lines: &[Line<'_>], width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let mut rows = 0usize;
    for line in lines {
        let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        let mut used = 0usize;
        let mut line_rows = 1usize;
        for word in text.split_whitespace() {
            let w = word.chars().count();
            if used > 0 && used + 1 + w <= width {
                used += 1 + w;
                continue;
            }
            if used > 0 {
                line_rows += 1;
            }
            // A word longer than the line is cut across rows.
            line_rows += w.saturating_sub(1) / width;
            used = (w - 1) % width + 1;
        }
        rows += line_rows;
    }
    u16::try_from(rows).unwrap_or(u16::MAX)
}
