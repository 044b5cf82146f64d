//! One function per verb. Success messages are the Go client's, on stdout.

use std::io::Write;

use clap::CommandFactory;
use kiss_proto::names;
use tonic::Code;

use super::output::{self, rfc3339};
use super::{CliError, input};
use crate::client::{Client, ClientError};
use crate::options::{Options, Output, Verb};

/// Checks every name on the command line with kiss-proto's rules, so a bad
/// name is a usage error before any call.
pub fn validate_names(verb: &Verb) -> Result<(), CliError> {
    let secret = |name: &str| {
        names::validate_secret_name(name).map_err(|e| CliError::Usage(format!("--name: {e}")))
    };
    match verb {
        Verb::Ping | Verb::List(_) | Verb::Whoami(_) | Verb::Completions(_) => Ok(()),
        Verb::Get(a) => secret(&a.name),
        Verb::Create(a) => secret(&a.name),
        Verb::CreateFrom(a) => secret(&a.name),
        Verb::Update(a) => secret(&a.name),
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

fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(bytes)
        .and_then(|()| stdout.flush())
        .map_err(|e| CliError::Failed(format!("cannot write to stdout: {e}")))
}

fn say(line: &str) -> Result<(), CliError> {
    write_stdout(format!("{line}\n").as_bytes())
}

fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| CliError::Failed(format!("cannot encode JSON: {e}")))?;
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// Runs a verb that talks to the server.
pub async fn run(client: &Client, ns: &str, verb: Verb) -> Result<(), CliError> {
    tracing::debug!(verb = verb.name(), namespace = ns, "calling the server");
    match verb {
        Verb::Completions(a) => completions(a.shell),
        Verb::Ping => {
            client.ping(ns).await?;
            say("Successfully sent ping")
        }
        Verb::List(a) if a.deleted => {
            let resp = client.list_deleted(ns).await?;
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
            let resp = client.list(ns).await?;
            match a.output {
                Output::Json => print_json(&output::list_json(&resp)),
                Output::Text => {
                    let text: String = resp.secrets.iter().map(|n| format!("{n}\n")).collect();
                    write_stdout(text.as_bytes())
                }
            }
        }
        Verb::Get(a) => {
            let resp = client.get(ns, &a.name, a.show_value).await?;
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
            client.update(ns, &a.name, &value, None).await?;
            say("Successfully updated secret")
        }
        Verb::Delete(a) => delete(client, ns, &a.name, a.policy).await,
        Verb::Restore(a) => {
            client.restore(ns, &a.name).await?;
            say("Successfully restored secret")
        }
        Verb::Bind(a) => {
            client.bind(ns, &a.name, &a.service_account).await?;
            say("Successfully bound secret")
        }
        Verb::Unbind(a) => {
            client.unbind(ns, &a.name, &a.service_account).await?;
            say("Successfully unbound secret")
        }
        Verb::CreatePolicy(a) => {
            client.create_policy(ns, &a.name).await?;
            say(&format!(
                "Successfully created read policy for secret '{}'",
                a.name
            ))
        }
        Verb::DeletePolicy(a) => {
            let resp = client
                .delete_policy(ns, &a.name, a.unbind)
                .await
                .map_err(|e| still_bound(e, ns, &a.name, ""))?;
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
            let who = client.whoami().await?;
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
    client.create(ns, name, value).await?;
    say("Successfully created secret")?;
    if policy {
        client.create_policy(ns, name).await.map_err(|e| {
            CliError::Failed(format!(
                "the secret '{name}' was created, but its read policy was not: {e}"
            ))
        })?;
        say("Successfully created IAM policy for secret")?;
    }
    Ok(())
}

/// With `policy`, the policy goes first and is never force-unbound: if
/// ServiceAccounts still hold it, nothing is deleted and the user is told.
async fn delete(client: &Client, ns: &str, name: &str, policy: bool) -> Result<(), CliError> {
    if policy {
        match client.delete_policy(ns, name, false).await {
            Ok(_) => say("Successfully deleted IAM policy for secret")?,
            Err(e) if e.code() == Some(Code::FailedPrecondition) => {
                return Err(still_bound(e, ns, name, ", then delete again"));
            }
            Err(e) if e.code() == Some(Code::NotFound) => {
                eprintln!("No read policy to remove: {e}");
            }
            Err(e) => return Err(e.into()),
        }
    }
    let resp = client.delete(ns, name).await?;
    say("Successfully deleted secret")?;
    if let Some(when) = rfc3339(resp.deletion_date.as_ref()) {
        eprintln!(
            "It can be restored until {when} with: kiss-tui restore -namespace {ns} -name {name}"
        );
    }
    Ok(())
}

/// A refusal because the read policy is still bound: the server's reason,
/// without its own advice (which names no command), and one hint naming the
/// real commands. Other errors pass through.
fn still_bound(e: ClientError, ns: &str, name: &str, then: &str) -> CliError {
    if e.code() != Some(Code::FailedPrecondition) {
        return e.into();
    }
    let text = e.to_string();
    let reason = text.split_once("; ").map_or(text.as_str(), |(r, _)| r);
    CliError::Failed(format!(
        "{reason}; nothing was deleted. Unbind each ServiceAccount (kiss-tui unbind -namespace {ns} -name {name} -service-account <name>) or detach them all (kiss-tui delete-policy -namespace {ns} -name {name} -unbind){then}"
    ))
}
