//! One function per verb. Success messages are the Go client's, on stdout.

use std::io::Write;

use clap::CommandFactory;
use kiss_proto::{names, pb, reasons};
use tonic::Code;

use super::advice::{Target, advise};
use super::output::{self, rfc3339};
use super::{CliError, export, input, keys};
use crate::client::{Client, ClientError};
use crate::options::{DiffArgs, Options, Output, Verb};
use crate::workflows::{self, delete::PolicyOutcome, delete::PolicyRemoval, delete::Step};

/// Checks every name on the command line with kiss-proto's rules, so a bad
/// name is a usage error before any call.
pub fn validate_names(verb: &Verb) -> Result<(), CliError> {
    let secret = |name: &str| {
        names::validate_secret_name(name).map_err(|e| CliError::Usage(format!("--name: {e}")))
    };
    let version = |flag: &str, id: Option<&String>| match id {
        Some(id) => {
            names::validate_version_id(id).map_err(|e| CliError::Usage(format!("--{flag}: {e}")))
        }
        None => Ok(()),
    };
    let key = |key: &str| {
        if key.is_empty() {
            Err(CliError::Usage(
                "--key is empty; give the name of a key of the JSON object, e.g. -key password"
                    .into(),
            ))
        } else {
            Ok(())
        }
    };
    match verb {
        Verb::Ping | Verb::List(_) | Verb::Whoami(_) | Verb::Completions(_) => Ok(()),
        Verb::Get(a) => {
            secret(&a.name)?;
            version("version", a.version.as_ref())?;
            a.key.as_deref().map_or(Ok(()), key)
        }
        Verb::SetKey(a) => {
            secret(&a.name)?;
            key(&a.key)
        }
        Verb::UnsetKey(a) => {
            secret(&a.name)?;
            key(&a.key)
        }
        Verb::Import(a) => secret(&a.name),
        Verb::Export(a) => {
            secret(&a.name)?;
            match &a.namespace_of_secret {
                Some(ns) => names::validate_namespace(ns)
                    .map_err(|e| CliError::Usage(format!("--namespace-of-secret: {e}"))),
                None => Ok(()),
            }
        }
        Verb::History(a) => secret(&a.name),
        Verb::Diff(a) => {
            secret(&a.name)?;
            version("from", a.from.as_ref())?;
            version("to", a.to.as_ref())
        }
        Verb::Rollback(a) => {
            secret(&a.name)?;
            version("version", Some(&a.version))?;
            version("expected-version", a.expected_version.as_ref())
        }
        Verb::Create(a) => secret(&a.name),
        Verb::CreateFrom(a) => secret(&a.name),
        Verb::Update(a) => {
            secret(&a.name)?;
            version("expected-version", a.expected_version.as_ref())
        }
        Verb::Delete(a) => secret(&a.name),
        Verb::Restore(a) | Verb::CreatePolicy(a) => secret(&a.name),
        Verb::DeletePolicy(a) => secret(&a.name),
        Verb::Bind(a) | Verb::Unbind(a) => {
            secret(&a.name)?;
            names::validate_service_account(&a.service_account)
                .map_err(|e| CliError::Usage(format!("--service-account: {e}")))
        }
    }
}

/// Prints a shell completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut cmd = Options::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kiss-tui", &mut out);
    write_stdout(&out)
}

pub(super) fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::Failed(format!("cannot write to stdout: {e}")))
}

pub(super) fn say(line: &str) -> Result<(), CliError> {
    write_stdout(format!("{line}\n").as_bytes())
}

