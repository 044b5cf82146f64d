//! The search across namespaces: what is typed, what was found so far, and
//! which namespaces refused.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};

use super::{theme, widgets};
use crate::app::format;
use crate::app::layout;
use crate::app::search::SearchDialog;
use crate::app::state::State;

pub fn draw(f: &mut Frame, body: Rect, s: &State, d: &SearchDialog) {
    let area = layout::centered(body, 90, 30);
    let progress = if d.answered() < d.total {
        format!("{}/{} namespaces listed", d.answered(), d.total)
    } else {
        format!("{} namespaces", d.total)
    };
    let refused = if d.failed.is_empty() {
        String::new()
    } else {
        format!(" · {} refused", d.failed.len())
    };
    let inner = widgets::dialog(
        f,
        area,
        format!(" Find in every namespace · {progress}{refused} "),
        theme::border_focus(),
    );
    let fail_h = (d.failed.len() as u16).min(3);
    let [query, list, failed] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(fail_h),
    ])
    .areas(inner);
    let mut q = vec![Span::styled("name ", theme::label())];
    q.extend(widgets::line_input(&d.query, true, Style::new()));
    if d.answered() < d.total {
        q.push(Span::styled(
            format!("  {} searching…", widgets::spinner(s.spinner)),
            theme::key(),
        ));
    }
    f.render_widget(Paragraph::new(Line::from(q)), query);

    let hits = d.matching();
    let page = usize::from(list.height.saturating_sub(1));
    let (offset, rel) = d.nav.window(hits.len(), page);
    let widths = [
        Constraint::Fill(1),
        Constraint::Fill(2),
        Constraint::Length(10),
    ];
    let cols = widgets::column_widths(
        Rect {
            width: list.width + 2,
            ..list
        },
        &widths,
        2,
    );
    let rows: Vec<Row> = hits
        .iter()
        .skip(offset)
        .take(page.max(1))
        .map(|h| {
            Row::new(vec![
                Line::styled(widgets::ellipsize(&h.namespace, cols[0]), theme::title()),
                Line::raw(widgets::ellipsize(&h.name, cols[1])),
                Line::styled(
                    h.last_changed
                        .map(|t| format::ago(t, s.now))
                        .unwrap_or_default(),
                    theme::label(),
                ),
            ])
        })
        .collect();
    if rows.is_empty() {
        let text = if d.answered() < d.total {
            "Nothing yet…".to_owned()
        } else if d.query.is_empty() {
            "No secrets in any of your namespaces.".to_owned()
        } else {
            format!("No secret name holds '{}'.", d.query.trim())
        };
        f.render_widget(Paragraph::new(Line::styled(text, theme::muted())), list);
    } else {
        let table = Table::new(rows, widths)
            .header(Row::new(vec!["NAMESPACE", "NAME", "CHANGED"]).style(theme::header()))
            .row_highlight_style(theme::selected())
            .column_spacing(2);
        let mut ts = TableState::default().with_selected(Some(rel));
        f.render_stateful_widget(table, list, &mut ts);
    }
    let lines: Vec<Line> = d
        .failed
        .iter()
        .map(|(ns, why)| Line::styled(format!("✗ {ns}: {why}"), theme::error()))
        .collect();
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), failed);
}
