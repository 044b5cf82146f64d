//! The soak's identity provider: RSA signing keys it can rotate, the ID
//! tokens of every user signed with the current one, and a JWKS endpoint
//! (plain HTTP on loopback) that can be stopped and started again on the
//! same port.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinHandle;

/// The `iss` of every soak token.
pub const ISSUER: &str = "https://idp.soak.invalid";
/// The `aud` of every soak token.
pub const AUDIENCE: &str = "kiss-soak";

/// One RS256 signing key and its public JWK.
pub struct SigningKey {
    pub kid: String,
    key: EncodingKey,
    pub jwk: Value,
}

impl SigningKey {
    /// A fresh 2048-bit key published as `kid`.
    pub fn generate(kid: &str) -> SigningKey {
        let pair = KeyPair::generate(KeySize::Rsa2048).expect("an RSA key is generated");
        let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).expect("PKCS#8");
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            STANDARD.encode(der.as_ref())
        );
        let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("the key loads");
        let public = aws_lc_rs::signature::KeyPair::public_key(&pair);
        let n = URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero());
        let e = URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero());
        SigningKey {
            kid: kid.to_owned(),
            key,
            jwk: json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": n, "e": e}),
        }
    }

    /// An ID token for `sub` holding `namespaces`, valid for two hours.
    pub fn token(&self, sub: &str, email: &str, namespaces: &[String]) -> String {
        let now = kiss_testkit::tokens::now();
        let groups: Vec<String> = namespaces.iter().map(|n| format!("kaluza:{n}")).collect();
        let claims = json!({
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": sub,
            "email": email,
            "email_verified": true,
            "token_use": "id",
            "cognito:groups": groups,
            "iat": now,
            "exp": now + 7200,
        });
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key).expect("the claims sign")
    }
}

/// The tokens every party uses right now, all from one signing key.
pub struct Tokens {
    /// Which key signed them.
    pub kid: String,
    /// User i's token.
    pub users: Vec<String>,
    /// A valid token that holds no namespace, for the attacks that need one.
    pub mallory: String,
    /// The rotation probe's token.
    pub probe: String,
}

/// The namespace of user `i`.
pub fn namespace(i: usize) -> String {
    format!("soak-{i:04}")
}

/// The namespace of the rotation probe.
pub const PROBE_NAMESPACE: &str = "soak-probe";

impl Tokens {
    /// Every token signed by `key` (about 2 ms each).
    pub fn mint(key: &SigningKey, users: usize) -> Tokens {
        Tokens {
            kid: key.kid.clone(),
            users: (0..users)
                .map(|i| {
                    key.token(
                        &format!("soak-user-{i}"),
                        &format!("user{i}@soak.example"),
                        &[namespace(i)],
                    )
                })
                .collect(),
            mallory: key.token("soak-mallory", "mallory@soak.example", &[]),
            probe: key.token(
                "soak-probe",
                "probe@soak.example",
                &[PROBE_NAMESPACE.into()],
            ),
        }
    }
}

/// A JWKS endpoint serving whatever key set it was last given.
pub struct Jwks {
    pub addr: SocketAddr,
    body: Arc<RwLock<String>>,
    /// Key-set answers written, ever.
    hits: Arc<AtomicU64>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Jwks {
    /// Serves `keys` on a free loopback port.
    pub async fn start(keys: &[&SigningKey]) -> Jwks {
        let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)));
        let jwks = Jwks {
            addr: listener.local_addr().expect("a bound address"),
            body: Arc::default(),
            hits: Arc::default(),
            task: Mutex::new(None),
        };
        jwks.publish(keys);
        jwks.serve(listener);
        jwks
    }

    /// Its URL, for `--jwks-url`.
    pub fn url(&self) -> String {
        format!("http://{}/.well-known/jwks.json", self.addr)
    }

    /// From now on, answers with exactly `keys`.
    pub fn publish(&self, keys: &[&SigningKey]) {
        let set = json!({"keys": keys.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()});
        *self.body.write().unwrap() = set.to_string();
    }

    /// Key sets served so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::SeqCst)
    }

    /// An IdP outage: nothing listens on its port until [`Jwks::resume`].
    pub fn stop(&self) {
        if let Some(task) = self.task.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Listens again on the same port.
    pub fn resume(&self) {
        self.serve(listen(self.addr));
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let (body, hits) = (self.body.clone(), self.hits.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let (body, hits) = (body.clone(), hits.clone());
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") && seen.len() < 16_384 {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    let body = body.read().unwrap().clone();
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    if sock.write_all(resp.as_bytes()).await.is_ok() {
                        let _ = sock.shutdown().await;
                        hits.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }
}

/// A listener on `addr` that may take a port just given up.
fn listen(addr: SocketAddr) -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_reuseaddr(true).expect("SO_REUSEADDR");
    socket
        .bind(addr)
        .unwrap_or_else(|e| panic!("cannot bind the JWKS endpoint to {addr}: {e}"));
    socket.listen(128).expect("listen")
}
