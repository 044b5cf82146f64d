//! Token decoding: any `authorization` value through kiss-server's
//! `Authenticator` (bearer prefix, size cap, header, algorithm allow-list,
//! key lookup, signature), against keys generated at start-up, so no input
//! can carry a valid signature.
//!
//! Property: nothing panics, and no input is ever accepted (a success would
//! be a forged token).

#![no_main]

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use kiss_server::auth::{AuthSettings, Authenticator, Jwks};
use kiss_server::dev::{DevKey, dev_auth_settings};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    auth: Authenticator,
}

/// The dev RSA key (kid `kiss-dev-key`) and an Ed25519 key (kid `ed`).
static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let rsa = DevKey::generate().expect("an RSA key");
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let pkcs8 = aws_lc_rs::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("an Ed key");
    let ed = aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("the Ed key");
    let x = URL_SAFE_NO_PAD.encode(aws_lc_rs::signature::KeyPair::public_key(&ed).as_ref());
    let mut keys = serde_json::to_value(rsa.key_set()).expect("a JWKS");
    keys["keys"].as_array_mut().expect("a key list").push(
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": "ed", "alg": "EdDSA", "x": x}),
    );
    let set: JwkSet = serde_json::from_value(keys).expect("a JWKS");
    let settings = AuthSettings {
        algorithms: vec![Algorithm::RS256, Algorithm::PS256, Algorithm::EdDSA],
        ..dev_auth_settings()
    };
    Fixture {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime"),
        auth: Authenticator::new(settings, Jwks::fixed(&set)),
    }
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let f = &*FIXTURE;
    let got = f.runtime.block_on(f.auth.authenticate(Some(text)));
    assert!(got.is_err(), "an unsigned token was accepted: {got:?}");
    if let Err(e) = got {
        // Messages are built from token fields: they must stay bounded.
        let msg = e.to_string();
        assert!(msg.len() < 1024, "a {}-byte message", msg.len());
        let _ = e.reason();
    }
});
