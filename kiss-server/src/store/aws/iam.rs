//! IAM: a secret's read policy and its attachment to ServiceAccount roles.

use aws_sdk_iam::types::{EntityType, PolicyUsageType, Tag};

use super::errors::AwsFailure;
use super::policy::{decode_document, read_policy_document};
use super::secrets::{Lookup, kiss_tags};
use super::{AwsStore, not_found};
use crate::store::naming;
use crate::store::{SecretRef, StoreError, StoreResult};

/// IAM's largest ListEntitiesForPolicy page.
const MAX_ITEMS: i32 = 1000;

/// Who holds a read policy.
#[derive(Debug, Default)]
pub(crate) struct Bindings {
    /// (ServiceAccount, role name) for the namespace's ServiceAccount roles.
    pub roles: Vec<(String, String)>,
    /// Roles, users and groups that are not the namespace's ServiceAccount
    /// roles; counted, never named, since they may be another team's.
    pub foreign: usize,
}

impl Bindings {
    /// The namespace's ServiceAccounts, sorted.
    pub(crate) fn service_accounts(&self) -> Vec<String> {
        let mut sas: Vec<String> = self.roles.iter().map(|(sa, _)| sa.clone()).collect();
        sas.sort();
        sas.dedup();
        sas
    }

    fn is_empty(&self) -> bool {
        self.roles.is_empty() && self.foreign == 0
    }

    /// What to tell the caller about the holders.
    fn describe(&self) -> Vec<String> {
        let mut out = self.service_accounts();
        if self.foreign > 0 {
            out.push(format!(
                "{} IAM role(s), user(s) or group(s) outside this namespace (ask your platform team to detach them)",
                self.foreign
            ));
        }
        out
    }
}

/// What became of an existing read policy when its secret's ARN was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Repoint {
    /// There is no kiss read policy for the secret.
    Absent,
    /// It already names the secret's ARN.
    Current,
    /// It named an earlier secret of the same name; it now names this one.
    Repointed,
}

/// IAM keeps at most this many versions of a managed policy.
const MAX_POLICY_VERSIONS: usize = 5;

impl AwsStore {
    /// Makes the secret's read policy, if one exists, name `secret_arn`.
    ///
    /// A secret deleted for good and created again under its name gets a
    /// new ARN (AWS adds a random suffix), while its policy, and the roles it
    /// is attached to, stay. Without this the policy would still grant the
    /// old ARN, GetSecret would report it, bind would succeed, and pods
    /// would be refused.
    pub(crate) async fn repoint_read_policy(
        &self,
        secret: &SecretRef,
        secret_arn: &str,
    ) -> StoreResult<Repoint> {
        let policy_arn = self.policy_arn_of(&self.naming.policy_name(secret)?);
        let policy = match self.iam.get_policy().policy_arn(&policy_arn).send().await {
            Ok(out) => out.policy().cloned(),
            Err(err) => {
                let f = AwsFailure::new("iam:GetPolicy", false, &err);
                if f.is("NoSuchEntity") {
                    return Ok(Repoint::Absent);
                }
                return Err(f.into());
            }
        };
        let Some(policy) = policy else {
            return Ok(Repoint::Absent);
        };
        let ours = naming::tags_match(policy.tags().iter().map(|t| (t.key(), t.value())), secret);
        if !ours {
            return Ok(Repoint::Absent);
        }
        let version = policy.default_version_id().unwrap_or("v1");
        let current = self
            .iam
            .get_policy_version()
            .policy_arn(&policy_arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| AwsFailure::new("iam:GetPolicyVersion", false, &e))?;
        let document = current
            .policy_version()
            .and_then(|v| v.document())
            .map(decode_document)
            .unwrap_or_default();
        let names_it = serde_json::from_str::<serde_json::Value>(&document)
            .ok()
            .and_then(|d| {
                d["Statement"][0]["Resource"]
                    .as_str()
                    .map(|r| r == secret_arn)
            })
            .unwrap_or(false);
        if names_it {
            return Ok(Repoint::Current);
        }
        let versions = self
            .iam
            .list_policy_versions()
            .policy_arn(&policy_arn)
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
        if versions.versions().len() >= MAX_POLICY_VERSIONS {
            old.sort();
            if let Some((_, oldest)) = old.first() {
                self.iam
                    .delete_policy_version()
                    .policy_arn(&policy_arn)
                    .version_id(oldest)
                    .send()
                    .await
                    .map_err(|e| AwsFailure::new("iam:DeletePolicyVersion", false, &e))?;
            }
        }
        self.iam
            .create_policy_version()
            .policy_arn(&policy_arn)
            .policy_document(read_policy_document(secret_arn))
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
        Ok(Repoint::Repointed)
    }

