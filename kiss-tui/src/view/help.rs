//! The `?` help overlay: every key of every screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{theme, widgets};
use crate::app::help;
use crate::app::keymap::{self, KeyContext};
use crate::app::layout;

/// Every line of the help, unscrolled; the keys of `here` first.
pub fn lines(here: KeyContext) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let sections = help::sections(here);
    for (i, (title, ctx)) in sections.iter().enumerate() {
        if i > 0 {
            lines.push(Line::default());
        }
        let title = if i == 0 && *ctx == here && here != KeyContext::Global {
            format!("{title} (here)")
        } else {
            (*title).to_owned()
        };
        lines.push(Line::styled(title, theme::header()));
        for k in keymap::keys(*ctx) {
            lines.push(Line::from(vec![
                // A long key list still keeps a space before its words.
                Span::styled(format!("  {:<15} ", k.keys), theme::key()),
                Span::raw(k.what),
            ]));
        }
    }
    lines
}

pub fn draw(f: &mut Frame, body: Rect, scroll: u16, here: KeyContext) {
    let area = layout::help(body);
    let all = lines(here);
    let inner_h = area.height.saturating_sub(2);
    let max_scroll = (all.len() as u16).saturating_sub(inner_h);
    let scroll = scroll.min(max_scroll);
    let more = if max_scroll > 0 {
        format!(" Keys · {}/{} · j/k scroll ", scroll + 1, max_scroll + 1)
    } else {
        " Keys ".to_owned()
    };
    let inner = widgets::dialog(f, area, more, theme::border_focus());
    f.render_widget(Paragraph::new(all).scroll((scroll, 0)), inner);
}
