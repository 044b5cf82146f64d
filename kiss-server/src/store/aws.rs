//! The AWS backend: secrets in Secrets Manager, read policies and bindings in
//! IAM, the account id from STS.
//!
//! Ownership is decided by tags, never by names alone: with `-` separators
//! `team` + `x-db` and `team-x` + `db` are the same AWS name, so every call
//! that addresses a secret first describes it and checks its three kiss tags
//! exactly; [`super::rules`] decides that, as it decides every ownership and
//! lifecycle question for the local backend too. A mismatch is answered like
//! a missing secret, so nothing reveals the owner.
//!
//! Timeouts and retries: the SDK retries throttling and network errors with
//! exponential backoff (3 attempts); each attempt is capped at 10 s and the
//! whole call at 20 s, inside which the service's gRPC deadline also applies.
//!
//! Who the calls are made as: the server's own role, unless
//! `--source-identity-role-arn` is set; then the calls of a store operation
//! done for a caller ([`super::caller`]) are made with that role assumed for
//! the caller ([`source_identity`]), and only calls outside any caller's
//! operation (start-up) use the server's own credentials.

mod errors;
mod iam;
mod metrics;
mod per_caller;
mod policy;
mod secrets;
mod source_identity;
mod write_locks;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_config::provider_config::ProviderConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::web_identity_token::{StaticConfiguration, WebIdentityTokenCredentialsProvider};
use aws_config::{Region, SdkConfig};

use super::naming::{self, Naming};
use super::rules::{self, PolicyPlan};
use super::{
    DeletedEntry, SecretDetails, SecretEntry, SecretRef, SecretStore, StoreError, StoreResult,
    VersionEntry,
};
use crate::config::Config;
use errors::AwsFailure;
use source_identity::{Clients, SourceIdentity};
use write_locks::WriteLocks;

/// How many secrets one ListSecrets page holds; AWS allows at most 100.
const MAX_PAGE: i32 = 100;

/// The IAM role session name when assuming `--role-arn` with `--token-path`;
/// it shows in CloudTrail as who made the calls.
const SESSION_NAME: &str = "kiss-server";

/// The [`SecretStore`] backed by AWS Secrets Manager and IAM.
#[derive(Debug, Clone)]
pub struct AwsStore {
    /// The clients on the server's own credentials.
    own: Clients,
    /// With --source-identity-role-arn: the role assumed per caller.
    source_identity: Option<Arc<SourceIdentity>>,
    naming: Naming,
    account_id: String,
    partition: String,
    recovery_days: u32,
    page_size: i32,
    /// Serialises each secret's version check and write ([`write_locks`]).
    writes: Arc<WriteLocks>,
}

impl AwsStore {
    /// Builds SDK clients from the flags (region, --token-path/--role-arn web identity,
    /// else the default chain; AWS_ENDPOINT_URL honoured by the SDK), looks up the
    /// account id with STS GetCallerIdentity.
    pub async fn connect(config: &Config) -> Result<AwsStore, StoreError> {
        let sdk = sdk_config(config).await?;
        AwsStore::from_sdk_config(&sdk, config).await
    }

