//! Where things go on screen. Both `update` (to page and scroll lists by
//! what is visible) and the views (to draw) use these functions, so the two
//! agree without the views keeping any state.

use ratatui::layout::{Constraint, Layout, Rect};

use super::state::State;

/// The four horizontal bands of every screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bands {
    /// The status bar (top line).
    pub status: Rect,
    /// The screen's content.
    pub body: Rect,
    /// The message line.
    pub message: Rect,
    /// The key hints.
    pub footer: Rect,
}

/// Splits the terminal into status bar, body, message line and footer.
pub fn bands(area: Rect) -> Bands {
    bands_with_message(area, 1)
}

/// As [`bands`], with a message area of `message_h` lines, for long
/// messages that must be read whole.
pub fn bands_with_message(area: Rect, message_h: u16) -> Bands {
    let [status, body, message, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(message_h),
        Constraint::Length(1),
    ])
    .areas(area);
    Bands {
        status,
        body,
        message,
        footer,
    }
}

/// The terminal area of a size.
pub fn screen(size: (u16, u16)) -> Rect {
    Rect::new(0, 0, size.0, size.1)
}

/// Whether the details pane sits beside the table (wide terminals) rather
/// than under it.
pub fn details_beside(body: Rect) -> bool {
    body.width >= 90
}

/// The secrets table and, when there is room, the details pane.
pub fn secrets(body: Rect) -> (Rect, Option<Rect>) {
    if details_beside(body) {
        let [table, details] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(body);
        (table, Some(details))
    } else if body.height >= 14 {
        let details_h = (body.height / 2).min(10);
        let [table, details] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(details_h)]).areas(body);
        (table, Some(details))
    } else {
        (body, None)
    }
}

/// The token list and the box describing the selected token.
pub fn tokens(body: Rect) -> (Rect, Rect) {
    let info_h = if body.height >= 14 { 6 } else { 4 };
    let [list, info] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(info_h)]).areas(body);
    (list, info)
}

/// The namespace filter input and the list under it.
pub fn namespaces(body: Rect) -> (Rect, Rect) {
    let [input, list] = Layout::vertical([Constraint::Length(3), Constraint::Min(0)]).areas(body);
    (input, list)
}

/// Rows of data a bordered table with a header shows in `area`.
pub fn table_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(3))
}

/// The history screen: the versions, and the pane beside them (wide) or
/// below them; the pane always shows, as it is the point of the screen.
pub fn history(body: Rect) -> (Rect, Rect) {
    if body.width >= 100 {
        let [table, pane] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(body);
        (table, pane)
    } else {
        let [table, pane] =
            Layout::vertical([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(body);
        (table, pane)
    }
}

/// The smallest terminal the app draws in (columns, rows); below it the
/// screen only says so, and keys other than quitting do nothing.
pub const MIN_SIZE: (u16, u16) = (30, 8);

/// Whether a terminal of `size` is below [`MIN_SIZE`].
pub fn too_small(size: (u16, u16)) -> bool {
    size.0 < MIN_SIZE.0 || size.1 < MIN_SIZE.1
}

/// Rows a bordered list without a header shows in `area`.
pub fn list_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(2))
}

/// A centred box of at most `width` x `height`, leaving a margin when the
/// terminal is large enough.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// The editor dialog: almost the whole body.
pub fn editor(area: Rect) -> Rect {
    centered(area, 90, 26)
}

/// The parts of the editor dialog's inside: name line, name message
/// (`name_msg_h` lines), value box, checkbox line, message lines (`msg_h`).
/// The name parts are empty when `has_name` is false.
pub fn editor_parts(inner: Rect, has_name: bool, name_msg_h: u16, msg_h: u16) -> [Rect; 5] {
    let name_h = if has_name { 1 } else { 0 };
    let policy_h = if has_name { 1 } else { 0 };
    let name_msg_h = if has_name { name_msg_h } else { 0 };
    Layout::vertical([
        Constraint::Length(name_h),
        Constraint::Length(name_msg_h),
        Constraint::Min(3),
        Constraint::Length(policy_h),
        Constraint::Length(msg_h),
    ])
    .areas(inner)
}

/// The bindings dialog.
pub fn bind(area: Rect) -> Rect {
    centered(area, 72, 18)
}

/// The help overlay.
pub fn help(body: Rect) -> Rect {
    centered(body, 96, 40)
}

/// Lines the message needs to be read whole (at most 5).
pub fn message_height(s: &State, width: u16) -> u16 {
    let Some(flash) = &s.flash else { return 1 };
    let w = usize::from(width.max(1));
    // Word wrapping wastes the ends of lines: allow a tenth more.
    let needed = ((flash.text.chars().count() + 2) * 11 / 10).div_ceil(w);
    needed.clamp(1, 5) as u16
}

/// The bands as they are drawn now: the message takes the lines it needs,
/// so update's pages and clicks match what is on screen.
pub fn bands_of(s: &State) -> Bands {
    let area = screen(s.size);
    bands_with_message(area, message_height(s, area.width))
}

/// The inside of the value view: the body within its border.
pub fn value_view(s: &State) -> Rect {
    let body = bands_of(s).body;
    Rect {
        x: body.x + 1,
        y: body.y + 1,
        width: body.width.saturating_sub(2),
        height: body.height.saturating_sub(2),
    }
}

/// Lines of the help shown at once (opening it clears the message line).
pub fn help_rows(size: (u16, u16)) -> u16 {
    help(bands(screen(size)).body).height.saturating_sub(2)
}

/// Rows of the bindings list in the bindings dialog.
pub fn bind_list_rows(size: (u16, u16)) -> usize {
    let d = bind(bands(screen(size)).body);
    // Borders 2 + 2, input 3, its message 2, messages 2.
    usize::from(d.height.saturating_sub(11))
}
