//! Colours and styles, in one place so every screen looks the same.
//!
//! One palette reads on dark and light terminal themes alike because it
//! names no grey, no bright colour and no true colour: secondary text is
//! the terminal's own foreground dimmed, bars are reverse video, and the
//! only hues are the six standard ones, which every theme (Solarized,
//! light or dark, included) sets to read on its own background. ANSI 8
//! ("dark grey") is Solarized Dark's background and ANSI 7 ("grey") nearly
//! white; neither is used. Under NO_COLOR the modifiers remain, so focus,
//! selection and bars still show.

use ratatui::style::{Color, Modifier, Style};

/// The accent: titles, keys, focused borders.
pub const ACCENT: Color = Color::Cyan;

/// Borders of unfocused boxes.
pub fn border() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// Borders of the focused box.
pub fn border_focus() -> Style {
    Style::new().fg(ACCENT)
}

/// Box titles.
pub fn title() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}

/// Help text and other things of secondary importance.
pub fn muted() -> Style {
    Style::new().add_modifier(Modifier::DIM)
}

/// Labels in key-value lists: the terminal's own colour, set apart by
/// their column.
pub fn label() -> Style {
    Style::new()
}

/// Key names in the footer and help.
pub fn key() -> Style {
    Style::new().fg(ACCENT).add_modifier(Modifier::BOLD)
}

/// The selected row of the focused list. Reverse video, so the selection
/// shows without colour (NO_COLOR drops colours but keeps it); the cyan is
/// the background it gets where colour is on, with the terminal's own
/// background colour as text, which reads on dark and light themes alike.
pub fn selected() -> Style {
    Style::new()
        .fg(Color::Cyan)
        .bg(Color::Reset)
        .add_modifier(Modifier::REVERSED | Modifier::BOLD)
}

/// The selected row of a list that does not have the focus: reverse video
/// in the terminal's own colours, told apart from the focused one by its
/// weight and, with colour, by the cyan.
pub fn selected_unfocused() -> Style {
    Style::new()
        .fg(Color::Reset)
        .bg(Color::Reset)
        .add_modifier(Modifier::REVERSED)
        .remove_modifier(Modifier::BOLD)
}

/// Table headers.
pub fn header() -> Style {
    Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
}

/// Errors.
pub fn error() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

/// Warnings (expired tokens).
pub fn warn() -> Style {
    Style::new().fg(Color::Yellow)
}

/// Success.
pub fn ok() -> Style {
    Style::new().fg(Color::Green)
}

/// A revealed secret value: stands out, so nobody shares a screen by accident.
pub fn value() -> Style {
    Style::new().fg(Color::Magenta)
}

/// The status bar: the terminal's own colours, reversed.
pub fn status_bar() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// The app name badge in the status bar: the accent, not reversed.
pub fn badge() -> Style {
    Style::new()
        .bg(ACCENT)
        .fg(Color::Black)
        .add_modifier(Modifier::BOLD)
        .remove_modifier(Modifier::REVERSED)
}

/// Spinner frames.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
