//! Drawing: one module per screen and dialog. Views read [`State`] and never
//! change it; where they scroll, they use the positions `update` keeps.

mod auth;
mod bind;
mod conflict;
mod copy;
mod delete;
mod deleted;
mod editor;
mod help;
mod history;
mod namespaces;
mod quit;
mod search;
mod secrets;
mod status;
pub mod theme;
mod tokens;
mod value;
mod widgets;

use ratatui::Frame;

use crate::app::layout;
use crate::app::state::{Dialog, Screen, State};

/// Draws the whole screen for `state`.
pub fn draw(f: &mut Frame, state: &State) {
    let area = f.area();
    // Tiny terminals: say so rather than draw a broken layout.
    if layout::too_small((area.width, area.height)) {
        status::too_small(f, area, state.quit_confirm);
        return;
    }
    let bands = layout::bands_with_message(area, layout::message_height(state, area.width));
    status::status_bar(f, bands.status, state);
    match state.screen {
        Screen::Tokens => tokens::draw(f, bands.body, state),
        Screen::Namespaces => namespaces::draw(f, bands.body, state),
        Screen::Secrets => {
            secrets::draw(f, bands.body, state);
            if state.dialog.is_some() {
                dim(f, bands.body);
            }
            match &state.dialog {
                Some(Dialog::Editor(ed)) => editor::draw(f, bands.body, state, ed),
                Some(Dialog::Delete(d)) => delete::draw(f, bands.body, state, d),
                Some(Dialog::Bind(b)) => bind::draw(f, bands.body, state, b),
                Some(Dialog::Copy(m)) => copy::draw(f, bands.body, m),
                Some(Dialog::View(v)) => value::draw(f, bands.body, state, v),
                Some(Dialog::Search(d)) => search::draw(f, bands.body, state, d),
                None => {}
            }
        }
        Screen::Deleted => deleted::draw(f, bands.body, state),
        Screen::History => history::draw(f, bands.body, state),
    }
    if let Some(msg) = &state.auth_problem {
        dim(f, bands.body);
        auth::draw(f, bands.body, state, msg);
    }
    if state.quit_confirm {
        dim(f, bands.body);
        quit::draw(f, bands.body);
    }
    if let Some(scroll) = state.help {
        dim(f, bands.body);
        help::draw(f, bands.body, state, scroll);
    }
    status::message_line(f, bands.message, state);
    status::footer(f, bands.footer, state);
}

/// Dims what is under a dialog, so the dialog is what the eye finds.
fn dim(f: &mut Frame, area: ratatui::layout::Rect) {
    f.buffer_mut().set_style(
        area,
        ratatui::style::Style::new().add_modifier(ratatui::style::Modifier::DIM),
    );
}