    /// Builds the store on an SDK configuration made elsewhere (tests point
    /// one at moto with fixed credentials), taking naming, the recovery
    /// window and --source-identity-role-arn from `config`, and looks up the
    /// account id with STS. With --source-identity-role-arn it also assumes
    /// that role once, so a trust policy that refuses the server is found now.
    pub async fn from_sdk_config(sdk: &SdkConfig, config: &Config) -> Result<AwsStore, StoreError> {
        let sts = aws_sdk_sts::Client::new(sdk);
        let identity =
            sts.get_caller_identity().send().await.map_err(|e| {
                AwsFailure::new("sts:GetCallerIdentity", false, &e).into_store_error()
            })?;
        let account_id = identity
            .account()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| StoreError::Internal("AWS STS returned no account id".into()))?
            .to_owned();
        // arn:<partition>:sts::<account>:assumed-role/...; policy ARNs must use
        // the same partition (aws, aws-cn, aws-us-gov).
        let partition = identity
            .arn()
            .and_then(|arn| arn.split(':').nth(1))
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_owned();
        tracing::info!(
            account = %account_id,
            partition = %partition,
            caller = identity.arn().unwrap_or("-"),
            region = sdk.region().map(|r| r.as_ref()).unwrap_or("-"),
            "AWS backend connected"
        );
        let source_identity = match &config.source_identity_role_arn {
            None => None,
            Some(role_arn) => {
                let assumed = SourceIdentity::new(
                    sdk,
                    role_arn,
                    Duration::from_secs(config.source_identity_session_seconds.into()),
                    Arc::new(per_caller::SystemClock),
                );
                assumed
                    .check()
                    .await
                    .map_err(AwsFailure::into_store_error)?;
                tracing::info!(
                    role = assumed.role_arn(),
                    session_s = config.source_identity_session_seconds,
                    "AWS calls are made as this role, assumed per caller with their identifier as SourceIdentity"
                );
                Some(Arc::new(assumed))
            }
        };
        Ok(AwsStore {
            own: Clients::on(sdk, None),
            source_identity,
            naming: config.naming(),
            account_id,
            partition,
            recovery_days: config.deletion_recovery_days,
            page_size: MAX_PAGE,
            writes: Arc::default(),
        })
    }

    /// Uses pages of `size` secrets (1 to 100) when listing; tests use small
    /// pages to exercise pagination.
    pub fn with_list_page_size(mut self, size: i32) -> AwsStore {
        self.page_size = size.clamp(1, MAX_PAGE);
        self
    }

    /// The AWS account the server's credentials belong to.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The ARN the read policy of `secret` has (or would have).
    pub fn policy_arn(&self, secret: &SecretRef) -> StoreResult<String> {
        Ok(self.policy_arn_of(&self.naming.policy_name(secret)?))
    }

    /// The clients to make the running operation's calls with: the
    /// caller's, assumed with their SourceIdentity, when
    /// --source-identity-role-arn is set and a caller is in scope; else the
    /// server's own.
    async fn clients(&self) -> Result<Clients, AwsFailure> {
        match (&self.source_identity, super::caller::current()) {
            (Some(assumed), Some(caller)) => assumed.clients(&caller).await,
            _ => Ok(self.own.clone()),
        }
    }

    /// The Secrets Manager client for the next call ([`AwsStore::clients`]).
    pub(crate) async fn sm(&self) -> Result<aws_sdk_secretsmanager::Client, AwsFailure> {
        Ok(self.clients().await?.sm)
    }

    /// The IAM client for the next call ([`AwsStore::clients`]).
    pub(crate) async fn iam(&self) -> Result<aws_sdk_iam::Client, AwsFailure> {
        Ok(self.clients().await?.iam)
    }

    fn policy_arn_of(&self, policy_name: &str) -> String {
        // IAM path "/": what the Go kiss created, so its policies are found.
        format!(
            "arn:{}:iam::{}:policy/{policy_name}",
            self.partition, self.account_id
        )
    }
}

/// The SDK configuration the flags describe.
async fn sdk_config(config: &Config) -> Result<SdkConfig, StoreError> {
    let region = Region::new(config.region.clone());
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(20))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(region.clone())
        .timeout_config(timeouts.clone())
        .retry_config(RetryConfig::standard().with_max_attempts(3));
    if !config.token_path.is_empty() {
        if config.role_arn.is_empty() {
            return Err(StoreError::Invalid(
                "--token-path needs --role-arn: the IAM role to assume with the web identity token"
                    .into(),
            ));
        }
        let provider_config = ProviderConfig::without_region()
            .with_region(Some(region))
            .with_timeout_config(timeouts);
        let provider = WebIdentityTokenCredentialsProvider::builder()
            .configure(&provider_config)
            .static_configuration(StaticConfiguration {
                web_identity_token_file: config.token_path.clone().into(),
                role_arn: config.role_arn.clone(),
                session_name: SESSION_NAME.into(),
            })
            .build();
        loader = loader.credentials_provider(provider);
    }
    Ok(loader.load().await)
}

fn to_time(dt: Option<&aws_sdk_secretsmanager::primitives::DateTime>) -> Option<SystemTime> {
    dt.and_then(|d| SystemTime::try_from(*d).ok())
}

// Each method gathers the facts from AWS, lets `rules` decide, then acts;
// the AWS calls themselves are in `secrets` and `iam`.
#[async_trait]
impl SecretStore for AwsStore {
    async fn create_as(
        &self,
        secret: &SecretRef,
        value: &str,
        author: Option<&str>,
    ) -> StoreResult<String> {
        naming::check_value(value)?;
        let aws_name = self.naming.secret_name(secret)?;
        let version = match self.sm_create(&aws_name, secret, value, author).await {
            Ok(version) => version,
            // AWS answers InvalidRequestException for a name held by a
            // secret scheduled for deletion; moto answers ResourceExists.
            Err(f) if f.is("ResourceExistsException") || f.is("InvalidRequestException") => {
                let holder = self.describe(secret).await?;
                return Err(holder.why_taken(secret).unwrap_or_else(|| f.into()));
            }
            Err(f) => return Err(f.into()),
        };
        // A read policy left from an earlier secret of this name (and the
        // roles holding it) should grant this one. The secret exists either
        // way, so a failure here is logged, not returned.
        if let Err(e) = self.follow_old_policy(secret).await {
            tracing::warn!(namespace = %secret.namespace, secret = %secret.name, error = %e,
                "could not check the read policy of the new secret; CreateSecretIAMPolicy repairs it");
        }
        Ok(version)
    }

