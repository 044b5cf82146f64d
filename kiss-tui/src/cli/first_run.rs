//! The first run in a kubeconfig context nobody said a kiss server for:
//! ask which one serves it, on the terminal, and write the answer to the
//! config file as a `[contexts.NAME]` entry, so the question is asked once.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use crate::kubeconfig::servers::toml_key;

/// The entry for `context`, as TOML: what the config file gets.
pub fn entry(context: &str, server_addr: &str, secure: bool) -> String {
    let addr = serde_json::to_string(server_addr).unwrap_or_else(|_| "\"\"".into());
    let mut s = format!("\n[contexts.{}]\nserver_addr = {addr}\n", toml_key(context));
    if !secure {
        s.push_str("secure = false\n");
    }
    s
}

/// Asks for the kiss server of `context` on the terminal and appends the
/// entry to `config`. Ok(false) when there is no terminal to ask on, or
/// the user gave no answer.
pub fn ask_server(context: &str, config: &Path) -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Ok(false);
    }
    let mut err = std::io::stderr();
    let mut line = String::new();
    let _ = write!(
        err,
        "No kiss server is set for the kubeconfig context '{context}'.\nkiss server for '{context}' (host:port, empty to stop): "
    );
    let _ = err.flush();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("could not read the answer ({e})"))?;
    let addr = line.trim().to_owned();
    if addr.is_empty() {
        return Ok(false);
    }
    if !addr.contains(':') || addr.contains(char::is_whitespace) {
        return Err(format!(
            "'{addr}' is not host:port (e.g. kiss.example.com:443)"
        ));
    }
    let _ = write!(err, "Does it use TLS? [Y/n] ");
    let _ = err.flush();
    line.clear();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("could not read the answer ({e})"))?;
    let secure = !matches!(line.trim(), "n" | "N" | "no" | "No");
    if let Some(dir) = config.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("could not create {} ({e})", dir.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(config)
        .map_err(|e| format!("could not write {} ({e})", config.display()))?;
    file.write_all(entry(context, &addr, secure).as_bytes())
        .map_err(|e| format!("could not write {} ({e})", config.display()))?;
    let _ = writeln!(err, "Saved to {}.", config.display());
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_reads_back_as_the_context_server() {
        for (ctx, addr, secure) in [
            ("dev", "localhost:10000", false),
            (
                "arn:aws:eks:eu-west-1:1:cluster/prod",
                "kiss.example.com:443",
                true,
            ),
        ] {
            let text = entry(ctx, addr, secure);
            let file = crate::config::parse(Path::new("c.toml"), &text).unwrap();
            let e = &file.contexts[ctx];
            assert_eq!(e.server_addr.as_deref(), Some(addr));
            assert_eq!(e.secure, (!secure).then_some(false));
        }
    }
}
