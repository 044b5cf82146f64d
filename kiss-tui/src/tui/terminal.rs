//! Owning the terminal: raw mode, the alternate screen and bracketed paste
//! on the way in; all of it undone on the way out — on return, on error and
//! on panic.

use std::io::{self, Stdout, Write};
use std::sync::{Arc, Once};

use crossterm::cursor::Show;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::backend::CrosstermBackend;

type Inner = ratatui::Terminal<CrosstermBackend<Stdout>>;

/// The terminal in app mode; dropping it restores the user's terminal.
pub struct Terminal {
    inner: Inner,
}

impl Terminal {
    /// Switches the terminal to app mode.
    pub fn enter() -> io::Result<Terminal> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = crossterm::execute!(out, EnterAlternateScreen, EnableBracketedPaste) {
            restore_terminal();
            return Err(e);
        }
        let mut inner = match ratatui::Terminal::new(CrosstermBackend::new(io::stdout())) {
            Ok(t) => t,
            Err(e) => {
                restore_terminal();
                return Err(e);
            }
        };
        inner.clear()?;
        inner.hide_cursor()?;
        Ok(Terminal { inner })
    }

    /// The ratatui terminal, to draw on.
    pub fn inner(&mut self) -> &mut Inner {
        &mut self.inner
    }

    /// Where escapes such as OSC 52 are written.
    pub fn writer(&mut self) -> &mut impl Write {
        self.inner.backend_mut()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Puts the terminal back as the shell expects it. Safe to call more than once.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = crossterm::execute!(out, DisableBracketedPaste, LeaveAlternateScreen, Show);
    let _ = out.flush();
}

/// Makes a panic restore the terminal before the panic message is printed,
/// so the message is readable and the shell usable. Installed once.
pub fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
            Arc::from(std::panic::take_hook());
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
    });
}
