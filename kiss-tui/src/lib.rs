//! kiss-tui: the terminal app and scripting client of kiss.
//!
//! With no verb the binary opens the full-screen app ([`tui`]); with a verb
//! (`ping`, `list`, `create`, ...) it runs it and exits ([`cli`]). Both reach
//! the server through [`client`], with a token found by [`tokens`], using the
//! [`settings::Settings`] that flags and the config file resolve to.

pub mod settings;
pub mod tui;
pub mod app;
pub mod view;
pub mod clipboard;
pub mod manifests;
pub mod demo;
pub mod client;
pub mod duration;
pub mod tokens;
pub mod cli;
pub mod config;
pub mod options;
