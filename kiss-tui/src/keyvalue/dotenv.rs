//! dotenv files (`KEY=VALUE` lines) as [`KeyValues`], read the way the
//! common dotenv libraries read them and printed so that they read back the
//! same:
//!
//! - blank lines and lines starting with `#` are skipped; `export KEY=...`
//!   is accepted; spaces around `=` are allowed;
//! - an unquoted value runs to the end of the line, without surrounding
//!   spaces; a `#` at its start or after a space starts a comment;
//! - `'single quotes'` are literal: nothing is escaped, and the value may
//!   span lines;
//! - `"double quotes"` understand `\n`, `\r`, `\t`, `\"` and `\\` (any other
//!   backslash is kept as written) and may span lines;
//! - after a closing quote only a comment may follow;
//! - a key given twice is refused, naming both lines. Keys are Kubernetes
//!   Secret keys: letters, digits, `_`, `.` and `-`.
//!
//! `$VAR` and `${VAR}` are not expanded: values are taken literally. Windows
//! line ends (`\r\n`) read as `\n`.

use std::collections::HashMap;
use std::iter::Peekable;
use std::str::Chars;

use super::{KeyValueError, KeyValues, Value, is_secret_key};

impl KeyValues {
    /// Reads a dotenv file. Every value is [`Value::Text`].
    pub fn from_dotenv(text: &str) -> Result<KeyValues, KeyValueError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let text = text.replace("\r\n", "\n");
        let mut cur = Cursor::new(&text);
        let mut kv = KeyValues::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        loop {
            cur.skip_blanks();
            match cur.peek() {
                None => break,
                Some('\n') => {
                    cur.next();
                    continue;
                }
                Some('#') => {
                    cur.skip_line();
                    continue;
                }
                Some(_) => {}
            }
            let line = cur.line;
            let mut key = cur.word();
            if key == "export" && matches!(cur.peek(), Some(' ' | '\t')) {
                cur.skip_blanks();
                key = cur.word();
            }
            if key.is_empty() {
                let found = cur.peek().unwrap_or('\n');
                return Err(cur.error(format!(
                    "expected a key (letters, digits, '_', '.' or '-'), found {}; write KEY=VALUE",
                    describe(found)
                )));
            }
            if !is_secret_key(&key) {
                return Err(cur.error(format!(
                    "'{key}' is not a usable key; keys are letters, digits, '_', '.' and '-'"
                )));
            }
            cur.skip_blanks();
            match cur.peek() {
                Some('=') => {
                    cur.next();
                }
                Some('\n') | None => {
                    return Err(cur.error(format!("the key '{key}' has no '='; write {key}=VALUE")));
                }
                Some(c) => {
                    return Err(cur.error(format!(
                        "expected '=' after the key '{key}', found {}",
                        describe(c)
                    )));
                }
            }
            cur.skip_blanks();
            let value = match cur.peek() {
                Some('\'') => {
                    let v = cur.single_quoted()?;
                    cur.end_of_value()?;
                    v
                }
                Some('"') => {
                    let v = cur.double_quoted()?;
                    cur.end_of_value()?;
                    v
                }
                _ => cur.unquoted(),
            };
            if let Some(first) = seen.get(&key) {
                return Err(KeyValueError::DuplicateKey {
                    key,
                    line,
                    first: *first,
                });
            }
            seen.insert(key.clone(), line);
            kv.push(key, Value::Text(value));
        }
        Ok(kv)
    }

    /// The keys as a dotenv file, one `KEY=VALUE` line each, in order. A
    /// value is written bare when it is plain, in single quotes when that
    /// is enough, else in double quotes with escapes. A literal (a JSON
    /// number, boolean, ...) is written as its JSON text. Refused if a key
    /// is not a valid dotenv key.
    pub fn to_dotenv(&self) -> Result<String, KeyValueError> {
        let mut out = String::new();
        for (key, value) in self.iter() {
            if !is_secret_key(key) {
                return Err(KeyValueError::UnfitKey {
                    key: key.to_owned(),
                    form: "as a dotenv line",
                    rule: "dotenv keys are letters, digits, '_', '.' and '-'",
                });
            }
            out.push_str(key);
            out.push('=');
            out.push_str(&dotenv_value(value.as_text()));
            out.push('\n');
        }
        Ok(out)
    }
}

