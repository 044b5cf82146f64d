//! `import`: a .env file, a JSON object or a Kubernetes Secret manifest
//! into one JSON secret, or with `-split` into one plain secret per key.
//!
//! The file is read, parsed and every secret name derived and checked
//! before a token is chosen or anything is written ([`plan`]). Writing
//! ([`run`]) creates the secrets in the file's order, skips those that
//! already exist (so a re-run after a refusal picks up where it stopped),
//! and stops at the first refusal, saying what it had created.

use std::collections::{HashMap, HashSet};

use kiss_proto::{names, reasons};

use super::advice::{Target, advise};
use super::{CliError, input, verbs};
use crate::client::Client;
use crate::keyvalue::KeyValues;
use crate::options::{ImportArgs, ImportFormat};

/// AWS Secrets Manager's largest value, checked before anything is written.
const MAX_VALUE_BYTES: usize = 65_536;

/// What `import` will write, checked before anything is.
#[derive(Debug)]
pub struct Plan {
    name: String,
    split: bool,
    keys: usize,
    secrets: Vec<Planned>,
}

/// One secret to create.
#[derive(Debug)]
struct Planned {
    name: String,
    /// The key it holds, with `-split`.
    key: Option<String>,
    value: String,
}

/// Reads and parses the file and derives the secrets to create.
pub fn plan(a: &ImportArgs) -> Result<Plan, CliError> {
    let text = input::file_contents(&a.file)?;
    let keys = parse(&text, a.format).map_err(|e| {
        CliError::Failed(format!(
            "cannot import {}: {e}; nothing was written",
            a.file.display()
        ))
    })?;
    if keys.is_empty() {
        return Err(CliError::Failed(format!(
            "{} holds no keys; nothing was written",
            a.file.display()
        )));
    }
    let secrets = if a.split {
        let mut by_name: HashMap<String, String> = HashMap::new();
        let mut secrets = Vec::new();
        for (key, value) in keys.iter() {
            let name = split_name(&a.name, key);
            names::validate_secret_name(&name).map_err(|e| {
                CliError::Failed(format!(
                    "the key '{key}' would be the secret '{name}', which cannot be: {e}; rename the key or give a shorter -name (nothing was written)"
                ))
            })?;
            if let Some(other) = by_name.insert(name.clone(), key.to_owned()) {
                return Err(CliError::Failed(format!(
                    "the keys '{other}' and '{key}' would both be the secret '{name}'; rename one of them (nothing was written)"
                )));
            }
            secrets.push(Planned {
                name,
                key: Some(key.to_owned()),
                value: value.as_text().to_owned(),
            });
        }
        secrets
    } else {
        vec![Planned {
            name: a.name.clone(),
            key: None,
            value: keys.to_json(),
        }]
    };
    for s in &secrets {
        if s.value.len() > MAX_VALUE_BYTES {
            let what = match &s.key {
                Some(key) => format!("the key '{key}'"),
                None => format!("the JSON object of {} keys", keys.len()),
            };
            return Err(CliError::Failed(format!(
                "{what} is {} bytes; AWS Secrets Manager stores at most {MAX_VALUE_BYTES} bytes per secret (nothing was written)",
                s.value.len()
            )));
        }
    }
    Ok(Plan {
        name: a.name.clone(),
        split: a.split,
        keys: keys.len(),
        secrets,
    })
}

/// The secret `-split` makes of `key`: `<name>-<key>`, the key lowercased
/// and `_` and `.` written as `-`. It must still pass the secret-name rules.
pub fn split_name(name: &str, key: &str) -> String {
    let key: String = key
        .chars()
        .map(|c| match c {
            '_' | '.' => '-',
            c => c.to_ascii_lowercase(),
        })
        .collect();
    format!("{name}-{key}")
}

/// The file's keys, in the format given or recognised.
pub fn parse(text: &str, format: ImportFormat) -> Result<KeyValues, String> {
    let format = match format {
        ImportFormat::Auto => recognise(text),
        f => f,
    };
    match format {
        ImportFormat::Json => {
            KeyValues::from_json(text).map_err(|e| format!("not a JSON object: {e}"))
        }
        ImportFormat::K8sSecret => KeyValues::from_k8s_secret(text)
            .map(|m| m.keys)
            .map_err(|e| format!("not a Kubernetes Secret manifest: {e}")),
        ImportFormat::Env | ImportFormat::Auto => {
            KeyValues::from_dotenv(text).map_err(|e| format!("not a .env file: {e}"))
        }
    }
}

/// A manifest says `kind:` and `apiVersion:` (at the start of a line in
/// YAML, as keys in JSON); other JSON objects are objects of keys; the rest
/// is read as a .env file.
fn recognise(text: &str) -> ImportFormat {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return match KeyValues::from_json(text) {
            Ok(kv) if kv.get("kind").is_some() && kv.get("apiVersion").is_some() => {
                ImportFormat::K8sSecret
            }
            _ => ImportFormat::Json,
        };
    }
    let yaml_field = |field: &str| text.lines().any(|l| l.starts_with(field));
    if yaml_field("kind:") || yaml_field("apiVersion:") || trimmed.starts_with("---") {
        ImportFormat::K8sSecret
    } else {
        ImportFormat::Env
    }
}

