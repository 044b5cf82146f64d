//! The copy menu.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState};

use super::{theme, widgets};
use crate::app::layout;
use crate::app::state::{CopyItem, CopyMenu};

pub fn draw(f: &mut Frame, body: Rect, m: &CopyMenu) {
    let area = layout::centered(body, 60, CopyItem::MENU.len() as u16 + 2);
    let inner = widgets::dialog(
        f,
        area,
        format!(" Copy from {} ", m.name),
        theme::border_focus(),
    );
    let items: Vec<ListItem> = CopyItem::MENU
        .iter()
        .map(|(k, item)| {
            ListItem::new(Line::from(vec![
                Span::styled(format!(" {k} "), theme::key()),
                Span::raw(item.label()),
            ]))
        })
        .collect();
    let list = List::new(items).highlight_style(theme::selected());
    let mut ls = ListState::default().with_selected(Some(m.nav.selected));
    f.render_stateful_widget(list, inner, &mut ls);
}
