//! The delete confirmation.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::{DeleteDialog, State};

pub fn draw(f: &mut Frame, body: Rect, s: &State, d: &DeleteDialog) {
    let area = layout::centered(body, 64, 10);
    let inner = widgets::dialog(f, area, " Delete secret ", Style::new().fg(Color::Red));
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
        Line::styled(
            "It can be restored from recently deleted (D) during the recovery window.",
            theme::muted(),
        ),
        Line::default(),
        Line::from(vec![
            Span::styled(if d.remove_policy { "[x]" } else { "[ ]" }, theme::key()),
            Span::raw(" Also remove its read policy"),
            Span::styled(policy_note, theme::muted()),
        ]),
        Line::default(),
    ];
    if d.busy {
        lines.push(Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" Deleting…"),
        ]));
    } else if let Some(e) = &d.error {
        lines.push(Line::styled(e.clone(), theme::error()));
    }
    lines.push(widgets::key_hints(&[
        ("y", "delete"),
        ("Space", "toggle policy"),
        ("n/Esc", "cancel"),
    ]));
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
}
