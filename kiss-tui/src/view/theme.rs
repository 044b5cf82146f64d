//! Colours and styles, in one place so every screen looks the same.

use ratatui::style::{Color, Modifier, Style};

/// The accent: titles, keys, focused borders.
pub const ACCENT: Color = Color::Cyan;

/// Borders of unfocused boxes.
pub fn border() -> Style {
    Style::new().fg(Color::DarkGray)
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
    Style::new().fg(Color::DarkGray)
}

/// Labels in key-value lists.
pub fn label() -> Style {
    Style::new().fg(Color::Gray)
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
    Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
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
    Style::new().fg(Color::LightYellow)
}

/// The status bar's background.
pub fn status_bar() -> Style {
    Style::new().bg(Color::Rgb(30, 34, 42)).fg(Color::Gray)
}

/// The app name badge in the status bar.
pub fn badge() -> Style {
    Style::new()
        .bg(ACCENT)
        .fg(Color::Black)
        .add_modifier(Modifier::BOLD)
}

/// Spinner frames.
pub const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
