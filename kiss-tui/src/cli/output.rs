//! How verbs print results: plain lines for people, JSON for scripts.

use kiss_proto::Timestamp;
use kiss_proto::pb;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A protobuf timestamp as RFC 3339 (UTC), or `None` when unset or out of range.
pub fn rfc3339(ts: Option<&Timestamp>) -> Option<String> {
    let ts = ts?;
    let nanos = i128::from(ts.seconds) * 1_000_000_000 + i128::from(ts.nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// The UTC day of a timestamp (`2026-11-27`). AWS records when a secret was
/// last read only to the day, so a time of day would be invented.
fn day(ts: Option<&Timestamp>) -> Option<String> {
    let ts = ts?;
    let date = OffsetDateTime::from_unix_timestamp(ts.seconds).ok()?.date();
    Some(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

fn or_null(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::String)
}

/// `list -output json`: names with dates. Servers that send only names
/// (older ones) give entries without dates.
pub fn list_json(resp: &pb::ListSecretsResponse) -> Value {
    let entries: Vec<Value> = if resp.entries.is_empty() {
        resp.secrets
            .iter()
            .map(|name| json!({"name": name, "created": null, "last_changed": null}))
            .collect()
    } else {
        resp.entries
            .iter()
            .map(|e| {
                json!({
                    "name": e.name,
                    "created": or_null(rfc3339(e.created.as_ref())),
                    "last_changed": or_null(rfc3339(e.last_changed.as_ref())),
                })
            })
            .collect()
    };
    json!({ "secrets": entries })
}

/// `list -deleted -output json`.
pub fn deleted_json(resp: &pb::ListDeletedSecretsResponse) -> Value {
    let entries: Vec<Value> = resp
        .secrets
        .iter()
        .map(|d| {
            json!({
                "name": d.name,
                "deleted": or_null(rfc3339(d.deleted.as_ref())),
                "deletion_date": or_null(rfc3339(d.deletion_date.as_ref())),
            })
        })
        .collect();
    json!({ "deleted_secrets": entries })
}

/// `get -output json`; `value` only when it was asked for.
pub fn details_json(d: &pb::SecretDetails) -> Value {
    let mut v = json!({
        "name": d.name,
        "namespace": d.namespace,
        "aws_name": d.aws_name,
        "arn": d.arn,
        "created": or_null(rfc3339(d.created.as_ref())),
        "last_changed": or_null(rfc3339(d.last_changed.as_ref())),
        "last_accessed": or_null(rfc3339(d.last_accessed.as_ref())),
        "version_id": d.version_id,
        "has_read_policy": d.has_read_policy,
        "policy_arn": if d.policy_arn.is_empty() { Value::Null } else { Value::String(d.policy_arn.clone()) },
        "bound_service_accounts": d.bound_service_accounts,
    });
    if let Some(value) = &d.value {
        v["value"] = Value::String(value.clone());
    }
    v
}

/// `get` for people: one labelled field per line (never the value).
pub fn details_text(d: &pb::SecretDetails) -> String {
    let date = |ts: Option<&Timestamp>, none: &str| rfc3339(ts).unwrap_or_else(|| none.into());
    let policy = match (d.has_read_policy, d.policy_arn.is_empty()) {
        (false, _) => "no".to_owned(),
        (true, true) => "yes".to_owned(),
        (true, false) => format!("yes ({})", d.policy_arn),
    };
    let bound = if d.bound_service_accounts.is_empty() {
        "none".to_owned()
    } else {
        d.bound_service_accounts.join(", ")
    };
    let rows = [
        ("name", d.name.clone()),
        ("namespace", d.namespace.clone()),
        ("aws name", d.aws_name.clone()),
        ("arn", d.arn.clone()),
        ("created", date(d.created.as_ref(), "unknown")),
        ("last changed", date(d.last_changed.as_ref(), "unknown")),
        (
            "last accessed",
            day(d.last_accessed.as_ref()).unwrap_or_else(|| "never".into()),
        ),
        ("version", d.version_id.clone()),
        ("read policy", policy),
        ("bound to", bound),
    ];
    rows.iter()
        .map(|(k, v)| format!("{:<15}{v}\n", format!("{k}:")))
        .collect()
}

/// `whoami -output json`.
pub fn whoami_json(w: &pb::WhoAmIResponse) -> Value {
    json!({
        "identifier": w.identifier,
        "subject": w.subject,
        "issuer": w.issuer,
        "admin": w.admin,
        "namespaces": w.namespaces,
        "expires_at": or_null(rfc3339(w.expires_at.as_ref())),
        "deletion_recovery_days": w.deletion_recovery_days,
    })
}

/// `whoami` for people.
pub fn whoami_text(w: &pb::WhoAmIResponse, now: std::time::SystemTime) -> String {
    let expires = match w.expires_at.as_ref() {
        Some(ts) => {
            let at = std::time::UNIX_EPOCH
                .checked_add(std::time::Duration::from_secs(ts.seconds.max(0) as u64));
            format!(
                "{} ({})",
                rfc3339(Some(ts)).unwrap_or_default(),
                crate::duration::expiry(at, now)
            )
        }
        None => "unknown".into(),
    };
    let namespaces = if w.namespaces.is_empty() {
        "none".to_owned()
    } else {
        w.namespaces.join(", ")
    };
    let admin = if w.admin {
        "yes (may act on every namespace)"
    } else {
        "no"
    };
    let deletes = match w.deletion_recovery_days {
        Some(0) => "final (nothing can be restored)".to_owned(),
        Some(1) => "restorable for 1 day".to_owned(),
        Some(n) => format!("restorable for {n} days"),
        None => "unknown (the server does not say)".to_owned(),
    };
    let rows = [
        ("identifier", w.identifier.as_str()),
        ("subject", w.subject.as_str()),
        ("issuer", w.issuer.as_str()),
        ("namespaces", namespaces.as_str()),
        ("admin", admin),
        ("expires", expires.as_str()),
        ("deletes", deletes.as_str()),
    ];
    rows.iter()
        .map(|(k, v)| format!("{:<12}{v}\n", format!("{k}:")))
        .collect()
}

/// `history -output json`.
pub fn history_json(r: &pb::ListSecretVersionsResponse) -> Value {
    let versions: Vec<Value> = r
        .versions
        .iter()
        .map(|v| {
            json!({
                "version_id": v.version_id,
                "created": or_null(rfc3339(v.created.as_ref())),
                "author": if v.author.is_empty() { Value::Null } else { Value::String(v.author.clone()) },
                "labels": v.labels,
            })
        })
        .collect();
    json!({ "versions": versions })
}

/// `history` for people: a table, newest first.
pub fn history_text(r: &pb::ListSecretVersionsResponse) -> String {
    let rows: Vec<[String; 4]> = r
        .versions
        .iter()
        .map(|v| {
            [
                v.version_id.clone(),
                rfc3339(v.created.as_ref()).unwrap_or_else(|| "-".into()),
                if v.author.is_empty() {
                    "unknown".into()
                } else {
                    v.author.clone()
                },
                v.labels.join(","),
            ]
        })
        .collect();
    let header = ["VERSION", "CREATED", "BY", "LABELS"].map(str::to_owned);
    let widths: Vec<usize> = (0..4)
        .map(|c| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    std::iter::once(&header)
        .chain(&rows)
        .map(|r| {
            let line = format!(
                "{:w0$}  {:w1$}  {:w2$}  {}",
                r[0],
                r[1],
                r[2],
                r[3],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            );
            format!("{}\n", line.trim_end())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let ts = Timestamp {
            seconds: 1_700_000_000,
            nanos: 0,
        };
        assert_eq!(rfc3339(Some(&ts)).as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(rfc3339(None), None);
        let absurd = Timestamp {
            seconds: i64::MAX,
            nanos: 0,
        };
        assert_eq!(rfc3339(Some(&absurd)), None);
    }

    #[test]
    fn last_accessed_is_a_day() {
        let d = pb::SecretDetails {
            last_accessed: Some(Timestamp {
                seconds: 1_795_737_600,
                nanos: 0,
            }),
            ..Default::default()
        };
        let text = details_text(&d);
        let line = text
            .lines()
            .find(|l| l.starts_with("last accessed"))
            .unwrap();
        assert_eq!(line, "last accessed: 2026-11-27");
        let never = details_text(&pb::SecretDetails::default());
        assert!(never.contains("last accessed: never"), "{never}");
        assert_eq!(
            day(Some(&Timestamp {
                seconds: i64::MAX,
                nanos: 0
            })),
            None
        );
    }

    #[test]
    fn list_json_falls_back_to_names() {
        let resp = pb::ListSecretsResponse {
            secrets: vec!["a".into(), "b".into()],
            entries: vec![],
        };
        let v = list_json(&resp);
        assert_eq!(v["secrets"][1]["name"], "b");
        assert!(v["secrets"][0]["created"].is_null());
    }

    #[test]
    fn details_hide_the_value_unless_asked() {
        let mut d = pb::SecretDetails {
            name: "db".into(),
            ..Default::default()
        };
        assert!(details_json(&d).get("value").is_none());
        assert!(!details_text(&d).contains("value"));
        d.value = Some("s3cret\n".into());
        assert_eq!(details_json(&d)["value"], "s3cret\n");
        assert!(!details_text(&d).contains("s3cret"));
    }
}
