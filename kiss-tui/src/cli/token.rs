//! Which token a verb sends: `-token-path`, a choice from a numbered list
//! (`-interactive`), or the first usable file in the token directory.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::CliError;
use crate::duration::expiry;
use crate::settings::Settings;
use crate::tokens::{self, TokenFile, TokenInfo, TokenStatus};

/// The token a verb will send, and where it came from.
pub struct Chosen {
    /// The file it was read from.
    pub path: PathBuf,
    /// The raw JWT. Never print it.
    pub token: String,
    /// Who the token says the user is, for debug output.
    pub identifier: Option<String>,
}

impl Chosen {
    fn from(file: &TokenFile, info: &TokenInfo) -> Chosen {
        Chosen {
            path: file.path.clone(),
            token: info.token.clone(),
            identifier: info.identifier.clone(),
        }
    }
}

/// Picks the token as the flags say; messages about the choice go to stderr.
pub fn choose(settings: &Settings, interactive: bool) -> Result<Chosen, CliError> {
    if let Some(path) = &settings.token_path {
        if interactive {
            return Err(CliError::Usage(
                "give either --token-path or --interactive, not both".into(),
            ));
        }
        let file = tokens::read_token_file(path);
        return match &file.status {
            TokenStatus::Usable(info) => Ok(Chosen::from(&file, info)),
            TokenStatus::Unusable { reason } => Err(CliError::Failed(format!(
                "the token file {} cannot be used: {reason}; give a kubelogin token file or a file holding a JWT",
                path.display()
            ))),
        };
    }
    let scan = tokens::discover(None, settings.token_dir.as_deref());
    let Some(dir) = scan.dir.as_deref() else {
        return Err(CliError::Failed(
            "cannot find your home directory to look for tokens; give --token-path or --token-dir"
                .into(),
        ));
    };
    let files = &scan.tokens;
    let hint = &scan.refresh_hint;
    let now = SystemTime::now();
    if interactive {
        return pick_from_list(dir, files, hint, now);
    }
    if let Some((file, info)) = scan.first_fresh(now) {
        eprintln!("Using token {} ({})", file.path.display(), info.label(now));
        return Ok(Chosen::from(file, info));
    }
    let usable = files.iter().filter(|f| f.info().is_some()).count();
    Err(CliError::Failed(if usable > 0 {
        format!("every token in {} has expired; {hint}", dir.display())
    } else if files.is_empty() {
        format!(
            "no token files in {}; {hint}, or give --token-path",
            dir.display()
        )
    } else {
        format!(
            "none of the {} files in {} holds a token; {hint}, or give --token-path",
            files.len(),
            dir.display()
        )
    }))
}

/// Lists the files on stderr, numbering the usable ones, and reads a number
/// from stdin until it names one.
fn pick_from_list(
    dir: &Path,
    files: &[TokenFile],
    hint: &str,
    now: SystemTime,
) -> Result<Chosen, CliError> {
    let usable: Vec<(&TokenFile, &TokenInfo)> = files
        .iter()
        .filter_map(|f| f.info().map(|i| (f, i)))
        .collect();
    if usable.is_empty() {
        return Err(CliError::Failed(format!(
            "no usable token in {}; {}, or give --token-path",
            dir.display(),
            hint
        )));
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "Tokens in {}:", dir.display());
    let mut n = 0;
    for file in files {
        match &file.status {
            TokenStatus::Usable(info) => {
                n += 1;
                let mark = if info.is_expired(now) {
                    "  (expired)"
                } else {
                    ""
                };
                let groups = if info.groups.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", info.groups.join(", "))
                };
                let _ = writeln!(
                    err,
                    "  {n:>2}) {}  {}{groups}{mark}",
                    file.file_name(),
                    info.label(now)
                );
            }
            TokenStatus::Unusable { reason } => {
                let _ = writeln!(err, "      {}  unusable: {reason}", file.file_name());
            }
        }
    }
    if usable.iter().any(|(_, i)| i.is_expired(now)) {
        let _ = writeln!(err, "To refresh an expired token, {hint}.");
    }
    drop(err);
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    let mut lines = stdin.lock();
    loop {
        eprint!("Choose a token [1-{}]: ", usable.len());
        let mut line = String::new();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => {
                return Err(CliError::Failed(
                    "no token was chosen (stdin ended); give a number, or use --token-path".into(),
                ));
            }
            Ok(_) => {}
        }
        match line.trim().parse::<usize>() {
            Ok(i) if (1..=usable.len()).contains(&i) => {
                let (file, info) = usable[i - 1];
                if info.is_expired(now) {
                    eprintln!(
                        "Warning: this token {}; the server will likely refuse it.",
                        expiry(info.expires_at, now)
                    );
                }
                return Ok(Chosen::from(file, info));
            }
            _ if terminal => eprintln!("Type a number from 1 to {}.", usable.len()),
            _ => {
                return Err(CliError::Failed(format!(
                    "'{}' is not a number from 1 to {}",
                    line.trim(),
                    usable.len()
                )));
            }
        }
    }
}
