//! Turning AWS SDK errors into [`StoreError`]s, each logged once with its
//! AWS request id.
//!
//! Messages built here are shown to users, so they carry only what kiss
//! itself knows (the IAM action, the AWS error code, the request id), never
//! AWS's own message: that can name resources, and for calls that carry a
//! secret value a validation message might echo it.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::RequestId;

use crate::store::StoreError;

/// What kind of failure an AWS error is, as far as the caller can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// AWS answered with an error code the call site may handle.
    Service,
    /// AWS is throttling us or had an internal failure; retrying later helps.
    Throttled,
    /// AWS could not be reached, or the server's credentials could not be loaded.
    Unreachable,
    /// The call timed out.
    Timeout,
    /// The server's credentials lack a permission.
    Denied,
    /// AWS rejected the server's credentials themselves.
    BadCredentials,
    /// Secrets Manager could not use the secret's KMS key.
    Kms,
    /// An account quota is reached.
    Quota,
    /// AWS found the request itself invalid.
    Invalid,
    /// Anything else (a request that could not be built, an unparsable answer).
    Other,
}

/// One failed AWS call, already logged.
#[derive(Debug, Clone)]
pub(crate) struct AwsFailure {
    /// The IAM action that failed, e.g. `secretsmanager:DescribeSecret`.
    pub action: &'static str,
    /// AWS's error code, when AWS answered.
    pub code: Option<String>,
    /// How the caller can act on it.
    pub kind: Kind,
    /// The AWS request id, when AWS answered.
    pub request_id: Option<String>,
}

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "PriorRequestNotComplete",
    "ConcurrentModification",
    "ConcurrentModificationException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalFailure",
    "InternalError",
    "InternalServiceError",
    "InternalServiceErrorException",
    "ServiceFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
];

const BAD_CREDENTIALS: &[&str] = &[
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidSignatureException",
    "MissingAuthenticationToken",
    "AuthFailure",
];

const INVALID: &[&str] = &[
    "ValidationException",
    "ValidationError",
    "InvalidParameterException",
    "InvalidParameterValue",
    "InvalidInput",
    "MalformedPolicyDocument",
];

/// The error and its sources, by their Display only: the SDK's Debug output
/// includes the raw HTTP response, whose body could hold a secret value.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        out.push_str(": ");
        out.push_str(&e.to_string());
        source = e.source();
    }
    out
}

/// Classifies an AWS answer by its error code and HTTP status.
pub(crate) fn kind_of(code: Option<&str>, status: Option<u16>) -> Kind {
    let Some(code) = code else {
        return match status {
            Some(429) | Some(500..=599) => Kind::Throttled,
            Some(401) | Some(403) => Kind::Denied,
            _ => Kind::Other,
        };
    };
    if THROTTLING.contains(&code) {
        Kind::Throttled
    } else if DENIED.contains(&code) {
        Kind::Denied
    } else if BAD_CREDENTIALS.contains(&code) {
        Kind::BadCredentials
    } else if code == "DecryptionFailure" || code == "EncryptionFailure" {
        Kind::Kms
    } else if code == "LimitExceededException" || code == "LimitExceeded" {
        Kind::Quota
    } else if INVALID.contains(&code) {
        Kind::Invalid
    } else if status.is_some_and(|s| s >= 500) {
        Kind::Throttled
    } else {
        Kind::Service
    }
}

impl AwsFailure {
    /// Classifies and logs `err`. With `carries_value` (the request or its
    /// answer holds a secret value), AWS's message is left out of the log,
    /// since a validation message could quote the value.
    pub(crate) fn new<E>(action: &'static str, carries_value: bool, err: &SdkError<E>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let request_id = err.request_id().map(str::to_owned);
        let code = err.code().map(str::to_owned);
        let kind = match err {
            SdkError::ServiceError(_) | SdkError::ResponseError(_) => kind_of(
                code.as_deref(),
                err.raw_response().map(|r| r.status().as_u16()),
            ),
            SdkError::TimeoutError(_) => Kind::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => Kind::Timeout,
            // Connection failures, and credentials that could not be loaded
            // (identity resolution fails before anything is sent).
            SdkError::DispatchFailure(_) => Kind::Unreachable,
            _ => Kind::Other,
        };
        let failure = AwsFailure {
            action,
            code,
            kind,
            request_id,
        };
        failure.log(carries_value, err);
        failure
    }

