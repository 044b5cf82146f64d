//! The create / update form.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::{Editor, EditorFocus, EditorMode, State};

/// Width of the label column ("Name").
const LABEL_W: u16 = 6;

pub fn draw(f: &mut Frame, body: Rect, s: &State, ed: &Editor) {
    let area = layout::editor(body);
    let ns = s.namespace.clone().unwrap_or_default();
    let create = ed.mode == EditorMode::Create;
    let title = match &ed.mode {
        EditorMode::Create => format!(" New secret in {ns} "),
        EditorMode::Update { name, .. } => format!(" Edit {name} in {ns} "),
    };
    let inner = widgets::dialog(f, area, title, theme::border_focus());

    // The message under the value: an error (as many lines as it needs,
    // so it is read whole), or the saving spinner.
    let msg = if let Some(e) = &ed.error {
        Some(Line::styled(e.clone(), theme::error()))
    } else if ed.saving {
        Some(Line::from(vec![
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(" Saving…"),
        ]))
    } else {
        None
    };
    let msg_h = match &msg {
        None => 0,
        Some(line) => {
            let w = usize::from(inner.width.max(1));
            (line.width().div_ceil(w) + 1).clamp(1, 4) as u16
        }
    };
    // The rule a refused name breaks is read whole, too.
    let name_msg_h = match &ed.name_error {
        Some(e) if !ed.name_text().is_empty() => {
            let w = usize::from(inner.width.saturating_sub(LABEL_W).max(1));
            ((e.chars().count() + 2) * 11 / 10).div_ceil(w).clamp(1, 3) as u16
        }
        _ => 1,
    };
    let [name_row, name_msg, value_area, policy_row, msg_area] =
        layout::editor_parts(inner, create, name_msg_h, msg_h);

    if create {
        let focused = ed.focus == EditorFocus::Name;
        let [label, input] =
            Layout::horizontal([Constraint::Length(LABEL_W), Constraint::Min(1)]).areas(name_row);
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
        let [_, name_msg] =
            Layout::horizontal([Constraint::Length(LABEL_W), Constraint::Min(1)]).areas(name_msg);
        let line = if ed.name_text().is_empty() {
            Line::styled(
                "lowercase letters, digits and '-', e.g. db-password",
                theme::muted(),
            )
        } else {
            match &ed.name_error {
                Some(e) => Line::styled(format!("✗ {e}"), theme::error()),
                None => Line::styled("✓ valid name", theme::ok()),
            }
        };
        f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), name_msg);
    }

    let focused = ed.focus == EditorFocus::Value;
    let lines = ed.value.lines().len();
    let value_title = if ed.key_value {
        format!(
            " Value · KEY=value, {lines} line{} → a JSON object (Ctrl-T: text) ",
            if lines == 1 { "" } else { "s" }
        )
    } else {
        format!(
            " Value · {lines} line{} ",
            if lines == 1 { "" } else { "s" }
        )
    };
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
                Span::styled(" (for bindings)", theme::muted()),
            ])),
            policy_row,
        );
    }

    if let Some(msg) = msg {
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), msg_area);
    }

    if let Some(c) = &ed.save_diff {
        let (title, against) = if c.over_theirs {
            (
                " Save over their change? ",
                "Against the version saved meanwhile",
            )
        } else {
            (" Save these changes? ", "Against the value you opened")
        };
        let header = vec![
            Line::styled(format!("{against}: {}", c.diff.summary()), theme::label()),
            widgets::key_hints(&[
                ("y/Ctrl-S", "save"),
                ("n/Esc", "keep editing"),
                ("j/k", "scroll"),
            ]),
        ];
        super::conflict::scrolled_dialog(
            f,
            area,
            title,
            header,
            super::history::diff_lines(&c.diff, true),
            c.scroll,
        );
    }

    if let Some(c) = ed.conflict.as_ref().filter(|c| c.shown) {
        super::conflict::draw(f, area, s, c);
    }

    if ed.confirm_discard {
        let popup = layout::centered(area, 44, 4);
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
