//! The per-request auth path with cached keys: verify the RS256 signature
//! and registered claims, extract identifier and namespaces, authorize.
//!
//! Run: `cargo bench -p kiss-server --bench auth_path`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use kiss_server::auth::{Authenticator, Jwks};
use kiss_server::dev::{self, DevKey};

fn auth_path(c: &mut Criterion) {
    let key = DevKey::generate().expect("key generation");
    let jwks = Jwks::fixed(key.key_set());
    let auth = Authenticator::new(dev::dev_auth_settings(), jwks.clone());
    let token = format!(
        "Bearer {}",
        key.mint("bench@kiss.dev", &["team-a", "team-b", "sandbox"], 3600)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    // Each iteration sees a token it has never verified: the full path.
    let fresh: Vec<String> = (0..4096)
        .map(|i| {
            format!(
                "Bearer {}",
                key.mint(
                    &format!("user{i}@kiss.dev"),
                    &["team-a", "team-b", "sandbox"],
                    3600
                )
            )
        })
        .collect();
    let mut i = 0;
    c.bench_function("auth_path_rs256_first_sight", |b| {
        b.iter_batched(
            || {
                i = (i + 1) % fresh.len();
                // A new authenticator each time keeps its verified-token cache cold.
                (
                    Authenticator::new(dev::dev_auth_settings(), jwks.clone()),
                    fresh[i].clone(),
                )
            },
            |(auth, token)| {
                let id = rt
                    .block_on(auth.authenticate(Some(black_box(token.as_str()))))
                    .expect("a valid token");
                assert!(id.may_access(black_box("team-a")));
            },
            criterion::BatchSize::SmallInput,
        )
    });
    // The same token again, as a client sends it on every call.
    c.bench_function("auth_path_rs256_repeat_token", |b| {
        b.iter(|| {
            let id = rt
                .block_on(auth.authenticate(Some(black_box(token.as_str()))))
                .expect("a valid token");
            assert!(id.may_access(black_box("team-a")));
        })
    });
}

criterion_group!(benches, auth_path);
criterion_main!(benches);
