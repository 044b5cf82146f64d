//! The create / update form.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::{Editor, EditorFocus, EditorMode, State};

pub fn draw(f: &mut Frame, body: Rect, s: &State, ed: &Editor) {
    let area = layout::editor(body);
    let ns = s.namespace.clone().unwrap_or_default();
    let create = ed.mode == EditorMode::Create;
    let title = match &ed.mode {
        EditorMode::Create => format!(" New secret in {ns} "),
        EditorMode::Update { name, .. } => format!(" Edit {name} in {ns} "),
    };
    let inner = widgets::dialog(f, area, title, theme::border_focus());
    let [name_row, name_msg, value_area, policy_row, msg_area] =
        layout::editor_parts(inner, create);

    if create {
        let focused = ed.focus == EditorFocus::Name;
        let [label, input] =
            Layout::horizontal([Constraint::Length(7), Constraint::Min(1)]).areas(name_row);
        f.render_widget(
            Paragraph::new(Span::styled(
                "Name",
                if focused {
                    theme::key()
                } else {
                    theme::label()
                },
            )),
            label,
        );
        f.render_widget(&ed.name, input);
        let msg = if ed.name_text().is_empty() {
            Line::styled(
                "       lowercase letters, digits and '-', e.g. db-password",
                theme::muted(),
            )
        } else {
            match &ed.name_error {
                Some(e) => Line::styled(format!("       ✗ {e}"), theme::error()),
                None => Line::styled("       ✓ valid name", theme::ok()),
            }
        };
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), name_msg);
    }

    let focused = ed.focus == EditorFocus::Value;
    let lines = ed.value.lines().len();
    let value_title = format!(
        " Value · {lines} line{} ",
        if lines == 1 { "" } else { "s" }
    );
    let block = widgets::block(value_title, focused);
    let value_inner = block.inner(value_area);
    f.render_widget(block, value_area);
    if ed.loading {
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(widgets::spinner(s.spinner), theme::key()),
                Span::raw(" Reading the current value…"),
            ])),
            value_inner,
        );
    } else {
        f.render_widget(&ed.value, value_inner);
    }

    if create {
        let focused = ed.focus == EditorFocus::Policy;
        let check = if ed.with_policy { "[x]" } else { "[ ]" };
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(
                    check,
                    if focused {
                        theme::selected()
                    } else {
                        theme::key()
                    },
                ),
                Span::raw(" Also create the read policy"),
                Span::styled(" (needed to bind service accounts)", theme::muted()),
            ])),
            policy_row,
        );
    }

    let msg = if let Some(e) = &ed.error {
        Line::styled(e.clone(), theme::error())
    } else if ed.saving {
        Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" Saving…"),
        ])
    } else {
        widgets::key_hints(&[
            ("Ctrl-S", "save"),
            ("Enter", "new line"),
            ("Tab", "next field"),
            ("Esc", "cancel"),
        ])
    };
    f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), msg_area);

    if ed.confirm_discard {
        let popup = layout::centered(area, 46, 5);
        let inner = widgets::dialog(f, popup, " Discard? ", theme::warn());
        f.render_widget(
            Paragraph::new(vec![
                Line::raw("Throw away the text you typed?"),
                widgets::key_hints(&[("y", "discard"), ("n/Esc", "keep editing")]),
            ])
            .wrap(Wrap { trim: true }),
            inner,
        );
    }
}