pub(super) fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Failed(format!("cannot encode JSON: {e}")))?;
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// Runs a verb that talks to the server.
pub async fn run(client: &Client, ns: &str, verb: Verb) -> Result<(), CliError> {
    tracing::debug!(verb = verb.name(), namespace = ns, "calling the server");
    let secret = secret_of(&verb).unwrap_or_default();
    let target = Target {
        namespace: ns,
        name: &secret,
    };
    let fail = |e: ClientError| advise(e, target);
    match verb {
        Verb::Completions(a) => completions(a.shell),
        Verb::Ping => {
            client.ping(ns).await.map_err(fail)?;
            say("Successfully sent ping")
        }
        Verb::List(a) if a.deleted => {
            let resp = client.list_deleted(ns).await.map_err(fail)?;
            match a.output {
                Output::Json => print_json(&output::deleted_json(&resp)),
                Output::Text => {
                    let text: String = resp
                        .secrets
                        .iter()
                        .map(|d| format!("{}\n", d.name))
                        .collect();
                    write_stdout(text.as_bytes())
                }
            }
        }
        Verb::List(a) => {
            let resp = client.list(ns).await.map_err(fail)?;
            match a.output {
                Output::Json => print_json(&output::list_json(&resp)),
                Output::Text => {
                    let text: String = resp.secrets.iter().map(|n| format!("{n}\n")).collect();
                    write_stdout(text.as_bytes())
                }
            }
        }
        Verb::History(a) => {
            let resp = client.versions(ns, &a.name).await.map_err(fail)?;
            match a.output {
                Output::Json => print_json(&output::history_json(&resp)),
                Output::Text => write_stdout(output::history_text(&resp).as_bytes()),
            }
        }
        Verb::Diff(a) => diff(client, ns, &a).await.map_err(|e| match e {
            DiffError::Call(e) => fail(e),
            DiffError::Usage(m) => CliError::Failed(m),
            DiffError::Cli(e) => e,
        }),
        Verb::Rollback(a) => {
            let resp = client
                .rollback(ns, &a.name, &a.version, a.expected_version.as_deref())
                .await
                .map_err(fail)?;
            say(&format!(
                "Successfully rolled back secret '{}' to the value of version {}; the new current version is {}",
                a.name, a.version, resp.version_id
            ))
        }
        Verb::Get(a) if a.key.is_some() => {
            let key = a.key.clone().unwrap_or_default();
            keys::get(client, ns, &a, &key).await
        }
        Verb::SetKey(a) => keys::set(client, ns, a).await,
        Verb::UnsetKey(a) => keys::unset(client, ns, a).await,
        Verb::Export(a) => export::run(client, ns, &a).await,
        // Planned before the connection and run by `super::run_verb`.
        Verb::Import(_) => Err(CliError::Failed(
            "import is run from its plan; this is a bug in kiss-tui".into(),
        )),
        Verb::Get(a) => {
            let resp = client
                .get_version(ns, &a.name, a.version.as_deref(), a.show_value)
                .await
                .map_err(fail)?;
            let details = resp.secret.ok_or_else(|| {
                CliError::Failed(format!(
                    "the server sent no details for secret '{}'",
                    a.name
                ))
            })?;
            match (a.output, a.show_value) {
                (Output::Json, _) => print_json(&output::details_json(&details)),
                (Output::Text, true) => {
                    let value = details.value.ok_or_else(|| {
                        CliError::Failed(format!(
                            "the server sent no value for secret '{}'",
                            a.name
                        ))
                    })?;
                    // Exactly the value: `get -show-value > file` gives back what was stored.
                    write_stdout(value.as_bytes())
                }
                (Output::Text, false) => write_stdout(output::details_text(&details).as_bytes()),
            }
        }
        Verb::Create(a) => {
            let value = input::value_or_stdin(a.value, &a.name)?;
            create(client, ns, &a.name, &value, a.policy).await
        }
        // Read before the connection (see `super::run_verb`); kept for completeness.
        Verb::CreateFrom(a) => {
            let value = input::file_contents(&a.value)?;
            create(client, ns, &a.name, &value, a.policy).await
        }
        Verb::Update(a) => {
            let value = input::value_or_stdin(a.value, &a.name)?;
            client
                .update(ns, &a.name, &value, a.expected_version.as_deref())
                .await
                .map_err(fail)?;
            say("Successfully updated secret")
        }
        Verb::Delete(a) => delete(client, ns, &a.name, a.policy).await,
        Verb::Restore(a) => {
            client.restore(ns, &a.name).await.map_err(fail)?;
            say("Successfully restored secret")
        }
        Verb::Bind(a) => {
            // One call: nobody looked at the policy, and for that case
            // `workflows::bind::first(None)` is a plain bind — its comment
            // says why a script's bind does not create a missing policy.
            client
                .bind(ns, &a.name, &a.service_account)
                .await
                .map_err(fail)?;
            say("Successfully bound secret to service account")
        }
        Verb::Unbind(a) => {
            client
                .unbind(ns, &a.name, &a.service_account)
                .await
                .map_err(fail)?;
            say("Successfully unbound secret")
        }
        Verb::CreatePolicy(a) => {
            client.create_policy(ns, &a.name).await.map_err(fail)?;
            say(&format!(
                "Successfully created read policy for secret '{}'",
                a.name
            ))
        }
        Verb::DeletePolicy(a) => {
            let resp = client
                .delete_policy(ns, &a.name, a.unbind)
                .await
                .map_err(fail)?;
            say(&format!(
                "Successfully deleted read policy for secret '{}'",
                a.name
            ))?;
            if !resp.unbound_service_accounts.is_empty() {
                say(&format!(
                    "Unbound from ServiceAccounts: {}",
                    resp.unbound_service_accounts.join(", ")
                ))?;
            }
            Ok(())
        }
        Verb::Whoami(a) => {
            let who = client.whoami().await.map_err(fail)?;
            match a.output {
                Output::Json => print_json(&output::whoami_json(&who)),
                Output::Text => {
                    write_stdout(output::whoami_text(&who, std::time::SystemTime::now()).as_bytes())
                }
            }
        }
    }
}

