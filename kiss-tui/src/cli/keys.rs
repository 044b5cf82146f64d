//! The verbs on one key of a secret that holds a JSON object: `get -key`,
//! `set-key` and `unset-key`.
//!
//! A change is a read-modify-write: the value is read with its version,
//! changed with [`crate::keyvalue`], and written back with that version as
//! the expected one. If someone wrote in between, the server refuses the
//! write; the secret is read again and the change made once more on what is
//! there now. A second refusal gives up with [`CliError::Conflict`],
//! nothing written.

use kiss_proto::{pb, reasons};
use tonic::Code;

use super::advice::{Target, advise};
use super::{CliError, input, verbs};
use crate::client::{Client, ClientError};
use crate::keyvalue::KeyValues;
use crate::options::{GetArgs, KeyArgs, Output, SetKeyArgs};

/// `get -key`: the key's value with `-show-value`; without it, what plain
/// `get` prints, with the value never requested from the server.
pub async fn get(client: &Client, ns: &str, a: &GetArgs, key: &str) -> Result<(), CliError> {
    let target = Target {
        namespace: ns,
        name: &a.name,
    };
    let resp = client
        .get_version(ns, &a.name, a.version.as_deref(), a.show_value)
        .await
        .map_err(|e| advise(e, target))?;
    let mut details = details_of(resp, &a.name)?;
    if !a.show_value {
        eprintln!("The value of key '{key}' is not shown (nor read); add -show-value to print it.");
        return match a.output {
            Output::Json => verbs::print_json(&super::output::details_json(&details)),
            Output::Text => verbs::write_stdout(super::output::details_text(&details).as_bytes()),
        };
    }
    let kv = object_of(&details, target)?;
    let value = kv
        .get(key)
        .ok_or_else(|| missing_key(&kv, key, &a.name, ""))?
        .as_text()
        .to_owned();
    match a.output {
        Output::Json => {
            details.value = Some(value);
            let mut json = super::output::details_json(&details);
            json["key"] = serde_json::Value::String(key.to_owned());
            verbs::print_json(&json)
        }
        // Exactly the value: `get -key K -show-value > file` gives it back.
        Output::Text => verbs::write_stdout(value.as_bytes()),
    }
}

/// `set-key`.
pub async fn set(client: &Client, ns: &str, a: SetKeyArgs) -> Result<(), CliError> {
    let value =
        input::value_or_stdin_for(a.value, &format!("key '{}' of secret '{}'", a.key, a.name))?;
    let key = a.key.clone();
    let outcome = edit(client, ns, &a.name, &a.key, |kv| {
        let unchanged = kv
            .get(&key)
            .is_some_and(|v| *v == crate::keyvalue::Value::Text(value.clone()));
        if !unchanged {
            kv.set(&key, value.as_str());
        }
        Ok(!unchanged)
    })
    .await?;
    match outcome {
        Edited::Written => verbs::say(&format!(
            "Successfully set key '{}' in secret '{}'",
            a.key, a.name
        )),
        Edited::Unchanged => verbs::say(&format!(
            "Key '{}' of secret '{}' already holds that value; nothing was written",
            a.key, a.name
        )),
    }
}

/// `unset-key`.
pub async fn unset(client: &Client, ns: &str, a: KeyArgs) -> Result<(), CliError> {
    edit(client, ns, &a.name, &a.key, |kv| {
        if kv.get(&a.key).is_none() {
            return Err(missing_key(kv, &a.key, &a.name, ", so nothing was written"));
        }
        let _ = kv.unset(&a.key);
        Ok(true)
    })
    .await?;
    verbs::say(&format!(
        "Successfully removed key '{}' from secret '{}'",
        a.key, a.name
    ))
}

/// What [`edit`] did.
enum Edited {
    Written,
    Unchanged,
}

/// Reads the secret, applies `change` (which says whether it changed
/// anything), and writes it back under the version check; on a conflict,
/// once more from a fresh read.
async fn edit(
    client: &Client,
    ns: &str,
    name: &str,
    key: &str,
    change: impl Fn(&mut KeyValues) -> Result<bool, CliError>,
) -> Result<Edited, CliError> {
    let target = Target {
        namespace: ns,
        name,
    };
    let mut retried = false;
    for read in 1.. {
        let resp = client
            .get(ns, name, true)
            .await
            .map_err(|e| advise(e, target))?;
        hold_after_read(read).await;
        let details = details_of(resp, name)?;
        let mut kv = object_of(&details, target)?;
        if !change(&mut kv)? {
            return Ok(Edited::Unchanged);
        }
        match client
            .update(ns, name, &kv.to_json(), Some(&details.version_id))
            .await
        {
            Ok(_) => return Ok(Edited::Written),
            Err(e) if is_conflict(&e) && !retried => {
                eprintln!(
                    "Secret '{name}' changed while key '{key}' was being changed; reading it again."
                );
                retried = true;
            }
            Err(e) if is_conflict(&e) => {
                return Err(CliError::Conflict(format!(
                    "secret '{name}' was changed by someone else twice while key '{key}' was being changed; nothing was written. \
                     Run the command again, or see the current value with: kiss-tui get -namespace {ns} -name {name} -show-value"
                )));
            }
            Err(e) => return Err(advise(e, target)),
        }
    }
    unreachable!("the loop returns")
}

/// For kiss-tui's own tests only, which need two writers to interleave
/// exactly: with `KISS_TUI_TEST_HOLD_AFTER_READ=DIR`, after its Nth read
/// the change creates `DIR/read-N` and waits (at most 30 s) for `DIR/go-N`.
/// Debug builds only: the released binary has no such hook.
async fn hold_after_read(read: u32) {
    if !cfg!(debug_assertions) {
        return;
    }
    let Some(dir) = std::env::var_os("KISS_TUI_TEST_HOLD_AFTER_READ") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let _ = std::fs::write(dir.join(format!("read-{read}")), b"");
    let go = dir.join(format!("go-{read}"));
    for _ in 0..3000 {
        if go.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

fn is_conflict(e: &ClientError) -> bool {
    e.reason() == Some(reasons::VERSION_CONFLICT)
        || (e.reason().is_none() && e.code() == Some(Code::Aborted))
}

fn details_of(resp: pb::GetSecretResponse, name: &str) -> Result<pb::SecretDetails, CliError> {
    resp.secret
        .ok_or_else(|| CliError::Failed(format!("the server sent no details for secret '{name}'")))
}

/// The secret's value as keys, or why it has none. The message never quotes
/// the value.
pub fn object_of(details: &pb::SecretDetails, target: Target<'_>) -> Result<KeyValues, CliError> {
    let Target { namespace, name } = target;
    let value = details
        .value
        .as_deref()
        .ok_or_else(|| CliError::Failed(format!("the server sent no value for secret '{name}'")))?;
    KeyValues::from_json(value).map_err(|e| {
        CliError::Failed(format!(
            "secret '{name}' does not hold a JSON object ({e}), so it has no keys; see its whole value with kiss-tui get -namespace {namespace} -name {name} -show-value, replace it with kiss-tui update -namespace {namespace} -name {name}"
        ))
    })
}

fn missing_key(kv: &KeyValues, key: &str, name: &str, outcome: &str) -> CliError {
    let keys: Vec<&str> = kv.keys().collect();
    let have = if keys.is_empty() {
        "it holds no keys".to_owned()
    } else {
        format!("its keys are: {}", keys.join(", "))
    };
    CliError::Failed(format!(
        "secret '{name}' has no key '{key}'{outcome}; {have}"
    ))
}
