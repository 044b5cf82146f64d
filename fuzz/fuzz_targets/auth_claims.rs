//! Claim checks and extraction: the input is a token's claims (JSON), which
//! the target signs with its own Ed25519 key, so every input reaches the
//! registered-claim checks (`exp`, `nbf`, `iss`, `aud`), the required
//! claims, the identifier and the namespaces rule.
//!
//! Properties: nothing panics; an accepted token's identity is what its
//! claims say (issuer, identifier, namespaces that are valid names matched
//! by the rule, admin only through the admin namespace); the cached answer
//! equals the first one; the same claims with a changed payload are refused.

#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use kiss_server::auth::{AuthSettings, Authenticator, Jwks, NamespaceRule};
use kiss_server::dev::dev_auth_settings;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Fuzz";
const ADMIN: &str = "kiss-admins";
const GROUPS: &str = "cognito:groups";
const PREFIX: &str = "kaluza:";

struct Fixture {
    runtime: tokio::runtime::Runtime,
    auth: Authenticator,
    key: EncodingKey,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("an Ed key");
    let ed = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("the Ed key");
    let x = URL_SAFE_NO_PAD.encode(aws_lc_rs::signature::KeyPair::public_key(&ed).as_ref());
    let set: JwkSet = serde_json::from_value(serde_json::json!({"keys": [
        {"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA", "use": "sig", "x": x}
    ]}))
    .expect("a JWKS");
    let settings = AuthSettings {
        algorithms: vec![Algorithm::EdDSA],
        issuer: Some(ISSUER.into()),
        audiences: vec!["kiss".into(), "other-client".into()],
        namespaces: NamespaceRule::new(GROUPS, Some("kaluza:([0-9a-z-]{1,63})")).expect("a rule"),
        admin_namespace: Some(ADMIN.into()),
        ..dev_auth_settings()
    };
    Fixture {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime"),
        auth: Authenticator::new(settings, Jwks::fixed(&set)),
        key: EncodingKey::from_ed_der(pkcs8.as_ref()),
    }
});

/// What the claim lists, as the rule reads it (before name validation).
fn granted(claims: &Map<String, Value>) -> Vec<String> {
    let values: Vec<&str> = match claims.get(GROUPS) {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    values
        .into_iter()
        .filter_map(|v| v.strip_prefix(PREFIX))
        .map(str::to_owned)
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(claims) = serde_json::from_slice::<Map<String, Value>>(data) else {
        return;
    };
    let f = &*FIXTURE;
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some("ed".into());
    let Ok(token) = jsonwebtoken::encode(&header, &claims, &f.key) else {
        return;
    };
    let got = f.runtime.block_on(f.auth.authenticate(Some(&token)));
    match &got {
        Ok(id) => {
            assert_eq!(id.issuer, ISSUER);
            assert_eq!(claims.get("iss").and_then(Value::as_str), Some(ISSUER));
            assert!(!id.user.is_empty());
            assert_eq!(claims.get("email").and_then(Value::as_str), Some(&*id.user));
            assert_eq!(id.expires_at, claims.get("exp").and_then(Value::as_i64));
            let granted = granted(&claims);
            for ns in &id.namespaces {
                assert!(kiss_proto::names::validate_namespace(ns).is_ok(), "{ns:?}");
                assert!(granted.contains(ns), "{ns:?} is not in the claim");
            }
            assert_eq!(id.admin, id.namespaces.contains(ADMIN));
            assert_eq!(
                id.may_access("anything"),
                id.admin || id.namespaces.contains("anything")
            );
            // The cache answers the second time: it must say the same.
            let again = f
                .runtime
                .block_on(f.auth.authenticate(Some(&format!("Bearer {token}"))));
            assert_eq!(again.as_ref(), Ok(id));
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.len() < 1024, "a {}-byte message", msg.len());
        }
    }
    // The same signature over another payload is refused.
    let mut parts = token.splitn(3, '.');
    let (Some(h), Some(_), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("jsonwebtoken made a token without three parts");
    };
    let mut altered = serde_json::to_vec(&claims).expect("claims encode");
    altered.push(b' ');
    let forged = format!("{h}.{}.{sig}", URL_SAFE_NO_PAD.encode(&altered));
    let refused = f.runtime.block_on(f.auth.authenticate(Some(&forged)));
    assert!(
        refused.is_err(),
        "an altered payload was accepted: {refused:?}"
    );
});
