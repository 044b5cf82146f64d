//! The `?` help overlay: every key of every screen, narrowed by `/`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{theme, widgets};
use crate::app::help::{self, HelpLine};
use crate::app::keymap::KeyContext;
use crate::app::layout;
use crate::app::state::State;

/// Every line of the help, unscrolled; the keys of `here` first, narrowed
/// to what matches `query`.
pub fn lines(here: KeyContext, query: &str, width: usize) -> Vec<Line<'static>> {
    help::help_lines(here, query)
        .into_iter()
        .map(|l| match l {
            HelpLine::Blank => Line::default(),
            HelpLine::Title { title, here } => Line::styled(
                if here {
                    format!("{title} (here)")
                } else {
                    title.to_owned()
                },
                theme::header(),
            ),
            HelpLine::Key { keys, what } => {
                // A long key list still keeps a space before its words;
                // words that do not fit end in "…", never silently.
                let head = format!("  {keys:<15} ");
                let room = width.saturating_sub(head.chars().count());
                Line::from(vec![
                    Span::styled(head, theme::key()),
                    Span::raw(widgets::ellipsize(what, room)),
                ])
            }
        })
        .collect()
}

pub fn draw(f: &mut Frame, body: Rect, s: &State, scroll: u16) {
    let area = layout::help(body);
    let here = s.context_below_help();
    let query: &str = &s.help_query;
    let mut all = lines(here, query, usize::from(area.width.saturating_sub(2)));
    let searching = s.help_searching || !query.is_empty();
    if all.is_empty() {
        all.push(Line::styled(
            format!("No key matches '{query}'. Esc clears the search."),
            theme::muted(),
        ));
    }
    // The search line sits on top and does not scroll.
    let inner_h = area.height.saturating_sub(2 + u16::from(searching));
    let max_scroll = (all.len() as u16).saturating_sub(inner_h);
    let scroll = scroll.min(max_scroll);
    let title = if max_scroll > 0 {
        format!(
            " Keys · {}/{} · j/k scroll · / search ",
            scroll + 1,
            max_scroll + 1
        )
    } else {
        " Keys · / search ".to_owned()
    };
    let inner = widgets::dialog(f, area, title, theme::border_focus());
    let list = if searching {
        let mut line = vec![Span::styled("/", theme::key())];
        line.extend(widgets::line_input(
            &s.help_query,
            s.help_searching,
            theme::value(),
        ));
        f.render_widget(
            Paragraph::new(Line::from(line)),
            Rect { height: 1, ..inner },
        );
        Rect {
            y: inner.y + 1,
            height: inner.height.saturating_sub(1),
            ..inner
        }
    } else {
        inner
    };
    f.render_widget(Paragraph::new(all).scroll((scroll, 0)), list);
}
