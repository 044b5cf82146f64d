//! The secrets table and the details pane.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Table, TableState, Wrap};

use super::{theme, widgets};
use crate::app::format;
use crate::app::layout;
use crate::app::state::{Purpose, SortKey, State};
use crate::app::value_view;

pub fn draw(f: &mut Frame, area: Rect, s: &State) {
    let (table_area, details_area) = layout::secrets(area);
    table(f, table_area, s);
    if let Some(d) = details_area {
        details(f, d, s);
    }
}

fn table(f: &mut Frame, area: Rect, s: &State) {
    let sec = &s.secrets;
    let ns = s.namespace.clone().unwrap_or_default();
    let count = if sec.filter.is_empty() {
        format!("{}", sec.rows.len())
    } else {
        format!("{} of {}", sec.visible.len(), sec.rows.len())
    };
    let mut title = vec![Span::styled(
        format!(" Secrets in {ns} ({count}) "),
        theme::title(),
    )];
    if sec.filtering || !sec.filter.is_empty() {
        title.push(Span::styled("/", theme::key()));
        title.extend(widgets::line_input(
            &sec.filter,
            sec.filtering,
            theme::value(),
        ));
        title.push(Span::raw(" "));
    }
    let focused = s.dialog.is_none();
    let block = widgets::block(Line::from(title), focused);

    if sec.rows.is_empty() || sec.visible.is_empty() {
        let msg = if !sec.loaded {
            match &sec.load_error {
                Some(e) => Line::styled(format!("Could not list the secrets: {e}"), theme::error()),
                None => Line::from(vec![
                    Span::styled(widgets::spinner(s.spinner), theme::key()),
                    Span::raw(" Loading secrets…"),
                ]),
            }
        } else if sec.rows.is_empty() {
            Line::styled(
                format!("No secrets in {ns} yet. Press n to create one."),
                theme::muted(),
            )
        } else {
            Line::styled(
                format!("No secret matches '{}'. Esc clears the filter.", sec.filter),
                theme::muted(),
            )
        };
        f.render_widget(
            Paragraph::new(msg).block(block).wrap(Wrap { trim: true }),
            area,
        );
        return;
    }

    let arrow = |k: SortKey| {
        if sec.sort != k {
            ""
        } else if sec.reversed {
            " ▲"
        } else {
            " ▼"
        }
    };
    let name_arrow = if sec.sort == SortKey::Name {
        if sec.reversed { " ▼" } else { " ▲" }
    } else {
        ""
    };
    // Only the rows on screen are built, so drawing costs the same with ten
    // secrets or ten thousand.
    let page = layout::table_rows(area);
    let (offset, rel) = sec.nav.window(sec.visible.len(), page);
    let on_screen = &sec.visible[offset..sec.visible.len().min(offset + page.max(1))];
    // Names come first: the dates make room for them (CREATED goes first,
    // then CHANGED), and a name that still does not fit ends in "…".
    let longest = on_screen
        .iter()
        .map(|&i| sec.rows[i].name.chars().count())
        .max()
        .unwrap_or(0)
        .min(NAME_ROOM);
    let inner = usize::from(area.width.saturating_sub(2));
    let dates = if inner >= longest + 2 * (DATE_W + 2) {
        2
    } else if inner >= longest + DATE_W + 2 {
        1
    } else {
        0
    };
    let mut widths = vec![Constraint::Fill(1)];
    widths.extend(std::iter::repeat_n(
        Constraint::Length(DATE_W as u16),
        dates,
    ));
    let name_w = widgets::column_widths(area, &widths, 2)[0];
    let mut header = vec![format!("NAME{name_arrow}")];
    if dates >= 1 {
        header.push(format!("CHANGED{}", arrow(SortKey::LastChanged)));
    }
    if dates >= 2 {
        header.push(format!("CREATED{}", arrow(SortKey::Created)));
    }
    let header = Row::new(header).style(theme::header());
    let rows: Vec<Row> = on_screen
        .iter()
        .map(|&i| {
            let r = &sec.rows[i];
            let mut cells = vec![Line::raw(widgets::ellipsize(&r.name, name_w))];
            if dates >= 1 {
                cells.push(Line::styled(
                    r.last_changed
                        .map(|t| format::ago(t, s.now))
                        .unwrap_or_default(),
                    theme::label(),
                ));
            }
            if dates >= 2 {
                cells.push(Line::styled(
                    r.created.map(format::date).unwrap_or_default(),
                    theme::muted(),
                ));
            }
            Row::new(cells)
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(if focused {
            theme::selected()
        } else {
            theme::selected_unfocused()
        })
        .column_spacing(2);
    let mut ts = TableState::default().with_selected(Some(rel));
    f.render_stateful_widget(table, area, &mut ts);
    widgets::list_position(f, area, offset + rel, sec.visible.len(), page);
}

/// The width of a date column ("2026-02-05", "12mo ago").
const DATE_W: usize = 10;

/// Names longer than this do not push the dates out; they end in "…".
const NAME_ROOM: usize = 32;

fn details(f: &mut Frame, area: Rect, s: &State) {
    let sec = &s.secrets;
    let Some(row) = sec.selected() else {
        f.render_widget(widgets::block(" Details ", false), area);
        return;
    };
    let name = row.name.clone();
    let block = widgets::block(format!(" {name} "), false);
    let inner_w = area.width.saturating_sub(2);
    let w = 13;
    let field =
        |label: &str, value: &str, style| widgets::field_wrapped(label, w, value, style, inner_w);
    let mut lines = Vec::new();
    // The value comes first, so that it shows even in a short pane.
    let value_lines = |out: &mut Vec<Line<'static>>| match &sec.revealed {
        Some((n, v)) if *n == name => {
            let status = match widgets::hides_in(sec.revealed_until, s.now) {
                Some(when) => format!("shown below; {when} (v)"),
                None => "shown below (v hides)".to_owned(),
            };
            out.extend(field("Value", &status, theme::warn()));
            if v.expose().is_empty() {
                out.push(Line::styled("(empty)", theme::muted()));
            }
            // The first lines only, so the other fields stay in view; the
            // value view (Enter) shows it all.
            let room = usize::from(area.height.saturating_sub(2) / 2).max(3);
            let lines = value_view::lines(v.expose());
            let pieces: Vec<String> = lines
                .iter()
                .flat_map(|l| widgets::hard_wrap(l, usize::from(inner_w)))
                .collect();
            let fits = pieces.len() <= room;
            let keep = if fits { room } else { room - 1 };
            out.extend(
                pieces
                    .iter()
                    .take(keep)
                    .map(|p| Line::styled(p.clone(), theme::value())),
            );
            if !fits {
                // Lines shown whole; a line cut part-way counts as more.
                let mut used = 0;
                let mut whole = 0;
                for l in &lines {
                    let n = widgets::hard_wrap(l, usize::from(inner_w)).len();
                    if used + n > keep {
                        break;
                    }
                    used += n;
                    whole += 1;
                }
                let more = lines.len() - whole;
                out.push(Line::styled(
                    format!(
                        "… {more} more line{}: Enter views it all",
                        if more == 1 { "" } else { "s" }
                    ),
                    theme::muted(),
                ));
            }
        }
        _ => {
            if s.is_pending(&Purpose::Reveal(name.clone())) {
                let text = format!("{} reading…", widgets::spinner(s.spinner));
                out.extend(field("Value", &text, theme::key()));
            } else {
                out.extend(field("Value", "•••••• (v reveals)", theme::muted()));
            }
        }
    };
    match sec.details.get(&name) {
        Some(d) => {
            lines.extend(field("AWS name", &d.aws_name, Style::new()));
            value_lines(&mut lines);
            lines.extend(field("ARN", &d.arn, theme::muted()));
            lines.extend(field(
                "Created",
                &format::date_with_age(d.created, s.now),
                Style::new(),
            ));
            lines.extend(field(
                "Last changed",
                &format::date_with_age(d.last_changed, s.now),
                Style::new(),
            ));
            let read = d
                .last_accessed
                .map_or_else(|| "never".to_owned(), format::date);
            lines.extend(field("Last read", &read, Style::new()));
            lines.extend(field("Version", &d.version_id, theme::muted()));
            if d.has_read_policy {
                lines.extend(field("Read policy", "yes", theme::ok()));
            } else {
                lines.extend(field("Read policy", "no (p creates it)", theme::warn()));
            }
            if d.bound_service_accounts.is_empty() {
                lines.extend(field("Bound to", "nobody (b binds)", theme::muted()));
            } else {
                lines.extend(field(
                    "Bound to",
                    &d.bound_service_accounts.join(", "),
                    Style::new(),
                ));
            }
        }
        None => {
            value_lines(&mut lines);
            let loading = s.is_pending(&Purpose::Details(name.clone()));
            let failed = s
                .secrets
                .details_error
                .as_ref()
                .filter(|(n, _)| !loading && *n == name);
            if let Some((_, why)) = failed {
                lines.push(Line::styled(
                    format!("✗ Details not loaded: {why}"),
                    theme::error(),
                ));
                f.render_widget(
                    Paragraph::new(lines)
                        .block(block)
                        .wrap(ratatui::widgets::Wrap { trim: false }),
                    area,
                );
                return;
            }
            lines.push(Line::from(vec![
                Span::styled(
                    if loading {
                        widgets::spinner(s.spinner)
                    } else {
                        "·"
                    },
                    theme::key(),
                ),
                Span::styled(" loading details…", theme::muted()),
            ]));
        }
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}
