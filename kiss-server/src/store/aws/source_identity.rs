//! `--source-identity-role-arn`: acting on AWS as each caller, so that
//! CloudTrail names the person behind every call instead of only the
//! server's role.
//!
//! For each caller, the server assumes the configured role with STS
//! `AssumeRole`, `SourceIdentity` and `RoleSessionName` both set to the
//! caller's identifier (made to fit AWS's rules, [`source_identity`]), and
//! makes that caller's Secrets Manager and IAM calls with the credentials it
//! gets. CloudTrail records the source identity on the AssumeRole event and
//! on every call made with those credentials, and AWS keeps it through any
//! further role chaining. The clients are kept per caller until five minutes
//! before the credentials expire ([`per_caller`](super::per_caller)): one
//! AssumeRole per caller per session (an hour by default).
//!
//! The role's trust policy must allow the server's own role both
//! `sts:AssumeRole` and `sts:SetSourceIdentity` (docs/aws.md has it).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;

use super::errors::{AwsFailure, Kind};
use super::metrics;
use super::per_caller::{Clock, MAX_CALLERS, PerCaller};

/// The IAM action of the call, as errors and logs name it.
pub(crate) const ASSUME_ROLE: &str = "sts:AssumeRole";

/// AWS's bounds on `SourceIdentity` and `RoleSessionName`.
const MIN_LEN: usize = 2;
const MAX_LEN: usize = 64;

/// The hex digits of the hash a changed identifier ends with.
const HASH_DIGITS: usize = 8;

/// The identity the start-up check assumes the role as.
const SERVER_IDENTITY: &str = "kiss-server";

/// The AWS clients one caller's calls are made with.
#[derive(Debug, Clone)]
pub(crate) struct Clients {
    pub sm: aws_sdk_secretsmanager::Client,
    pub iam: aws_sdk_iam::Client,
}

impl Clients {
    /// Clients on `sdk` (the server's endpoint, region, timeouts, retries
    /// and HTTP connections), signing with `credentials` when given, else
    /// with the server's own; every call counted in `kiss_aws_calls_total`.
    pub(crate) fn on(
        sdk: &SdkConfig,
        credentials: Option<aws_sdk_secretsmanager::config::Credentials>,
    ) -> Clients {
        let mut sm = aws_sdk_secretsmanager::config::Builder::from(sdk);
        let mut iam = aws_sdk_iam::config::Builder::from(sdk);
        if let Some(credentials) = credentials {
            sm = sm.credentials_provider(credentials.clone());
            iam = iam.credentials_provider(credentials);
        }
        Clients {
            sm: aws_sdk_secretsmanager::Client::from_conf(
                sm.interceptor(metrics::CallMetrics).build(),
            ),
            iam: aws_sdk_iam::Client::from_conf(iam.interceptor(metrics::CallMetrics).build()),
        }
    }
}

/// The role assumed per caller, and the clients held for each.
pub(crate) struct SourceIdentity {
    role_arn: String,
    session: Duration,
    sdk: SdkConfig,
    sts: aws_sdk_sts::Client,
    held: PerCaller<Clients>,
}

impl std::fmt::Debug for SourceIdentity {
    // Never the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceIdentity")
            .field("role_arn", &self.role_arn)
            .field("session", &self.session)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

impl SourceIdentity {
    /// Assumes `role_arn` for sessions of `session` with the server's
    /// credentials from `sdk`, on `clock`.
    pub(crate) fn new(
        sdk: &SdkConfig,
        role_arn: &str,
        session: Duration,
        clock: Arc<dyn Clock>,
    ) -> SourceIdentity {
        let sts = aws_sdk_sts::config::Builder::from(sdk)
            .interceptor(metrics::CallMetrics)
            .build();
        SourceIdentity {
            role_arn: role_arn.to_owned(),
            session,
            sdk: sdk.clone(),
            sts: aws_sdk_sts::Client::from_conf(sts),
            held: PerCaller::new(clock, MAX_CALLERS),
        }
    }

    /// The role assumed.
    pub(crate) fn role_arn(&self) -> &str {
        &self.role_arn
    }

    /// The clients to act for the caller `identifier` with: those held for
    /// them while their credentials are fresh, else a new AssumeRole's.
    pub(crate) async fn clients(&self, identifier: &str) -> Result<Clients, AwsFailure> {
        let identity = source_identity(identifier);
        self.held.get(&identity, || self.assume(&identity)).await
    }

    /// Assumes the role once as the server itself, so that a trust policy
    /// that refuses (or a session longer than the role allows) stops the
    /// start rather than every user's calls. Nothing is kept.
    pub(crate) async fn check(&self) -> Result<(), AwsFailure> {
        self.assume(SERVER_IDENTITY).await.map(|_| ())
    }

