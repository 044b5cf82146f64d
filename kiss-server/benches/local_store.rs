//! The local backend's cost of a change as the store grows: an update of
//! one secret in a store of 100 and of 2,000 secrets (~1.8 MB, what the
//! soak's 1,000 users build up). Each update is fsynced before it returns,
//! so the figure is mostly the disk's; what matters is that it does not
//! grow with the store (it did, when every change rewrote the whole file).
//!
//! Run: `cargo bench -p kiss-server --bench local_store`

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kiss_server::store::local::LocalStore;
use kiss_server::store::{Naming, SecretRef, SecretStore};

fn local_store(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let value = "v".repeat(800);
    let mut group = c.benchmark_group("local_store_update");
    group.sample_size(30);
    for stored in [100usize, 2_000] {
        let dir = tempfile::tempdir().expect("temporary directory");
        let store = LocalStore::open(dir.path(), Naming::default(), 7).expect("store");
        rt.block_on(async {
            for i in 0..stored {
                let secret = SecretRef::new(format!("team-{}", i % 50), format!("s{i}"));
                store.create(&secret, &value).await.expect("create");
            }
        });
        let target = SecretRef::new("team-0", "s0");
        group.bench_with_input(BenchmarkId::from_parameter(stored), &stored, |b, _| {
            b.iter(|| {
                rt.block_on(store.update(&target, &value, None))
                    .expect("update")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, local_store);
criterion_main!(benches);
