//! The namespace picker.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::State;

pub fn draw(f: &mut Frame, area: Rect, s: &State) {
    let (input_area, list_area) = layout::namespaces(area);
    let admin = s.is_admin();
    let filter = &s.namespaces.filter;
    let hint = if admin {
        "type to filter, or type any namespace (admin)"
    } else {
        "type to filter"
    };
    let input = if filter.is_empty() {
        Line::from(vec![
            Span::styled("› ", theme::key()),
            Span::styled("▏", theme::key()),
            Span::styled(hint, theme::muted()),
        ])
    } else {
        let mut spans = vec![Span::styled("› ", theme::key())];
        spans.extend(widgets::line_input(filter, true, Style::default()));
        Line::from(spans)
    };
    f.render_widget(
        Paragraph::new(input).block(widgets::block(" Namespace ", true)),
        input_area,
    );

    let identity = s.session.as_ref().and_then(|x| x.identity.as_ref());
    let who = s.identifier().unwrap_or("you").to_owned();
    let Some(identity) = identity else {
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(widgets::spinner(s.spinner), theme::key()),
                Span::raw(" Asking the server which namespaces you may use…"),
            ]))
            .block(widgets::block(" Namespaces ", false)),
            list_area,
        );
        return;
    };
    let rows = s.namespace_rows();
    let title = format!(
        " Namespaces of {who} ({}{}) ",
        identity.namespaces.len(),
        if admin { ", admin: any namespace" } else { "" }
    );
    let block = widgets::block(title, false);
    if rows.is_empty() {
        let text = if identity.namespaces.is_empty() && !admin {
            "Your token grants no namespaces. Ask for a group that maps to a namespace, or press Esc to pick another token."
                .to_owned()
        } else {
            format!("No namespace matches '{filter}'.")
        };
        f.render_widget(
            Paragraph::new(Line::styled(text, theme::warn()))
                .block(block)
                .wrap(Wrap { trim: true }),
            list_area,
        );
        return;
    }
    let page = layout::list_rows(list_area);
    let (offset, rel) = s.namespaces.nav.window(rows.len(), page);
    let items: Vec<ListItem> = rows
        .iter()
        .skip(offset)
        .take(page.max(1))
        .map(|r| {
            if r.typed {
                let why = if admin {
                    "  (not in your groups: admin access)"
                } else {
                    "  (not in the list: Enter asks the server)"
                };
                ListItem::new(Line::from(vec![
                    Span::raw(format!("  {}", r.name)),
                    Span::styled(why, theme::warn()),
                ]))
            } else {
                ListItem::new(Line::raw(format!("  {}", r.name)))
            }
        })
        .collect();
    let list = List::new(items)
        .block(block)
        .highlight_style(theme::selected());
    let mut ls = ListState::default().with_selected(Some(rel));
    f.render_stateful_widget(list, list_area, &mut ls);
    widgets::list_position(f, list_area, offset + rel, rows.len(), page);
}
