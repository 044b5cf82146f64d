//! Reading namespaces from a token's claims: a key, and an optional regex
//! with one capture group applied to each value.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::{Map, Value};

/// Why the namespace rule could not be built; a startup error.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The regex does not compile.
    #[error("--namespaces-regex '{regex}' is not a valid regex: {source}")]
    BadRegex {
        /// The regex as given.
        regex: String,
        /// Why it failed.
        source: Box<regex::Error>,
    },
    /// The regex has no or several capture groups.
    #[error(
        "--namespaces-regex '{regex}' must have exactly one capture group around the namespace, e.g. 'kaluza:([0-9a-z-]{{1,63}})'; it has {groups}"
    )]
    CaptureGroups {
        /// The regex as given.
        regex: String,
        /// How many groups it has.
        groups: usize,
    },
}

/// Why a token's namespace claim is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// The claim is absent.
    #[error("the token has no '{0}' claim, which lists your namespaces")]
    Missing(String),
    /// The claim is neither a string nor a list.
    #[error("the token's '{0}' claim must be a string or a list of strings")]
    WrongType(String),
}

/// How namespaces are read from a token.
#[derive(Debug, Clone)]
pub struct NamespaceRule {
    key: String,
    regex: Option<Regex>,
}

impl NamespaceRule {
    /// Builds the rule; the regex is anchored to the whole value and must
    /// have exactly one capture group.
    pub fn new(key: &str, regex: Option<&str>) -> Result<Self, RuleError> {
        let regex = match regex.filter(|r| !r.is_empty()) {
            None => None,
            Some(r) => {
                let anchored =
                    Regex::new(&format!("^(?:{r})$")).map_err(|e| RuleError::BadRegex {
                        regex: r.to_owned(),
                        source: Box::new(e),
                    })?;
                // captures_len counts the implicit whole-match group.
                let groups = anchored.captures_len() - 1;
                if groups != 1 {
                    return Err(RuleError::CaptureGroups {
                        regex: r.to_owned(),
                        groups,
                    });
                }
                Some(anchored)
            }
        };
        Ok(Self {
            key: key.to_owned(),
            regex,
        })
    }

    /// The claim key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The namespaces the claims grant. String values that don't match the
    /// regex, or that aren't valid namespace names, are skipped; a list that
    /// holds anything but strings is refused as malformed.
    pub fn extract(&self, claims: &Map<String, Value>) -> Result<BTreeSet<String>, ClaimError> {
        let values: Vec<&str> = match claims.get(&self.key) {
            None | Some(Value::Null) => return Err(ClaimError::Missing(self.key.clone())),
            Some(Value::String(s)) => vec![s.as_str()],
            // A list holding anything but strings is malformed, as Vault
            // treats it: skipping the odd element would guess at the IdP's intent.
            Some(Value::Array(items)) => items
                .iter()
                .map(Value::as_str)
                .collect::<Option<Vec<&str>>>()
                .ok_or_else(|| ClaimError::WrongType(self.key.clone()))?,
            Some(_) => return Err(ClaimError::WrongType(self.key.clone())),
        };
        Ok(values
            .into_iter()
            .filter_map(|v| self.namespace_of(v))
            .collect())
    }

    /// The namespace one claim value names under this rule: the regex's
    /// capture (or the value itself without one), if it is a valid name.
    pub fn namespace_of(&self, value: &str) -> Option<String> {
        let ns = match &self.regex {
            None => value,
            Some(re) => re.captures(value)?.get(1)?.as_str(),
        };
        kiss_proto::names::validate_namespace(ns).ok()?;
        Some(ns.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn list_and_single_string() {
        let rule = NamespaceRule::new("groups", None).unwrap();
        assert_eq!(
            rule.extract(&claims(json!({"groups": ["a", "b"]})))
                .unwrap(),
            set(&["a", "b"])
        );
        assert_eq!(
            rule.extract(&claims(json!({"groups": "a"}))).unwrap(),
            set(&["a"])
        );
    }

    #[test]
    fn regex_is_anchored_and_non_matching_values_are_skipped() {
        let rule = NamespaceRule::new("cognito:groups", Some("kaluza:([0-9a-z-]{1,63})")).unwrap();
        let got = rule
            .extract(&claims(json!({"cognito:groups": [
                "kaluza:team-a",
                "admins",                 // no match: skipped, not fatal
                "xkaluza:team-b",         // would match unanchored
                "kaluza:team-c:extra",    // would match unanchored
                "kaluza:0",
            ]})))
            .unwrap();
        assert_eq!(got, set(&["0", "team-a"]));
    }

    #[test]
    fn invalid_namespace_names_are_skipped() {
        let rule = NamespaceRule::new("g", Some("ns:(.*)")).unwrap();
        let got = rule
            .extract(&claims(
                json!({"g": ["ns:Upper", "ns:ok", "ns:a_b", "ns:"]}),
            ))
            .unwrap();
        assert_eq!(got, set(&["ok"]));
    }

    #[test]
    fn a_list_holding_non_strings_is_malformed_not_skipped() {
        let rule = NamespaceRule::new("g", Some("ns:(.*)")).unwrap();
        for odd in [
            json!(7),
            json!(null),
            json!(true),
            json!(["ns:x"]),
            json!({"ns": "x"}),
        ] {
            assert_eq!(
                rule.extract(&claims(json!({"g": ["ns:ok", odd.clone()]}))),
                Err(ClaimError::WrongType("g".into())),
                "{odd}"
            );
        }
        assert_eq!(rule.extract(&claims(json!({"g": []}))).unwrap(), set(&[]));
    }

    #[test]
    fn missing_or_wrong_type() {
        let rule = NamespaceRule::new("g", None).unwrap();
        assert_eq!(
            rule.extract(&claims(json!({}))),
            Err(ClaimError::Missing("g".into()))
        );
        assert_eq!(
            rule.extract(&claims(json!({"g": 3}))),
            Err(ClaimError::WrongType("g".into()))
        );
        assert_eq!(
            rule.extract(&claims(json!({"g": {"a": 1}}))),
            Err(ClaimError::WrongType("g".into()))
        );
    }

    #[test]
    fn regex_needs_exactly_one_group() {
        assert!(matches!(
            NamespaceRule::new("g", Some("kaluza:.*")),
            Err(RuleError::CaptureGroups { groups: 0, .. })
        ));
        assert!(matches!(
            NamespaceRule::new("g", Some("(a)(b)")),
            Err(RuleError::CaptureGroups { groups: 2, .. })
        ));
        assert!(matches!(
            NamespaceRule::new("g", Some("(unclosed")),
            Err(RuleError::BadRegex { .. })
        ));
        assert!(NamespaceRule::new("g", Some("(?:x)(y)")).is_ok());
    }
}
