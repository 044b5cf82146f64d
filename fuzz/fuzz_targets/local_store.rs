//! The local backend's files: any bytes loaded as
//! `--data-dir/kiss-store.json` (up to the first NUL byte) and
//! `kiss-store.journal` (after it, if there is one), then read through the
//! store's operations for every namespace and name the files mention.
//!
//! Properties: nothing panics; whatever a listing shows, a read finds
//! (when its policy name fits IAM's limit); a store changed by a read of a
//! value (it records the access) reopens with the same listings.

#![no_main]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::LazyLock;

use kiss_server::store::local::{JOURNAL_FILE, LocalStore, STORE_FILE};
use kiss_server::store::naming::{TAG_NAME, TAG_NAMESPACE};
use kiss_server::store::{Naming, SecretRef, SecretStore};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    dir: PathBuf,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join(format!("kiss-fuzz-local-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    Fixture {
        runtime: tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime"),
        dir,
    }
});

/// Every string under a tag key `key` in the snapshot or the journal's
/// lines, and a few usual names.
fn mentioned(json: &Value, journal: &[Value], key: &str, usual: &[&str]) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = usual.iter().map(|s| s.to_string()).collect();
    for line in journal {
        for entry in ["/secret/1/tags", "/policy/1/tags"] {
            if let Some(v) = line.pointer(entry).and_then(|t| t.get(key)) {
                out.extend(v.as_str().map(str::to_owned));
            }
        }
    }
    for section in ["secrets", "policies"] {
        let Some(entries) = json.get(section).and_then(Value::as_object) else {
            continue;
        };
        for entry in entries.values() {
            if let Some(v) = entry
                .pointer("/tags")
                .and_then(|t| t.get(key))
                .and_then(Value::as_str)
            {
                out.insert(v.to_owned());
            }
        }
    }
    out.into_iter().take(8).collect()
}

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let (naming, bytes) = match data.split_first() {
        Some((b'_', rest)) => (
            Naming {
                separator: '_',
                ..Naming::default()
            },
            rest,
        ),
        _ => (Naming::default(), data),
    };
    let (snapshot, journal) = match bytes.iter().position(|b| *b == 0) {
        Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
        None => (bytes, None),
    };
    let path = f.dir.join(STORE_FILE);
    let journal_path = f.dir.join(JOURNAL_FILE);
    let _ = std::fs::remove_file(&journal_path);
    std::fs::write(&path, snapshot).expect("the scratch snapshot");
    if let Some(journal) = journal {
        std::fs::write(&journal_path, journal).expect("the scratch journal");
    }
    let Ok(store) = LocalStore::open(&f.dir, naming.clone(), 7) else {
        return;
    };
    let json: Value = serde_json::from_slice(snapshot).unwrap_or(Value::Null);
    let lines: Vec<Value> = journal
        .unwrap_or_default()
        .split(|b| *b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect();
    let namespaces = mentioned(&json, &lines, TAG_NAMESPACE, &["team-a"]);
    let names = mentioned(&json, &lines, TAG_NAME, &["db"]);

    f.runtime.block_on(async {
        let mut listings = Vec::new();
        let mut wrote = false;
        for ns in &namespaces {
            let listed = store.list(ns).await;
            let deleted = store.list_deleted(ns).await;
            if let Ok(entries) = &listed {
                for e in entries {
                    let secret = SecretRef::new(ns.as_str(), e.name.as_str());
                    if naming.policy_name(&secret).is_err() {
                        continue;
                    }
                    let got = store.get(&secret, false).await;
                    assert!(
                        got.is_ok(),
                        "{ns}/{} is listed but not found: {got:?}",
                        e.name
                    );
                    if !wrote {
                        // Reading a value records the access: a write.
                        wrote = store.get(&secret, true).await.is_ok();
                    }
                }
            }
            for name in &names {
                let _ = store
                    .get(&SecretRef::new(ns.as_str(), name.as_str()), false)
                    .await;
            }
            listings.push((listed, deleted));
        }
        if wrote {
            let reopened =
                LocalStore::open(&f.dir, naming.clone(), 7).expect("its own file reopens");
            for (ns, (listed, deleted)) in namespaces.iter().zip(&listings) {
                assert_eq!(&reopened.list(ns).await, listed);
                assert_eq!(&reopened.list_deleted(ns).await, deleted);
            }
        }
    });
});
