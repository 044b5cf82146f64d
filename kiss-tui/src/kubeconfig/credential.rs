//! The `ExecCredential` a plugin prints on stdout
//! (client.authentication.k8s.io/v1 and v1beta1): `status.token` and
//! `status.expirationTimestamp`.

use std::fmt;
use std::time::SystemTime;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The current ExecCredential API version.
pub const V1: &str = "client.authentication.k8s.io/v1";
/// The previous one, still what many kubeconfigs name.
pub const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// A token from a plugin, and until when it may be used.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The bearer token (an OIDC ID token for kubelogin). Never print it.
    pub token: String,
    /// `status.expirationTimestamp`; `None`: valid until the server refuses it.
    pub expires_at: Option<SystemTime>,
}

// Hand-written so that the token never reaches a log through `{:?}`.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("token", &format_args!("<{} bytes>", self.token.len()))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Reads the plugin's stdout. `api_version` is the kubeconfig's: the
/// credential must use the same one, as client-go requires. The error is a
/// phrase and never holds the output (which may hold the token).
pub fn parse(api_version: &str, stdout: &[u8]) -> Result<Credential, String> {
    let json: Value = serde_json::from_slice(stdout).map_err(|e| {
        format!(
            "its output is not an ExecCredential in JSON (line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let field = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    match field(&json, "kind").as_deref() {
        Some("ExecCredential") => {}
        Some(other) => {
            return Err(format!(
                "its output is a '{}', not an ExecCredential",
                printable(other)
            ));
        }
        None => return Err("its output has no kind: ExecCredential".into()),
    }
    match field(&json, "apiVersion") {
        Some(v) if v == api_version => {}
        Some(v) => {
            return Err(format!(
                "it answered with apiVersion {} but the kubeconfig asks for {api_version}",
                printable(&v)
            ));
        }
        None => return Err("its output has no apiVersion".into()),
    }
    let status = json
        .get("status")
        .filter(|s| s.is_object())
        .ok_or("its ExecCredential has no status")?;
    let token = match status.get("token") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim().to_owned(),
        Some(Value::String(_)) => return Err("its ExecCredential's status.token is empty".into()),
        Some(_) => return Err("its ExecCredential's status.token is not a string".into()),
        None if status.get("clientCertificateData").is_some() => {
            return Err(
                "it returned a client certificate, not a token; kiss needs an OIDC ID token".into(),
            );
        }
        None => return Err("its ExecCredential has no status.token".into()),
    };
    let expires_at = match status.get("expirationTimestamp") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            OffsetDateTime::parse(s, &Rfc3339)
                .map(SystemTime::from)
                .map_err(|_| {
                    format!(
                        "its status.expirationTimestamp '{}' is not an RFC 3339 time",
                        printable(s)
                    )
                })?,
        ),
        Some(_) => return Err("its status.expirationTimestamp is not a string".into()),
    };
    Ok(Credential { token, expires_at })
}

/// A short, printable form of a value the plugin chose, for messages.
fn printable(s: &str) -> String {
    s.chars()
        .take(80)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cred(api: &str, status: &str) -> String {
        format!(r#"{{"apiVersion":"{api}","kind":"ExecCredential","status":{status}}}"#)
    }

    #[test]
    fn v1_and_v1beta1_credentials_give_the_token_and_expiry() {
        let c = parse(
            V1,
            cred(
                V1,
                r#"{"token":"abc.def.ghi","expirationTimestamp":"2030-01-02T03:04:05Z"}"#,
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(c.token, "abc.def.ghi");
        assert_eq!(
            c.expires_at,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_893_553_445))
        );
        let c = parse(V1BETA1, cred(V1BETA1, r#"{"token":"t"}"#).as_bytes()).unwrap();
        assert_eq!((c.token.as_str(), c.expires_at), ("t", None));
        let c = parse(
            V1BETA1,
            cred(
                V1BETA1,
                r#"{"token":"t","expirationTimestamp":"2030-01-02T03:04:05.5+01:00"}"#,
            )
            .as_bytes(),
        )
        .unwrap();
        assert!(c.expires_at.is_some());
        assert!(!format!("{c:?}").contains("\"t\""));
    }

    #[test]
    fn bad_output_is_explained_without_echoing_it() {
        let secret = "eyJsecret.token.here";
        for (out, expect) in [
            (
                format!("{secret} not json"),
                "not an ExecCredential in JSON",
            ),
            (
                cred(V1BETA1, &format!(r#"{{"token":"{secret}"}}"#)),
                "asks for client.authentication.k8s.io/v1",
            ),
            (
                format!(
                    r#"{{"apiVersion":"{V1}","kind":"Secret","status":{{"token":"{secret}"}}}}"#
                ),
                "not an ExecCredential",
            ),
            (cred(V1, "{}"), "no status.token"),
            (cred(V1, r#"{"token":""}"#), "empty"),
            (cred(V1, r#"{"token":5}"#), "not a string"),
            (
                cred(V1, r#"{"clientCertificateData":"x"}"#),
                "client certificate",
            ),
            (
                cred(
                    V1,
                    &format!(r#"{{"token":"{secret}","expirationTimestamp":"soon"}}"#),
                ),
                "RFC 3339",
            ),
            (
                format!(r#"{{"apiVersion":"{V1}","kind":"ExecCredential"}}"#),
                "no status",
            ),
            ("".to_owned(), "JSON"),
        ] {
            let err = parse(V1, out.as_bytes()).unwrap_err();
            assert!(err.contains(expect), "{out}: {err}");
            assert!(!err.contains(secret), "{err}");
        }
    }
}
