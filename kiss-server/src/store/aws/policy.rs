//! Policy documents as IAM returns them.

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
    use crate::store::rules::read_policy_document;

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
}
