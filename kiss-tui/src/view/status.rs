//! The status bar, the message line and the footer of key hints.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::format;
use crate::app::keymap;
use crate::app::state::{Level, State};

/// Server, namespace, identity, token expiry; the spinner on the right.
pub fn status_bar(f: &mut Frame, area: Rect, s: &State) {
    f.render_widget(Paragraph::new("").style(theme::status_bar()), area);
    let right = match (s.busy_label(), &s.clipboard) {
        (Some(label), _) => Line::from(vec![
            Span::raw(" "),
            Span::styled(widgets::spinner(s.spinner), theme::key()),
            Span::raw(format!(" {label}… ")),
        ]),
        // A copied value is on the clipboard: say until when.
        (None, Some(hold)) => Line::raw(format!(
            " clipboard cleared in {} ",
            format::duration_short(hold.until.duration_since(s.now).unwrap_or_default())
        )),
        // Auto-refresh is on: how fresh the list is.
        (None, None) => match (s.refresh, s.secrets.listed_at) {
            (Some(_), Some(at)) if s.screen == crate::app::state::Screen::Secrets => {
                Line::raw(format!(
                    " refreshed {} ago ",
                    format::duration_coarse(s.now.duration_since(at).unwrap_or_default())
                ))
            }
            _ => Line::default(),
        },
    };
    let right_w = (right.width() as u16).min(area.width / 2);
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_w)]).areas(area);

    // Narrow terminals drop the server and the words, keep the facts.
    let wide = area.width >= 80;
    let sep = || Span::styled(" │ ", theme::muted());
    let mut spans = vec![Span::styled(" kiss ", theme::badge()), Span::raw(" ")];
    // The kubeconfig context first: it decides the server and the token.
    if let Some(ctx) = &s.context {
        if wide {
            spans.push(Span::styled("ctx ", theme::muted()));
        }
        spans.push(Span::styled(ctx.clone(), theme::title()));
        spans.push(sep());
    }
    if wide || s.namespace.is_none() {
        spans.push(Span::raw(s.server.clone()));
    }
    if let Some(ns) = &s.namespace {
        if wide {
            spans.push(sep());
            spans.push(Span::styled("ns ", theme::muted()));
        }
        spans.push(Span::styled(ns.clone(), theme::title()));
    }
    if let Some(id) = s.identifier() {
        spans.push(sep());
        spans.push(Span::raw(id.to_owned()));
        if s.is_admin() {
            spans.push(Span::styled(" (admin)", theme::warn()));
        }
    }
    if let Some(session) = &s.session {
        spans.push(sep());
        let expired = session.expires_at.is_some_and(|t| t <= s.now);
        let soon = session
            .expires_at
            .and_then(|t| t.duration_since(s.now).ok())
            .is_some_and(|d| d.as_secs() < 300);
        let style = if expired {
            theme::error()
        } else if soon {
            theme::warn()
        } else {
            theme::muted()
        };
        let text = match (wide, session.expires_at) {
            (false, Some(t)) if !expired => {
                format::duration_short(t.duration_since(s.now).unwrap_or_default())
            }
            (false, _) if expired => "expired".to_owned(),
            _ => format!("token {}", format::expiry(session.expires_at, s.now)),
        };
        spans.push(Span::styled(text, style));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).style(theme::status_bar()),
        left_area,
    );
    f.render_widget(Paragraph::new(right).style(theme::status_bar()), right_area);
}

/// The last message, or a hint when there is none; the `:` command line
/// while it is open.
pub fn message_line(f: &mut Frame, area: Rect, s: &State) {
    if let Some(c) = &s.command {
        let mut spans = vec![Span::styled(":", theme::key())];
        spans.extend(widgets::line_input(&c.input, true, Style::new()));
        if !c.choices.is_empty() {
            spans.push(Span::styled(
                format!("   {}", c.choices.join("  ")),
                theme::muted(),
            ));
        }
        f.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    let line = match &s.flash {
        Some(flash) => match flash.level {
            Level::Info => Line::from(vec![
                Span::styled("✓ ", theme::ok()),
                Span::raw(flash.text.clone()),
            ]),
            Level::Error => Line::from(vec![
                Span::styled("✗ ", theme::error()),
                Span::styled(flash.text.clone(), theme::error()),
            ]),
        },
        None => {
            let expired = s
                .session
                .as_ref()
                .and_then(|x| x.expires_at)
                .is_some_and(|t| t <= s.now);
            if expired {
                Line::from(Span::styled(
                    "Your token has expired: press T to pick another one.",
                    theme::warn(),
                ))
            } else {
                Line::default()
            }
        }
    };
    f.render_widget(Paragraph::new(line).wrap(Wrap { trim: false }), area);
}

/// The keys that work here, as many as fit (see [`keymap::footer`]).
pub fn footer(f: &mut Frame, area: Rect, s: &State) {
    let hints = keymap::footer(s, area.width);
    let pairs: Vec<(&str, &str)> = hints.iter().map(|h| (h.keys.as_str(), h.what)).collect();
    let mut line = widgets::key_hints(&pairs);
    line.spans.insert(0, Span::raw(" "));
    f.render_widget(Paragraph::new(line), area);
}

/// Drawn instead of everything when the terminal is too small to be useful.
pub fn too_small(f: &mut Frame, area: Rect, quit_confirm: bool) {
    let (w, h) = crate::app::layout::MIN_SIZE;
    let text = if quit_confirm {
        format!(
            "kiss: unsaved text. Ctrl-C again quits and loses it; make the terminal {w}x{h} to see it"
        )
    } else {
        format!("kiss: make the terminal at least {w}x{h}; Ctrl-C quits")
    };
    f.render_widget(
        Paragraph::new(text)
            .style(theme::warn())
            .wrap(Wrap { trim: true }),
        area,
    );
}
