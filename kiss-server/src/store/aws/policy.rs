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

/// Decodes a policy document as IAM returns it (URL-encoded JSON; moto
/// returns it plain, which decodes to itself).
pub(crate) fn decode_document(doc: &str) -> String {
    let bytes = doc.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_decode_from_iam_encoding() {
        let arn = "arn:aws:secretsmanager:eu-west-1:1:secret:k8s-secret-ns-db-AbCdEf";
        let doc = read_policy_document(arn);
        let encoded: String = doc
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        assert_eq!(decode_document(&encoded), doc);
        assert_eq!(decode_document(&doc), doc);
    }

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
