//! Kubernetes `Secret` manifests as [`KeyValues`].
//!
//! Reading takes YAML or JSON, such as `kubectl get secret NAME -o yaml`
//! prints: `data` values are base64-decoded, `stringData` values taken as
//! they are, and a key in both takes its `stringData` value, as the API
//! server does when it merges them. Everything else (`metadata.managedFields`,
//! annotations, `resourceVersion`, `type`, ...) is ignored. A `data` value that
//! is not UTF-8 text once decoded (a keystore, an image) is refused: kiss
//! stores text.
//!
//! Printing writes `apiVersion: v1`, `kind: Secret`, `metadata.name` and
//! `.namespace`, `type: Opaque` and the keys under `data`, base64-encoded, as
//! `kubectl create secret generic --dry-run=client -o yaml` does (or under
//! `stringData`, see [`Encoding`]). Errors never quote the manifest's text,
//! which holds secret values: they name the key, the line and the column.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_saphyr::Spanned;

use super::{KeyValueError, KeyValues, Value, is_secret_key, json::quote};

/// What a manifest said besides its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretManifest {
    /// `metadata.name`, if given.
    pub name: Option<String>,
    /// `metadata.namespace`, if given.
    pub namespace: Option<String>,
    /// The keys: `data` decoded, then `stringData` over them.
    pub keys: KeyValues,
}

/// Where printed keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// `data`, base64: what `kubectl get` and `kubectl create --dry-run`
    /// show, exact for any value.
    #[default]
    Data,
    /// `stringData`, as text: readable, and the API server turns it into `data`.
    StringData,
}

impl KeyValues {
    /// Reads a Kubernetes Secret manifest (YAML or JSON).
    pub fn from_k8s_secret(text: &str) -> Result<SecretManifest, KeyValueError> {
        // No snippet in errors: it would print lines of the manifest, values included.
        let options = serde_saphyr::options! { with_snippet: false };
        let doc: Doc = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
            let location = e.location();
            KeyValueError::Manifest {
                message: format!("not a readable manifest: {}", plain(&e.to_string())),
                line: location.map(|l| l.line() as usize).filter(|l| *l > 0),
                column: location.map(|l| l.column() as usize).filter(|c| *c > 0),
            }
        })?;
        match doc.kind.as_ref().map(|k| k.value.as_str()) {
            Some("Secret") => {}
            Some("List") => {
                return Err(manifest_error(
                    "this is a List of objects, not one Secret; export one with kubectl get secret NAME -o yaml".into(),
                    doc.kind.as_ref(),
                ));
            }
            Some(other) => {
                return Err(manifest_error(
                    format!("this manifest is a {other}, not a Secret (kind: Secret)"),
                    doc.kind.as_ref(),
                ));
            }
            None => {
                return Err(manifest_error(
                    "this manifest has no kind; a Kubernetes Secret says kind: Secret".into(),
                    None,
                ));
            }
        }
        let mut keys = KeyValues::new();
        for (key, value) in doc.data.map(|p| p.0).unwrap_or_default() {
            let bytes = STANDARD.decode(value.value.trim()).map_err(|e| {
                manifest_error(
                    format!("data.{key} is not base64 ({e}); data values are base64-encoded, put plain text under stringData"),
                    Some(&value),
                )
            })?;
            let text = String::from_utf8(bytes).map_err(|e| {
                manifest_error(
                    format!(
                        "data.{key} is not UTF-8 text once decoded (invalid byte at offset {}); kiss stores secrets as text, so leave this key out or store it base64-encoded under stringData",
                        e.utf8_error().valid_up_to()
                    ),
                    Some(&value),
                )
            })?;
            keys.push(key, Value::Text(text));
        }
        for (key, value) in doc.string_data.map(|p| p.0).unwrap_or_default() {
            keys.set(&key, value.value);
        }
        let metadata = doc.metadata.unwrap_or_default();
        Ok(SecretManifest {
            name: metadata.name,
            namespace: metadata.namespace,
            keys,
        })
    }

    /// The keys as a Kubernetes Secret manifest (YAML) named `name`, in
    /// `namespace` if given. Refused if a key is not a valid Secret key.
    pub fn to_k8s_secret(
        &self,
        name: &str,
        namespace: Option<&str>,
        encoding: Encoding,
    ) -> Result<String, KeyValueError> {
        let mut out = String::from("apiVersion: v1\nkind: Secret\nmetadata:\n");
        out.push_str(&format!("  name: {}\n", scalar(name)));
        if let Some(ns) = namespace {
            out.push_str(&format!("  namespace: {}\n", scalar(ns)));
        }
        out.push_str("type: Opaque\n");
        out.push_str(match encoding {
            Encoding::Data => "data:",
            Encoding::StringData => "stringData:",
        });
        if self.is_empty() {
            out.push_str(" {}\n");
            return Ok(out);
        }
        out.push('\n');
        for (key, value) in self.iter() {
            if !is_secret_key(key) {
                return Err(KeyValueError::UnfitKey {
                    key: key.to_owned(),
                    form: "in a Kubernetes Secret",
                    rule: "Secret keys are letters, digits, '_', '.' and '-'",
                });
            }
            let value = match encoding {
                Encoding::Data => scalar(&STANDARD.encode(value.as_text())),
                Encoding::StringData => quote(value.as_text()),
            };
            out.push_str(&format!("  {}: {value}\n", scalar(key)));
        }
        Ok(out)
    }
}

