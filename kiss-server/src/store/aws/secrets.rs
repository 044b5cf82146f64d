//! Secrets Manager: the secrets themselves, their lifecycle and listings.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType, SecretListEntry, Tag};

use super::errors::AwsFailure;
use super::{AwsStore, to_time};
use crate::store::naming::TAG_NAMESPACE;
use crate::store::rules::{self, Found, Holder, not_found};
use crate::store::{
    CURRENT, MAX_VERSIONS, PREVIOUS, SecretRef, StoreError, StoreResult, VersionEntry, authors,
};

/// The most ListSecretVersionIds pages one listing reads. A page holds up to
/// [`MAX_VERSIONS`] versions, so one is the usual; AWS may return short (even
/// empty) pages with a next token, hence some room, but a secret that keeps
/// answering with more pages cannot keep the server paging.
const MAX_VERSION_PAGES: usize = 10;

/// A secret as DescribeSecret saw it.
#[derive(Debug, Clone)]
pub(crate) struct Described {
    pub name: String,
    pub arn: String,
    pub created: Option<SystemTime>,
    pub last_changed: Option<SystemTime>,
    pub last_accessed: Option<SystemTime>,
    pub current_version: Option<String>,
    /// The versions that have staging labels, with their labels (AWS
    /// describes those; unlabelled ones only ListSecretVersionIds lists).
    pub labelled: Vec<(String, Vec<String>)>,
    /// Every tag, for the authors of its versions.
    pub tags: Vec<(String, String)>,
}

