//! Owning the terminal: raw mode, the alternate screen and bracketed paste
//! on the way in; all of it undone on the way out — on return, on error, on
//! panic, and when the terminal itself is gone.

use std::io::{self, Stdout, Write};
use std::sync::{Arc, Once};

use crossterm::cursor::Show;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::backend::{Backend as _, ClearType, CrosstermBackend};

type Inner = ratatui::Terminal<CrosstermBackend<Stdout>>;

/// The terminal in app mode; dropping it restores the user's terminal.
pub struct Terminal {
    /// Taken only by `drop`.
    inner: Option<Inner>,
    /// Whether the app takes the mouse.
    mouse: bool,
}

impl Terminal {
    /// Switches the terminal to app mode. Asks the terminal nothing: a
    /// terminal that never answers a query (the cursor position, say) would
    /// otherwise stall the start and fail it.
    pub fn enter(mouse: bool) -> io::Result<Terminal> {
        install_panic_hook();
        enable_raw_mode()?;
        // From here on, every early return drops the guard, which restores.
        let mut term = Terminal { inner: None, mouse };
        crossterm::execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        if mouse {
            crossterm::execute!(io::stdout(), EnableMouseCapture)?;
        }
        term.inner = Some(ratatui::Terminal::new(CrosstermBackend::new(io::stdout()))?);
        let inner = term.inner();
        // Not `Terminal::clear`: it reads the cursor position first.
        inner.backend_mut().clear_region(ClearType::All)?;
        inner.hide_cursor()?;
        Ok(term)
    }

    /// The ratatui terminal, to draw on.
    pub fn inner(&mut self) -> &mut Inner {
        self.inner
            .as_mut()
            .expect("the ratatui terminal is set in enter() and taken only in drop()")
    }

    /// Hands the terminal back to the shell's state for another program
    /// (the user's editor); [`Terminal::resume`] takes it again.
    pub fn suspend(&mut self) {
        restore_terminal();
    }

    /// Takes the terminal back after [`Terminal::suspend`] and makes the
    /// next frame draw every cell, as the other program drew over them.
    pub fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        crossterm::execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
        if self.mouse {
            crossterm::execute!(io::stdout(), EnableMouseCapture)?;
        }
        let inner = self.inner();
        let size = inner.size()?;
        // Clears without asking the cursor position, and forgets the last
        // frame (see `enter`).
        inner.resize(ratatui::layout::Rect::new(0, 0, size.width, size.height))?;
        inner.hide_cursor()
    }

    /// Where escapes such as OSC 52 are written.
    pub fn writer(&mut self) -> &mut impl Write {
        self.inner().backend_mut()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        restore_terminal();
        if let Some(mut inner) = self.inner.take() {
            // ratatui's own drop shows a hidden cursor and, if that fails,
            // reports it with `eprintln!` — which panics when the terminal
            // is gone (a closed tmux session, a dropped SSH connection). The
            // cursor was shown above already; a terminal that cannot take it
            // is simply forgotten.
            if inner.show_cursor().is_ok() {
                drop(inner);
            } else {
                std::mem::forget(inner);
            }
        }
    }
}

/// Puts the terminal back as the shell expects it. Safe to call more than
/// once, and when the terminal is gone.
pub fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = crossterm::execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
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
