//! kiss-proto's name rules and the AWS names derived from them: the input
//! is a namespace, a secret name and a ServiceAccount name, one per line.
//!
//! Properties: validation agrees with a plain statement of the DNS-1123
//! label rule, and its messages stay bounded; for valid names, the derived
//! secret name is found again by the listing rule under its own namespace
//! and under no other, the `_` scheme parses back to the same pair, and a
//! role name gives back its ServiceAccount.

#![no_main]

use kiss_proto::names::{self, NameKind};
use kiss_server::store::naming::TAG_NAMESPACE;
use kiss_server::store::{Naming, SecretRef, rules};
use libfuzzer_sys::fuzz_target;

/// The DNS-1123 label rule, stated plainly.
fn is_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn check(kind: NameKind, s: &str) -> bool {
    let got = names::validate(kind, s);
    assert_eq!(got.is_ok(), is_label(s), "{kind} {s:?}: {got:?}");
    if let Err(e) = got {
        // Callers choose names: messages (and audit records) must not grow with them.
        let msg = e.to_string();
        assert!(
            msg.chars().count() < 260,
            "a {}-character message",
            msg.chars().count()
        );
    }
    is_label(s)
}

fn namings() -> [Naming; 4] {
    let dash = Naming::default();
    let under = Naming {
        separator: '_',
        ..Naming::default()
    };
    let bare = Naming {
        secret_prefix: String::new(),
        role_prefix: String::new(),
        separator: '_',
    };
    let bare_dash = Naming {
        separator: '-',
        ..bare.clone()
    };
    [dash, under, bare, bare_dash]
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.splitn(3, '\n');
    let ns = lines.next().unwrap_or_default();
    let name = lines.next().unwrap_or_default();
    let sa = lines.next().unwrap_or_default();
    assert_eq!(names::validate_namespace(ns).is_ok(), is_label(ns));
    assert_eq!(names::validate_secret_name(name).is_ok(), is_label(name));
    assert_eq!(names::validate_service_account(sa).is_ok(), is_label(sa));
    let ns_ok = check(NameKind::Namespace, ns);
    let name_ok = check(NameKind::Secret, name);
    let sa_ok = check(NameKind::ServiceAccount, sa);
    // Other kinds of the same texts, so each text is tried in each role.
    check(NameKind::Secret, ns);
    check(NameKind::ServiceAccount, name);
    check(NameKind::Namespace, sa);

    for naming in namings() {
        if ns_ok && sa_ok {
            match naming.role_name(ns, sa) {
                Ok(role) => {
                    assert!(role.len() <= 64);
                    assert_eq!(
                        naming.service_account_of_role(ns, &role).as_deref(),
                        Some(sa)
                    );
                }
                Err(e) => assert!(e.to_string().contains("at most 64")),
            }
        }
        if !(ns_ok && name_ok) {
            continue;
        }
        let secret = SecretRef::new(ns, name);
        let aws = naming
            .secret_name(&secret)
            .expect("two labels and a short prefix fit AWS's 512");
        assert!(aws.starts_with(&naming.namespace_prefix(ns)));
        let tags = rules::kiss_tags(&secret);
        assert_eq!(rules::listed_name(&naming, ns, &aws, &tags), Some(name));
        // Listed under another namespace, the tags say whose it is.
        for other in ["a", "team-a", "team", "kiss-admins"] {
            if other != ns {
                assert_eq!(rules::listed_name(&naming, other, &aws, &tags), None);
            }
        }
        // Tags naming another namespace never list it.
        let forged: Vec<(&str, &str)> = tags
            .iter()
            .map(|&(k, v)| if k == TAG_NAMESPACE { (k, "x") } else { (k, v) })
            .collect();
        if ns != "x" {
            assert_eq!(rules::listed_name(&naming, ns, &aws, &forged), None);
        }
        if naming.separator == '_' {
            // Names hold no '_': the scheme is unambiguous.
            let body = match naming.secret_prefix.as_str() {
                "" => aws.as_str(),
                p => aws
                    .strip_prefix(p)
                    .and_then(|r| r.strip_prefix('_'))
                    .expect("the prefix"),
            };
            assert_eq!(body.split_once('_'), Some((ns, name)));
        }
        match naming.policy_name(&secret) {
            Ok(policy) => {
                assert!(policy.len() <= 128);
                let expected = match naming.secret_prefix.as_str() {
                    "" => format!("{ns}_{name}"),
                    p => format!("{p}_{ns}_{name}"),
                };
                assert_eq!(policy, expected);
            }
            Err(e) => assert!(e.to_string().contains("at most 128")),
        }
    }
});
