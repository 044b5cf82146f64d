//! "Changed meanwhile": a save found a newer version than the one the edit
//! started from. Two diffs, masked until `v`: what the other person changed,
//! and what saving over it would change.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::{Conflict, State};
use crate::diff::Diff;

pub fn draw(f: &mut Frame, area: Rect, s: &State, c: &Conflict) {
    let title = " Changed meanwhile ";
    let mut header = vec![Line::raw(
        "Someone saved a new version after you opened this one. Your text is kept.",
    )];
    let Some(_) = c.theirs.as_ref() else {
        header.push(match &c.error {
            Some(e) => Line::styled(e.clone(), theme::error()),
            None => Line::from(vec![
                Span::styled(widgets::spinner(s.spinner), theme::key()),
                Span::raw(" Reading their version…"),
            ]),
        });
        header.push(widgets::key_hints(&[("e/Esc", "keep editing")]));
        scrolled_dialog(f, area, title, header, Vec::new(), 0);
        return;
    };
    let short: String = c.version.chars().take(8).collect();
    header.push(widgets::key_hints(&[
        ("e/Esc", "keep editing"),
        ("t", "take theirs"),
        ("o", "overwrite theirs"),
        ("v", if c.revealed { "hide" } else { "reveal" }),
        ("j/k", "scroll"),
    ]));
    let mut body = Vec::new();
    section(
        &mut body,
        format!("What they changed (the value you opened → their version {short})"),
        &c.theirs_vs_base,
        c.revealed,
    );
    body.push(Line::default());
    section(
        &mut body,
        format!("What overwriting does (their version {short} → your text)"),
        &c.theirs_vs_mine,
        c.revealed,
    );
    scrolled_dialog(f, area, title, header, body, c.scroll);
}

fn section(body: &mut Vec<Line<'static>>, title: String, d: &Diff, show: bool) {
    body.push(Line::styled(
        format!("{title}: {}", d.summary()),
        theme::label(),
    ));
    body.extend(super::history::diff_lines(d, show));
}

/// A dialog as tall as its text needs, up to the screen: a fixed header
/// over a body that scrolls, so a long diff is read whole, a page at a
/// time, instead of being cut at the dialog's bottom.
pub(super) fn scrolled_dialog(
    f: &mut Frame,
    area: Rect,
    title: &'static str,
    header: Vec<Line<'static>>,
    body: Vec<Line<'static>>,
    scroll: usize,
) {
    let width = area.width.min(84);
    let inner_w = usize::from(width.saturating_sub(2).max(1));
    // Header, a blank row, the body, the borders.
    let want = rows(&header, inner_w) + 1 + rows(&body, inner_w) + 2;
    let height = u16::try_from(want)
        .unwrap_or(u16::MAX)
        .min(area.height.saturating_sub(2).max(3));
    let popup = layout::centered(area, width, height);
    let inner = widgets::dialog(f, popup, title, theme::warn());
    let header_h = u16::try_from(rows(&header, inner_w) + 1).unwrap_or(u16::MAX);
    let [top, rest] =
        Layout::vertical([Constraint::Length(header_h), Constraint::Min(0)]).areas(inner);
    f.render_widget(Paragraph::new(header).wrap(Wrap { trim: false }), top);
    let total = rows(&body, usize::from(rest.width.max(1)));
    let visible = usize::from(rest.height);
    // Never scroll past the last page: the bottom stays filled.
    let first = scroll.min(total.saturating_sub(visible));
    let more = total > first + visible;
    f.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(first).unwrap_or(u16::MAX), 0)),
        rest,
    );
    if more && rest.height > 0 {
        let hint = Rect::new(rest.x, rest.y + rest.height - 1, rest.width, 1);
        f.render_widget(Clear, hint);
        f.render_widget(
            Paragraph::new(Line::styled(
                format!("  ↓ {} more lines (j/PgDn)", total - first - visible + 1),
                theme::muted(),
            )),
            hint,
        );
    }
}

/// Rows lines take wrapped at `width`, about (wrapping at words can take
/// a row more than this): a long line is read whole too.
fn rows(lines: &[Line<'_>], width: usize) -> usize {
    lines
        .iter()
        .map(|l| l.width().div_ceil(width.max(1)).max(1))
        .sum()
}