    fn log<E>(&self, carries_value: bool, err: &SdkError<E>)
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let code = self.code.as_deref().unwrap_or("-");
        let request_id = self.request_id.as_deref().unwrap_or("-");
        let detail = if carries_value {
            // The code and request id are enough to find it in CloudTrail.
            String::from("(message withheld: the request carried a secret value)")
        } else {
            error_chain(err)
        };
        match self.kind {
            Kind::Service => tracing::info!(
                aws.action = self.action,
                aws.code = code,
                aws.request_id = request_id,
                error = %detail,
                "AWS call failed"
            ),
            Kind::Throttled | Kind::Unreachable | Kind::Timeout => tracing::warn!(
                aws.action = self.action,
                aws.code = code,
                aws.request_id = request_id,
                error = %detail,
                "AWS call failed after the SDK's retries"
            ),
            _ => tracing::error!(
                aws.action = self.action,
                aws.code = code,
                aws.request_id = request_id,
                error = %detail,
                "AWS call failed"
            ),
        }
    }

    /// Whether AWS answered with this error code.
    pub(crate) fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    fn service(&self) -> &'static str {
        match self.action.split_once(':').map(|(s, _)| s) {
            Some("secretsmanager") => "Secrets Manager",
            Some("iam") => "IAM",
            Some("sts") => "STS",
            _ => "AWS",
        }
    }

    fn reference(&self) -> String {
        match &self.request_id {
            Some(id) => format!(" (AWS request id {id})"),
            None => String::new(),
        }
    }

    /// The error users see when the call site has no better answer.
    pub(crate) fn into_store_error(self) -> StoreError {
        let service = self.service();
        let action = self.action;
        let code = self.code.as_deref().unwrap_or("no error code");
        let reference = self.reference();
        let assume_role = action == super::source_identity::ASSUME_ROLE;
        match self.kind {
            // With --source-identity-role-arn: the role to act as refuses
            // the server, or the session asked for; both are the operator's.
            Kind::Denied if assume_role => StoreError::AccessDenied(format!(
                "the kiss server's AWS role may not assume the --source-identity-role-arn role with a source identity; the operator must allow it sts:AssumeRole and sts:SetSourceIdentity in that role's trust policy (see docs/aws.md){reference}"
            )),
            Kind::Invalid if assume_role => StoreError::Internal(format!(
                "AWS STS refused to let the kiss server assume the --source-identity-role-arn role ({code}); the operator must check the role ARN and that --source-identity-session-seconds is within the role's maximum session duration (at most 1 hour when the server itself runs as a role, as with IRSA){reference}"
            )),
            Kind::Throttled => StoreError::Unavailable(format!(
                "AWS {service} is throttling requests or failing right now ({code}); try again in a few seconds{reference}"
            )),
            Kind::Unreachable => StoreError::Unavailable(format!(
                "the kiss server could not reach AWS {service}, or could not load its AWS credentials; try again in a moment, and if it persists tell the operator (the server log has the cause)"
            )),
            Kind::Timeout => StoreError::Unavailable(format!(
                "AWS {service} did not answer in time; try again in a moment"
            )),
            Kind::Denied => StoreError::AccessDenied(format!(
                "the kiss server's AWS role is not allowed to call {action}; the operator must grant it (see docs/aws.md for the policy){reference}"
            )),
            Kind::BadCredentials => StoreError::AccessDenied(format!(
                "AWS rejected the kiss server's credentials ({code}); the operator must check the server's AWS role and token{reference}"
            )),
            Kind::Kms => StoreError::AccessDenied(format!(
                "AWS Secrets Manager could not use the secret's KMS key ({code}); the operator must allow the server's AWS role to use it (kms:Decrypt, kms:GenerateDataKey){reference}"
            )),
            Kind::Quota => StoreError::LimitReached(format!(
                "an AWS {service} quota is reached ({code} on {action}); ask your platform team to raise it or to clean up{reference}"
            )),
            Kind::Invalid => StoreError::Invalid(format!(
                "AWS {service} refused the request as invalid ({code} on {action}){reference}"
            )),
            Kind::Service | Kind::Other => StoreError::Internal(format!(
                "AWS {service} failed unexpectedly ({code} on {action}); the server log has the details{reference}"
            )),
        }
    }
}

