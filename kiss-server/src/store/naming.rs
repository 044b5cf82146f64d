//! How kiss names map to AWS names, and the AWS limits they must fit.
//!
//! Compatible with what the Go kiss created: secret `<prefix>-<ns>-<name>`,
//! policy `<prefix>_<ns>_<name>`, role `<role-prefix>_<ns>_<serviceaccount>`.

use super::{SecretRef, StoreError};

/// Tag key marking a resource as kiss-managed.
pub const TAG_MANAGED_BY: &str = "security.kaluza.com/managed-by";
/// Tag value of [`TAG_MANAGED_BY`].
pub const MANAGED_BY_KISS: &str = "kiss";
/// Tag key holding the owning namespace.
pub const TAG_NAMESPACE: &str = "security.kaluza.com/secret-namespace";
/// Tag key holding the kiss secret name.
pub const TAG_NAME: &str = "security.kaluza.com/secret-name";

/// AWS limit on a secret name.
pub const MAX_SECRET_NAME: usize = 512;
/// AWS limit on an IAM policy name.
pub const MAX_POLICY_NAME: usize = 128;
/// AWS limit on an IAM role name.
pub const MAX_ROLE_NAME: usize = 64;
/// AWS limit on a secret value, in bytes.
pub const MAX_VALUE_BYTES: usize = 65_536;

/// The naming scheme in force, from the server's flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// Prefix of secret and policy names (`k8s-secret`); empty for none.
    pub secret_prefix: String,
    /// Prefix of ServiceAccount role names (`k8s-sa`); empty for none.
    pub role_prefix: String,
    /// Separator inside secret names: `-` (Go-compatible) or `_` (unambiguous).
    pub separator: char,
}

impl Default for Naming {
    fn default() -> Self {
        Self {
            secret_prefix: "k8s-secret".into(),
            role_prefix: "k8s-sa".into(),
            separator: '-',
        }
    }
}

fn join(prefix: &str, sep: char, parts: &[&str]) -> String {
    let mut out = String::new();
    if !prefix.is_empty() {
        out.push_str(prefix);
        out.push(sep);
    }
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.push_str(part);
    }
    out
}

impl Naming {
    /// The AWS secret name, checked against AWS's limit.
    pub fn secret_name(&self, secret: &SecretRef) -> Result<String, StoreError> {
        let name = join(
            &self.secret_prefix,
            self.separator,
            &[&secret.namespace, &secret.name],
        );
        if name.len() > MAX_SECRET_NAME {
            return Err(StoreError::Invalid(format!(
                "the AWS secret name '{name}' would be {} characters long; AWS allows at most {MAX_SECRET_NAME}",
                name.len()
            )));
        }
        Ok(name)
    }

    /// The prefix every AWS secret name of a namespace starts with. With `-`
    /// as separator it also matches longer namespaces (`team` vs `team-x`).
    pub fn namespace_prefix(&self, namespace: &str) -> String {
        let mut p = join(&self.secret_prefix, self.separator, &[namespace]);
        p.push(self.separator);
        p
    }

    /// The IAM policy name of a secret's read policy, checked against IAM's limit.
    pub fn policy_name(&self, secret: &SecretRef) -> Result<String, StoreError> {
        let name = join(&self.secret_prefix, '_', &[&secret.namespace, &secret.name]);
        if name.len() > MAX_POLICY_NAME {
            return Err(StoreError::Invalid(format!(
                "the IAM policy name '{name}' would be {} characters long; IAM allows at most {MAX_POLICY_NAME}; choose a shorter secret name",
                name.len()
            )));
        }
        Ok(name)
    }

    /// The IAM role name of a ServiceAccount, checked against IAM's limit.
    pub fn role_name(&self, namespace: &str, service_account: &str) -> Result<String, StoreError> {
        let name = join(&self.role_prefix, '_', &[namespace, service_account]);
        if name.len() > MAX_ROLE_NAME {
            return Err(StoreError::Invalid(format!(
                "the IAM role name '{name}' would be {} characters long; IAM allows at most {MAX_ROLE_NAME}; use a shorter service account name",
                name.len()
            )));
        }
        Ok(name)
    }

    /// The ServiceAccount a role name belongs to, if it is a role of `namespace`.
    pub fn service_account_of_role(&self, namespace: &str, role: &str) -> Option<String> {
        let prefix = join(&self.role_prefix, '_', &[namespace, ""]);
        role.strip_prefix(&prefix)
            .filter(|sa| !sa.is_empty() && !sa.contains('_'))
            .map(str::to_owned)
    }
}

/// Refuses values AWS would refuse, with the limit in the message.
pub fn check_value(value: &str) -> Result<(), StoreError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StoreError::Invalid(format!(
            "the value is {} bytes; AWS Secrets Manager stores at most {MAX_VALUE_BYTES} bytes",
            value.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_go_scheme() {
        let n = Naming::default();
        let s = SecretRef::new("team-a", "db");
        assert_eq!(n.secret_name(&s).unwrap(), "k8s-secret-team-a-db");
        assert_eq!(n.policy_name(&s).unwrap(), "k8s-secret_team-a_db");
        assert_eq!(n.role_name("team-a", "app").unwrap(), "k8s-sa_team-a_app");
        assert_eq!(n.namespace_prefix("team-a"), "k8s-secret-team-a-");
    }

    #[test]
    fn empty_prefix_means_no_prefix_and_no_separator() {
        let n = Naming {
            secret_prefix: String::new(),
            role_prefix: String::new(),
            separator: '_',
        };
        let s = SecretRef::new("ns", "x");
        assert_eq!(n.secret_name(&s).unwrap(), "ns_x");
        assert_eq!(n.policy_name(&s).unwrap(), "ns_x");
        assert_eq!(n.role_name("ns", "sa").unwrap(), "ns_sa");
    }

    #[test]
    fn limits_are_named() {
        let n = Naming::default();
        let sa = "s".repeat(63);
        let err = n.role_name("namespace", &sa).unwrap_err().to_string();
        assert!(err.contains("at most 64"), "{err}");
        let err = check_value(&"x".repeat(65_537)).unwrap_err().to_string();
        assert!(err.contains("65536"), "{err}");
        assert!(check_value(&"x".repeat(65_536)).is_ok());
    }

    #[test]
    fn roles_map_back_to_service_accounts() {
        let n = Naming::default();
        assert_eq!(
            n.service_account_of_role("ns", "k8s-sa_ns_app").as_deref(),
            Some("app")
        );
        assert_eq!(n.service_account_of_role("ns", "k8s-sa_ns-x_app"), None);
        assert_eq!(n.service_account_of_role("ns", "k8s-sa_ns_"), None);
    }
}