/// A value written so that [`KeyValues::from_dotenv`] reads it back exactly.
fn dotenv_value(v: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:@%+,=-".contains(c);
    if v.chars().all(plain) {
        return v.to_owned();
    }
    if !v.contains(['\'', '\n', '\r']) {
        return format!("'{v}'");
    }
    let mut out = String::from("\"");
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn describe(c: char) -> String {
    match c {
        '\n' => "the end of the line".into(),
        c if c.is_whitespace() || c.is_control() => format!("{c:?}"),
        c => format!("'{c}'"),
    }
}

/// Characters with their line and column (from 1).
struct Cursor<'a> {
    chars: Peekable<Chars<'a>>,
    line: usize,
    column: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            chars: text.chars().peekable(),
            line: 1,
            column: 1,
        }
    }

    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn error(&self, message: String) -> KeyValueError {
        self.error_at(message, self.line, self.column)
    }

    fn error_at(&self, message: String, line: usize, column: usize) -> KeyValueError {
        KeyValueError::Dotenv {
            message,
            line,
            column,
        }
    }

    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.next();
        }
    }

    /// To the start of the next line.
    fn skip_line(&mut self) {
        while let Some(c) = self.next() {
            if c == '\n' {
                break;
            }
        }
    }

    /// A run of key characters.
    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                w.push(c);
                self.next();
            } else {
                break;
            }
        }
        w
    }

    /// The rest of the line, trimmed, up to a comment.
    fn unquoted(&mut self) -> String {
        let mut v = String::new();
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            if c == '#' && (v.is_empty() || v.ends_with([' ', '\t'])) {
                self.skip_line();
                return v.trim_end().to_owned();
            }
            v.push(c);
            self.next();
        }
        self.next();
        v.trim_end().to_owned()
    }

    fn single_quoted(&mut self) -> Result<String, KeyValueError> {
        let (line, column) = (self.line, self.column);
        self.next();
        let mut v = String::new();
        loop {
            match self.next() {
                Some('\'') => return Ok(v),
                Some(c) => v.push(c),
                None => {
                    return Err(self.error_at(
                        "this single quote is never closed; end the value with '".into(),
                        line,
                        column,
                    ));
                }
            }
        }
    }

    fn double_quoted(&mut self) -> Result<String, KeyValueError> {
        let (line, column) = (self.line, self.column);
        self.next();
        let mut v = String::new();
        loop {
            match self.next() {
                Some('"') => return Ok(v),
                Some('\\') => match self.next() {
                    Some('n') => v.push('\n'),
                    Some('r') => v.push('\r'),
                    Some('t') => v.push('\t'),
                    Some('"') => v.push('"'),
                    Some('\\') => v.push('\\'),
                    Some(c) => {
                        v.push('\\');
                        v.push(c);
                    }
                    None => v.push('\\'),
                },
                Some(c) => v.push(c),
                None => {
                    return Err(self.error_at(
                        "this double quote is never closed; end the value with \" (write \\\" for a quote inside it)".into(),
                        line,
                        column,
                    ));
                }
            }
        }
    }

    /// After a closing quote: spaces, then a comment or the end of the line.
    fn end_of_value(&mut self) -> Result<(), KeyValueError> {
        self.skip_blanks();
        match self.peek() {
            None => Ok(()),
            Some('\n' | '#') => {
                self.skip_line();
                Ok(())
            }
            Some(c) => Err(self.error(format!(
                "unexpected {} after the closing quote; only a # comment may follow a quoted value",
                describe(c)
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<(String, String)> {
        KeyValues::from_dotenv(text)
            .unwrap_or_else(|e| panic!("{text:?}: {e}"))
            .iter()
            .map(|(k, v)| (k.to_owned(), v.as_text().to_owned()))
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_what_dotenv_files_hold() {
        let text = "\u{feff}# database\n\
            DB_HOST=db.internal\r\n\
            export DB_PORT = 5432   # the port\n\
            \n\
            EMPTY=\n\
            HASH=a#b\n\
            SINGLE='lit \\n $HOME \"x\"' # comment\n\
            DOUBLE=\"say \\\"hi\\\"\\nback\\\\slash \\x\"\n\
            MULTI=\"line1\n\
            line2\"\n\
            SPACED =  two words  \n\
            dotted.key-1=v\n";
        assert_eq!(
            parse(text),
            pairs(&[
                ("DB_HOST", "db.internal"),
                ("DB_PORT", "5432"),
                ("EMPTY", ""),
                ("HASH", "a#b"),
                ("SINGLE", "lit \\n $HOME \"x\""),
                ("DOUBLE", "say \"hi\"\nback\\slash \\x"),
                ("MULTI", "line1\nline2"),
                ("SPACED", "two words"),
                ("dotted.key-1", "v"),
            ])
        );
    }

    #[test]
    fn printing_and_parsing_round_trip() {
        let mut kv = KeyValues::new();
        for (k, v) in [
            ("PLAIN", "abc-123_/.:@%+,="),
            ("EMPTY", ""),
            ("SPACES", "  padded  "),
            ("QUOTES", "it's \"quoted\""),
            ("BACKSLASH", "C:\\path\\n"),
            ("NEWLINES", "line1\nline2\r\n\n"),
            ("UNICODE", "café 🔑 日本"),
            ("HASH", "#not a comment # really"),
            ("DOLLAR", "$HOME ${X}"),
            ("TAB", "a\tb"),
            ("PEM", "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n"),
        ] {
            kv.set(k, v);
        }
        let text = kv.to_dotenv().unwrap();
        let back = KeyValues::from_dotenv(&text).unwrap();
        assert_eq!(
            back.iter().collect::<Vec<_>>(),
            kv.iter().collect::<Vec<_>>(),
            "{text}"
        );
        assert!(
            text.starts_with("PLAIN=abc-123_/.:@%+,=\nEMPTY=\nSPACES='  padded  '\n"),
            "{text}"
        );
    }

    #[test]
    fn literals_print_as_their_json_text() {
        let kv = KeyValues::from_json(r#"{"PORT": 5432, "ON": true, "N": {"a": 1}}"#).unwrap();
        assert_eq!(
            kv.to_dotenv().unwrap(),
            "PORT=5432\nON=true\nN='{\"a\": 1}'\n"
        );
    }

    #[test]
    fn a_duplicate_key_names_both_lines() {
        let e = KeyValues::from_dotenv("A=1\nB=2\n\nexport A=3\n").unwrap_err();
        assert_eq!(
            e,
            KeyValueError::DuplicateKey {
                key: "A".into(),
                line: 4,
                first: 1
            }
        );
        assert_eq!(
            e.to_string(),
            "line 4: the key 'A' is already set on line 1; each key may appear once"
        );
    }

    #[test]
    fn mistakes_name_line_and_column() {
        let cases = [
            ("A=1\nnot a line\n", 2, 5, "expected '='"),
            ("A=1\nB\n", 2, 2, "has no '='"),
            ("=x\n", 1, 1, "expected a key"),
            ("A='open\nB=2\n", 1, 3, "never closed"),
            ("A=\"open\n", 1, 3, "never closed"),
            ("A=\"x\" y\n", 1, 7, "after the closing quote"),
            ("ключ=1\n", 1, 1, "expected a key"),
        ];
        for (text, line, column, words) in cases {
            match KeyValues::from_dotenv(text) {
                Err(KeyValueError::Dotenv {
                    message,
                    line: l,
                    column: c,
                }) => {
                    assert_eq!((l, c), (line, column), "{text:?}: {message}");
                    assert!(message.contains(words), "{text:?}: {message}");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn keys_that_dotenv_cannot_hold_are_refused_when_printing() {
        let kv = KeyValues::from_json(r#"{"a b": "x"}"#).unwrap();
        let e = kv.to_dotenv().unwrap_err().to_string();
        assert!(e.contains("'a b'") && e.contains("dotenv"), "{e}");
    }
}
