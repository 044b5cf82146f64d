//! IAM: a secret's read policy and its attachment to ServiceAccount roles.
//!
//! Each function here is one IAM step; what the answers mean (whose a
//! policy is, whether it may be deleted) is decided by [`crate::store::rules`].

use aws_sdk_iam::types::{EntityType, PolicyUsageType, Tag};

use super::AwsStore;
use super::errors::AwsFailure;
use super::policy::decode_document;
use crate::store::rules::{self, Holders, PolicyFound, PolicyState};
use crate::store::{SecretRef, StoreError, StoreResult};

/// IAM's largest ListEntitiesForPolicy page.
const MAX_ITEMS: i32 = 1000;

/// IAM keeps at most this many versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;

/// The read policy's name and ARN, and whose the policy under them is.
#[derive(Debug, Clone)]
pub(crate) struct ReadPolicy {
    /// The IAM policy name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// What holds the name.
    pub state: PolicyState,
}

impl AwsStore {
    /// Looks up the read policy of `secret`: GetPolicy for its tags, then
    /// its default version's document.
    pub(crate) async fn read_policy(&self, secret: &SecretRef) -> StoreResult<ReadPolicy> {
        let name = self.naming.policy_name(secret)?;
        let arn = self.policy_arn_of(&name);
        let secret_name = self.naming.secret_name(secret)?;
        let policy = match self.iam().await?.get_policy().policy_arn(&arn).send().await {
            Ok(out) => out.policy().cloned(),
            Err(err) => {
                let f = AwsFailure::new("iam:GetPolicy", false, &err);
                if !f.is("NoSuchEntity") {
                    return Err(f.into());
                }
                None
            }
        };
        let state = match policy {
            None => PolicyState::Absent,
            Some(policy) => {
                let version = policy.default_version_id().unwrap_or("v1");
                let document = self.document(&arn, version).await?;
                let found = PolicyFound {
                    tags: policy.tags().iter().map(|t| (t.key(), t.value())).collect(),
                    document: &document,
                };
                PolicyState::of(secret, &secret_name, Some(found))
            }
        };
        if state == PolicyState::Foreign {
            tracing::warn!(namespace = %secret.namespace, secret = %secret.name, policy = %name,
                "a policy with the read policy's name was not made by kiss for this secret");
        }
        Ok(ReadPolicy { name, arn, state })
    }

