//! Running the user's editor on a value: the screen is handed over, the
//! value sits in a private temporary file for as long as the editor runs,
//! and the file is removed however the editor ends.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::process::Command;

use super::terminal::Terminal;
use crate::app::action::Sensitive;

/// The editor to run: `$VISUAL`, else `$EDITOR`, else `vi`, as git does.
pub fn editor_command() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.trim().is_empty())
        .unwrap_or_else(|| "vi".to_owned())
}

/// Lets the user edit `text` in their editor; the text it left, or a
/// sentence saying why there is none.
pub async fn edit(term: &mut Terminal, text: &Sensitive) -> Result<Sensitive, String> {
    // The user's runtime directory is memory-backed and theirs alone where
    // there is one; the system's temporary directory otherwise.
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::Builder::new()
        .prefix("kiss-edit-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir_in(base)
        .map_err(|e| format!("Could not create a private temporary file for the editor ({e})."))?;
    let path = dir.path().join("value");
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(text.expose().as_bytes()))
        .map_err(|e| format!("Could not write the value for the editor ({e})."))?;
    let editor = editor_command();
    // Ctrl-C and Ctrl-\ in the editor's cooked terminal reach this process
    // too: as git does, ignore them while the editor runs, so they cannot
    // end kiss-tui with the value still in the file. The editor gets them
    // as usual (exec resets caught signals).
    use tokio::signal::unix::{SignalKind, signal};
    let _held = (signal(SignalKind::interrupt()), signal(SignalKind::quit()));
    term.suspend();
    // The command is a shell word list, as for git: "code --wait" works.
    let run = {
        let editor = editor.clone();
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            Command::new("sh")
                .arg("-c")
                .arg(format!("{editor} \"$1\""))
                .arg("sh")
                .arg(&path)
                .status()
        })
        .await
    };
    let resumed = term.resume();
    let status = match run {
        Ok(Ok(status)) => status,
        Ok(Err(e)) => return Err(format!("Could not run the editor '{editor}' ({e}).")),
        Err(e) => {
            return Err(format!(
                "The editor '{editor}' could not be waited for ({e})."
            ));
        }
    };
    if let Err(e) = resumed {
        return Err(format!(
            "The terminal could not be taken back after the editor ({e})."
        ));
    }
    if !status.success() {
        return Err(format!(
            "The editor '{editor}' exited with {status}: nothing was taken from it."
        ));
    }
    let bytes =
        std::fs::read(&path).map_err(|e| format!("Could not read what the editor left ({e})."))?;
    drop(dir);
    String::from_utf8(bytes).map(Sensitive).map_err(|_| {
        "The editor left text that is not UTF-8: nothing was taken from it.".to_owned()
    })
}
