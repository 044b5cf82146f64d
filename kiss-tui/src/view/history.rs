//! A secret's history: the versions, and beside them the selected version
//! or its diff against the current value; "Roll back?" over both.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};

use super::{dim, theme, widgets};
use crate::app::action::VersionRow;
use crate::app::format;
use crate::app::layout;
use crate::app::state::{History, HistoryPane, Purpose, State};
use crate::app::value_view;
use crate::diff::{self, Diff, Kind};

pub fn draw(f: &mut Frame, body: Rect, s: &State) {
    let h = &s.history;
    let (table_area, pane_area) = layout::history(body);
    draw_versions(f, table_area, s, h);
    match h.pane {
        HistoryPane::Hint => draw_hint(f, pane_area),
        HistoryPane::Version => draw_version(f, pane_area, s, h),
        HistoryPane::Diff => draw_diff_pane(f, pane_area, s, h),
    }
    if let Some(version) = &h.confirm {
        dim(f, body);
        draw_confirm(f, body, s, h, version);
    }
}

fn author(r: &VersionRow) -> String {
    if r.author.is_empty() {
        "unknown".into()
    } else {
        r.author.clone()
    }
}

fn draw_versions(f: &mut Frame, area: Rect, s: &State, h: &History) {
    let mut block = widgets::block(format!(" History of {} ({}) ", h.name, h.rows.len()), true);
    if h.revealed
        && let Some(when) = widgets::hides_in(h.revealed_until, s.now)
    {
        block = block.title_bottom(Line::styled(
            format!(" values shown, {when} "),
            theme::warn(),
        ));
    }
    if h.rows.is_empty() {
        let msg = match (&h.load_error, h.loaded) {
            (Some(e), _) => Line::styled(e.clone(), theme::error()),
            (None, false) => Line::from(vec![
                Span::styled(widgets::spinner(s.spinner), theme::key()),
                Span::raw(" Loading the versions…"),
            ]),
            (None, true) => Line::styled("No versions.", theme::muted()),
        };
        f.render_widget(
            Paragraph::new(msg).block(block).wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let page = layout::table_rows(area);
    let (offset, rel) = h.nav.window(h.rows.len(), page);
    let widths = [
        Constraint::Length(9),
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(8),
    ];
    let by_w = widgets::column_widths(area, &widths, 1)[1];
    let rows: Vec<Row> = h
        .rows
        .iter()
        .skip(offset)
        .take(page.max(1))
        .map(|r| {
            let labels = r
                .labels
                .iter()
                .map(|l| match l.as_str() {
                    "AWSCURRENT" => "current",
                    "AWSPREVIOUS" => "previous",
                    other => other,
                })
                .collect::<Vec<_>>()
                .join(",");
            Row::new(vec![
                Line::styled(
                    r.created.map(|t| format::ago(t, s.now)).unwrap_or_default(),
                    theme::label(),
                ),
                Line::raw(widgets::ellipsize(&author(r), by_w)),
                Line::styled(labels, theme::key()),
                Line::styled(format::short_version(&r.version_id), theme::muted()),
            ])
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(Row::new(vec!["WRITTEN", "BY", "LABELS", "VERSION"]).style(theme::header()))
        .block(block)
        .row_highlight_style(theme::selected())
        .column_spacing(1);
    let mut ts = TableState::default().with_selected(Some(rel));
    f.render_stateful_widget(table, area, &mut ts);
    widgets::list_position(f, area, offset + rel, h.rows.len(), page);
}

fn draw_hint(f: &mut Frame, area: Rect) {
    let lines = vec![
        widgets::key_hints(&[("Enter", "the selected version")]),
        widgets::key_hints(&[("d", "what changed from it to the current value")]),
        widgets::key_hints(&[("R", "make its value current again")]),
        widgets::key_hints(&[("v", "show values (hidden until then)")]),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .block(widgets::block(" Versions ", false))
            .wrap(Wrap { trim: true }),
        area,
    );
}

fn draw_version(f: &mut Frame, area: Rect, s: &State, h: &History) {
    let block = widgets::block(" Version ", false);
    let Some(r) = h.selected() else {
        f.render_widget(Paragraph::new("").block(block), area);
        return;
    };
    let field = |name: &str, value: String| {
        Line::from(vec![
            Span::styled(format!("{name:<9}"), theme::label()),
            Span::raw(value),
        ])
    };
    let mut lines = vec![
        field("version", r.version_id.clone()),
        field("written", format::date_with_age(r.created, s.now)),
        field("by", author(r)),
        field(
            "labels",
            if r.labels.is_empty() {
                "none (AWS may drop it once it keeps 100 versions)".into()
            } else {
                r.labels.join(", ")
            },
        ),
        Line::default(),
    ];
    let loading = s.is_pending(&Purpose::VersionValue(h.name.clone(), r.version_id.clone()));
    match (h.revealed, h.values.get(&r.version_id)) {
        (true, Some(v)) => {
            lines.push(Line::styled("value", theme::label()));
            lines.extend(
                value_view::lines(v.expose())
                    .into_iter()
                    .map(|l| Line::styled(l, theme::value())),
            );
        }
        (true, None) if loading => lines.push(Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" reading the value…"),
        ])),
        _ => lines.push(Line::styled(
            "value hidden: v shows it, d diffs it against the current value",
            theme::muted(),
        )),
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// A diff's lines, masked unless `show`; changed characters underlined.
pub(super) fn diff_lines(d: &Diff, show: bool) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for (i, hunk) in d.hunks.iter().enumerate() {
        if i > 0 {
            lines.push(Line::styled("  ⋯", theme::muted()));
        }
        for line in &hunk.lines {
            let (prefix, color) = match line.kind {
                Kind::Same => ("  ", None),
                Kind::Removed => ("- ", Some(Color::Red)),
                Kind::Added => ("+ ", Some(Color::Green)),
            };
            let base = color.map_or(Style::new(), |c| Style::new().fg(c));
            let mut spans = vec![Span::styled(prefix, base)];
            if show {
                for (changed, text) in &line.parts {
                    let style = if *changed {
                        base.add_modifier(Modifier::REVERSED)
                    } else {
                        base
                    };
                    spans.push(Span::styled(value_view::visible(text), style));
                }
            } else {
                spans.push(Span::styled(diff::MASK, base));
            }
            lines.push(Line::from(spans));
        }
    }
    lines
}

fn draw_diff_pane(f: &mut Frame, area: Rect, s: &State, h: &History) {
    let Some(r) = h.selected() else {
        f.render_widget(
            Paragraph::new("").block(widgets::block(" Diff ", false)),
            area,
        );
        return;
    };
    let title = format!(" {} → current ", format::short_version(&r.version_id));
    let block = widgets::block(title, false);
    let lines = match h.diff_to_current(&r.version_id) {
        None => vec![Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" reading both values…"),
        ])],
        Some(d) if d.is_empty() => vec![Line::styled(
            "Same value as the current version.",
            theme::muted(),
        )],
        Some(d) => {
            let mut lines = vec![Line::styled(
                if h.revealed {
                    d.summary()
                } else {
                    format!("{}; values hidden, v shows them", d.summary())
                },
                theme::muted(),
            )];
            lines.extend(diff_lines(&d, h.revealed));
            lines
        }
    };
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn draw_confirm(f: &mut Frame, body: Rect, s: &State, h: &History, version: &str) {
    let area = layout::centered(body, 72, 18);
    let inner = widgets::dialog(f, area, " Roll back ", Style::new().fg(Color::Yellow));
    let ns = s.namespace.clone().unwrap_or_default();
    let mut lines = vec![
        Line::from(vec![
            Span::raw("Make the value of version "),
            Span::styled(format::short_version(version), theme::key()),
            Span::raw(" current again in "),
            Span::styled(format!("'{}'", h.name), theme::key()),
            Span::raw(format!(" ({ns})?")),
        ]),
        Line::styled(
            "It is written as a new version; the current one stays in the history.",
            theme::muted(),
        ),
        Line::default(),
    ];
    match h.rollback_diff(version) {
        None => lines.push(Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" reading both values…"),
        ])),
        Some(d) if d.is_empty() => lines.push(Line::styled(
            "The value is the same as the current one.",
            theme::muted(),
        )),
        Some(d) => {
            lines.push(Line::styled(
                format!("What changes: {}", d.summary()),
                theme::label(),
            ));
            lines.extend(diff_lines(&d, h.revealed));
        }
    }
    lines.push(Line::default());
    if h.rolling_back {
        lines.push(Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" Rolling back…"),
        ]));
    }
    lines.push(widgets::key_hints(&[
        ("y", "roll back"),
        (
            "v",
            if h.revealed {
                "hide values"
            } else {
                "show values"
            },
        ),
        ("n/Esc", "cancel"),
    ]));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}