    fn recovery_days(&self) -> u32 {
        self.recovery_days
    }
    async fn list(&self, namespace: &str) -> StoreResult<Vec<SecretEntry>> {
        let mut out: Vec<SecretEntry> = self
            .list_owned(namespace, false)
            .await?
            .into_iter()
            .map(|(name, e)| SecretEntry {
                name,
                created: to_time(e.created_date()),
                last_changed: to_time(e.last_changed_date()),
            })
            .collect();
        rules::sort_by_name(&mut out, |e| &e.name);
        Ok(out)
    }

    async fn list_deleted(&self, namespace: &str) -> StoreResult<Vec<DeletedEntry>> {
        let mut out: Vec<DeletedEntry> = self
            .list_owned(namespace, true)
            .await?
            .into_iter()
            .map(|(name, e)| {
                let (deleted, deletion_date) = self.deletion_dates(to_time(e.deleted_date()));
                DeletedEntry {
                    name,
                    deleted,
                    deletion_date,
                }
            })
            .collect();
        rules::sort_by_name(&mut out, |e| &e.name);
        Ok(out)
    }

    async fn get(&self, secret: &SecretRef, include_value: bool) -> StoreResult<SecretDetails> {
        let described = self.describe(secret).await?.owned_live(secret)?;
        let (value, version_id) = if include_value {
            let (value, version) = self.current_value(secret, &described.arn).await?;
            (Some(value), Some(version))
        } else {
            (None, described.current_version.clone())
        };
        let details = self.details(secret, described).await?;
        Ok(SecretDetails {
            version_id: version_id.unwrap_or_default(),
            value,
            ..details
        })
    }