impl From<AwsFailure> for StoreError {
    fn from(f: AwsFailure) -> Self {
        f.into_store_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: Kind) -> AwsFailure {
        AwsFailure {
            action: "iam:AttachRolePolicy",
            code: Some("Code".into()),
            kind,
            request_id: Some("req-1".into()),
        }
    }

    #[test]
    fn codes_are_classified() {
        assert_eq!(
            kind_of(Some("ThrottlingException"), Some(400)),
            Kind::Throttled
        );
        assert_eq!(kind_of(Some("Throttling"), Some(400)), Kind::Throttled);
        assert_eq!(kind_of(Some("ServiceFailure"), Some(500)), Kind::Throttled);
        assert_eq!(
            kind_of(Some("AccessDeniedException"), Some(400)),
            Kind::Denied
        );
        assert_eq!(kind_of(Some("AccessDenied"), Some(403)), Kind::Denied);
        assert_eq!(
            kind_of(Some("ExpiredToken"), Some(403)),
            Kind::BadCredentials
        );
        assert_eq!(kind_of(Some("DecryptionFailure"), Some(400)), Kind::Kms);
        assert_eq!(kind_of(Some("LimitExceeded"), Some(409)), Kind::Quota);
        assert_eq!(
            kind_of(Some("ResourceNotFoundException"), Some(400)),
            Kind::Service
        );
        assert_eq!(kind_of(Some("SomethingNew"), Some(503)), Kind::Throttled);
        assert_eq!(kind_of(None, Some(502)), Kind::Throttled);
        assert_eq!(kind_of(None, Some(200)), Kind::Other);
    }

    #[test]
    fn messages_say_what_to_do_and_carry_the_request_id() {
        let msg = failure(Kind::Denied).into_store_error();
        assert!(matches!(msg, StoreError::AccessDenied(_)));
        let msg = msg.to_string();
        assert!(msg.contains("iam:AttachRolePolicy"), "{msg}");
        assert!(msg.contains("req-1"), "{msg}");

        let msg = failure(Kind::Throttled).into_store_error();
        assert!(matches!(msg, StoreError::Unavailable(_)));
        assert!(msg.to_string().contains("try again"), "{msg}");

        let msg = failure(Kind::Unreachable).into_store_error();
        assert!(matches!(msg, StoreError::Unavailable(_)));
        assert!(msg.to_string().contains("IAM"), "{msg}");

        assert!(matches!(
            failure(Kind::Quota).into_store_error(),
            StoreError::LimitReached(_)
        ));
    }

    #[test]
    fn a_refused_assume_role_tells_the_operator_what_to_fix() {
        let assume = |kind| AwsFailure {
            action: super::super::source_identity::ASSUME_ROLE,
            ..failure(kind)
        };
        let msg = assume(Kind::Denied).into_store_error();
        assert!(matches!(msg, StoreError::AccessDenied(_)));
        let msg = msg.to_string();
        for part in ["sts:SetSourceIdentity", "trust policy", "req-1"] {
            assert!(msg.contains(part), "{msg}");
        }
        // Not the user's request that was invalid: the server's settings.
        let msg = assume(Kind::Invalid).into_store_error();
        assert!(matches!(msg, StoreError::Internal(_)));
        assert!(
            msg.to_string()
                .contains("--source-identity-session-seconds"),
            "{msg}"
        );
        assert!(matches!(
            assume(Kind::Throttled).into_store_error(),
            StoreError::Unavailable(_)
        ));
    }
}
