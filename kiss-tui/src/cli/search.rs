//! `list -all-namespaces`: every secret of every namespace the token
//! grants. Results on stdout (namespace, name, last changed; or JSON), one
//! line on stderr per namespace that refused; exit status 1 if any did.

use serde_json::{Value, json};

use super::output::rfc3339;
use super::verbs::{print_json, write_stdout};
use super::{CliError, advice};
use crate::client::Client;
use crate::options::Output;
use crate::search;

/// Runs the search and prints it.
pub async fn run(client: &Client, output: Output) -> Result<(), CliError> {
    let (who, found) = search::all_namespaces(client).await.map_err(|e| {
        advice::advise(
            e,
            advice::Target {
                namespace: "",
                name: "",
            },
        )
    })?;
    if who.admin {
        eprintln!(
            "Your token is an admin's, which may act on every namespace; only the namespaces it names are searched: {}",
            who.namespaces.join(", ")
        );
    }
    if found.namespaces.is_empty() {
        return Err(CliError::Failed(
            "your token grants no namespace, so there is nothing to search (kiss-tui whoami shows what it grants)".into(),
        ));
    }
    let printed = match output {
        Output::Json => print_json(&json_of(&found)),
        Output::Text => {
            let text: String = found
                .found
                .iter()
                .map(|f| {
                    format!(
                        "{}\t{}\t{}\n",
                        f.namespace,
                        f.name,
                        rfc3339(f.last_changed.as_ref()).unwrap_or_else(|| "-".into())
                    )
                })
                .collect();
            write_stdout(text.as_bytes())
        }
    };
    for (ns, e) in &found.failed {
        eprintln!("kiss-tui: namespace '{ns}' was not listed: {e}");
    }
    printed?;
    if found.failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::Failed(format!(
            "{} of {} namespaces could not be listed ({}); the secrets of the others are listed",
            found.failed.len(),
            found.namespaces.len(),
            found
                .failed
                .iter()
                .map(|(ns, _)| ns.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// `list -all-namespaces -output json`.
fn json_of(s: &search::Search) -> Value {
    let or_null = |t: Option<String>| t.map_or(Value::Null, Value::String);
    json!({
        "namespaces": s.namespaces,
        "secrets": s.found.iter().map(|f| json!({
            "namespace": f.namespace,
            "name": f.name,
            "created": or_null(rfc3339(f.created.as_ref())),
            "last_changed": or_null(rfc3339(f.last_changed.as_ref())),
        })).collect::<Vec<_>>(),
        "failed": s.failed.iter().map(|(ns, e)| json!({
            "namespace": ns,
            "error": e.to_string(),
        })).collect::<Vec<_>>(),
    })
}