/// A YAML scalar that reads back as this exact string under YAML 1.1 and
/// 1.2: bare when it is plainly a string, else double-quoted.
fn scalar(s: &str) -> String {
    const RESERVED: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];
    let bare = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.+/=-".contains(c))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str());
    if bare { s.to_owned() } else { quote(s) }
}

/// serde-saphyr's message without its own position (given separately) and
/// in words for a manifest's author rather than a Rust programmer.
fn plain(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(cut) => &message[..cut],
        None => message,
    };
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return format!("the key '{key}' is given twice; each key may appear once");
    }
    if message.starts_with("invalid type") || message.starts_with("invalid value") {
        // serde's wording quotes the value found, which may be a secret.
        return "a field holds the wrong kind of value (a manifest maps fields to values, data and stringData map keys to strings)".into();
    }
    if message.starts_with("cannot deserialize null into string") {
        return "a value is empty (null); write \"\" for an empty value".into();
    }
    message.trim().to_owned()
}

fn manifest_error(message: String, at: Option<&Spanned<String>>) -> KeyValueError {
    KeyValueError::Manifest {
        message,
        line: at.map(|s| s.referenced.line() as usize).filter(|l| *l > 0),
        column: at
            .map(|s| s.referenced.column() as usize)
            .filter(|c| *c > 0),
    }
}

#[derive(Deserialize)]
struct Doc {
    kind: Option<Spanned<String>>,
    metadata: Option<Metadata>,
    data: Option<Pairs>,
    #[serde(rename = "stringData")]
    string_data: Option<Pairs>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    name: Option<String>,
    namespace: Option<String>,
}

