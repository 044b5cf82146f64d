//! Where a secret's value comes from: `-value`, stdin, or a file.
//! Bytes are kept exactly; the only requirement is UTF-8, because secrets are
//! stored as text.

use std::io::{IsTerminal, Read};
use std::path::Path;

use super::CliError;

/// Values larger than this are refused before sending: AWS Secrets Manager
/// holds at most 64 KiB, and reading without a cap could exhaust memory.
const MAX_VALUE_BYTES: u64 = 1024 * 1024;

/// The `-value` flag if given, else all of stdin. On a terminal the user is
/// told how to finish typing.
pub fn value_or_stdin(value: Option<String>, secret: &str) -> Result<String, CliError> {
    value_or_stdin_for(value, &format!("secret '{secret}'"))
}

/// [`value_or_stdin`] for `what` ("secret 'db'", "key 'password' of secret 'db'").
pub fn value_or_stdin_for(value: Option<String>, what: &str) -> Result<String, CliError> {
    if let Some(value) = value {
        return Ok(value);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!(
            "Type the value of {what}. Newlines are kept; finish with Ctrl-D on an empty line (Ctrl-C cancels)."
        );
    }
    let bytes = read_capped(stdin.lock())
        .map_err(|e| CliError::Failed(format!("cannot read the value from stdin: {e}")))?;
    text(bytes, "the value on stdin")
}

/// A file's contents, byte for byte.
pub fn file_contents(path: &Path) -> Result<String, CliError> {
    let file = std::fs::File::open(path)
        .map_err(|e| CliError::Failed(format!("cannot read the file {}: {e}", path.display())))?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(CliError::Failed(format!(
            "{} is a directory; give the path of a file",
            path.display()
        )));
    }
    let bytes = read_capped(file)
        .map_err(|e| CliError::Failed(format!("cannot read the file {}: {e}", path.display())))?;
    text(bytes, &format!("the file {}", path.display()))
}

fn read_capped(reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_VALUE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_VALUE_BYTES {
        return Err(std::io::Error::other(format!(
            "it is over {} MiB; AWS Secrets Manager stores at most 64 KiB per secret",
            MAX_VALUE_BYTES / (1024 * 1024)
        )));
    }
    Ok(bytes)
}

fn text(bytes: Vec<u8>, what: &str) -> Result<String, CliError> {
    String::from_utf8(bytes).map_err(|e| {
        CliError::Failed(format!(
            "{what} is not UTF-8 text (invalid byte at offset {}); kiss stores secrets as text, so encode binary data first, e.g. with base64",
            e.utf8_error().valid_up_to()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        let body = "line1\r\nline2\n\n  indented\ttab\n";
        std::fs::write(&path, body).unwrap();
        assert_eq!(file_contents(&path).unwrap(), body);
    }

    #[test]
    fn binary_and_missing_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bin");
        std::fs::write(&path, [b'a', b'b', 0xff, 0x00]).unwrap();
        let msg = file_contents(&path).unwrap_err().to_string();
        assert!(
            msg.contains("not UTF-8") && msg.contains("offset 2"),
            "{msg}"
        );
        let msg = file_contents(&dir.path().join("none"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cannot read the file"), "{msg}");
        let msg = file_contents(dir.path()).unwrap_err().to_string();
        assert!(msg.contains("directory"), "{msg}");
    }
}
