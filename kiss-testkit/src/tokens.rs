//! Tokens the IdP would never issue, signed with the IdP's own key: the one
//! way kiss's tests forge them. Real tokens come from [`crate::Cognito`].

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Map, Value};

pub use jsonwebtoken::Algorithm;

use crate::Cognito;

/// A token's claims, as a JSON object.
pub type Claims = Map<String, Value>;

/// Seconds since the Unix epoch, the unit of `exp`, `iat` and `nbf`.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// The claims of `token`, decoded without checking anything.
pub fn claims_of(token: &str) -> Claims {
    let payload = token
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("{token:.20}... is not a JWT"));
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .expect("the JWT payload is base64url");
    serde_json::from_slice(&bytes).expect("the JWT payload is a JSON object")
}

/// `value` as JSON, base64url without padding: a JWT segment, for tokens
/// assembled by hand (`alg: none`, tampered payloads).
pub fn segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON encodes"))
}

/// Signs `claims` with the RSA private key `key_pem` (PKCS#1 or PKCS#8 PEM)
/// using `alg` (an RS* or PS* algorithm), with `kid` in the header.
pub fn sign(key_pem: &str, alg: Algorithm, kid: Option<&str>, claims: &Claims) -> String {
    let key = EncodingKey::from_rsa_pem(key_pem.as_bytes()).expect("an RSA private key in PEM");
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).expect("the claims sign")
}

impl Cognito {
    /// `claims` signed as the pool signs: its key, its `kid`, RS256.
    pub fn forge(&self, claims: &Claims) -> String {
        sign(
            &self.private_key_pem,
            Algorithm::RS256,
            Some(&self.kid),
            claims,
        )
    }

    /// A copy of the real `token` with `edit` applied to its claims,
    /// re-signed by the pool (an expired token: set `exp` in the past).
    pub fn resign(&self, token: &str, edit: impl FnOnce(&mut Claims)) -> String {
        let mut claims = claims_of(token);
        edit(&mut claims);
        self.forge(&claims)
    }
}