/// Creates what [`plan`] decided.
pub async fn run(client: &Client, ns: &str, plan: Plan) -> Result<(), CliError> {
    if !plan.split {
        let target = Target {
            namespace: ns,
            name: &plan.name,
        };
        let only = &plan.secrets[0];
        client
            .create(ns, &only.name, &only.value)
            .await
            .map_err(|e| advise(e, target))?;
        return verbs::say(&format!(
            "Successfully imported {} keys into secret '{}'",
            plan.keys, plan.name
        ));
    }
    let existing: HashSet<String> = client
        .list(ns)
        .await
        .map_err(|e| {
            advise(
                e,
                Target {
                    namespace: ns,
                    name: &plan.name,
                },
            )
        })?
        .secrets
        .into_iter()
        .collect();
    let mut created: Vec<&str> = Vec::new();
    let mut skipped = 0;
    for s in &plan.secrets {
        let key = s.key.as_deref().unwrap_or_default();
        let skip = || {
            verbs::say(&format!(
                "Skipped secret '{}' (key '{key}'): it already exists; its value was not compared or changed",
                s.name
            ))
        };
        if existing.contains(&s.name) {
            skip()?;
            skipped += 1;
            continue;
        }
        match client.create(ns, &s.name, &s.value).await {
            Ok(_) => {
                verbs::say(&format!("Created secret '{}' (key '{key}')", s.name))?;
                created.push(&s.name);
            }
            Err(e) if e.reason() == Some(reasons::ALREADY_EXISTS) => {
                skip()?;
                skipped += 1;
            }
            Err(e) => {
                let why = advise(
                    e,
                    Target {
                        namespace: ns,
                        name: &s.name,
                    },
                );
                let before = if created.is_empty() {
                    "nothing was created before it".to_owned()
                } else {
                    format!("created before it: {}", created.join(", "))
                };
                return Err(CliError::Failed(format!(
                    "import stopped at secret '{}' (key '{key}'): {why}. {before}; the keys after it were not imported. \
                     Once this is fixed, run the same command again: the secrets that exist are skipped",
                    s.name
                )));
            }
        }
    }
    verbs::say(&format!(
        "Successfully imported {} keys: {} secrets created, {skipped} already existed",
        plan.keys,
        created.len()
    ))
}

/// `plan` for tests without a file.
#[cfg(test)]
fn plan_text(text: &str, name: &str, split: bool) -> Result<Plan, CliError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, text).unwrap();
    plan(&ImportArgs {
        name: name.into(),
        file: path,
        format: ImportFormat::Auto,
        split,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_recognised() {
        assert_eq!(recognise("A=1\n"), ImportFormat::Env);
        assert_eq!(recognise("# c\nexport A=1\n"), ImportFormat::Env);
        assert_eq!(recognise(" {\"a\": \"1\"}"), ImportFormat::Json);
        assert_eq!(
            recognise(r#"{"apiVersion": "v1", "kind": "Secret"}"#),
            ImportFormat::K8sSecret
        );
        assert_eq!(
            recognise("apiVersion: v1\nkind: Secret\n"),
            ImportFormat::K8sSecret
        );
        assert_eq!(recognise("---\nkind: Secret\n"), ImportFormat::K8sSecret);
    }

    #[test]
    fn split_names_are_checked_before_anything_is_written() {
        assert_eq!(split_name("app", "DB_HOST"), "app-db-host");
        assert_eq!(split_name("app", "tls.crt"), "app-tls-crt");
        let p = plan_text("DB_HOST=h\nDB_PASS=p\n", "app", true).unwrap();
        let names: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["app-db-host", "app-db-pass"]);
        assert_eq!(p.secrets[1].value, "p");

        let e = plan_text("DB_HOST=h\ndb-host=x\n", "app", true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("'DB_HOST' and 'db-host' would both be the secret 'app-db-host'"),
            "{e}"
        );
        let e = plan_text("OK=1\nBAD_=2\n", "app", true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("the key 'BAD_' would be the secret 'app-bad-'"),
            "{e}"
        );
        let long = format!("{}=1\n", "K".repeat(60));
        let e = plan_text(&long, "app", true).unwrap_err().to_string();
        assert!(e.contains("at most 63"), "{e}");
        // Without -split the key names do not matter.
        assert!(plan_text(&long, "app", false).is_ok());
    }

    #[test]
    fn one_secret_holds_the_keys_as_a_json_object() {
        let p = plan_text("B=2\nA='x y'\n", "app", false).unwrap();
        assert_eq!(p.secrets.len(), 1);
        assert_eq!(
            p.secrets[0].value,
            "{\n  \"B\": \"2\",\n  \"A\": \"x y\"\n}"
        );
        let e = plan_text("# only a comment\n", "app", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("holds no keys"), "{e}");
        let e = plan_text("A=1\nA=2\n", "app", false)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2: the key 'A' is already set on line 1")
                && e.contains("nothing was written"),
            "{e}"
        );
        let big = format!("A={}\n", "x".repeat(MAX_VALUE_BYTES));
        let e = plan_text(&big, "app", false).unwrap_err().to_string();
        assert!(e.contains("at most 65536 bytes"), "{e}");
    }
}
