//! The local backend: secrets, read policies and bindings in one JSON file.
//!
//! It has the AWS backend's semantics (ownership by tags, names derived with
//! the same [`Naming`], recovery window, version ids, policies, bindings), so
//! that dev mode and tests exercise the same rules. Every change is written
//! atomically (temp file, fsync, rename, fsync of the directory) under one
//! lock, so a crash never leaves a half-written store and concurrent requests
//! never interleave. There is no IAM here: every ServiceAccount role exists.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::naming::{self, MANAGED_BY_KISS, TAG_MANAGED_BY, TAG_NAME, TAG_NAMESPACE};
use super::{
    DeletedEntry, Naming, SecretDetails, SecretEntry, SecretRef, SecretStore, StoreError,
    StoreResult,
};

/// The store file's name inside `--data-dir`.
pub const STORE_FILE: &str = "kiss-store.json";

const LOCAL_ACCOUNT: &str = "000000000000";
const LOCAL_REGION: &str = "local";

// No Debug: values are in here.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Data {
    /// Secrets by derived AWS name.
    secrets: BTreeMap<String, Record>,
    /// Read policies by derived policy name.
    policies: BTreeMap<String, Policy>,
}

#[derive(Clone, Serialize, Deserialize)]
struct Record {
    tags: BTreeMap<String, String>,
    arn: String,
    value: String,
    version_id: String,
    created: u64,
    last_changed: u64,
    last_accessed: Option<u64>,
    deleted: Option<u64>,
    deletion_date: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Policy {
    arn: String,
    tags: BTreeMap<String, String>,
    /// Names of the roles the policy is attached to.
    roles: BTreeSet<String>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn to_time(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn kiss_tags(secret: &SecretRef) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TAG_MANAGED_BY.to_owned(), MANAGED_BY_KISS.to_owned()),
        (TAG_NAMESPACE.to_owned(), secret.namespace.clone()),
        (TAG_NAME.to_owned(), secret.name.clone()),
    ])
}

fn owned_by(tags: &BTreeMap<String, String>, secret: &SecretRef) -> bool {
    naming::tags_match(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), secret)
}

fn tag<'a>(tags: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    tags.get(key).map(String::as_str)
}

/// The file-backed store.
pub struct LocalStore {
    path: PathBuf,
    naming: Naming,
    recovery: Duration,
    data: Mutex<Data>,
}

