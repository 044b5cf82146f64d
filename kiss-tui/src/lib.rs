//! kiss-tui: the terminal app and scripting client of kiss.
//!
//! With no verb the binary opens the full-screen app ([`tui`]); with a verb
//! (`ping`, `list`, `create`, ...) it runs it and exits ([`cli`]). Both reach
//! the server through [`client`], with a token found by [`tokens`], using the
//! [`settings::Settings`] that flags and the config file resolve to. The
//! workflows of more than one call are written once, in [`workflows`], for
//! both.

pub mod app;
pub mod cli;
pub mod client;
pub mod clipboard;
pub mod config;
pub mod demo;
pub mod diff;
pub mod duration;
pub mod keyvalue;
pub mod kubeconfig;
pub mod manifests;
pub mod options;
pub mod recent;
pub mod search;
pub mod settings;
pub mod tokens;
pub mod tui;
pub mod view;
pub mod workflows;