impl Described {
    fn tag_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
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

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Where a version goes among versions written at the same time.
fn rank(v: &VersionEntry) -> u8 {
    if v.labels.iter().any(|l| l == CURRENT) {
        0
    } else if v.labels.iter().any(|l| l == PREVIOUS) {
        1
    } else {
        2
    }
}

impl AwsStore {
    /// Describes the AWS name of `secret` and says whose it is.
    pub(crate) async fn describe(&self, secret: &SecretRef) -> StoreResult<Holder<Described>> {
        let aws_name = self.naming.secret_name(secret)?;
        let out = match self
            .sm()
            .await?
            .describe_secret()
            .secret_id(&aws_name)
            .send()
            .await
        {
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
            // AWS describes labelled versions only; moto also the others,
            // with no labels.
            labelled: out
                .version_ids_to_stages()
                .into_iter()
                .flatten()
                .filter(|(_, labels)| !labels.is_empty())
                .map(|(v, labels)| (v.clone(), labels.clone()))
                .collect(),
            tags: tag_pairs(out.tags())
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
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
        author: Option<&str>,
    ) -> Result<String, AwsFailure> {
        // Our own token makes the SDK's retries idempotent and is the version id.
        let version = new_version();
        let mut tags = secret_tags(secret);
        if let Some(author) = author {
            let (k, v) = authors::tag(&version, author, now_millis());
            tags.push(Tag::builder().key(k).value(v).build());
        }
        let out = self
            .sm()
            .await?
            .create_secret()
            .name(aws_name)
            .secret_string(value)
            .client_request_token(&version)
            .set_tags(Some(tags))
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
                .sm()
                .await?
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
        self.value_of(secret, arn, None).await
    }

    /// The value of `version` (the current one if `None`) and its id.
    pub(crate) async fn value_of(
        &self,
        secret: &SecretRef,
        arn: &str,
        version: Option<&str>,
    ) -> StoreResult<(String, String)> {
        let request = self
            .sm()
            .await?
            .get_secret_value()
            .secret_id(arn)
            .set_version_id(version.map(str::to_owned));
        let out = match request.send().await {
            Ok(out) => out,
            Err(err) => {
                let f = AwsFailure::new("secretsmanager:GetSecretValue", true, &err);
                return Err(match version {
                    // The secret was just described: the version is what is missing.
                    Some(v) if f.is("ResourceNotFoundException") => StoreError::VersionNotFound {
                        name: secret.name.clone(),
                        version: v.to_owned(),
                    },
                    _ => gone(secret, f),
                });
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

    /// The versions Secrets Manager holds (deprecated ones too), newest
    /// first, with the authors `described`'s tags record: at most
    /// [`MAX_VERSIONS`], as many as kiss shows and AWS keeps once they are a
    /// day old.
    ///
    /// Paging stops once [`MAX_VERSIONS`] versions are in (or after
    /// [`MAX_VERSION_PAGES`] pages), so that a secret with an odd or endless
    /// listing costs a bounded number of calls. AWS does not say in what
    /// order it lists versions, so a listing cut short may lack the newest:
    /// the labelled versions DescribeSecret named are added then, so the
    /// current and previous ones are always there.
    pub(crate) async fn sm_versions(
        &self,
        secret: &SecretRef,
        described: &Described,
    ) -> StoreResult<Vec<VersionEntry>> {
        let authored = authors::read(described.tag_pairs());
        let author = |id: &str| authored.get(id).map(|a| a.author.clone());
        let mut out: Vec<VersionEntry> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        let complete = loop {
            let page = self
                .sm()
                .await?
                .list_secret_version_ids()
                .secret_id(&described.arn)
                .include_deprecated(true)
                .max_results(MAX_VERSIONS as i32)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    gone(
                        secret,
                        AwsFailure::new("secretsmanager:ListSecretVersionIds", false, &e),
                    )
                })?;
            pages += 1;
            for v in page.versions() {
                let Some(id) = v.version_id() else { continue };
                // A version listed twice (pages that overlap) counts once.
                if seen.insert(id.to_owned()) {
                    out.push(VersionEntry {
                        version_id: id.to_owned(),
                        created: to_time(v.created_date()),
                        labels: v.version_stages().to_vec(),
                        author: author(id),
                    });
                }
            }
            match page.next_token().filter(|t| !t.is_empty()) {
                None => break true,
                Some(_) if out.len() >= MAX_VERSIONS || pages >= MAX_VERSION_PAGES => break false,
                Some(next) if token.as_deref() == Some(next) => {
                    return Err(StoreError::Internal(
                        "AWS Secrets Manager returned the same page token twice while listing versions"
                            .into(),
                    ));
                }
                Some(next) => token = Some(next.to_owned()),
            }
        };
        if !complete {
            for (id, labels) in &described.labelled {
                if seen.insert(id.clone()) {
                    out.push(VersionEntry {
                        version_id: id.clone(),
                        // Unknown: DescribeSecret has no dates of versions.
                        created: None,
                        labels: labels.clone(),
                        author: author(id),
                    });
                }
            }
        }
        // Newest first. Times can tie (moto keeps whole seconds): then the
        // current version, then the previous, then the later listed (AWS
        // and moto list oldest first). Labelled versions without a date (a
        // listing cut short) go first, by their labels.
        out.reverse();
        let newest = |v: &VersionEntry| (v.created.is_none(), v.created);
        out.sort_by(|a, b| {
            newest(b)
                .cmp(&newest(a))
                .then_with(|| rank(a).cmp(&rank(b)))
        });
        out.truncate(MAX_VERSIONS);
        Ok(out)
    }

    /// Whether Secrets Manager still holds `version_id` of the secret
    /// `described`, without reading its value: the labelled ones are in the
    /// description, only the others need a listing.
    pub(crate) async fn holds_version(
        &self,
        secret: &SecretRef,
        described: &Described,
        version_id: &str,
    ) -> StoreResult<bool> {
        if described.labelled.iter().any(|(v, _)| v == version_id) {
            return Ok(true);
        }
        let versions = self.sm_versions(secret, described).await?;
        Ok(versions.iter().any(|v| v.version_id == version_id))
    }

    /// PutSecretValue; returns the new version id. With an `author`, the
    /// version's author tag is added after (and the oldest dropped): a
    /// failure there is logged, since the value is stored either way.
    pub(crate) async fn sm_put(
        &self,
        secret: &SecretRef,
        described: &Described,
        value: &str,
        author: Option<&str>,
    ) -> StoreResult<String> {
        let version = self.put_value(secret, &described.arn, value).await?;
        if let Some(author) = author
            && let Err(f) = self.tag_author(described, &version, author).await
        {
            let e = f.into_store_error();
            tracing::warn!(namespace = %secret.namespace, secret = %secret.name, error = %e,
                "could not record who wrote the new version; its author shows as unknown");
        }
        Ok(version)
    }

    async fn tag_author(
        &self,
        described: &Described,
        version: &str,
        author: &str,
    ) -> Result<(), AwsFailure> {
        // Room first: a secret at AWS's 50-tag limit refuses one more.
        let drop = authors::to_drop(described.tag_pairs());
        if !drop.is_empty() {
            self.sm()
                .await?
                .untag_resource()
                .secret_id(&described.arn)
                .set_tag_keys(Some(drop))
                .send()
                .await
                .map_err(|e| AwsFailure::new("secretsmanager:UntagResource", true, &e))?;
        }
        let (k, v) = authors::tag(version, author, now_millis());
        self.sm()
            .await?
            .tag_resource()
            .secret_id(&described.arn)
            .tags(Tag::builder().key(k).value(v).build())
            .send()
            .await
            .map_err(|e| AwsFailure::new("secretsmanager:TagResource", true, &e))?;
        Ok(())
    }

    async fn put_value(&self, secret: &SecretRef, arn: &str, value: &str) -> StoreResult<String> {
        let version = new_version();
        let out = self
            .sm()
            .await?
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
        let request = self.sm().await?.delete_secret().secret_id(arn);
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
        self.sm()
            .await?
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