impl LocalStore {
    /// Opens (or creates) the store in `dir`. `recovery_days` = 0 deletes at once.
    pub fn open(dir: &Path, naming: Naming, recovery_days: u32) -> StoreResult<LocalStore> {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Internal(format!(
                "cannot create the data directory {}: {e}; check --data-dir",
                dir.display()
            ))
        })?;
        let path = dir.join(STORE_FILE);
        let data = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                StoreError::Internal(format!(
                    "the store file {} is not valid: {e}; restore it from a backup or move it away",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Data::default(),
            Err(e) => {
                return Err(StoreError::Internal(format!(
                    "cannot read the store file {}: {e}",
                    path.display()
                )));
            }
        };
        Ok(LocalStore {
            path,
            naming,
            recovery: Duration::from_secs(u64::from(recovery_days) * 86_400),
            data: Mutex::new(data),
        })
    }

    /// Where the store file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn persist(&self, data: &Data) -> StoreResult<()> {
        let bytes = serde_json::to_vec_pretty(data)
            .map_err(|e| StoreError::Internal(format!("cannot encode the store: {e}")))?;
        write_atomically(&self.path, &bytes).map_err(|e| {
            StoreError::Unavailable(format!(
                "cannot write the store file: {e}; check the disk under --data-dir, then try again"
            ))
        })
    }

    /// Runs `f` on the data under the lock and persists the result before
    /// the lock is released; on a failed write the change is rolled back.
    ///
    /// Nothing awaits between the change and its write, so a caller's
    /// deadline or cancellation cannot leave a change in memory (or on disk)
    /// that the caller was told did not happen. The price is a blocking
    /// write on a runtime thread, acceptable for a development backend.
    async fn modify<T>(&self, f: impl FnOnce(&mut Data) -> StoreResult<T>) -> StoreResult<T> {
        let mut data = self.data.lock().await;
        purge_expired(&mut data);
        let before = data.clone();
        let out = f(&mut data)?;
        if let Err(e) = self.persist(&data) {
            *data = before;
            return Err(e);
        }
        Ok(out)
    }

    async fn read<T>(&self, f: impl FnOnce(&Data) -> StoreResult<T>) -> StoreResult<T> {
        let mut data = self.data.lock().await;
        purge_expired(&mut data);
        f(&data)
    }

    fn not_found(secret: &SecretRef) -> StoreError {
        StoreError::NotFound {
            namespace: secret.namespace.clone(),
            name: secret.name.clone(),
        }
    }

    /// The live or deleted record that is exactly `secret`.
    fn owned<'a>(&self, data: &'a Data, secret: &SecretRef) -> StoreResult<(String, &'a Record)> {
        let aws_name = self.naming.secret_name(secret)?;
        match data.secrets.get(&aws_name) {
            Some(rec) if owned_by(&rec.tags, secret) => Ok((aws_name, rec)),
            _ => Err(Self::not_found(secret)),
        }
    }

    fn owned_live<'a>(
        &self,
        data: &'a Data,
        secret: &SecretRef,
    ) -> StoreResult<(String, &'a Record)> {
        let (aws_name, rec) = self.owned(data, secret)?;
        if rec.deleted.is_some() {
            return Err(Self::not_found(secret));
        }
        Ok((aws_name, rec))
    }

    fn policy_of<'a>(
        &self,
        data: &'a Data,
        secret: &SecretRef,
    ) -> StoreResult<Option<(String, &'a Policy)>> {
        let name = self.naming.policy_name(secret)?;
        Ok(data
            .policies
            .get(&name)
            .filter(|p| owned_by(&p.tags, secret))
            .map(|p| (name, p)))
    }

    fn bound_service_accounts(&self, namespace: &str, policy: &Policy) -> Vec<String> {
        policy
            .roles
            .iter()
            .filter_map(|r| self.naming.service_account_of_role(namespace, r))
            .collect()
    }
}

