//! A secret's value as an ordered set of keys, the way external-secrets reads
//! it (`remoteRef.property` for one key, `dataFrom.extract` for all), and the
//! three text forms it travels in: a JSON object ([`json`]), a dotenv file
//! ([`dotenv`]) and a Kubernetes Secret manifest ([`manifest`]).
//!
//! Keys keep the order they were written in, and a value that is not a JSON
//! string (a number, `true`/`false`, `null`, or a nested object or array) is
//! kept exactly as written, so changing one key changes nothing else in the
//! text. Parsers refuse a key given twice, naming both places.
//!
//! Nothing here does I/O or knows about the command line: the verbs and the
//! app use the same functions.

pub mod dotenv;
pub mod json;
pub mod manifest;

pub use json::Layout;

/// One key's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A JSON string (or any value read from dotenv or a manifest), decoded.
    Text(String),
    /// Any other JSON value, as its exact JSON text: `5432`, `1.50`, `true`,
    /// `null`, `{"a": 1}`. Printed back unchanged.
    Literal(String),
}

impl Value {
    /// The text a consumer sees for this key: the decoded string, or the
    /// literal's JSON text (what external-secrets hands over for a number).
    pub fn as_text(&self) -> &str {
        match self {
            Value::Text(s) | Value::Literal(s) => s,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

/// Why a text could not be read as keys, or a change was refused. Where the
/// problem is in a text, the message names its line and column (from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyValueError {
    /// The text is not one JSON object.
    #[error("{message} at line {line}, column {column}")]
    Json {
        /// What is wrong.
        message: String,
        /// Line of the problem, from 1.
        line: usize,
        /// Column of the problem, from 1.
        column: usize,
    },
    /// A line of a dotenv file cannot be read.
    #[error("line {line}, column {column}: {message}")]
    Dotenv {
        /// What is wrong, and how it should be written.
        message: String,
        /// Line of the problem, from 1.
        line: usize,
        /// Column of the problem, from 1.
        column: usize,
    },
    /// A key is given twice.
    #[error(
        "line {line}: the key '{key}' is already set on line {first}; each key may appear once"
    )]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// Where it is repeated.
        line: usize,
        /// Where it first appeared.
        first: usize,
    },
    /// The text is not a usable Kubernetes Secret manifest.
    #[error("{}{message}", at(*line, *column))]
    Manifest {
        /// What is wrong.
        message: String,
        /// Line of the problem, when known.
        line: Option<usize>,
        /// Column of the problem, when known.
        column: Option<usize>,
    },
    /// A change names a key that is not there.
    #[error("there is no key '{0}'")]
    MissingKey(String),
    /// A rename would overwrite another key.
    #[error("there is already a key '{0}'")]
    KeyExists(String),
    /// A key cannot be written in the chosen form.
    #[error("the key '{key}' cannot be written {form}: {rule}")]
    UnfitKey {
        /// The key.
        key: String,
        /// "as a dotenv line", "in a Kubernetes Secret".
        form: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

/// An ordered set of keys and their values: a secret whose value is a JSON
/// object. Keys are unique; order is kept as read, new keys go last.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyValues {
    entries: Vec<(String, Value)>,
    layout: Layout,
    /// Whether the JSON text ended with a newline (kept when printed back).
    final_newline: bool,
}

impl KeyValues {
    /// No keys, printed as pretty JSON.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys and values, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// One key's value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// Sets a key to a value: in place if it exists, else as the last key.
    /// Returns the value it replaced.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) -> Option<Value> {
        let value = value.into();
        match self.position(key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key.to_owned(), value));
                None
            }
        }
    }

    /// Removes a key; refused if it is not there.
    pub fn unset(&mut self, key: &str) -> Result<Value, KeyValueError> {
        let i = self
            .position(key)
            .ok_or_else(|| KeyValueError::MissingKey(key.to_owned()))?;
        Ok(self.entries.remove(i).1)
    }

    /// Renames a key in place; refused if `from` is missing or `to` exists.
    pub fn rename(&mut self, from: &str, to: &str) -> Result<(), KeyValueError> {
        if from == to {
            return self
                .position(from)
                .map(|_| ())
                .ok_or_else(|| KeyValueError::MissingKey(from.to_owned()));
        }
        if self.position(to).is_some() {
            return Err(KeyValueError::KeyExists(to.to_owned()));
        }
        let i = self
            .position(from)
            .ok_or_else(|| KeyValueError::MissingKey(from.to_owned()))?;
        self.entries[i].0 = to.to_owned();
        Ok(())
    }

    /// How [`KeyValues::to_json`] lays the object out.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Chooses how [`KeyValues::to_json`] lays the object out.
    pub fn set_layout(&mut self, layout: Layout) {
        self.layout = layout;
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k == key)
    }

    /// Appends a key a parser read; a parser checks for duplicates first.
    fn push(&mut self, key: String, value: Value) {
        self.entries.push((key, value));
    }
}

/// Whether `key` may be a Kubernetes Secret key (and so a dotenv key):
/// letters, digits, `-`, `_` and `.`, not `.` or `..`.
pub fn is_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key != "."
        && key != ".."
        && key.len() <= 253
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> KeyValues {
        KeyValues::from_json(r#"{"b": "1", "a": 2}"#).unwrap()
    }

    #[test]
    fn set_keeps_the_place_of_a_key_and_appends_a_new_one() {
        let mut kv = sample();
        assert_eq!(kv.set("b", "x"), Some(Value::Text("1".into())));
        assert_eq!(kv.set("c", "y"), None);
        assert_eq!(kv.keys().collect::<Vec<_>>(), ["b", "a", "c"]);
        assert_eq!(kv.get("b").unwrap().as_text(), "x");
    }

    #[test]
    fn unset_and_rename_refuse_what_is_not_there() {
        let mut kv = sample();
        assert_eq!(kv.unset("a").unwrap(), Value::Literal("2".into()));
        assert_eq!(
            kv.unset("a").unwrap_err().to_string(),
            "there is no key 'a'"
        );
        kv.set("c", "3");
        kv.rename("b", "z").unwrap();
        assert_eq!(kv.keys().collect::<Vec<_>>(), ["z", "c"]);
        assert_eq!(
            kv.rename("z", "c").unwrap_err(),
            KeyValueError::KeyExists("c".into())
        );
        assert_eq!(
            kv.rename("nope", "q").unwrap_err(),
            KeyValueError::MissingKey("nope".into())
        );
        kv.rename("c", "c").unwrap();
    }

    #[test]
    fn secret_keys_follow_kubernetes() {
        for ok in ["a", "DB_HOST", "tls.crt", "-x", "a-b_c.d"] {
            assert!(is_secret_key(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a b", "a/b", "é", "a=b"] {
            assert!(!is_secret_key(bad), "{bad}");
        }
    }
}