    /// The policy's tags, or None when there is no such policy.
    async fn policy_tags(&self, arn: &str) -> StoreResult<Option<Vec<(String, String)>>> {
        match self.iam.get_policy().policy_arn(arn).send().await {
            Ok(out) => Ok(Some(
                out.policy()
                    .map(|p| {
                        p.tags()
                            .iter()
                            .map(|t| (t.key().to_owned(), t.value().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default(),
            )),
            Err(err) => {
                let f = AwsFailure::new("iam:GetPolicy", false, &err);
                if f.is("NoSuchEntity") {
                    return Ok(None);
                }
                Err(f.into())
            }
        }
    }

    /// Whether the policy exists.
    ///
    /// The policy name `<prefix>_<namespace>_<name>` is unambiguous (neither
    /// part may contain `_`), so the name alone says whose it is; its tags
    /// are only consulted when the secret itself is gone.
    pub(crate) async fn policy_exists(&self, arn: &str) -> StoreResult<bool> {
        Ok(self.policy_tags(arn).await?.is_some())
    }

    /// Who holds the policy (only roles when `roles_only`); None when AWS
    /// says there is no such policy.
    ///
    /// moto answers for a missing policy with an empty list, and ignores
    /// Marker and MaxItems here (it searches the first MaxItems roles and
    /// never truncates), so callers check existence with GetPolicy, and the
    /// largest page keeps moto's answer complete for up to 1000 roles. Real
    /// IAM pages with Marker, which is followed to the end.
    pub(crate) async fn bindings(
        &self,
        namespace: &str,
        arn: &str,
        roles_only: bool,
    ) -> StoreResult<Option<Bindings>> {
        let mut bindings = Bindings::default();
        let mut marker: Option<String> = None;
        loop {
            let mut request = self
                .iam
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
            for role in page.policy_roles().iter().filter_map(|r| r.role_name()) {
                match self.naming.service_account_of_role(namespace, role) {
                    Some(sa) => bindings.roles.push((sa, role.to_owned())),
                    None => bindings.foreign += 1,
                }
            }
            bindings.foreign += page.policy_users().len() + page.policy_groups().len();
            match page
                .marker()
                .filter(|m| page.is_truncated() && !m.is_empty())
            {
                Some(next) if marker.as_deref() != Some(next) => marker = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(Some(bindings))
    }

    /// Creates the read policy of a live secret; returns its ARN.
    pub(crate) async fn create_read_policy(&self, secret: &SecretRef) -> StoreResult<String> {
        let policy_name = self.naming.policy_name(secret)?;
        let described = self.owned_live(secret).await?;
        let tags = kiss_tags(secret)
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Internal(format!("could not build the policy tags: {e}")))?;
        let result = self
            .iam
            .create_policy()
            .policy_name(&policy_name)
            .path("/")
            .description(format!(
                "kiss: read secret '{}' of namespace '{}'",
                secret.name, secret.namespace
            ))
            .policy_document(read_policy_document(&described.arn))
            .set_tags(Some(tags))
            .send()
            .await;
        match result {
            Ok(out) => Ok(out
                .policy()
                .and_then(|p| p.arn())
                .map(str::to_owned)
                .unwrap_or_else(|| self.policy_arn_of(&policy_name))),
            Err(err) => {
                let f = AwsFailure::new("iam:CreatePolicy", false, &err);
                if f.is("EntityAlreadyExists") {
                    // Left over from an earlier secret of this name, it is
                    // brought up to date; otherwise it already exists.
                    return match self.repoint_read_policy(secret, &described.arn).await? {
                        Repoint::Repointed => Ok(self.policy_arn_of(&policy_name)),
                        Repoint::Current | Repoint::Absent => Err(StoreError::PolicyExists {
                            name: secret.name.clone(),
                        }),
                    };
                }
                Err(f.into())
            }
        }
    }

    /// Deletes the read policy; with `unbind`, first detaches it from the
    /// namespace's ServiceAccount roles and returns those ServiceAccounts.
    pub(crate) async fn delete_read_policy(
        &self,
        secret: &SecretRef,
        unbind: bool,
    ) -> StoreResult<Vec<String>> {
        let arn = self.policy_arn_of(&self.naming.policy_name(secret)?);
        let missing = || StoreError::PolicyMissing {
            name: secret.name.clone(),
        };
        let exists = match self.lookup(secret).await? {
            Lookup::Owned(_) => self.policy_exists(&arn).await?,
            Lookup::Foreign => return Err(not_found(secret)),
            // The secret is gone for good (the Go kiss deleted at once) but
            // its policy may remain: its own tags prove whose it is.
            Lookup::Missing => match self.policy_tags(&arn).await? {
                Some(tags)
                    if naming::tags_match(
                        tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                        secret,
                    ) =>
                {
                    true
                }
                _ => return Err(not_found(secret)),
            },
        };
        if !exists {
            return Err(missing());
        }
        let bindings = self
            .bindings(&secret.namespace, &arn, false)
            .await?
            .ok_or_else(missing)?;
        if !unbind && !bindings.is_empty() {
            return Err(StoreError::PolicyAttached {
                name: secret.name.clone(),
                service_accounts: bindings.describe(),
            });
        }
        // Refuse before detaching anything: otherwise the namespace's workloads
        // would lose access and the policy would stay for the other holders.
        if bindings.foreign > 0 {
            return Err(StoreError::PolicyAttached {
                name: secret.name.clone(),
                service_accounts: Bindings {
                    roles: Vec::new(),
                    foreign: bindings.foreign,
                }
                .describe(),
            });
        }
        for (_, role) in &bindings.roles {
            self.detach_role(role, &arn).await?;
        }

        match self.iam.delete_policy().policy_arn(&arn).send().await {
            Ok(_) => Ok(if unbind {
                bindings.service_accounts()
            } else {
                Vec::new()
            }),
            Err(err) => {
                let f = AwsFailure::new("iam:DeletePolicy", false, &err);
                if f.is("NoSuchEntity") {
                    return Err(missing());
                }
                if f.is("DeleteConflict") {
                    return Err(StoreError::Internal(format!(
                        "IAM refused to delete the read policy of secret '{}' because it is in use: it was bound again meanwhile, or has extra policy versions; look at the secret's details and try again",
                        secret.name
                    )));
                }
                Err(f.into())
            }
        }
    }

    /// Attaches the read policy to the ServiceAccount's role.
    ///
    /// Without a policy this refuses (PolicyMissing) rather than creating
    /// one: creating IAM policies is a decision the user takes explicitly.
    pub(crate) async fn attach(
        &self,
        secret: &SecretRef,
        service_account: &str,
    ) -> StoreResult<()> {
        let role = self.naming.role_name(&secret.namespace, service_account)?;
        let arn = self.policy_arn_of(&self.naming.policy_name(secret)?);
        self.owned_live(secret).await?;
        if !self.policy_exists(&arn).await? {
            return Err(StoreError::PolicyMissing {
                name: secret.name.clone(),
            });
        }
        match self
            .iam
            .attach_role_policy()
            .role_name(&role)
            .policy_arn(&arn)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => {
                let f = AwsFailure::new("iam:AttachRolePolicy", false, &err);
                // The policy was just found, so the missing entity is the role.
                if f.is("NoSuchEntity") {
                    return Err(StoreError::RoleNotFound {
                        service_account: service_account.to_owned(),
                        role,
                    });
                }
                if f.is("LimitExceeded") {
                    return Err(StoreError::LimitReached(format!(
                        "the IAM role '{role}' of service account '{service_account}' already holds as many managed policies as IAM allows (10 unless your account's quota was raised); unbind a secret it no longer needs, or ask your platform team to raise the quota"
                    )));
                }
                Err(f.into())
            }
        }
    }

    /// Detaches the read policy from the ServiceAccount's role.
    pub(crate) async fn detach(
        &self,
        secret: &SecretRef,
        service_account: &str,
    ) -> StoreResult<()> {
        let role = self.naming.role_name(&secret.namespace, service_account)?;
        let arn = self.policy_arn_of(&self.naming.policy_name(secret)?);
        self.owned(secret).await?;
        if self.detach_role(&role, &arn).await? {
            Ok(())
        } else {
            Err(StoreError::NotBound {
                name: secret.name.clone(),
                service_account: service_account.to_owned(),
            })
        }
    }

    /// DetachRolePolicy; false when there was nothing to detach (no policy,
    /// no role, or not attached: IAM says NoSuchEntity for each).
    async fn detach_role(&self, role: &str, arn: &str) -> StoreResult<bool> {
        match self
            .iam
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