fn purge_expired(data: &mut Data) {
    let now = now_secs();
    data.secrets
        .retain(|_, r| r.deletion_date.is_none_or(|d| d > now));
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("json.tmp");
    {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Secret values are in this file.
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    // Make the rename itself durable.
    std::fs::File::open(dir)?.sync_all()
}

fn new_version() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[async_trait]
impl SecretStore for LocalStore {
    async fn create(&self, secret: &SecretRef, value: &str) -> StoreResult<String> {
        naming::check_value(value)?;
        let aws_name = self.naming.secret_name(secret)?;
        self.modify(|data| {
            if let Some(existing) = data.secrets.get(&aws_name) {
                if existing.deleted.is_some() && owned_by(&existing.tags, secret) {
                    return Err(StoreError::ScheduledForDeletion {
                        name: secret.name.clone(),
                    });
                }
                return Err(StoreError::AlreadyExists {
                    name: secret.name.clone(),
                });
            }
            let now = now_secs();
            let version = new_version();
            data.secrets.insert(
                aws_name.clone(),
                Record {
                    tags: kiss_tags(secret),
                    arn: format!(
                        "arn:aws:secretsmanager:{LOCAL_REGION}:{LOCAL_ACCOUNT}:secret:{aws_name}"
                    ),
                    value: value.to_owned(),
                    version_id: version.clone(),
                    created: now,
                    last_changed: now,
                    last_accessed: None,
                    deleted: None,
                    deletion_date: None,
                },
            );
            Ok(version)
        })
        .await
    }

    async fn list(&self, namespace: &str) -> StoreResult<Vec<SecretEntry>> {
        self.read(|data| {
            let mut out: Vec<SecretEntry> = data
                .secrets
                .values()
                .filter(|r| r.deleted.is_none())
                .filter(|r| tag(&r.tags, TAG_MANAGED_BY) == Some(MANAGED_BY_KISS))
                .filter(|r| tag(&r.tags, TAG_NAMESPACE) == Some(namespace))
                .filter_map(|r| {
                    Some(SecretEntry {
                        name: tag(&r.tags, TAG_NAME)?.to_owned(),
                        created: Some(to_time(r.created)),
                        last_changed: Some(to_time(r.last_changed)),
                    })
                })
                .collect();
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
        .await
    }

    async fn list_deleted(&self, namespace: &str) -> StoreResult<Vec<DeletedEntry>> {
        self.read(|data| {
            let mut out: Vec<DeletedEntry> = data
                .secrets
                .values()
                .filter(|r| tag(&r.tags, TAG_MANAGED_BY) == Some(MANAGED_BY_KISS))
                .filter(|r| tag(&r.tags, TAG_NAMESPACE) == Some(namespace))
                .filter_map(|r| {
                    Some(DeletedEntry {
                        name: tag(&r.tags, TAG_NAME)?.to_owned(),
                        deleted: Some(to_time(r.deleted?)),
                        deletion_date: r.deletion_date.map(to_time),
                    })
                })
                .collect();
            out.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(out)
        })
        .await
    }

    async fn get(&self, secret: &SecretRef, include_value: bool) -> StoreResult<SecretDetails> {
        let read = |data: &Data| -> StoreResult<SecretDetails> {
            let (aws_name, rec) = self.owned_live(data, secret)?;
            let policy = self.policy_of(data, secret)?;
            Ok(SecretDetails {
                name: secret.name.clone(),
                namespace: secret.namespace.clone(),
                aws_name,
                arn: rec.arn.clone(),
                created: Some(to_time(rec.created)),
                last_changed: Some(to_time(rec.last_changed)),
                last_accessed: rec.last_accessed.map(to_time),
                version_id: rec.version_id.clone(),
                policy_arn: policy.as_ref().map(|(_, p)| p.arn.clone()),
                bound_service_accounts: policy
                    .map(|(_, p)| self.bound_service_accounts(&secret.namespace, p))
                    .unwrap_or_default(),
                value: include_value.then(|| rec.value.clone()),
            })
        };
        if !include_value {
            return self.read(read).await;
        }
        // Reading the value is an access, which AWS records by the day; the
        // file is only rewritten when the day changes.
        let today = now_secs() / 86_400 * 86_400;
        let details = self.read(read).await?;
        if details.last_accessed == Some(to_time(today)) {
            return Ok(details);
        }
        self.modify(|data| {
            let details = read(data)?;
            if let Some(rec) = data.secrets.get_mut(&details.aws_name) {
                rec.last_accessed = Some(today);
            }
            Ok(SecretDetails {
                last_accessed: Some(to_time(today)),
                ..details
            })
        })
        .await
    }

    async fn update(
        &self,
        secret: &SecretRef,
        value: &str,
        expected_version: Option<&str>,
    ) -> StoreResult<String> {
        naming::check_value(value)?;
        self.modify(|data| {
            let (aws_name, rec) = self.owned_live(data, secret)?;
            if let Some(expected) = expected_version.filter(|v| !v.is_empty())
                && rec.version_id != expected
            {
                return Err(StoreError::VersionConflict {
                    name: secret.name.clone(),
                    expected: expected.to_owned(),
                });
            }
            let version = new_version();
            if let Some(rec) = data.secrets.get_mut(&aws_name) {
                rec.value = value.to_owned();
                rec.version_id = version.clone();
                rec.last_changed = now_secs();
            }
            Ok(version)
        })
        .await
    }

    async fn delete(&self, secret: &SecretRef) -> StoreResult<Option<SystemTime>> {
        let recovery = self.recovery.as_secs();
        self.modify(|data| {
            let (aws_name, _) = self.owned_live(data, secret)?;
            if recovery == 0 {
                data.secrets.remove(&aws_name);
                return Ok(None);
            }
            let now = now_secs();
            let when = now + recovery;
            if let Some(rec) = data.secrets.get_mut(&aws_name) {
                rec.deleted = Some(now);
                rec.deletion_date = Some(when);
            }
            Ok(Some(to_time(when)))
        })
        .await
    }

    async fn restore(&self, secret: &SecretRef) -> StoreResult<()> {
        self.modify(|data| {
            let (aws_name, rec) = self.owned(data, secret)?;
            if rec.deleted.is_none() {
                return Err(StoreError::NotDeleted {
                    name: secret.name.clone(),
                });
            }
            if let Some(rec) = data.secrets.get_mut(&aws_name) {
                rec.deleted = None;
                rec.deletion_date = None;
            }
            Ok(())
        })
        .await
    }

    async fn create_policy(&self, secret: &SecretRef) -> StoreResult<String> {
        self.modify(|data| {
            self.owned_live(data, secret)?;
            let name = self.naming.policy_name(secret)?;
            if data.policies.contains_key(&name) {
                return Err(StoreError::PolicyExists {
                    name: secret.name.clone(),
                });
            }
            let arn = format!("arn:aws:iam::{LOCAL_ACCOUNT}:policy/{name}");
            data.policies.insert(
                name,
                Policy {
                    arn: arn.clone(),
                    tags: kiss_tags(secret),
                    roles: BTreeSet::new(),
                },
            );
            Ok(arn)
        })
        .await
    }

    async fn delete_policy(&self, secret: &SecretRef, unbind: bool) -> StoreResult<Vec<String>> {
        self.modify(|data| {
            self.owned(data, secret)?;
            let Some((name, policy)) = self.policy_of(data, secret)? else {
                return Err(StoreError::PolicyMissing {
                    name: secret.name.clone(),
                });
            };
            let bound = self.bound_service_accounts(&secret.namespace, policy);
            if !policy.roles.is_empty() && !unbind {
                return Err(StoreError::PolicyAttached {
                    name: secret.name.clone(),
                    service_accounts: bound,
                });
            }
            data.policies.remove(&name);
            Ok(bound)
        })
        .await
    }

    async fn bind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        let role = self.naming.role_name(&secret.namespace, service_account)?;
        self.modify(|data| {
            self.owned_live(data, secret)?;
            let Some((name, _)) = self.policy_of(data, secret)? else {
                return Err(StoreError::PolicyMissing {
                    name: secret.name.clone(),
                });
            };
            if let Some(p) = data.policies.get_mut(&name) {
                p.roles.insert(role);
            }
            Ok(())
        })
        .await
    }

    async fn unbind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        let role = self.naming.role_name(&secret.namespace, service_account)?;
        self.modify(|data| {
            self.owned(data, secret)?;
            let not_bound = || StoreError::NotBound {
                name: secret.name.clone(),
                service_account: service_account.to_owned(),
            };
            let Some((name, _)) = self.policy_of(data, secret)? else {
                return Err(not_bound());
            };
            let removed = data
                .policies
                .get_mut(&name)
                .is_some_and(|p| p.roles.remove(&role));
            if removed { Ok(()) } else { Err(not_bound()) }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path) -> LocalStore {
        LocalStore::open(dir, Naming::default(), 7).unwrap()
    }

    fn s(ns: &str, name: &str) -> SecretRef {
        SecretRef::new(ns, name)
    }

    #[tokio::test]
    async fn values_survive_a_reopen_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let value = "line 1\n\ttabbed\nünïcödé ✓\n";
        store(dir.path())
            .create(&s("ns", "db"), value)
            .await
            .unwrap();
        let got = store(dir.path()).get(&s("ns", "db"), true).await.unwrap();
        assert_eq!(got.value.as_deref(), Some(value));
        assert_eq!(got.aws_name, "k8s-secret-ns-db");
    }

    #[tokio::test]
    async fn colliding_names_stay_with_their_owner() {
        let dir = tempfile::tempdir().unwrap();
        let st = store(dir.path());
        st.create(&s("team", "x-foo"), "mine").await.unwrap();
        let other = s("team-x", "foo");
        assert_eq!(
            st.create(&other, "theirs").await,
            Err(StoreError::AlreadyExists { name: "foo".into() })
        );
        let nf = Err(StoreError::NotFound {
            namespace: "team-x".into(),
            name: "foo".into(),
        });
        assert_eq!(st.get(&other, true).await.map(|_| ()), nf.clone());
        assert_eq!(st.update(&other, "x", None).await.map(|_| ()), nf.clone());
        assert_eq!(st.delete(&other).await.map(|_| ()), nf.clone());
        assert_eq!(st.create_policy(&other).await.map(|_| ()), nf.clone());
        assert_eq!(st.bind(&other, "app").await.map(|_| ()), nf.clone());
        assert!(st.list("team-x").await.unwrap().is_empty());
        assert_eq!(st.list("team").await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn delete_restore_and_recreate_rules() {
        let dir = tempfile::tempdir().unwrap();
        let st = store(dir.path());
        let x = s("ns", "x");
        st.create(&x, "v").await.unwrap();
        let when = st.delete(&x).await.unwrap().expect("a recovery window");
        assert!(when > SystemTime::now() + Duration::from_secs(6 * 86_400));
        assert!(st.list("ns").await.unwrap().is_empty());
        assert_eq!(st.list_deleted("ns").await.unwrap()[0].name, "x");
        assert_eq!(
            st.create(&x, "again").await,
            Err(StoreError::ScheduledForDeletion { name: "x".into() })
        );
        st.restore(&x).await.unwrap();
        assert_eq!(st.get(&x, true).await.unwrap().value.as_deref(), Some("v"));
        assert_eq!(
            st.restore(&x).await,
            Err(StoreError::NotDeleted { name: "x".into() })
        );
    }

    #[tokio::test]
    async fn zero_recovery_days_delete_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let st = LocalStore::open(dir.path(), Naming::default(), 0).unwrap();
        let x = s("ns", "x");
        st.create(&x, "v").await.unwrap();
        assert_eq!(st.delete(&x).await.unwrap(), None);
        assert!(st.list_deleted("ns").await.unwrap().is_empty());
        st.create(&x, "new").await.unwrap();
    }

    #[tokio::test]
    async fn stale_version_is_refused_and_nothing_written() {
        let dir = tempfile::tempdir().unwrap();
        let st = store(dir.path());
        let x = s("ns", "x");
        let v1 = st.create(&x, "one").await.unwrap();
        let v2 = st.update(&x, "two", Some(&v1)).await.unwrap();
        assert!(matches!(
            st.update(&x, "three", Some(&v1)).await,
            Err(StoreError::VersionConflict { .. })
        ));
        let got = st.get(&x, true).await.unwrap();
        assert_eq!(
            (got.value.as_deref(), got.version_id.as_str()),
            (Some("two"), v2.as_str())
        );
    }

    #[tokio::test]
    async fn policies_and_bindings() {
        let dir = tempfile::tempdir().unwrap();
        let st = store(dir.path());
        let x = s("ns", "x");
        st.create(&x, "v").await.unwrap();
        assert_eq!(
            st.bind(&x, "app").await,
            Err(StoreError::PolicyMissing { name: "x".into() })
        );
        let arn = st.create_policy(&x).await.unwrap();
        assert!(arn.ends_with(":policy/k8s-secret_ns_x"), "{arn}");
        st.bind(&x, "app").await.unwrap();
        st.bind(&x, "worker").await.unwrap();
        let d = st.get(&x, false).await.unwrap();
        assert_eq!(d.bound_service_accounts, ["app", "worker"]);
        assert!(matches!(
            st.delete_policy(&x, false).await,
            Err(StoreError::PolicyAttached { ref service_accounts, .. }) if service_accounts == &["app", "worker"]
        ));
        st.unbind(&x, "worker").await.unwrap();
        assert!(matches!(
            st.unbind(&x, "worker").await,
            Err(StoreError::NotBound { .. })
        ));
        assert_eq!(st.delete_policy(&x, true).await.unwrap(), ["app"]);
        assert_eq!(st.get(&x, false).await.unwrap().policy_arn, None);
    }

    #[tokio::test]
    async fn concurrent_creates_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let st = std::sync::Arc::new(store(dir.path()));
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let st = st.clone();
                tokio::spawn(async move { st.create(&s("ns", &format!("s{i}")), "v").await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(store(dir.path()).list("ns").await.unwrap().len(), 20);
    }

    #[tokio::test]
    async fn oversized_values_are_refused_with_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let err = store(dir.path())
            .create(&s("ns", "big"), &"x".repeat(70_000))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("65536"), "{err}");
    }
}
