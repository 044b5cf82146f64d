//! Namespace extraction from a claim: `--namespaces-key`, an optional
//! `--namespaces-regex` and the claims, all from the input (one line each
//! for the key and the regex, then the claims as JSON).
//!
//! Properties: nothing panics; every namespace the rule yields is a valid
//! namespace name; without a regex it is one of the claim's values; with
//! one, it is a substring of one of them.

#![no_main]

use kiss_server::auth::NamespaceRule;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let (Some(key), Some(regex), Some(json)) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    // Regexes come from an operator's flag: keep them small so that the
    // time goes to the claims, not to compiling huge patterns.
    if regex.len() > 200 {
        return;
    }
    let Ok(rule) = NamespaceRule::new(key, Some(regex)) else {
        return;
    };
    assert_eq!(rule.key(), key);
    let Ok(claims) = serde_json::from_str::<Map<String, Value>>(json) else {
        return;
    };
    let Ok(namespaces) = rule.extract(&claims) else {
        return;
    };
    let values: Vec<&str> = match claims.get(key) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        other => panic!("extract accepted a claim of the wrong type: {other:?}"),
    };
    for ns in &namespaces {
        assert!(kiss_proto::names::validate_namespace(ns).is_ok(), "{ns:?}");
        if regex.is_empty() {
            assert!(values.contains(&ns.as_str()), "{ns:?} is not a value");
        } else {
            assert!(
                values.iter().any(|v| v.contains(ns.as_str())),
                "{ns:?} is in no value"
            );
        }
    }
});
