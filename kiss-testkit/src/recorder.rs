//! moto's request recorder (`/moto-api/recorder/...`): every request moto
//! receives while recording, as it arrived, so tests can check what a
//! client really sent (parameters, the signing key) rather than what moto
//! made of it. Each [`Moto`] records to a file of its own.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::Moto;

/// One request moto received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// GET, POST, ...
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Its headers, names as moto saw them.
    pub headers: BTreeMap<String, String>,
    /// Its body, as text.
    pub body: String,
}

impl Recorded {
    /// The header `name`, whatever its case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The API operation: the query protocol's `Action` (STS, IAM) or the
    /// JSON protocol's `X-Amz-Target` (Secrets Manager), without the service.
    pub fn action(&self) -> Option<String> {
        if let Some(target) = self.header("X-Amz-Target") {
            return target.rsplit('.').next().map(str::to_owned);
        }
        self.param("Action")
    }

    /// The signing service of its SigV4 `Authorization` (sts, iam,
    /// secretsmanager).
    pub fn service(&self) -> Option<String> {
        self.credential_scope().and_then(|s| s.get(3).cloned())
    }

    /// The access key id it was signed with.
    pub fn access_key(&self) -> Option<String> {
        self.credential_scope().and_then(|s| s.first().cloned())
    }

    fn credential_scope(&self) -> Option<Vec<String>> {
        let auth = self.header("Authorization")?;
        let credential = auth.split("Credential=").nth(1)?.split(',').next()?;
        Some(credential.split('/').map(str::to_owned).collect())
    }

    /// The first form parameter `name` of a query-protocol body, decoded.
    pub fn param(&self, name: &str) -> Option<String> {
        self.body.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (form_decode(k) == name).then(|| form_decode(v))
        })
    }
}

/// `application/x-www-form-urlencoded` to text.
fn form_decode(s: &str) -> String {
    let raw = s.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let hex = raw
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (raw[i], hex) {
            (b'%', Some(b)) => {
                bytes.push(b);
                i += 3;
            }
            (b'+', _) => {
                bytes.push(b' ');
                i += 1;
            }
            (b, _) => {
                bytes.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// One HTTP/1.0 request to moto's own API; the body of its answer.
fn moto_api(port: u16, method: &str, path: &str) -> String {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("moto on {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .unwrap_or_else(|e| panic!("{method} {path} on moto: {e}"));
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    assert!(
        head.lines().next().is_some_and(|l| l.contains(" 200")),
        "{method} {path} on moto: {head}"
    );
    body.to_owned()
}

impl Moto {
    /// Forgets what was recorded and records every request from now on.
    pub fn start_recording(&self) {
        moto_api(self.port, "POST", "/moto-api/recorder/reset-recording");
        moto_api(self.port, "POST", "/moto-api/recorder/start-recording");
    }

    /// Every request recorded since [`Moto::start_recording`], in order.
    pub fn recorded(&self) -> Vec<Recorded> {
        let text = moto_api(self.port, "GET", "/moto-api/recorder/download-recording");
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let entry: serde_json::Value =
                    serde_json::from_str(line).expect("moto records JSON lines");
                let text = |key: &str| entry[key].as_str().unwrap_or_default().to_owned();
                let body = if entry["body_encoded"].as_bool() == Some(true) {
                    let bytes = STANDARD
                        .decode(text("body"))
                        .expect("moto's encoded body is base64");
                    String::from_utf8_lossy(&bytes).into_owned()
                } else {
                    text("body")
                };
                let headers = entry["headers"]
                    .as_object()
                    .map(|h| {
                        h.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                Recorded {
                    method: text("method"),
                    url: text("url"),
                    headers,
                    body,
                }
            })
            .collect()
    }

    /// The recorded requests of the API operation `action` (e.g.
    /// `AssumeRole`, `DescribeSecret`).
    pub fn recorded_calls(&self, action: &str) -> Vec<Recorded> {
        self.recorded()
            .into_iter()
            .filter(|r| r.action().as_deref() == Some(action))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_request_is_read_back() {
        let r = Recorded {
            method: "POST".into(),
            url: "http://127.0.0.1:1/".into(),
            headers: BTreeMap::from([(
                "Authorization".into(),
                "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/eu-west-1/sts/aws4_request, SignedHeaders=host, Signature=x".into(),
            )]),
            body: "Action=AssumeRole&RoleSessionName=alice%40example.com&SourceIdentity=a+b%2Bc"
                .into(),
        };
        assert_eq!(r.action().as_deref(), Some("AssumeRole"));
        assert_eq!(
            r.param("RoleSessionName").as_deref(),
            Some("alice@example.com")
        );
        assert_eq!(r.param("SourceIdentity").as_deref(), Some("a b+c"));
        assert_eq!(r.access_key().as_deref(), Some("ASIAEXAMPLE"));
        assert_eq!(r.service().as_deref(), Some("sts"));
        assert_eq!(r.param("Missing"), None);
    }
}