async fn create(
    client: &Client,
    ns: &str,
    name: &str,
    value: &str,
    policy: bool,
) -> Result<(), CliError> {
    let target = Target {
        namespace: ns,
        name,
    };
    client
        .create(ns, name, value)
        .await
        .map_err(|e| advise(e, target))?;
    say("Successfully created secret")?;
    if policy {
        client.create_policy(ns, name).await.map_err(|e| {
            CliError::Failed(format!(
                "the secret '{name}' was created, but its read policy was not: {e}"
            ))
        })?;
        say("Successfully created secret IAM policy")?;
    }
    Ok(())
}

/// `diff`: both values are read (the server audits that), the lines shown
/// only with `-show-values`.
async fn diff(client: &Client, ns: &str, a: &DiffArgs) -> Result<(), DiffError> {
    let from = match &a.from {
        Some(v) => v.clone(),
        None => {
            let versions = client.versions(ns, &a.name).await?;
            let previous = versions
                .versions
                .iter()
                .find(|v| v.labels.iter().any(|l| l == "AWSPREVIOUS"));
            match previous {
                Some(v) => v.version_id.clone(),
                None => {
                    return Err(DiffError::Usage(format!(
                        "secret '{}' has no previous version to compare with; give -from (see `kiss-tui history -name {}`)",
                        a.name, a.name
                    )));
                }
            }
        }
    };
    let read = async |version: Option<&str>| -> Result<pb::SecretDetails, DiffError> {
        let resp = client.get_version(ns, &a.name, version, true).await?;
        resp.secret.filter(|d| d.value.is_some()).ok_or_else(|| {
            DiffError::Usage(format!("the server sent no value for secret '{}'", a.name))
        })
    };
    let old = read(Some(&from)).await?;
    let new = read(a.to.as_deref()).await?;
    let label = |d: &pb::SecretDetails, current: bool| {
        let mut l = format!("version {}", d.version_id);
        if current {
            l.push_str(" (current)");
        }
        l
    };
    let d = crate::diff::diff(
        old.value.as_deref().unwrap_or_default(),
        new.value.as_deref().unwrap_or_default(),
    );
    if d.is_empty() {
        eprintln!("The two versions hold the same value.");
        return Ok(());
    }
    let text = crate::diff::unified(
        &d,
        &label(&old, false),
        &label(&new, a.to.is_none()),
        a.show_values,
    );
    write_stdout(text.as_bytes()).map_err(DiffError::Cli)?;
    if a.show_values {
        eprintln!("{}", d.summary());
    } else {
        eprintln!(
            "{}; values hidden, add -show-values to see the lines",
            d.summary()
        );
    }
    Ok(())
}

