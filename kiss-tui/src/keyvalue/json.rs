//! A JSON object as [`KeyValues`]: read with every key's place and every
//! non-string value's exact text, printed back the same way.
//!
//! Strings are decoded (so `"caf\u00e9"` comes back as `"café"`); numbers,
//! booleans, `null`, nested objects and arrays are kept verbatim as
//! [`Value::Literal`], so a `set` on one key leaves `"port": 5432` and
//! `"ratio": 1.50` exactly as they were. The text must be one object: an
//! array, a string or trailing text after the object is refused.

use std::fmt;

use serde::de::{self, Deserializer as _, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{KeyValueError, KeyValues, Value};

/// How an object is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// One key per line, indented by two spaces: readable, and a line-based
    /// diff shows which key changed. The default for new values.
    #[default]
    Pretty,
    /// All on one line, no spaces: `{"user":"app","password":"..."}`, as the
    /// AWS console writes it.
    Compact,
}

impl KeyValues {
    /// Reads a JSON object. The layout (one line or several) and a final
    /// newline are remembered, so [`KeyValues::to_json`] writes the text back
    /// as it was, apart from the keys that changed.
    pub fn from_json(text: &str) -> Result<KeyValues, KeyValueError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let mut kv = (&mut de)
            .deserialize_map(ObjectVisitor)
            .and_then(|kv| de.end().map(|()| kv))
            .map_err(|e| json_error(&e))?;
        kv.layout = if text.trim().contains('\n') {
            Layout::Pretty
        } else {
            Layout::Compact
        };
        kv.final_newline = text.ends_with('\n');
        Ok(kv)
    }

    /// The object as JSON, keys in order, literals as they were written.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{");
        let (open, sep, colon, close) = match self.layout {
            Layout::Pretty => ("\n  ", ",\n  ", ": ", "\n"),
            Layout::Compact => ("", ",", ":", ""),
        };
        for (i, (key, value)) in self.iter().enumerate() {
            out.push_str(if i == 0 { open } else { sep });
            out.push_str(&quote(key));
            out.push_str(colon);
            match value {
                Value::Text(s) => out.push_str(&quote(s)),
                Value::Literal(raw) => out.push_str(raw),
            }
        }
        if !self.is_empty() {
            out.push_str(close);
        }
        out.push('}');
        if self.final_newline {
            out.push('\n');
        }
        out
    }
}

/// A string as a JSON string literal; non-ASCII characters are kept as they
/// are, control characters escaped.
pub(super) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""))
}

fn json_error(e: &serde_json::Error) -> KeyValueError {
    // serde_json's message ends with " at line L column C"; the position is
    // given by the variant instead.
    let text = e.to_string();
    let mut message = match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    };
    // "invalid type: string \"hunter2\", expected ..." would quote a value.
    if message.starts_with("invalid type: ") {
        let found = match e.classify() {
            serde_json::error::Category::Data => message
                .strip_prefix("invalid type: ")
                .and_then(|m| m.split([' ', ',']).next())
                .unwrap_or("value")
                .to_owned(),
            _ => "value".to_owned(),
        };
        message = format!("found a JSON {found}, expected an object ({{\"key\": \"value\", ...}})");
    }
    KeyValueError::Json {
        message,
        line: e.line().max(1),
        column: e.column().max(1),
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = KeyValues;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object ({\"key\": \"value\", ...})")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<KeyValues, A::Error> {
        let mut kv = KeyValues::new();
        while let Some(key) = map.next_key::<String>()? {
            let raw: Box<RawValue> = map.next_value()?;
            if kv.get(&key).is_some() {
                return Err(de::Error::custom(format!(
                    "the key '{key}' is given twice; each key may appear once"
                )));
            }
            let raw = raw.get();
            let value = if raw.starts_with('"') {
                Value::Text(serde_json::from_str(raw).map_err(de::Error::custom)?)
            } else {
                Value::Literal(raw.to_owned())
            };
            kv.push(key, value);
        }
        Ok(kv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keep_order_layout_and_literals() {
        for text in [
            r#"{"username":"app","password":"s3cr\"et","port":5432,"ratio":1.50,"on":true,"big":12345678901234567890123}"#,
            "{\n  \"b\": \"x\",\n  \"a\": null,\n  \"n\": {\"deep\": [1, 2]}\n}\n",
            "{}",
            r#"{"emoji":"🔑 café","nl":"line1\nline2\r\n","tab":"a\tb"}"#,
        ] {
            let kv = KeyValues::from_json(text).unwrap();
            assert_eq!(kv.to_json(), text);
        }
    }

    #[test]
    fn strings_are_decoded_and_literals_kept() {
        let kv = KeyValues::from_json(r#"{"s": "caf\u00e9\n", "n": 1e3, "b": false}"#).unwrap();
        assert_eq!(kv.get("s"), Some(&Value::Text("café\n".into())));
        assert_eq!(kv.get("n"), Some(&Value::Literal("1e3".into())));
        assert_eq!(kv.get("b").unwrap().as_text(), "false");
        assert_eq!(kv.layout(), Layout::Compact);
    }

    #[test]
    fn a_change_leaves_the_rest_of_the_text_alone() {
        let text = "{\n  \"user\": \"app\",\n  \"port\": 5432,\n  \"pass\": \"old\"\n}";
        let mut kv = KeyValues::from_json(text).unwrap();
        kv.set("pass", "new");
        assert_eq!(kv.to_json(), text.replace("old", "new"));
        kv.unset("port").unwrap();
        kv.set("host", "db");
        assert_eq!(
            kv.to_json(),
            "{\n  \"user\": \"app\",\n  \"pass\": \"new\",\n  \"host\": \"db\"\n}"
        );
        assert_eq!(KeyValues::new().to_json(), "{}");
    }

    #[test]
    fn refusals_name_the_place() {
        let e = KeyValues::from_json("{\"a\": \"1\",\n \"a\": \"2\"}").unwrap_err();
        let KeyValueError::Json { message, line, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            message,
            "the key 'a' is given twice; each key may appear once"
        );
        assert_eq!(*line, 2);
        for bad in [
            "[1]",
            "\"text\"",
            "plain text",
            "{\"a\": 1} extra",
            "",
            "{\"a\": }",
        ] {
            let e = KeyValues::from_json(bad).unwrap_err();
            assert!(e.to_string().contains("line 1, column"), "{bad}: {e}");
        }
        let e = KeyValues::from_json("[1]").unwrap_err().to_string();
        assert!(
            e.contains("found a JSON sequence, expected an object"),
            "{e}"
        );
        // A value that is a JSON string or number is never quoted back.
        for text in ["\"hunter2\"", "123456789", "-0.5", "true"] {
            let e = KeyValues::from_json(text).unwrap_err().to_string();
            assert!(!e.contains(text.trim_matches('"')), "{text}: {e}");
            assert!(e.contains("expected an object"), "{text}: {e}");
        }
    }
}