    async fn document(&self, arn: &str, version: &str) -> StoreResult<String> {
        let out = self
            .iam()
            .await?
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| AwsFailure::new("iam:GetPolicyVersion", false, &e))?;
        Ok(out
            .policy_version()
            .and_then(|v| v.document())
            .map(decode_document)
            .unwrap_or_default())
    }

    /// CreatePolicy of the read policy granting `secret_arn`, with kiss's
    /// tags; returns its ARN.
    pub(crate) async fn iam_create_policy(
        &self,
        secret: &SecretRef,
        policy: &ReadPolicy,
        secret_arn: &str,
    ) -> StoreResult<String> {
        let tags = rules::kiss_tags(secret)
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Internal(format!("could not build the policy tags: {e}")))?;
        let result = self
            .iam()
            .await?
            .create_policy()
            .policy_name(&policy.name)
            .path("/")
            .description(format!(
                "kiss: read secret '{}' of namespace '{}'",
                secret.name, secret.namespace
            ))
            .policy_document(rules::read_policy_document(secret_arn))
            .set_tags(Some(tags))
            .send()
            .await;
        match result {
            Ok(out) => Ok(out
                .policy()
                .and_then(|p| p.arn())
                .map_or_else(|| policy.arn.clone(), str::to_owned)),
            Err(err) => {
                let f = AwsFailure::new("iam:CreatePolicy", false, &err);
                // Created by a concurrent request since it was looked up.
                if f.is("EntityAlreadyExists") {
                    return Err(StoreError::PolicyExists {
                        name: secret.name.clone(),
                    });
                }
                Err(f.into())
            }
        }
    }

    /// Makes the read policy grant `secret_arn` with a new default version.
    ///
    /// A secret deleted for good and created again under its name gets a
    /// new ARN (AWS adds a random suffix), while its policy, and the roles it
    /// is attached to, stay. Without this the policy would still grant the
    /// old ARN, GetSecret would report it, bind would succeed, and pods
    /// would be refused.
    pub(crate) async fn repoint(
        &self,
        secret: &SecretRef,
        policy_arn: &str,
        secret_arn: &str,
    ) -> StoreResult<()> {
        // IAM refuses a sixth version.
        self.delete_old_versions(policy_arn, MAX_POLICY_VERSIONS - 1)
            .await?;
        self.iam()
            .await?
            .create_policy_version()
            .policy_arn(policy_arn)
            .policy_document(rules::read_policy_document(secret_arn))
            .set_as_default(true)
            .send()
            .await
            .map_err(|e| AwsFailure::new("iam:CreatePolicyVersion", false, &e))?;
        tracing::info!(
            namespace = %secret.namespace,
            secret = %secret.name,
            policy = %policy_arn,
            "read policy now names the re-created secret"
        );
        Ok(())
    }

    /// Deletes the oldest non-default versions until at most `keep` remain.
    async fn delete_old_versions(&self, policy_arn: &str, keep: usize) -> StoreResult<()> {
        let versions = self
            .iam()
            .await?
            .list_policy_versions()
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(|e| AwsFailure::new("iam:ListPolicyVersions", false, &e))?;
        let mut old: Vec<_> = versions
            .versions()
            .iter()
            .filter(|v| !v.is_default_version())
            .filter_map(|v| {
                Some((
                    v.create_date().map(|d| d.secs()),
                    v.version_id()?.to_owned(),
                ))
            })
            .collect();
        old.sort();
        let excess = versions.versions().len().saturating_sub(keep);
        for (_, version) in old.iter().take(excess) {
            self.iam()
                .await?
                .delete_policy_version()
                .policy_arn(policy_arn)
                .version_id(version)
                .send()
                .await
                .map_err(|e| AwsFailure::new("iam:DeletePolicyVersion", false, &e))?;
        }
        Ok(())
    }

    /// Who holds the policy (only roles when `roles_only`); None when AWS
    /// says there is no such policy.
    ///
    /// moto answers for a missing policy with an empty list, and ignores
    /// Marker and MaxItems here (it searches the first MaxItems roles and
    /// never truncates), so callers check existence with GetPolicy, and the
    /// largest page keeps moto's answer complete for up to 1000 roles. Real
    /// IAM pages with Marker, which is followed to the end.
    pub(crate) async fn holders(
        &self,
        namespace: &str,
        arn: &str,
        roles_only: bool,
    ) -> StoreResult<Option<Holders>> {
        let mut roles = Vec::new();
        let mut others = 0;
        let mut marker: Option<String> = None;
        loop {
            let mut request = self
                .iam()
                .await?
                .list_entities_for_policy()
                .policy_arn(arn)
                .policy_usage_filter(PolicyUsageType::PermissionsPolicy)
                .max_items(MAX_ITEMS)
                .set_marker(marker.clone());
            if roles_only {
                request = request.entity_filter(EntityType::Role);
            }
            let page = match request.send().await {
                Ok(page) => page,
                Err(err) => {
                    let f = AwsFailure::new("iam:ListEntitiesForPolicy", false, &err);
                    if f.is("NoSuchEntity") {
                        return Ok(None);
                    }
                    return Err(f.into());
                }
            };
            roles.extend(
                page.policy_roles()
                    .iter()
                    .filter_map(|r| r.role_name().map(str::to_owned)),
            );
            others += page.policy_users().len() + page.policy_groups().len();
            match page
                .marker()
                .filter(|m| page.is_truncated() && !m.is_empty())
            {
                Some(next) if marker.as_deref() != Some(next) => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        let mut holders = Holders::of(&self.naming, namespace, roles.iter().map(String::as_str));
        holders.foreign += others;
        Ok(Some(holders))
    }

    /// DeletePolicy, after the versions IAM wants gone first.
    pub(crate) async fn iam_delete_policy(&self, secret: &SecretRef, arn: &str) -> StoreResult<()> {
        // IAM refuses to delete a policy that still has non-default
        // versions (a repointed one does).
        self.delete_old_versions(arn, 1).await?;
        match self
            .iam()
            .await?
            .delete_policy()
            .policy_arn(arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => {
                let f = AwsFailure::new("iam:DeletePolicy", false, &err);
                if f.is("NoSuchEntity") {
                    return Err(StoreError::PolicyMissing {
                        name: secret.name.clone(),
                    });
                }
                if f.is("DeleteConflict") {
                    return Err(StoreError::Internal(format!(
                        "IAM refused to delete the read policy of secret '{}' because it is in use: it was bound again meanwhile",
                        secret.name
                    )));
                }
                Err(f.into())
            }
        }
    }

    /// AttachRolePolicy of the read policy `arn` to the ServiceAccount's `role`.
    pub(crate) async fn iam_attach(
        &self,
        service_account: &str,
        role: &str,
        arn: &str,
    ) -> StoreResult<()> {
        let result = self
            .iam()
            .await?
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await;
        let Err(err) = result else {
            return Ok(());
        };
        let f = AwsFailure::new("iam:AttachRolePolicy", false, &err);
        // The policy was just found, so the missing entity is the role.
        if f.is("NoSuchEntity") {
            return Err(StoreError::RoleNotFound {
                service_account: service_account.to_owned(),
                role: role.to_owned(),
            });
        }
        if f.is("LimitExceeded") {
            return Err(StoreError::LimitReached(format!(
                "the IAM role '{role}' of service account '{service_account}' already holds as many managed policies as IAM allows (10 unless the account's quota was raised)"
            )));
        }
        Err(f.into())
    }

    /// DetachRolePolicy; false when there was nothing to detach (no policy,
    /// no role, or not attached: IAM says NoSuchEntity for each).
    pub(crate) async fn detach_role(&self, role: &str, arn: &str) -> StoreResult<bool> {
        match self
            .iam()
            .await?
            .detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(err) => {
                let f = AwsFailure::new("iam:DetachRolePolicy", false, &err);
                if f.is("NoSuchEntity") {
                    return Ok(false);
                }
                Err(f.into())
            }
        }
    }
}
