//! `export`: a secret holding a JSON object, printed as a .env file, a JSON
//! object or a Kubernetes Secret manifest. The value is read, so the server
//! audits a read.

use super::advice::{Target, advise};
use super::{CliError, keys, verbs};
use crate::client::Client;
use crate::keyvalue::Layout;
use crate::keyvalue::manifest::Encoding;
use crate::options::{ExportArgs, ExportFormat};

/// Prints the secret's keys in the chosen format on stdout.
pub async fn run(client: &Client, ns: &str, a: &ExportArgs) -> Result<(), CliError> {
    let target = Target {
        namespace: ns,
        name: &a.name,
    };
    let resp = client
        .get(ns, &a.name, true)
        .await
        .map_err(|e| advise(e, target))?;
    let details = resp.secret.ok_or_else(|| {
        CliError::Failed(format!(
            "the server sent no details for secret '{}'",
            a.name
        ))
    })?;
    let mut kv = keys::object_of(&details, target)?;
    let text = match a.format {
        ExportFormat::Env => kv.to_dotenv(),
        ExportFormat::Json => {
            kv.set_layout(Layout::Pretty);
            let mut text = kv.to_json();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            Ok(text)
        }
        ExportFormat::K8sSecret => kv.to_k8s_secret(
            &a.name,
            Some(a.namespace_of_secret.as_deref().unwrap_or(ns)),
            Encoding::Data,
        ),
    }
    .map_err(|e| CliError::Failed(format!("cannot export secret '{}': {e}", a.name)))?;
    verbs::write_stdout(text.as_bytes())
}