    /// The expected-version check is made on DescribeSecret just before the
    /// write: Secrets Manager has no conditional PutSecretValue. Within this
    /// server the check and the write run under the secret's write lock
    /// ([`write_locks`]), so two updates based on the same version cannot
    /// both land; through two replicas within the same few milliseconds they
    /// still can. What the check prevents is an update based on a value
    /// someone else has since replaced.
    async fn update_as(
        &self,
        secret: &SecretRef,
        value: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String> {
        naming::check_value(value)?;
        let _writing = self.writes.lock(secret).await;
        let described = self.describe(secret).await?.owned_live(secret)?;
        rules::check_version(
            secret,
            expected_version,
            described.current_version.as_deref(),
        )?;
        self.sm_put(secret, &described, value, author).await
    }

    async fn rollback(
        &self,
        secret: &SecretRef,
        version_id: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String> {
        let _writing = self.writes.lock(secret).await;
        let described = self.describe(secret).await?.owned_live(secret)?;
        rules::check_version(
            secret,
            expected_version,
            described.current_version.as_deref(),
        )?;
        let (value, _) = self
            .value_of(secret, &described.arn, Some(version_id))
            .await?;
        self.sm_put(secret, &described, &value, author).await
    }

    async fn versions(&self, secret: &SecretRef) -> StoreResult<Vec<VersionEntry>> {
        let described = self.describe(secret).await?.owned_live(secret)?;
        self.sm_versions(secret, &described).await
    }

    async fn get_version(
        &self,
        secret: &SecretRef,
        version_id: &str,
        include_value: bool,
    ) -> StoreResult<SecretDetails> {
        // One DescribeSecret for the ownership check, the details and,
        // without the value, whether the version exists.
        let described = self.describe(secret).await?.owned_live(secret)?;
        let arn = described.arn.clone();
        let exists = if include_value {
            None
        } else {
            // No GetSecretValue unless the value is wanted: AWS counts that
            // as a read of the value.
            Some(self.holds_version(secret, &described, version_id).await?)
        };
        let details = self.details(secret, described).await?;
        let value = match exists {
            None => Some(self.value_of(secret, &arn, Some(version_id)).await?.0),
            Some(true) => None,
            Some(false) => {
                return Err(StoreError::VersionNotFound {
                    name: secret.name.clone(),
                    version: version_id.to_owned(),
                });
            }
        };
        Ok(SecretDetails {
            version_id: version_id.to_owned(),
            value,
            ..details
        })
    }

    async fn delete(&self, secret: &SecretRef) -> StoreResult<Option<SystemTime>> {
        let described = self.describe(secret).await?.owned_live(secret)?;
        self.sm_delete(secret, &described.arn).await
    }

    async fn restore(&self, secret: &SecretRef) -> StoreResult<()> {
        let described = self.describe(secret).await?.restorable(secret)?;
        self.sm_restore(secret, &described.arn).await
    }

    async fn create_policy(&self, secret: &SecretRef) -> StoreResult<String> {
        let described = self.describe(secret).await?.owned_live(secret)?;
        let policy = self.read_policy(secret).await?;
        match policy.state.plan(secret, &policy.name, &described.arn)? {
            PolicyPlan::Create => {
                self.iam_create_policy(secret, &policy, &described.arn)
                    .await
            }
            PolicyPlan::Repoint => {
                self.repoint(secret, &policy.arn, &described.arn).await?;
                Ok(policy.arn)
            }
        }
    }

    /// Holders outside the namespace are counted, never named, and never
    /// detached: the platform team does that.
    async fn delete_policy(&self, secret: &SecretRef, unbind: bool) -> StoreResult<Vec<String>> {
        let holder = self.describe(secret).await?;
        let policy = self.read_policy(secret).await?;
        rules::may_delete_policy_of(secret, &holder, &policy.state, &policy.name)?;
        let holders = self
            .holders(&secret.namespace, &policy.arn, false)
            .await?
            .ok_or_else(|| StoreError::PolicyMissing {
                name: secret.name.clone(),
            })?;
        holders.may_delete(secret, unbind)?;
        for (_, role) in &holders.roles {
            self.detach_role(role, &policy.arn).await?;
        }
        self.iam_delete_policy(secret, &policy.arn).await?;
        Ok(if unbind {
            holders.service_accounts()
        } else {
            Vec::new()
        })
    }

    /// Without a policy this refuses (PolicyMissing) rather than creating
    /// one: creating IAM policies is a decision the user takes explicitly.
    async fn bind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        let role = self.naming.role_name(&secret.namespace, service_account)?;
        self.describe(secret).await?.owned_live(secret)?;
        let policy = self.read_policy(secret).await?;
        policy.state.require(secret, &policy.name)?;
        self.iam_attach(service_account, &role, &policy.arn).await
    }

    async fn unbind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        let role = self.naming.role_name(&secret.namespace, service_account)?;
        self.describe(secret).await?.owned(secret)?;
        let policy = self.read_policy(secret).await?;
        policy
            .state
            .unbindable(secret, &policy.name, service_account)?;
        if self.detach_role(&role, &policy.arn).await? {
            Ok(())
        } else {
            Err(rules::not_bound(secret, service_account))
        }
    }
}

impl AwsStore {
    /// The details of the secret `described` (its read policy and who holds
    /// it), without a value; the version id is the current one.
    async fn details(
        &self,
        secret: &SecretRef,
        described: secrets::Described,
    ) -> StoreResult<SecretDetails> {
        // IAM allows shorter names than Secrets Manager: a secret whose
        // read policy name would be too long can have none, so it shows none.
        let policy = match self.naming.policy_name(secret) {
            Ok(_) => Some(self.read_policy(secret).await?),
            Err(_) => None,
        };
        let (policy_arn, bound_service_accounts) =
            if let Some(policy) = policy.filter(|p| p.state.reported()) {
                let bound = self
                    .holders(&secret.namespace, &policy.arn, true)
                    .await?
                    .map(|h| h.service_accounts())
                    .unwrap_or_default();
                (Some(policy.arn), bound)
            } else {
                (None, Vec::new())
            };
        Ok(SecretDetails {
            name: secret.name.clone(),
            namespace: secret.namespace.clone(),
            aws_name: described.name,
            arn: described.arn,
            created: described.created,
            last_changed: described.last_changed,
            last_accessed: described.last_accessed,
            version_id: described.current_version.unwrap_or_default(),
            policy_arn,
            bound_service_accounts,
            value: None,
        })
    }

    /// Makes a read policy left by an earlier secret of this name grant the
    /// secret just created.
    async fn follow_old_policy(&self, secret: &SecretRef) -> StoreResult<()> {
        let described = self.describe(secret).await?.owned_live(secret)?;
        let policy = self.read_policy(secret).await?;
        if let Ok(PolicyPlan::Repoint) = policy.state.plan(secret, &policy.name, &described.arn) {
            self.repoint(secret, &policy.arn, &described.arn).await?;
        }
        Ok(())
    }
}