/// A mapping of strings, in order.
struct Pairs(Vec<(String, Spanned<String>)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of keys to strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs: Vec<(String, Spanned<String>)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: Spanned<String> = map.next_value()?;
                    if pairs.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("the key '{key}' is given twice")));
                    }
                    pairs.push((key, value));
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(PairsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(kv: &KeyValues) -> Vec<(&str, &str)> {
        kv.iter().map(|(k, v)| (k, v.as_text())).collect()
    }

    #[test]
    fn data_is_decoded_and_string_data_wins() {
        let m = KeyValues::from_k8s_secret(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: team-a\n\
             type: Opaque\ndata:\n  user: YXBw\n  password: b2xk\nstringData:\n  password: new\n  host: \"db:5432\"\n",
        )
        .unwrap();
        assert_eq!(m.name.as_deref(), Some("db"));
        assert_eq!(m.namespace.as_deref(), Some("team-a"));
        assert_eq!(
            texts(&m.keys),
            [("user", "app"), ("password", "new"), ("host", "db:5432")]
        );
    }

    #[test]
    fn a_real_kubectl_get_secret_output_is_read() {
        let m = KeyValues::from_k8s_secret(include_str!(
            "../../tests/fixtures/kubectl-get-secret.yaml"
        ))
        .unwrap();
        assert_eq!(
            (m.name.as_deref(), m.namespace.as_deref()),
            (Some("app-db"), Some("team-a"))
        );
        assert_eq!(
            m.keys.keys().collect::<Vec<_>>(),
            ["DB_PASSWORD", "DB_USER", "ca.crt", "greeting"]
        );
        assert_eq!(
            m.keys.get("DB_PASSWORD").unwrap().as_text(),
            "pa$$ w0rd'\"#"
        );
        assert_eq!(m.keys.get("greeting").unwrap().as_text(), "héllo wörld 🔑");
        let ca = m.keys.get("ca.crt").unwrap().as_text();
        assert!(
            ca.starts_with("-----BEGIN CERTIFICATE-----\nMIIB")
                && ca.ends_with("-----END CERTIFICATE-----\n"),
            "{ca}"
        );
    }

    #[test]
    fn json_manifests_are_read_too() {
        let m = KeyValues::from_k8s_secret(
            r#"{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"k": "dsOpIPCflJE="}}"#,
        )
        .unwrap();
        assert_eq!(texts(&m.keys), [("k", "vé 🔑")]);
        assert_eq!(m.name.as_deref(), Some("x"));
    }

    #[test]
    fn printing_and_reading_round_trip() {
        let mut kv = KeyValues::new();
        for (k, v) in [
            ("user", "app"),
            ("pem", "-----BEGIN-----\nabc\n-----END-----\n"),
            ("unicode", "café 🔑"),
            ("quotes", "it's \"x\": y # z"),
            ("true", "yes"),
            ("123", "456"),
            ("tls.crt", ""),
        ] {
            kv.set(k, v);
        }
        for encoding in [Encoding::Data, Encoding::StringData] {
            let text = kv.to_k8s_secret("db", Some("team-a"), encoding).unwrap();
            let m = KeyValues::from_k8s_secret(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(texts(&m.keys), texts(&kv), "{text}");
            assert_eq!(m.namespace.as_deref(), Some("team-a"));
        }
        let text = kv.to_k8s_secret("db", None, Encoding::Data).unwrap();
        assert!(text.starts_with("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  user: YXBw\n"), "{text}");
        assert!(text.contains("\n  \"true\": eWVz\n"), "{text}");
        assert_eq!(
            KeyValues::new()
                .to_k8s_secret("on", None, Encoding::StringData)
                .unwrap(),
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: \"on\"\ntype: Opaque\nstringData: {}\n"
        );
    }

    #[test]
    fn refusals_say_why_and_where_without_the_value() {
        let binary = STANDARD.encode([0x66u8, 0xff, 0x00]);
        let text = format!("kind: Secret\ndata:\n  ok: YQ==\n  store.jks: {binary}\n");
        let e = KeyValues::from_k8s_secret(&text).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("line 4, column 14: data.store.jks is not UTF-8"),
            "{msg}"
        );
        assert!(!msg.contains(&binary), "{msg}");

        let e = KeyValues::from_k8s_secret("kind: Secret\ndata:\n  k: not*base64\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("not base64"), "{e}");
        let e = KeyValues::from_k8s_secret("kind: ConfigMap\ndata: {}\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ConfigMap, not a Secret"), "{e}");
        let e = KeyValues::from_k8s_secret("kind: List\nitems: []\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("List"), "{e}");
        let e = KeyValues::from_k8s_secret("data:\n  a: b\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no kind"), "{e}");
        let e = KeyValues::from_k8s_secret(
            "kind: Secret\nstringData:\n  a: s3cret-one\n  a: s3cret-two\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "line 4, column 3: not a readable manifest: the key 'a' is given twice; each key may appear once"
        );
        assert!(!e.contains("s3cret"), "{e}");
        for text in [
            "hunter2-plain-value\n",
            "kind: Secret\nstringData: hunter2\n",
        ] {
            let e = KeyValues::from_k8s_secret(text).unwrap_err().to_string();
            assert!(!e.contains("hunter2"), "{e}");
        }
        let e = KeyValues::from_k8s_secret("kind: Secret\nstringData: [\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line"), "{e}");
    }

    #[test]
    fn keys_a_secret_cannot_hold_are_refused_when_printing() {
        let kv = KeyValues::from_json(r#"{"a/b": "x"}"#).unwrap();
        let e = kv
            .to_k8s_secret("x", None, Encoding::Data)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'a/b'"), "{e}");
    }
}
