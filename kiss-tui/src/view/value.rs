//! The read-only value view: full-screen, line numbers, control characters
//! shown, masked until `v`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
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
    if !view.keys.raw
        && let Ok(object) = crate::keyvalue::KeyValues::from_json(value.expose())
    {
        draw_keys(f, area, s, view, &object);
        return;
    }
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

/// A JSON object key by key: values masked unless shown one by one, and
/// the key being edited or removed at the bottom.
fn draw_keys(
    f: &mut Frame,
    area: Rect,
    s: &State,
    view: &ValueView,
    object: &crate::keyvalue::KeyValues,
) {
    use ratatui::layout::{Constraint, Layout};
    use ratatui::widgets::{Row, Table, TableState};
    let t = &view.keys;
    let mut block = widgets::block(format!(" {} · {} keys ", view.name, object.len()), true);
    if let Some(when) = widgets::hides_in(s.secrets.revealed_until, s.now) {
        block = block.title_bottom(Line::styled(format!(" {when} "), theme::warn()));
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let bottom_h = if t.edit.is_some() {
        4
    } else if t.confirm_remove.is_some() {
        1
    } else {
        0
    };
    let [list, bottom] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(bottom_h)]).areas(inner);
    let key_w = object
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(3)
        .clamp(3, 32);
    let widths = [Constraint::Length(key_w as u16), Constraint::Fill(1)];
    let value_w = usize::from(list.width).saturating_sub(key_w + 2);
    let page = usize::from(list.height.saturating_sub(1));
    let (offset, rel) = t.nav.window(object.len(), page);
    let rows: Vec<Row> = object
        .iter()
        .skip(offset)
        .take(page.max(1))
        .map(|(k, v)| {
            let shown = if t.shown.contains(k) {
                Line::styled(
                    widgets::ellipsize(&value_view::visible(v.as_text()), value_w),
                    theme::value(),
                )
            } else {
                Line::styled("••••••", theme::muted())
            };
            Row::new(vec![
                Line::raw(widgets::ellipsize(&value_view::visible(k), key_w)),
                shown,
            ])
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(vec!["KEY", "VALUE (v shows the selected one)"]).style(theme::header()))
        .row_highlight_style(if t.edit.is_some() {
            theme::selected_unfocused()
        } else {
            theme::selected()
        })
        .column_spacing(2);
    let mut ts = TableState::default().with_selected(Some(rel));
    f.render_stateful_widget(table, list, &mut ts);
    if let Some(edit) = &t.edit {
        let title = match &edit.original {
            Some(k) => format!("Edit key '{k}'"),
            None => "New key".to_owned(),
        };
        let mut name = vec![Span::styled("Key    ", theme::label())];
        name.extend(widgets::line_input(&edit.key, !edit.on_value, Style::new()));
        let mut value = vec![Span::styled("Value  ", theme::label())];
        value.extend(widgets::line_input(
            &edit.value,
            edit.on_value,
            theme::value(),
        ));
        let last = match (&edit.error, t.saving) {
            (_, true) => Line::from(vec![
                Span::styled(widgets::spinner(s.spinner), theme::key()),
                Span::raw(" Saving…"),
            ]),
            (Some(e), _) => Line::styled(e.clone(), theme::error()),
            (None, _) => Line::styled(
                "Enter saves this key (one update, checked against the version read)",
                theme::muted(),
            ),
        };
        let lines = vec![
            Line::styled(title, theme::title()),
            Line::from(name),
            Line::from(value),
            last,
        ];
        f.render_widget(Paragraph::new(lines), bottom);
    } else if let Some(k) = &t.confirm_remove {
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(
                    format!("Remove key '{k}' from {}? ", view.name),
                    theme::warn(),
                ),
                Span::styled("y", theme::key()),
                Span::styled(" remove  ", theme::muted()),
                Span::styled("n", theme::key()),
                Span::styled(" keep", theme::muted()),
            ])),
            bottom,
        );
    }
}
