//! Secrets Manager: the secrets themselves, their lifecycle and listings.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SecretListEntry, Tag};

use super::errors::AwsFailure;
use super::{AwsStore, to_time};
use crate::store::naming::TAG_NAMESPACE;
use crate::store::rules::{self, Found, Holder, not_found};
use crate::store::{SecretRef, StoreError, StoreResult};

/// The staging label of a secret's current value.
const CURRENT: &str = "AWSCURRENT";

/// A secret as DescribeSecret saw it.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    pub name: String,
    pub arn: String,
    pub created: Option<SystemTime>,
    pub last_changed: Option<SystemTime>,
    pub last_accessed: Option<SystemTime>,
    pub current_version: Option<String>,
}

fn secret_tags(secret: &SecretRef) -> Vec<Tag> {
    rules::kiss_tags(secret)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tag_pairs(tags: &[Tag]) -> Vec<(&str, &str)> {
    tags.iter()
        .filter_map(|t| Some((t.key()?, t.value()?)))
        .collect()
}

fn current_version(stages: Option<&HashMap<String, Vec<String>>>) -> Option<String> {
    stages?
        .iter()
        .find(|(_, labels)| labels.iter().any(|l| l == CURRENT))
        .map(|(version, _)| version.clone())
}

fn new_version() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl AwsStore {
    /// Describes the AWS name of `secret` and says whose it is.
    pub(crate) async fn describe(&self, secret: &SecretRef) -> StoreResult<Holder<Described>> {
        let aws_name = self.naming.secret_name(secret)?;
        let out = match self.sm.describe_secret().secret_id(&aws_name).send().await {
            Ok(out) => out,
            Err(err) => {
                let f = AwsFailure::new("secretsmanager:DescribeSecret", false, &err);
                if f.is("ResourceNotFoundException") {
                    return Ok(Holder::Missing);
                }
                return Err(f.into());
            }
        };
        let Some(arn) = out.arn().map(str::to_owned) else {
            return Err(StoreError::Internal(format!(
                "AWS Secrets Manager described '{aws_name}' without an ARN"
            )));
        };
        // The name is compared because SecretId also accepts partial ARNs,
        // which could resolve to something else.
        let found = Found {
            name: out.name().unwrap_or_default(),
            tags: tag_pairs(out.tags()),
            deleted: out.deleted_date().is_some(),
        };
        let described = Described {
            name: aws_name.clone(),
            arn,
            created: to_time(out.created_date()),
            last_changed: to_time(out.last_changed_date()),
            last_accessed: to_time(out.last_accessed_date()),
            current_version: current_version(out.version_ids_to_stages()),
        };
        Ok(Holder::of(secret, &aws_name, Some((found, described))))
    }

    /// CreateSecret of `secret` under `aws_name` with kiss's tags; returns
    /// the version id.
    pub(crate) async fn sm_create(
        &self,
        aws_name: &str,
        secret: &SecretRef,
        value: &str,
    ) -> Result<String, AwsFailure> {
        // Our own token makes the SDK's retries idempotent and is the version id.
        let version = new_version();
        let out = self
            .sm
            .create_secret()
            .name(aws_name)
            .secret_string(value)
            .client_request_token(&version)
            .set_tags(Some(secret_tags(secret)))
            .send()
            .await
            .map_err(|e| AwsFailure::new("secretsmanager:CreateSecret", true, &e))?;
        Ok(out.version_id().unwrap_or(&version).to_owned())
    }

    /// The namespace's secrets (live, or scheduled for deletion when
    /// `deleted`), with their kiss names.
    ///
    /// ListSecrets filters match tag keys and values independently and by
    /// prefix (namespace `a` also matches `alpha`), so they only narrow the
    /// search; an entry is kept only if its own tags are exactly this
    /// namespace's and its name is the one kiss derives from them. Secrets
    /// without a name tag are skipped. ListSecrets returns tags, so no
    /// DescribeSecret per secret.
    pub(crate) async fn list_owned(
        &self,
        namespace: &str,
        deleted: bool,
    ) -> StoreResult<Vec<(String, SecretListEntry)>> {
        // AWS matches each filter by prefix and independently, so these only
        // narrow the search; rules::listed_name decides on the exact tags. The name
        // prefix keeps a namespace like `k` from scanning every kiss secret.
        let filters = vec![
            Filter::builder()
                .key(FilterNameStringType::Name)
                .values(self.naming.namespace_prefix(namespace))
                .build(),
            Filter::builder()
                .key(FilterNameStringType::TagKey)
                .values(TAG_NAMESPACE)
                .build(),
            Filter::builder()
                .key(FilterNameStringType::TagValue)
                .values(namespace)
                .build(),
        ];
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .sm
                .list_secrets()
                .set_filters(Some(filters.clone()))
                .max_results(self.page_size)
                .include_planned_deletion(deleted)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| AwsFailure::new("secretsmanager:ListSecrets", false, &e))?;
            for entry in page.secret_list() {
                if entry.deleted_date().is_some() != deleted {
                    continue;
                }
                let tags = tag_pairs(entry.tags());
                let name = entry.name().unwrap_or_default();
                if let Some(kiss_name) = rules::listed_name(&self.naming, namespace, name, &tags) {
                    out.push((kiss_name.to_owned(), entry.clone()));
                }
            }
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(next) if token.as_deref() == Some(next) => {
                    return Err(StoreError::Internal(
                        "AWS Secrets Manager returned the same page token twice while listing"
                            .into(),
                    ));
                }
                Some(next) => token = Some(next.to_owned()),
                None => break,
            }
        }
        Ok(out)
    }

    /// When a secret was deleted, and when it will be gone for good.
    ///
    /// AWS documents `DeletedDate` both ways (ListSecrets: when the deletion
    /// was requested; DescribeSecret: when the secret is deleted for good),
    /// and moto uses the latter. A date in the future can only be the end of
    /// the window; a past one is the request, and the end is then estimated
    /// with the configured window (ListSecrets does not return the window).
    pub(crate) fn deletion_dates(
        &self,
        deleted_date: Option<SystemTime>,
    ) -> (Option<SystemTime>, Option<SystemTime>) {
        let Some(date) = deleted_date else {
            return (None, None);
        };
        let window = Duration::from_secs(u64::from(self.recovery_days) * 86_400);
        if date > SystemTime::now() {
            (date.checked_sub(window), Some(date))
        } else if self.recovery_days == 0 {
            (Some(date), None)
        } else {
            (Some(date), Some(date + window))
        }
    }

    /// The current value and its version id.
    pub(crate) async fn current_value(
        &self,
        secret: &SecretRef,
        arn: &str,
    ) -> StoreResult<(String, String)> {
        let out = match self.sm.get_secret_value().secret_id(arn).send().await {
            Ok(out) => out,
            Err(err) => {
                let f = AwsFailure::new("secretsmanager:GetSecretValue", true, &err);
                return Err(gone(secret, f));
            }
        };
        let Some(value) = out.secret_string() else {
            return Err(StoreError::Invalid(format!(
                "secret '{}' holds a binary value, which kiss does not handle; manage it with the AWS tools",
                secret.name
            )));
        };
        Ok((
            value.to_owned(),
            out.version_id().unwrap_or_default().to_owned(),
        ))
    }

    /// PutSecretValue; returns the new version id.
    pub(crate) async fn sm_put(
        &self,
        secret: &SecretRef,
        arn: &str,
        value: &str,
    ) -> StoreResult<String> {
        let version = new_version();
        let out = self
            .sm
            .put_secret_value()
            .secret_id(arn)
            .secret_string(value)
            .client_request_token(&version)
            .send()
            .await
            .map_err(|e| {
                gone(
                    secret,
                    AwsFailure::new("secretsmanager:PutSecretValue", true, &e),
                )
            })?;
        Ok(out.version_id().unwrap_or(&version).to_owned())
    }

    /// DeleteSecret with the configured window, or at once with 0; returns
    /// when the secret will be gone for good, if scheduled.
    pub(crate) async fn sm_delete(
        &self,
        secret: &SecretRef,
        arn: &str,
    ) -> StoreResult<Option<SystemTime>> {
        let request = self.sm.delete_secret().secret_id(arn);
        let request = if self.recovery_days == 0 {
            request.force_delete_without_recovery(true)
        } else {
            request.recovery_window_in_days(i64::from(self.recovery_days))
        };
        let out = request.send().await.map_err(|e| {
            gone(
                secret,
                AwsFailure::new("secretsmanager:DeleteSecret", false, &e),
            )
        })?;
        Ok(to_time(out.deletion_date()).filter(|_| self.recovery_days > 0))
    }

    /// RestoreSecret: cancels a scheduled deletion.
    pub(crate) async fn sm_restore(&self, secret: &SecretRef, arn: &str) -> StoreResult<()> {
        self.sm
            .restore_secret()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| {
                gone(
                    secret,
                    AwsFailure::new("secretsmanager:RestoreSecret", false, &e),
                )
            })?;
        Ok(())
    }
}

/// A secret deleted, or scheduled for deletion, since it was described is
/// answered like a missing one.
fn gone(secret: &SecretRef, f: AwsFailure) -> StoreError {
    if f.is("ResourceNotFoundException") || f.is("InvalidRequestException") {
        not_found(secret)
    } else {
        f.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_version_follows_the_awscurrent_label() {
        let mut stages = HashMap::new();
        stages.insert("old".to_owned(), vec!["AWSPREVIOUS".to_owned()]);
        stages.insert("new".to_owned(), vec![CURRENT.to_owned()]);
        assert_eq!(current_version(Some(&stages)).as_deref(), Some("new"));
        assert_eq!(current_version(None), None);
    }
}
