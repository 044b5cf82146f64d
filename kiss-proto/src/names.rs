//! Naming rules for namespaces, secret names and ServiceAccount names, and
//! the shape of a version id.
//!
//! All three are Kubernetes DNS-1123 labels: 1 to 63 characters, lowercase
//! ASCII letters, digits and `-`, starting and ending with a letter or digit.

use std::fmt;

/// The longest a DNS-1123 label may be.
pub const MAX_LABEL_LEN: usize = 63;

/// What kind of name is being checked; used to word errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A Kubernetes namespace.
    Namespace,
    /// A kiss secret name.
    Secret,
    /// A Kubernetes ServiceAccount name.
    ServiceAccount,
}

impl fmt::Display for NameKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameKind::Namespace => "namespace",
            NameKind::Secret => "secret name",
            NameKind::ServiceAccount => "service account name",
        })
    }
}

/// Why a name was refused. The message names the rule that was broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The name is empty.
    #[error("the {0} is empty; give a lowercase name such as 'my-app'")]
    Empty(NameKind),
    /// The name is longer than 63 characters.
    #[error("the {kind} '{name}' is {len} characters long; at most 63 are allowed")]
    TooLong {
        /// What was being named.
        kind: NameKind,
        /// The refused name.
        name: String,
        /// Its length in characters.
        len: usize,
    },
    /// The name holds a character other than `a-z`, `0-9` and `-`.
    #[error(
        "the {kind} '{name}' contains {found}; only lowercase letters a-z, digits 0-9 and '-' are allowed"
    )]
    BadCharacter {
        /// What was being named.
        kind: NameKind,
        /// The refused name.
        name: String,
        /// The first offending character, described.
        found: String,
    },
    /// The name starts or ends with `-`.
    #[error("the {kind} '{name}' must start and end with a lowercase letter or a digit")]
    BadEdge {
        /// What was being named.
        kind: NameKind,
        /// The refused name.
        name: String,
    },
    /// Not a version id: AWS's are 32 to 64 letters, digits and `-`.
    #[error(
        "'{id}' is not a version id: version ids are 32 to 64 letters, digits and '-'; list a secret's versions to see them"
    )]
    BadVersionId {
        /// The refused id, as shown.
        id: String,
    },
    /// The call needs a version id and has none.
    #[error("no version id given: name the version; list the secret's versions to see them")]
    MissingVersionId,
}

/// The name as errors show it: at most 70 characters, since callers choose
/// it and messages and audit records should not grow with it.
fn shown(name: &str) -> String {
    const MAX: usize = 70;
    match name.char_indices().nth(MAX) {
        None => name.to_owned(),
        Some((cut, _)) => format!("{}…", &name[..cut]),
    }
}

/// Checks `name` against the DNS-1123 label rules.
pub fn validate(kind: NameKind, name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty(kind));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        let found = if c.is_ascii_uppercase() {
            format!("the uppercase letter '{c}'")
        } else if c.is_whitespace() || c.is_control() {
            format!("the character {c:?}")
        } else {
            format!("the character '{c}'")
        };
        return Err(NameError::BadCharacter {
            kind,
            name: shown(name),
            found,
        });
    }
    // Only ASCII is left, so bytes and characters count the same.
    if name.len() > MAX_LABEL_LEN {
        return Err(NameError::TooLong {
            kind,
            name: shown(name),
            len: name.len(),
        });
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(NameError::BadEdge {
            kind,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// Checks a namespace name.
pub fn validate_namespace(name: &str) -> Result<(), NameError> {
    validate(NameKind::Namespace, name)
}

/// Checks a secret name.
pub fn validate_secret_name(name: &str) -> Result<(), NameError> {
    validate(NameKind::Secret, name)
}

/// Checks a ServiceAccount name.
pub fn validate_service_account(name: &str) -> Result<(), NameError> {
    validate(NameKind::ServiceAccount, name)
}

/// Checks the shape of a version id (AWS: 32 to 64 characters; kiss's
/// own are UUIDs).
pub fn validate_version_id(id: &str) -> Result<(), NameError> {
    let fits =
        (32..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if fits {
        Ok(())
    } else {
        Err(NameError::BadVersionId { id: shown(id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_are_aws_shaped() {
        assert_eq!(
            validate_version_id("6f1bc1c4-3f4a-4e0e-9a47-2a2f0e4c9b11"),
            Ok(())
        );
        assert_eq!(validate_version_id(&"a".repeat(64)), Ok(()));
        for bad in [
            "",
            "short",
            &"a".repeat(65),
            "6f1bc1c4 3f4a 4e0e 9a47 2a2f0e4c9b11",
            "ü".repeat(16).as_str(),
        ] {
            let err = validate_version_id(bad).unwrap_err();
            assert!(
                err.to_string().contains("is not a version id"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn accepts_dns_labels() {
        for ok in [
            "a",
            "0",
            "team-a",
            "0abc",
            "a0",
            "x".repeat(63).as_str(),
            "a-b-c9",
        ] {
            assert_eq!(validate_namespace(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn zero_is_allowed_unlike_the_go_version() {
        assert!(validate_secret_name("db0").is_ok());
        assert!(validate_secret_name("0").is_ok());
    }

    #[test]
    fn refuses_each_broken_rule_with_its_reason() {
        assert_eq!(
            validate_secret_name(""),
            Err(NameError::Empty(NameKind::Secret))
        );
        let long = "a".repeat(64);
        assert!(matches!(
            validate_secret_name(&long),
            Err(NameError::TooLong { len: 64, .. })
        ));
        for bad in ["a_b", "a.b", "Abc", "é", "a b", "a/b", "a\nb"] {
            assert!(
                matches!(
                    validate_secret_name(bad),
                    Err(NameError::BadCharacter { .. })
                ),
                "{bad}"
            );
        }
        for bad in ["-a", "a-", "-"] {
            assert!(
                matches!(validate_secret_name(bad), Err(NameError::BadEdge { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn messages_say_what_to_do() {
        let msg = validate_service_account("My_SA").unwrap_err().to_string();
        assert!(msg.contains("service account name 'My_SA'"), "{msg}");
        assert!(msg.contains("uppercase letter 'M'"), "{msg}");
        let msg = validate_namespace("ns-").unwrap_err().to_string();
        assert!(msg.contains("must start and end"), "{msg}");
        let msg = validate_secret_name(&"x".repeat(100_000))
            .unwrap_err()
            .to_string();
        assert!(msg.len() < 300, "a long name is cut short in messages");
    }
}
