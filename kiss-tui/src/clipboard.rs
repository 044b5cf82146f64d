//! Copying text to the user's clipboard: the system clipboard through one
//! long-lived arboard handle, or the terminal's OSC 52 escape where there is
//! no system clipboard (headless machines, SSH sessions).
//!
//! The handle lives as long as the app: on X11 the clipboard's contents are
//! served by the process that set them and vanish when the handle is dropped.

use std::io::Write;

use crossterm::clipboard::CopyToClipboard;

use crate::app::action::CopyVia;

/// The clipboard, opened on first use and kept.
#[derive(Default)]
pub struct Clipboard {
    native: Option<arboard::Clipboard>,
    tried: bool,
}

impl std::fmt::Debug for Clipboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clipboard")
            .field("native", &self.native.is_some())
            .finish()
    }
}

impl Clipboard {
    /// A clipboard that opens the system clipboard on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clipboard that never uses the system clipboard (tests, and
    /// `KISS_CLIPBOARD=osc52`).
    pub fn osc52_only() -> Self {
        Clipboard {
            native: None,
            tried: true,
        }
    }

    /// Copies `text`: to the system clipboard when there is one, else by
    /// writing OSC 52 to `terminal`.
    pub fn copy(&mut self, text: &str, terminal: &mut impl Write) -> Result<CopyVia, String> {
        if !self.tried {
            self.tried = true;
            self.native = arboard::Clipboard::new().ok();
        }
        if let Some(native) = &mut self.native
            && native.set_text(text).is_ok()
        {
            return Ok(CopyVia::Native);
        }
        crossterm::execute!(terminal, CopyToClipboard::to_clipboard_from(text))
            .map_err(|e| format!("the terminal could not be written to ({e})"))?;
        Ok(CopyVia::Osc52)
    }

    /// Clears the system clipboard if it still holds `text`, so a copied
    /// secret does not linger; whatever the user copied since is kept.
    /// What went through OSC 52 cannot be read back, so it is left alone.
    pub fn clear_if_holds(&mut self, text: &str) {
        if let Some(native) = &mut self.native
            && native.get_text().is_ok_and(|now| now == text)
        {
            let _ = native.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_writes_the_base64_escape() {
        let mut out = Vec::new();
        let via = Clipboard::osc52_only().copy("hi", &mut out).unwrap();
        assert_eq!(via, CopyVia::Osc52);
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("\x1b]52;c;aGk="), "{s:?}");
    }
}
