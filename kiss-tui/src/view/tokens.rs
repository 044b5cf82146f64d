//! The token picker.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};

use super::{theme, widgets};
use crate::app::format;
use crate::app::layout;
use crate::app::state::{Purpose, State};
use crate::tokens::TokenStatus;

pub fn draw(f: &mut Frame, area: Rect, s: &State) {
    let (list_area, info_area) = layout::tokens(area);
    let t = &s.tokens;
    let where_ = match (&t.dir, t.explicit) {
        (_, true) => "--token-path".to_owned(),
        (Some(d), _) => d.display().to_string(),
        (None, _) => "no token directory".to_owned(),
    };
    let title = format!(" Pick a token · {where_} ");
    let block = widgets::block(title, true);

    if t.tokens.is_empty() {
        let text = if !t.scanned {
            vec![Line::styled("Looking for token files…", theme::muted())]
        } else {
            let mut lines = vec![
                Line::styled(format!("No token files in {where_}."), theme::warn()),
                Line::default(),
                Line::raw("Log in with kubectl (kubelogin caches the token there),"),
                Line::raw("or start kiss-tui with --token-path FILE or --token-dir DIR."),
            ];
            if let Some(p) = &t.problem {
                lines.push(Line::default());
                lines.push(Line::styled(p.clone(), theme::error()));
            }
            lines
        };
        f.render_widget(
            Paragraph::new(text).block(block).wrap(Wrap { trim: true }),
            list_area,
        );
    } else {
        // Narrow terminals drop the file column; the box below names the file.
        let wide = list_area.width >= 80;
        let mut widths = vec![
            Constraint::Length(1),
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(18),
        ];
        if wide {
            widths.push(Constraint::Fill(2));
        }
        let cols = widgets::column_widths(list_area, &widths, 2);
        let fit =
            |text: &str, col: usize| widgets::ellipsize(text, cols.get(col).copied().unwrap_or(0));
        let rows: Vec<Row> = t
            .tokens
            .iter()
            .map(|c| {
                let file = c
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let mut cells = match &c.status {
                    TokenStatus::Usable(info) => {
                        let expired = info.is_expired(s.now);
                        let (mark, mark_style) = if expired {
                            ("!", theme::warn())
                        } else {
                            ("✓", theme::ok())
                        };
                        let expiry = format::expiry(info.expires_at, s.now);
                        vec![
                            Line::styled(mark, mark_style),
                            Line::raw(fit(
                                info.identifier.as_deref().unwrap_or("(no identifier)"),
                                1,
                            )),
                            Line::raw(fit(&info.groups.join(", "), 2)),
                            Line::styled(
                                expiry,
                                if expired {
                                    theme::warn()
                                } else {
                                    theme::muted()
                                },
                            ),
                        ]
                    }
                    TokenStatus::Unusable { .. } => vec![
                        Line::styled("✗", theme::error()),
                        Line::styled("unusable", theme::muted()),
                        Line::default(),
                        Line::default(),
                    ],
                };
                if wide {
                    cells.push(Line::styled(fit(&file, 4), theme::muted()));
                }
                Row::new(cells)
            })
            .collect();
        let page = layout::table_rows(list_area);
        let len = rows.len();
        let (offset, rel) = t.nav.window(len, page);
        let visible: Vec<Row> = rows.into_iter().skip(offset).take(page.max(1)).collect();
        let mut header = vec!["", "IDENTITY", "NAMESPACES", "EXPIRY"];
        if wide {
            header.push("FILE");
        }
        let table = Table::new(visible, widths)
            .header(Row::new(header).style(theme::header()))
            .block(block)
            .row_highlight_style(theme::selected())
            .column_spacing(2);
        let mut ts = TableState::default().with_selected(Some(rel));
        f.render_stateful_widget(table, list_area, &mut ts);
        widgets::list_position(f, list_area, offset + rel, len, page);
    }
    info(f, info_area, s);
}

/// The box under the list: the selected token's file, issuer and problems.
fn info(f: &mut Frame, area: Rect, s: &State) {
    let t = &s.tokens;
    let connecting = s.is_pending(&Purpose::Connect) || s.is_pending(&Purpose::WhoAmI);
    let mut lines = Vec::new();
    if connecting {
        let who = s.identifier().unwrap_or("the token").to_owned();
        lines.push(Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(format!(" Connecting to {} as {who}…", s.server)),
        ]));
    }
    if let Some(c) = t.tokens.get(t.nav.selected) {
        let inner_w = area.width.saturating_sub(2);
        lines.extend(widgets::field_wrapped(
            "file",
            8,
            &c.path.display().to_string(),
            Style::new(),
            inner_w,
        ));
        match &c.status {
            TokenStatus::Usable(info) => {
                lines.extend(widgets::field_wrapped(
                    "issuer",
                    8,
                    info.issuer.as_deref().unwrap_or("(none)"),
                    Style::new(),
                    inner_w,
                ));
                if info.is_expired(s.now) {
                    lines.push(Line::styled(
                        format!(
                            "This token {}. To refresh it: {}",
                            format::expiry(info.expires_at, s.now),
                            t.refresh_hint
                        ),
                        theme::warn(),
                    ));
                } else if !connecting {
                    lines.push(Line::styled(
                        "Enter uses this token; the server checks it.",
                        theme::muted(),
                    ));
                }
            }
            TokenStatus::Unusable { reason } => {
                lines.push(Line::styled(
                    format!("Not a usable token: {reason}"),
                    theme::error(),
                ));
            }
        }
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(widgets::block(" Token ", false))
            .wrap(Wrap { trim: true }),
        area,
    );
}
