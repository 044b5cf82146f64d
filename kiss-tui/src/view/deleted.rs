//! The recently deleted view.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};

use super::{theme, widgets};
use crate::app::format;
use crate::app::layout;
use crate::app::state::{Purpose, State};

pub fn draw(f: &mut Frame, area: Rect, s: &State) {
    let d = &s.deleted;
    let ns = s.namespace.clone().unwrap_or_default();
    let block = widgets::block(
        format!(" Recently deleted in {ns} ({}) ", d.rows.len()),
        true,
    );
    if d.rows.is_empty() {
        let msg = if !d.loaded {
            match &d.load_error {
                Some(e) => Line::styled(e.clone(), theme::error()),
                None => Line::from(vec![
                    Span::styled(widgets::spinner(s.spinner), theme::key()),
                    Span::raw(" Loading recently deleted secrets…"),
                ]),
            }
        } else {
            Line::styled(
                "Nothing was deleted recently. Esc goes back to the secrets.",
                theme::muted(),
            )
        };
        f.render_widget(
            Paragraph::new(msg).block(block).wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let page = layout::table_rows(area);
    let (offset, rel) = d.nav.window(d.rows.len(), page);
    let widths = [
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Length(22),
    ];
    let name_w = widgets::column_widths(area, &widths, 2)[0];
    let rows: Vec<Row> = d
        .rows
        .iter()
        .skip(offset)
        .take(page.max(1))
        .map(|r| {
            let restoring = s.is_pending(&Purpose::Restore(r.name.clone()));
            Row::new(vec![
                Line::raw(widgets::ellipsize(&r.name, name_w)),
                Line::styled(
                    r.deleted.map(|t| format::ago(t, s.now)).unwrap_or_default(),
                    theme::label(),
                ),
                if restoring {
                    Line::styled(
                        format!("{} restoring…", widgets::spinner(s.spinner)),
                        theme::key(),
                    )
                } else {
                    Line::styled(
                        r.deletion_date
                            .map(|t| format!("{} ({})", format::date(t), format::ago(t, s.now)))
                            .unwrap_or_else(|| "—".into()),
                        theme::muted(),
                    )
                },
            ])
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(vec!["NAME", "DELETED", "GONE FOR GOOD"]).style(theme::header()))
        .block(block)
        .row_highlight_style(theme::selected())
        .column_spacing(2);
    let mut ts = TableState::default().with_selected(Some(rel));
    f.render_stateful_widget(table, area, &mut ts);
    widgets::list_position(f, area, offset + rel, d.rows.len(), page);
}