/// How `diff` fails: a call, or something the user must change.
enum DiffError {
    Call(ClientError),
    Usage(String),
    Cli(CliError),
}

impl From<ClientError> for DiffError {
    fn from(e: ClientError) -> Self {
        DiffError::Call(e)
    }
}

/// The secret a verb acts on, for the commands advice names.
fn secret_of(verb: &Verb) -> Option<String> {
    match verb {
        Verb::Ping | Verb::List(_) | Verb::Whoami(_) | Verb::Completions(_) => None,
        Verb::Get(a) => Some(a.name.clone()),
        Verb::SetKey(a) => Some(a.name.clone()),
        Verb::UnsetKey(a) => Some(a.name.clone()),
        Verb::Import(a) => Some(a.name.clone()),
        Verb::Export(a) => Some(a.name.clone()),
        Verb::History(a) => Some(a.name.clone()),
        Verb::Diff(a) => Some(a.name.clone()),
        Verb::Rollback(a) => Some(a.name.clone()),
        Verb::Create(a) => Some(a.name.clone()),
        Verb::CreateFrom(a) => Some(a.name.clone()),
        Verb::Update(a) => Some(a.name.clone()),
        Verb::Delete(a) => Some(a.name.clone()),
        Verb::Restore(a) | Verb::CreatePolicy(a) => Some(a.name.clone()),
        Verb::DeletePolicy(a) => Some(a.name.clone()),
        Verb::Bind(a) | Verb::Unbind(a) => Some(a.name.clone()),
    }
}

/// With `policy`, the policy goes first and is never force-unbound: if
/// ServiceAccounts still hold it, nothing is deleted and the user is told.
/// The order and the rules are [`workflows::delete`]'s, shared with the
/// app; only the removal mode differs (see [`PolicyRemoval`]).
async fn delete(client: &Client, ns: &str, name: &str, policy: bool) -> Result<(), CliError> {
    let target = Target {
        namespace: ns,
        name,
    };
    let removal = if policy {
        PolicyRemoval::OnlyIfUnattached
    } else {
        PolicyRemoval::Keep
    };
    let mut step = Some(workflows::delete::first(removal));
    while let Some(Step::DeletePolicy { unbind }) = step {
        let outcome = match client.delete_policy(ns, name, unbind).await {
            Ok(_) => {
                say("Successfully deleted secret IAM policy")?;
                PolicyOutcome::Deleted
            }
            Err(e) if is_policy_missing(&e) => {
                eprintln!("No read policy to remove: {e}");
                PolicyOutcome::Missing
            }
            Err(e) => {
                let attached = e.reason() == Some(reasons::POLICY_ATTACHED);
                let err = advise(e, target);
                return Err(if attached {
                    CliError::Failed(format!("{err}, then delete again"))
                } else {
                    err
                });
            }
        };
        step = workflows::delete::after_policy(outcome);
    }
    let resp = client
        .delete(ns, name)
        .await
        .map_err(|e| advise(e, target))?;
    say("Successfully deleted secret")?;
    if let Some(when) = rfc3339(resp.deletion_date.as_ref()) {
        eprintln!(
            "It can be restored until {when} with: kiss-tui restore -namespace {ns} -name {name}"
        );
    }
    Ok(())
}

/// No read policy to delete: by reason, or by code from a server that sends
/// no reason.
fn is_policy_missing(e: &ClientError) -> bool {
    workflows::is_policy_missing(e.reason(), e.code() == Some(Code::NotFound))
}
