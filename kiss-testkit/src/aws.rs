//! What is really in Secrets Manager and IAM, read straight through the SDK
//! rather than through kiss, so that tests check kiss's effect on AWS and
//! not kiss's own account of it. Also the things made behind kiss's back
//! (roles, stray secrets) that tests need as a starting state.

use std::collections::BTreeMap;

use crate::{Moto, decode_policy_document};

/// The tags kiss puts on the secret `name` of `namespace`.
pub fn kiss_tags(namespace: &str, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("security.kaluza.com/managed-by".into(), "kiss".into()),
        (
            "security.kaluza.com/secret-namespace".into(),
            namespace.into(),
        ),
        ("security.kaluza.com/secret-name".into(), name.into()),
    ])
}

/// The key prefix of kiss-server's author tags (its `store::authors`).
const AUTHOR_TAG_PREFIX: &str = "security.kaluza.com/v-";

/// SDK clients on one moto. Every reader panics with the AWS error when the
/// thing it reads is not there, except those that ask whether it is.
#[derive(Clone)]
pub struct AwsState {
    pub sm: aws_sdk_secretsmanager::Client,
    pub iam: aws_sdk_iam::Client,
}

impl AwsState {
    /// Clients on `moto`.
    pub async fn of(moto: &Moto) -> AwsState {
        let sdk = moto.sdk_config().await;
        AwsState {
            sm: aws_sdk_secretsmanager::Client::new(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
        }
    }

    async fn describe(
        &self,
        aws_name: &str,
    ) -> aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput {
        self.sm
            .describe_secret()
            .secret_id(aws_name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("describe {aws_name}: {e:?}"))
    }

    /// The secret's current string value.
    pub async fn value(&self, aws_name: &str) -> String {
        self.sm
            .get_secret_value()
            .secret_id(aws_name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get the value of {aws_name}: {e:?}"))
            .secret_string()
            .expect("a string value")
            .to_owned()
    }

    pub async fn tags(&self, aws_name: &str) -> BTreeMap<String, String> {
        self.describe(aws_name)
            .await
            .tags()
            .iter()
            .map(|t| {
                let key = t.key().unwrap_or_default().to_owned();
                (key, t.value().unwrap_or_default().to_owned())
            })
            .collect()
    }

    /// The secret's tags split in two: the author tags kiss keeps per
    /// version (`security.kaluza.com/v-<version id>` = `<secs> <who>`), by
    /// version id, and all the others.
    pub async fn split_tags(
        &self,
        aws_name: &str,
    ) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
        let (authors, others) = self
            .tags(aws_name)
            .await
            .into_iter()
            .partition::<BTreeMap<_, _>, _>(|(k, _)| k.starts_with(AUTHOR_TAG_PREFIX));
        let authors = authors
            .into_iter()
            .map(|(k, v)| (k[AUTHOR_TAG_PREFIX.len()..].to_owned(), v))
            .collect();
        (authors, others)
    }

    /// The staging labels of each version, by version id.
    pub async fn stages(&self, aws_name: &str) -> BTreeMap<String, Vec<String>> {
        self.describe(aws_name)
            .await
            .version_ids_to_stages()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// The value of one version.
    pub async fn version_value(&self, aws_name: &str, version_id: &str) -> String {
        self.sm
            .get_secret_value()
            .secret_id(aws_name)
            .version_id(version_id)
            .send()
            .await
            .unwrap_or_else(|e| panic!("get version {version_id} of {aws_name}: {e:?}"))
            .secret_string()
            .expect("a string value")
            .to_owned()
    }

    pub async fn arn(&self, aws_name: &str) -> String {
        self.describe(aws_name)
            .await
            .arn()
            .expect("a secret has an ARN")
            .to_owned()
    }

    pub async fn exists(&self, aws_name: &str) -> bool {
        self.sm
            .describe_secret()
            .secret_id(aws_name)
            .send()
            .await
            .is_ok()
    }

    /// Whether the secret is scheduled for deletion.
    pub async fn deleted(&self, aws_name: &str) -> bool {
        self.describe(aws_name).await.deleted_date().is_some()
    }

    pub async fn version_count(&self, aws_name: &str) -> usize {
        self.sm
            .list_secret_version_ids()
            .secret_id(aws_name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list the versions of {aws_name}: {e:?}"))
            .versions()
            .len()
    }

    /// A secret made behind kiss's back, to test what kiss makes of it.
    pub async fn raw_secret(&self, aws_name: &str, tags: &[(&str, &str)]) {
        let tags = tags
            .iter()
            .map(|(k, v)| {
                aws_sdk_secretsmanager::types::Tag::builder()
                    .key(*k)
                    .value(*v)
                    .build()
            })
            .collect();
        self.sm
            .create_secret()
            .name(aws_name)
            .secret_string("not kiss's")
            .set_tags(Some(tags))
            .send()
            .await
            .unwrap_or_else(|e| panic!("create the raw secret {aws_name}: {e:?}"));
    }

    /// The ARNs of the policies attached to `role`, sorted.
    pub async fn attached(&self, role: &str) -> Vec<String> {
        let mut arns: Vec<String> = self
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .send()
            .await
            .unwrap_or_else(|e| panic!("list the policies of {role}: {e:?}"))
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_owned))
            .collect();
        arns.sort();
        arns
    }

    pub async fn policy_exists(&self, arn: &str) -> bool {
        self.iam.get_policy().policy_arn(arn).send().await.is_ok()
    }

    /// The default version's document, decoded; `None` if no such policy.
    pub async fn policy_document(&self, arn: &str) -> Option<serde_json::Value> {
        let policy = self.iam.get_policy().policy_arn(arn).send().await.ok()?;
        let version = policy.policy()?.default_version_id()?.to_owned();
        let out = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .ok()?;
        Some(decode_policy_document(out.policy_version()?.document()?))
    }
}
