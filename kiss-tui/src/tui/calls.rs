//! Making the calls the app asks for, and turning the answers into replies.

use crate::app::action::{Call, CallError, ErrorKind, Reply};
use crate::client::Client;

use super::convert;

/// Makes one call.
pub async fn perform(c: &Client, call: Call) -> Result<Reply, CallError> {
    let err = |e: crate::client::ClientError| convert::call_error(&e);
    Ok(match call {
        Call::WhoAmI => Reply::WhoAmI(convert::identity(c.whoami().await.map_err(err)?)),
        Call::ListSecrets { namespace } => {
            Reply::Secrets(convert::secret_rows(c.list(&namespace).await.map_err(err)?))
        }
        Call::GetSecret {
            namespace,
            name,
            include_value,
        } => {
            let r = c.get(&namespace, &name, include_value).await.map_err(err)?;
            let d = r.secret.ok_or_else(|| {
                CallError::new(
                    ErrorKind::Other,
                    format!("The server sent no details for '{name}'."),
                )
            })?;
            Reply::Details(Box::new(convert::details(d)))
        }
        Call::CreateSecret {
            namespace,
            name,
            value,
        } => Reply::Created {
            version_id: c
                .create(&namespace, &name, value.expose())
                .await
                .map_err(err)?
                .version_id,
        },
        Call::CreatePolicy { namespace, name } => {
            c.create_policy(&namespace, &name).await.map_err(err)?;
            Reply::PolicyCreated
        }
        Call::UpdateSecret {
            namespace,
            name,
            value,
            expected_version_id,
        } => {
            let expected =
                (!expected_version_id.is_empty()).then_some(expected_version_id.as_str());
            Reply::Updated {
                version_id: c
                    .update(&namespace, &name, value.expose(), expected)
                    .await
                    .map_err(err)?
                    .version_id,
            }
        }
        Call::DeletePolicy {
            namespace,
            name,
            unbind,
        } => Reply::PolicyDeleted {
            unbound: c
                .delete_policy(&namespace, &name, unbind)
                .await
                .map_err(err)?
                .unbound_service_accounts,
        },
        Call::DeleteSecret { namespace, name } => Reply::Deleted {
            deletion_date: convert::time(
                c.delete(&namespace, &name)
                    .await
                    .map_err(err)?
                    .deletion_date,
            ),
        },
        Call::ListDeleted { namespace } => Reply::DeletedSecrets(convert::deleted_rows(
            c.list_deleted(&namespace).await.map_err(err)?,
        )),
        Call::Restore { namespace, name } => {
            c.restore(&namespace, &name).await.map_err(err)?;
            Reply::Restored
        }
        Call::Bind {
            namespace,
            name,
            service_account,
        } => {
            c.bind(&namespace, &name, &service_account)
                .await
                .map_err(err)?;
            Reply::Bound
        }
        Call::ListVersions { namespace, name } => Reply::Versions(convert::version_rows(
            c.versions(&namespace, &name).await.map_err(err)?,
        )),
        Call::GetVersion {
            namespace,
            name,
            version_id,
        } => {
            let r = c
                .get_version(&namespace, &name, Some(&version_id), true)
                .await
                .map_err(err)?;
            let d = r.secret.ok_or_else(|| {
                CallError::new(
                    ErrorKind::Other,
                    format!("The server sent no details for '{name}'."),
                )
            })?;
            Reply::Details(Box::new(convert::details(d)))
        }
        Call::Rollback {
            namespace,
            name,
            version_id,
            expected_version_id,
        } => Reply::RolledBack {
            version_id: c
                .rollback(&namespace, &name, &version_id, Some(&expected_version_id))
                .await
                .map_err(err)?
                .version_id,
        },
        Call::Unbind {
            namespace,
            name,
            service_account,
        } => {
            c.unbind(&namespace, &name, &service_account)
                .await
                .map_err(err)?;
            Reply::Unbound
        }
    })
}
