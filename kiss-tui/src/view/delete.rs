//! The delete confirmation.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::{DeleteDialog, Recovery, State};

pub fn draw(f: &mut Frame, body: Rect, s: &State, d: &DeleteDialog) {
    let ns = s.namespace.clone().unwrap_or_default();
    let details = s.secrets.details.get(&d.name);
    let bound = details
        .map(|x| x.bound_service_accounts.clone())
        .unwrap_or_default();
    let policy_note = match details {
        Some(x) if !x.has_read_policy => " (it has none)".to_owned(),
        _ if !bound.is_empty() => format!(" (detaching it from {})", bound.join(", ")),
        _ => String::new(),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::raw("Delete "),
            Span::styled(format!("'{}'", d.name), theme::error()),
            Span::raw(format!(" from {ns}?")),
        ]),
        match d.recovery {
            Recovery::Days(n) => Line::styled(
                format!(
                    "It can be restored from recently deleted (D) for {n} day{}.",
                    if n == 1 { "" } else { "s" }
                ),
                theme::muted(),
            ),
            Recovery::Unknown => Line::styled(
                "It can be restored from recently deleted (D) if this server keeps deleted \
                 secrets.",
                theme::muted(),
            ),
            Recovery::Never => Line::styled(
                "This server deletes at once: it cannot be restored.",
                theme::error(),
            ),
        },
    ];
    if d.for_good() {
        let mut typed = vec![Span::raw("Type its name to confirm: ")];
        typed.extend(widgets::line_input(&d.typed, !d.busy, Style::new()));
        lines.push(Line::default());
        lines.push(Line::from(typed));
    }
    lines.extend([
        Line::default(),
        Line::from(vec![
            Span::styled(if d.remove_policy { "[x]" } else { "[ ]" }, theme::key()),
            Span::raw(" Also remove its read policy"),
            Span::styled(policy_note, theme::muted()),
        ]),
        Line::default(),
    ]);
    if d.busy {
        lines.push(Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" Deleting…"),
        ]));
    } else if let Some(e) = &d.error {
        lines.push(Line::styled(e.clone(), theme::error()));
    }
    let hints = if d.for_good() {
        widgets::key_hints(&[
            ("Enter", "delete for good"),
            ("Tab", "toggle policy"),
            ("Esc", "cancel"),
        ])
    } else {
        widgets::key_hints(&[
            ("y", "delete"),
            ("Space", "toggle policy"),
            ("n/Esc", "cancel"),
        ])
    };
    // As tall as the text needs (a long error included); the key hints on
    // the last row, always.
    let width = 64.min(body.width);
    let text_h = widgets::wrapped_height(&lines, width.saturating_sub(2));
    let area = layout::centered(body, width, text_h.saturating_add(3));
    let inner = widgets::dialog(f, area, " Delete secret ", Style::new().fg(Color::Red));
    let [text_area, hints_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), text_area);
    f.render_widget(Paragraph::new(hints), hints_area);
}