    /// One AssumeRole as `identity` (already fitted to AWS's rules).
    async fn assume(&self, identity: &str) -> Result<(Clients, SystemTime), AwsFailure> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(identity)
            .source_identity(identity)
            .duration_seconds(i32::try_from(self.session.as_secs()).unwrap_or(i32::MAX))
            .send()
            .await
            // ASSUME_ROLE, spelt out: tests/deploy_docs.rs finds every
            // action called from these literals.
            .map_err(|e| AwsFailure::new("sts:AssumeRole", false, &e))?;
        let Some(c) = out.credentials() else {
            tracing::error!(
                aws.action = ASSUME_ROLE,
                "AWS STS answered AssumeRole without credentials"
            );
            return Err(AwsFailure {
                action: ASSUME_ROLE,
                code: None,
                kind: Kind::Other,
                request_id: None,
            });
        };
        let expires = SystemTime::try_from(*c.expiration())
            .unwrap_or_else(|_| SystemTime::now() + self.session);
        let credentials = aws_sdk_secretsmanager::config::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            Some(expires),
            "kiss-source-identity",
        );
        tracing::info!(
            source_identity = identity,
            role = %self.role_arn,
            assumed = out.assumed_role_user().map_or("-", |u| u.arn()),
            expires_in_s = expires
                .duration_since(SystemTime::now())
                .unwrap_or_default()
                .as_secs(),
            "assumed the --source-identity-role-arn role for a caller"
        );
        Ok((Clients::on(&self.sdk, Some(credentials)), expires))
    }
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// The `SourceIdentity` (and `RoleSessionName`) for a caller's identifier.
/// AWS allows 2 to 64 characters of `[A-Za-z0-9_+=,.@-]`. An identifier that
/// fits is used as it is (an e-mail address usually does). Any other keeps
/// its first 55 characters, each one AWS refuses (spaces, `:`, anything not
/// ASCII) replaced by `_`, and gets `-` and 8 hex digits of the SHA-256 of
/// the whole identifier, so that identifiers that differ stay apart
/// (`a b` and `a_b`, two long ones sharing a beginning) and the result is
/// never shorter than 2 or longer than 64. The audit record keeps the
/// identifier exactly.
pub(crate) fn source_identity(identifier: &str) -> String {
    if (MIN_LEN..=MAX_LEN).contains(&identifier.len()) && identifier.chars().all(allowed) {
        return identifier.to_owned();
    }
    let mut out: String = identifier
        .chars()
        .map(|c| if allowed(c) { c } else { '_' })
        .take(MAX_LEN - HASH_DIGITS - 1)
        .collect();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, identifier.as_bytes());
    out.push('-');
    for byte in &digest.as_ref()[..HASH_DIGITS / 2] {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fits(s: &str) -> bool {
        (MIN_LEN..=MAX_LEN).contains(&s.len()) && s.chars().all(allowed)
    }

    #[test]
    fn identifiers_that_fit_are_used_as_they_are() {
        for id in [
            "alice@example.com",
            "first.last+kiss@example.co.uk",
            "ab",
            "user_1,team=a",
            &"x".repeat(64),
        ] {
            assert_eq!(source_identity(id), id);
        }
    }

    #[test]
    fn other_identifiers_are_made_to_fit_and_stay_apart() {
        let cases = [
            "a",
            "",
            "Jane Doe",
            "Jane Doe_",
            "jöhn@exämple.com",
            "名前@example.com",
            "aws:root",
            "https://idp.example.com/users/1234",
            &"y".repeat(65),
            &format!("{}-other", "y".repeat(60)),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for id in cases {
            let got = source_identity(id);
            assert!(fits(&got), "{id:?} -> {got:?}");
            assert_ne!(got, id, "{id:?} did not fit as it is");
            assert!(!got.starts_with("aws:"), "{got}");
            assert_eq!(got, source_identity(id), "stable");
            assert!(seen.insert(got.clone()), "{id:?} -> {got:?} collides");
        }
        // One that fits stays apart from those made to look like it.
        assert!(!seen.contains("Jane_Doe"));
        assert_ne!(source_identity("Jane_Doe"), source_identity("Jane Doe"));
        // Readable: the identifier's beginning, then the hash.
        let got = source_identity("Jane Doe");
        assert!(got.starts_with("Jane_Doe-"), "{got}");
        assert_eq!(got.len(), "Jane_Doe-".len() + HASH_DIGITS);
        let got = source_identity("jöhn@exämple.com");
        assert!(got.starts_with("j_hn@ex_mple.com-"), "{got}");
        let long = source_identity(&"y".repeat(200));
        assert_eq!(long.len(), MAX_LEN);
        assert!(long.starts_with(&"y".repeat(55)), "{long}");
        assert_eq!(source_identity("a").len(), 1 + 1 + HASH_DIGITS);
    }
}
