//! Secrets Manager: the secrets themselves, their lifecycle and listings.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SecretListEntry, Tag};

use super::errors::AwsFailure;
use super::{AwsStore, not_found, to_time};
use crate::store::naming::{self, MANAGED_BY_KISS, TAG_MANAGED_BY, TAG_NAME, TAG_NAMESPACE};
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
    pub deleted: Option<SystemTime>,
    pub current_version: Option<String>,
}

/// What the AWS name of a secret holds.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// This namespace's secret, live or scheduled for deletion.
    Owned(Described),
    /// Something else: another namespace's secret, or not kiss's at all.
    Foreign,
    /// Nothing.
    Missing,
}

/// The three tags that make a secret (or policy) this namespace's.
pub(crate) fn kiss_tags(secret: &SecretRef) -> [(&'static str, &str); 3] {
    [
        (TAG_MANAGED_BY, MANAGED_BY_KISS),
        (TAG_NAMESPACE, secret.namespace.as_str()),
        (TAG_NAME, secret.name.as_str()),
    ]
}

fn secret_tags(secret: &SecretRef) -> Vec<Tag> {
    kiss_tags(secret)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().filter_map(|t| Some((t.key()?, t.value()?)))
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
    pub(crate) async fn lookup(&self, secret: &SecretRef) -> StoreResult<Lookup> {
        let aws_name = self.naming.secret_name(secret)?;
        let out = match self.sm.describe_secret().secret_id(&aws_name).send().await {
            Ok(out) => out,
            Err(err) => {
                let f = AwsFailure::new("secretsmanager:DescribeSecret", false, &err);
                if f.is("ResourceNotFoundException") {
                    return Ok(Lookup::Missing);
                }
                return Err(f.into());
            }
        };
        // The name check guards against SecretId resolving to something else
        // (AWS also accepts partial ARNs there).
        if out.name() != Some(aws_name.as_str())
            || !naming::tags_match(tag_pairs(out.tags()), secret)
        {
            tracing::debug!(secret = %aws_name, "AWS name held by a secret with other tags");
            return Ok(Lookup::Foreign);
        }
        let Some(arn) = out.arn().map(str::to_owned) else {
            return Err(StoreError::Internal(format!(
                "AWS Secrets Manager described '{aws_name}' without an ARN"
            )));
        };
        Ok(Lookup::Owned(Described {
            name: aws_name,
            arn,
            created: to_time(out.created_date()),
            last_changed: to_time(out.last_changed_date()),
            last_accessed: to_time(out.last_accessed_date()),
            deleted: to_time(out.deleted_date()),
            current_version: current_version(out.version_ids_to_stages()),
        }))
    }

    /// This namespace's secret, live or scheduled for deletion; NotFound otherwise.
    pub(crate) async fn owned(&self, secret: &SecretRef) -> StoreResult<Described> {
        match self.lookup(secret).await? {
            Lookup::Owned(d) => Ok(d),
            Lookup::Foreign | Lookup::Missing => Err(not_found(secret)),
        }
    }

    /// This namespace's live secret; NotFound otherwise (a secret scheduled
    /// for deletion is only listed, restored, unbound or has its policy deleted).
    pub(crate) async fn owned_live(&self, secret: &SecretRef) -> StoreResult<Described> {
        let d = self.owned(secret).await?;
        if d.deleted.is_some() {
            return Err(not_found(secret));
        }
        Ok(d)
    }

    pub(crate) async fn create_secret(
        &self,
        secret: &SecretRef,
        value: &str,
    ) -> StoreResult<String> {
        naming::check_value(value)?;
        let aws_name = self.naming.secret_name(secret)?;
        // Our own token makes the SDK's retries idempotent and is the version id.
        let version = new_version();
        let result = self
            .sm
            .create_secret()
            .name(&aws_name)
            .secret_string(value)
            .client_request_token(&version)
            .set_tags(Some(secret_tags(secret)))
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.version_id().unwrap_or(&version).to_owned()),
            Err(err) => {
                let f = AwsFailure::new("secretsmanager:CreateSecret", true, &err);
                // AWS answers InvalidRequestException for a name held by a
                // secret scheduled for deletion; moto answers ResourceExists.
                if f.is("ResourceExistsException") || f.is("InvalidRequestException") {
                    return Err(self.why_taken(secret, f).await);
                }
                Err(f.into())
            }
        }
    }

    /// Explains a refused create without revealing another namespace.
    async fn why_taken(&self, secret: &SecretRef, failure: AwsFailure) -> StoreError {
        match self.lookup(secret).await {
            Ok(Lookup::Owned(d)) if d.deleted.is_some() => StoreError::ScheduledForDeletion {
                name: secret.name.clone(),
            },
            Ok(Lookup::Owned(_) | Lookup::Foreign) => StoreError::AlreadyExists {
                name: secret.name.clone(),
            },
            // Refused for another reason.
            Ok(Lookup::Missing) => failure.into(),
            Err(e) => e,
        }
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
        // narrow the search; owned_name() decides on the exact tags. The name
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
                if let Some(name) = self.owned_name(namespace, entry) {
                    out.push((name, entry.clone()));
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

    /// The kiss name of `entry` if it is exactly one of `namespace`'s secrets.
    fn owned_name(&self, namespace: &str, entry: &SecretListEntry) -> Option<String> {
        let name = tag_pairs(entry.tags()).find(|(k, _)| *k == TAG_NAME)?.1;
        let secret = SecretRef::new(namespace, name);
        let expected = self.naming.secret_name(&secret).ok()?;
        (naming::tags_match(tag_pairs(entry.tags()), &secret) && entry.name() == Some(&expected))
            .then(|| name.to_owned())
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
                // Deleted or scheduled for deletion since we described it.
                if f.is("ResourceNotFoundException") || f.is("InvalidRequestException") {
                    return Err(not_found(secret));
                }
                return Err(f.into());
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

    /// Stores a new value with PutSecretValue.
    ///
    /// The expected-version check is made on DescribeSecret just before the
    /// write: Secrets Manager has no conditional PutSecretValue, so two
    /// updates based on the same version within the same few milliseconds
    /// can still both land. What the check prevents is the common case, an
    /// update based on a value someone else has since replaced.
    pub(crate) async fn put_value(
        &self,
        secret: &SecretRef,
        value: &str,
        expected_version: Option<&str>,
    ) -> StoreResult<String> {
        naming::check_value(value)?;
        let described = self.owned_live(secret).await?;
        if let Some(expected) = expected_version.filter(|v| !v.is_empty())
            && described.current_version.as_deref() != Some(expected)
        {
            return Err(StoreError::VersionConflict {
                name: secret.name.clone(),
                expected: expected.to_owned(),
            });
        }
        let version = new_version();
        let result = self
            .sm
            .put_secret_value()
            .secret_id(&described.arn)
            .secret_string(value)
            .client_request_token(&version)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out.version_id().unwrap_or(&version).to_owned()),
            Err(err) => {
                let f = AwsFailure::new("secretsmanager:PutSecretValue", true, &err);
                if f.is("ResourceNotFoundException") || f.is("InvalidRequestException") {
                    return Err(not_found(secret));
                }
                Err(f.into())
            }
        }
    }

    /// Schedules deletion with the configured window, or deletes at once with 0.
    pub(crate) async fn delete_secret(
        &self,
        secret: &SecretRef,
    ) -> StoreResult<Option<SystemTime>> {
        let described = self.owned_live(secret).await?;
        let request = self.sm.delete_secret().secret_id(&described.arn);
        let request = if self.recovery_days == 0 {
            request.force_delete_without_recovery(true)
        } else {
            request.recovery_window_in_days(i64::from(self.recovery_days))
        };
        match request.send().await {
            Ok(out) if self.recovery_days > 0 => Ok(to_time(out.deletion_date())),
            Ok(_) => Ok(None),
            Err(err) => {
                let f = AwsFailure::new("secretsmanager:DeleteSecret", false, &err);
                if f.is("ResourceNotFoundException") || f.is("InvalidRequestException") {
                    return Err(not_found(secret));
                }
                Err(f.into())
            }
        }
    }

    /// Cancels a scheduled deletion.
    pub(crate) async fn restore_secret(&self, secret: &SecretRef) -> StoreResult<()> {
        let described = self.owned(secret).await?;
        if described.deleted.is_none() {
            return Err(StoreError::NotDeleted {
                name: secret.name.clone(),
            });
        }
        match self
            .sm
            .restore_secret()
            .secret_id(&described.arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => {
                let f = AwsFailure::new("secretsmanager:RestoreSecret", false, &err);
                if f.is("ResourceNotFoundException") {
                    return Err(not_found(secret));
                }
                Err(f.into())
            }
        }
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
