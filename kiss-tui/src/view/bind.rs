//! The bindings dialog.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::{BindDialog, BindFocus, Purpose, State};

pub fn draw(f: &mut Frame, body: Rect, s: &State, b: &BindDialog) {
    // The message under the list (an error, "Unbind?") is read whole, and
    // the key hints stay below it: the dialog grows for a long message.
    let msg = bottom_message(s, b);
    let hints = widgets::key_hints(&[
        ("Enter", "bind"),
        ("Tab", "list"),
        ("x", "unbind"),
        ("Esc", "close"),
    ]);
    let base = layout::bind(body);
    let msg_h = widgets::wrapped_height(std::slice::from_ref(&msg), base.width.saturating_sub(2))
        .clamp(1, 6);
    let area = layout::centered(body, base.width, base.height + msg_h.saturating_sub(1));
    let inner = widgets::dialog(
        f,
        area,
        format!(" Bindings of {} ", b.name),
        theme::border_focus(),
    );
    // The rule a refused name breaks is read whole: give it the lines it needs.
    let input_msg_h = match &b.input_error {
        Some(e) => {
            ((e.chars().count() + 2).div_ceil(usize::from(inner.width.max(1)))).clamp(1, 3) as u16
        }
        None => 1,
    };
    let [input_area, input_msg, list_area, msg_area, hints_area] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(input_msg_h),
        Constraint::Min(2),
        Constraint::Length(msg_h),
        Constraint::Length(1),
    ])
    .areas(inner);

    let input_focused = b.focus == BindFocus::Input;
    let mut input = widgets::line_input(&b.input, input_focused, Style::default());
    if b.input.is_empty() {
        input.push(Span::styled(
            "service account name, then Enter",
            theme::muted(),
        ));
    }
    f.render_widget(
        Paragraph::new(Line::from(input))
            .block(widgets::block(" Bind a service account ", input_focused)),
        input_area,
    );
    let details = s.secrets.details.get(&b.name);
    let input_line = match (&b.input_error, details) {
        (Some(e), _) => Line::styled(format!("✗ {e}"), theme::error()),
        (None, Some(d)) if !d.has_read_policy => Line::styled(
            "No read policy yet: it is created before the first binding.",
            theme::muted(),
        ),
        _ => Line::default(),
    };
    f.render_widget(
        Paragraph::new(input_line).wrap(Wrap { trim: true }),
        input_msg,
    );

    let list_focused = b.focus == BindFocus::List;
    match details {
        None => {
            let loading = s.is_pending(&Purpose::Details(b.name.clone()));
            f.render_widget(
                Paragraph::new(Line::styled(
                    if loading {
                        format!("{} loading bindings…", widgets::spinner(s.spinner))
                    } else {
                        "bindings unknown".to_owned()
                    },
                    theme::muted(),
                ))
                .block(widgets::block(" Bound service accounts ", list_focused)),
                list_area,
            );
        }
        Some(d) => {
            let title = format!(
                " Bound service accounts ({}) ",
                d.bound_service_accounts.len()
            );
            if d.bound_service_accounts.is_empty() {
                f.render_widget(
                    Paragraph::new(Line::styled("none yet", theme::muted()))
                        .block(widgets::block(title, list_focused)),
                    list_area,
                );
            } else {
                let page = layout::list_rows(list_area);
                let (offset, rel) = b.nav.window(d.bound_service_accounts.len(), page);
                let items: Vec<ListItem> = d
                    .bound_service_accounts
                    .iter()
                    .skip(offset)
                    .take(page.max(1))
                    .map(|sa| ListItem::new(format!("  {sa}")))
                    .collect();
                let list = List::new(items)
                    .block(widgets::block(title, list_focused))
                    .highlight_style(if list_focused {
                        theme::selected()
                    } else {
                        theme::selected_unfocused()
                    });
                let mut ls = ListState::default().with_selected(Some(rel));
                f.render_stateful_widget(list, list_area, &mut ls);
            }
        }
    }

    f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), msg_area);
    f.render_widget(Paragraph::new(hints), hints_area);
}

/// What the dialog says under the list: "Unbind?", work in progress, or
/// the last error.
fn bottom_message(s: &State, b: &BindDialog) -> Line<'static> {
    if let Some(sa) = &b.confirm_unbind {
        Line::from(vec![
            Span::styled(format!("Unbind '{sa}'? "), theme::warn()),
            Span::styled("y", theme::key()),
            Span::styled(" yes  ", theme::muted()),
            Span::styled("n", theme::key()),
            Span::styled(" no", theme::muted()),
        ])
    } else if b.busy {
        Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" Working…"),
        ])
    } else if let Some(e) = &b.error {
        Line::styled(e.clone(), theme::error())
    } else {
        Line::default()
    }
}
