//! kiss-tui
