//! The local backend: secrets, read policies and bindings in one JSON file.
//!
//! It has the AWS backend's semantics (ownership by tags, names derived with
//! the same [`Naming`], recovery window, version ids, policies, bindings):
//! both decide with [`super::rules`], and `tests/store_contract.rs` runs one
//! suite against both. Every change is written
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

use super::naming::{self, TAG_NAME, TAG_NAMESPACE};
use super::rules::{self, Found, Holder, Holders, PolicyFound, PolicyPlan, PolicyState};
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
    /// The policy document (empty in files written before it was kept).
    #[serde(default)]
    document: String,
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

fn tags_of(secret: &SecretRef) -> BTreeMap<String, String> {
    rules::kiss_tags(secret)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn pairs(tags: &BTreeMap<String, String>) -> Vec<(&str, &str)> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The ARN a secret has here: AWS's shape, without AWS's random suffix.
fn secret_arn(aws_name: &str) -> String {
    format!("arn:aws:secretsmanager:{LOCAL_REGION}:{LOCAL_ACCOUNT}:secret:{aws_name}")
}

/// Gives policies written before the store kept documents the one kiss
/// wrote for them, so that they stay kiss's.
fn fill_in_documents(data: &mut Data, naming: &Naming) {
    for policy in data.policies.values_mut().filter(|p| p.document.is_empty()) {
        let (Some(ns), Some(name)) = (policy.tags.get(TAG_NAMESPACE), policy.tags.get(TAG_NAME))
        else {
            continue;
        };
        if let Ok(aws_name) = naming.secret_name(&SecretRef::new(ns, name)) {
            policy.document = rules::read_policy_document(&secret_arn(&aws_name));
        }
    }
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
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                return Err(StoreError::Internal(format!(
                    "cannot read the store file {}: {e}",
                    path.display()
                )));
            }
        };
        LocalStore::from_bytes(path, bytes.as_deref(), naming, recovery_days)
    }

    /// The store as [`LocalStore::open`] makes it once the file at `path`
    /// was read: `bytes` is its content (`None`: no file yet). Changes are
    /// written to `path`. For `open` and the fuzz targets.
    #[doc(hidden)]
    pub fn from_bytes(
        path: PathBuf,
        bytes: Option<&[u8]>,
        naming: Naming,
        recovery_days: u32,
    ) -> StoreResult<LocalStore> {
        let mut data = match bytes {
            Some(bytes) => serde_json::from_slice(bytes).map_err(|e| {
                StoreError::Internal(format!(
                    "the store file {} is not valid: {e}; restore it from a backup or move it away",
                    path.display()
                ))
            })?,
            None => Data::default(),
        };
        fill_in_documents(&mut data, &naming);
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

    /// Whose the secret's derived name is, with its record and that name.
    fn holder<'a>(
        &self,
        data: &'a Data,
        secret: &SecretRef,
    ) -> StoreResult<(String, Holder<&'a Record>)> {
        let aws_name = self.naming.secret_name(secret)?;
        let found = data.secrets.get(&aws_name).map(|rec| {
            let found = Found {
                name: &aws_name,
                tags: pairs(&rec.tags),
                deleted: rec.deleted.is_some(),
            };
            (found, rec)
        });
        let holder = Holder::of(secret, &aws_name, found);
        Ok((aws_name, holder))
    }

    /// The read policy's name, whose it is, and the record under the name.
    fn policy<'a>(
        &self,
        data: &'a Data,
        secret: &SecretRef,
    ) -> StoreResult<(String, PolicyState, Option<&'a Policy>)> {
        let name = self.naming.policy_name(secret)?;
        let aws_name = self.naming.secret_name(secret)?;
        let policy = data.policies.get(&name);
        let found = policy.map(|p| PolicyFound {
            tags: pairs(&p.tags),
            document: &p.document,
        });
        let state = PolicyState::of(secret, &aws_name, found);
        Ok((name, state, policy))
    }

    fn holders(&self, namespace: &str, policy: &Policy) -> Holders {
        Holders::of(
            &self.naming,
            namespace,
            policy.roles.iter().map(String::as_str),
        )
    }

    /// The namespace's secrets, live or scheduled for deletion, sorted.
    fn listed<T>(
        &self,
        data: &Data,
        namespace: &str,
        deleted: bool,
        entry: impl Fn(&str, &Record) -> T,
        name: impl Fn(&T) -> &str,
    ) -> Vec<T> {
        let mut out: Vec<T> = data
            .secrets
            .iter()
            .filter(|(_, r)| r.deleted.is_some() == deleted)
            .filter_map(|(aws_name, r)| {
                let tags = pairs(&r.tags);
                let kiss_name = rules::listed_name(&self.naming, namespace, aws_name, &tags)?;
                Some(entry(kiss_name, r))
            })
            .collect();
        rules::sort_by_name(&mut out, name);
        out
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
        self.modify(|data| {
            let (aws_name, holder) = self.holder(data, secret)?;
            if let Some(taken) = holder.why_taken(secret) {
                return Err(taken);
            }
            let now = now_secs();
            let version = new_version();
            let record = Record {
                tags: tags_of(secret),
                arn: secret_arn(&aws_name),
                value: value.to_owned(),
                version_id: version.clone(),
                created: now,
                last_changed: now,
                last_accessed: None,
                deleted: None,
                deletion_date: None,
            };
            data.secrets.insert(aws_name, record);
            Ok(version)
        })
        .await
    }

    async fn list(&self, namespace: &str) -> StoreResult<Vec<SecretEntry>> {
        self.read(|data| {
            let entry = |name: &str, r: &Record| SecretEntry {
                name: name.to_owned(),
                created: Some(to_time(r.created)),
                last_changed: Some(to_time(r.last_changed)),
            };
            Ok(self.listed(data, namespace, false, entry, |e| &e.name))
        })
        .await
    }

    async fn list_deleted(&self, namespace: &str) -> StoreResult<Vec<DeletedEntry>> {
        self.read(|data| {
            let entry = |name: &str, r: &Record| DeletedEntry {
                name: name.to_owned(),
                deleted: r.deleted.map(to_time),
                deletion_date: r.deletion_date.map(to_time),
            };
            Ok(self.listed(data, namespace, true, entry, |e| &e.name))
        })
        .await
    }

    async fn get(&self, secret: &SecretRef, include_value: bool) -> StoreResult<SecretDetails> {
        let read = |data: &Data| -> StoreResult<SecretDetails> {
            let (aws_name, holder) = self.holder(data, secret)?;
            let rec = holder.owned_live(secret)?;
            // IAM allows shorter names than Secrets Manager: a secret whose
            // read policy name would be too long can have none, so it shows none.
            let policy = match self.policy(data, secret) {
                Ok((_, state, policy)) => policy.filter(|_| state.reported()),
                Err(StoreError::Invalid(_)) => None,
                Err(other) => return Err(other),
            };
            Ok(SecretDetails {
                name: secret.name.clone(),
                namespace: secret.namespace.clone(),
                aws_name,
                arn: rec.arn.clone(),
                created: Some(to_time(rec.created)),
                last_changed: Some(to_time(rec.last_changed)),
                last_accessed: rec.last_accessed.map(to_time),
                version_id: rec.version_id.clone(),
                policy_arn: policy.map(|p| p.arn.clone()),
                bound_service_accounts: policy
                    .map(|p| self.holders(&secret.namespace, p).service_accounts())
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
            let (aws_name, holder) = self.holder(data, secret)?;
            let rec = holder.owned_live(secret)?;
            rules::check_version(secret, expected_version, Some(&rec.version_id))?;
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
            let (aws_name, holder) = self.holder(data, secret)?;
            holder.owned_live(secret)?;
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
            let (aws_name, holder) = self.holder(data, secret)?;
            holder.restorable(secret)?;
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
            let secret_arn = self.holder(data, secret)?.1.owned_live(secret)?.arn.clone();
            let (name, state, _) = self.policy(data, secret)?;
            let document = rules::read_policy_document(&secret_arn);
            let arn = format!("arn:aws:iam::{LOCAL_ACCOUNT}:policy/{name}");
            match state.plan(secret, &name, &secret_arn)? {
                PolicyPlan::Create => {
                    let policy = Policy {
                        arn: arn.clone(),
                        tags: tags_of(secret),
                        document,
                        roles: BTreeSet::new(),
                    };
                    data.policies.insert(name, policy);
                }
                PolicyPlan::Repoint => {
                    if let Some(p) = data.policies.get_mut(&name) {
                        p.document = document;
                    }
                }
            }
            Ok(arn)
        })
        .await
    }

    async fn delete_policy(&self, secret: &SecretRef, unbind: bool) -> StoreResult<Vec<String>> {
        self.modify(|data| {
            let (_, holder) = self.holder(data, secret)?;
            let (name, state, policy) = self.policy(data, secret)?;
            rules::may_delete_policy_of(secret, &holder, &state, &name)?;
            let holders = policy
                .map(|p| self.holders(&secret.namespace, p))
                .unwrap_or_default();
            holders.may_delete(secret, unbind)?;
            data.policies.remove(&name);
            Ok(if unbind {
                holders.service_accounts()
            } else {
                Vec::new()
            })
        })
        .await
    }

    async fn bind(&self, secret: &SecretRef, service_account: &str) -> StoreResult<()> {
        let role = self.naming.role_name(&secret.namespace, service_account)?;
        self.modify(|data| {
            self.holder(data, secret)?.1.owned_live(secret)?;
            let (name, state, _) = self.policy(data, secret)?;
            state.require(secret, &name)?;
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
            self.holder(data, secret)?.1.owned(secret)?;
            let (name, state, _) = self.policy(data, secret)?;
            state.unbindable(secret, &name, service_account)?;
            let removed = data
                .policies
                .get_mut(&name)
                .is_some_and(|p| p.roles.remove(&role));
            if removed {
                Ok(())
            } else {
                Err(rules::not_bound(secret, service_account))
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    // What every backend must do is in tests/store_contract.rs; these are
    // about the file.
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
    async fn policies_from_files_without_documents_stay_kiss() {
        let dir = tempfile::tempdir().unwrap();
        let x = s("ns", "x");
        {
            let st = store(dir.path());
            st.create(&x, "v").await.unwrap();
            st.create_policy(&x).await.unwrap();
            st.bind(&x, "app").await.unwrap();
        }
        // As an older kiss wrote it: no document.
        let path = dir.path().join(STORE_FILE);
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let policy = &mut json["policies"]["k8s-secret_ns_x"];
        policy.as_object_mut().unwrap().remove("document");
        std::fs::write(&path, serde_json::to_vec(&json).unwrap()).unwrap();

        let st = store(dir.path());
        let details = st.get(&x, false).await.unwrap();
        assert!(details.policy_arn.is_some());
        assert_eq!(details.bound_service_accounts, ["app"]);
        assert_eq!(st.delete_policy(&x, true).await.unwrap(), ["app"]);
    }
}
