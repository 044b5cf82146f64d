//! The read policy kiss creates for a secret.

/// The `Sid` of the policy's one statement, so operators can recognise it.
pub(crate) const STATEMENT_ID: &str = "KissReadSecret";

/// The IAM policy document that lets a role read exactly one secret.
///
/// No `secretsmanager:VersionStage` condition: the Secrets Store CSI
/// driver's AWS provider calls GetSecretValue without a stage, and the Go
/// kiss's `AWSCURRENT` condition made those calls fail. The resource is the
/// full ARN (with AWS's random suffix), so a secret deleted for good and
/// created again under the same name is not readable through an old policy.
pub(crate) fn read_policy_document(secret_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": STATEMENT_ID,
            "Effect": "Allow",
            "Action": [
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
            ],
            "Resource": secret_arn,
        }],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_read_on_the_exact_arn_without_conditions() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k8s-secret-ns-db-AbCdEf";
        let doc: serde_json::Value = serde_json::from_str(&read_policy_document(arn)).unwrap();
        assert_eq!(doc["Version"], "2012-10-17");
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(s["Effect"], "Allow");
        assert_eq!(s["Resource"], arn);
        assert_eq!(
            s["Action"],
            serde_json::json!([
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret"
            ])
        );
        assert!(s.get("Condition").is_none());
    }
}
