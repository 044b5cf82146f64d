//! The local backend: secrets, read policies and bindings in one JSON file.
//!
//! It has the AWS backend's semantics (ownership by tags, names derived with
//! the same [`Naming`], recovery window, version ids, policies, bindings):
//! both decide with [`super::rules`], and `tests/store_contract.rs` runs one
//! suite against both. There is no IAM here: every ServiceAccount role exists.
//!
//! On disk it is a snapshot (`kiss-store.json`) and a journal
//! (`kiss-store.journal`, one JSON line per change, holding the changed
//! entries' new state; of a secret's earlier versions only the ones the
//! change added, so that a line stays as small as the change however long
//! the history is). A change is appended and fsynced before it is
//! answered, under one lock, so concurrent requests never interleave and a
//! crash loses nothing acknowledged; a torn last line (the crash came
//! mid-append, before the answer) is dropped when the store is opened. Once
//! the journal outgrows the snapshot it is folded into a new snapshot
//! (temp file, fsync, rename, fsync of the directory). Rewriting the whole
//! file for every change, as the store first did, cost a write of the
//! entire store per change and capped a busy dev server at a dozen writes a
//! second.

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
    CURRENT, DeletedEntry, MAX_VERSIONS, Naming, PREVIOUS, SecretDetails, SecretEntry, SecretRef,
    SecretStore, StoreError, StoreResult, VersionEntry,
};

/// The snapshot's name inside `--data-dir`.
pub const STORE_FILE: &str = "kiss-store.json";
/// The journal's name inside `--data-dir`: changes since the snapshot.
pub const JOURNAL_FILE: &str = "kiss-store.journal";

/// The journal is folded into the snapshot once it is larger than the
/// snapshot and than this, so that folding costs at most about as much as
/// the appends it replaces.
const FOLD_AFTER: u64 = 1 << 20;

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
    /// Who wrote the current value (files written before kiss kept
    /// authors have none).
    #[serde(default)]
    author: Option<String>,
    /// The values before the current one, newest first: at most
    /// [`MAX_VERSIONS`] versions in all, as AWS keeps. Journal lines leave
    /// it out (their [`HistoryChange`] says what changed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    history: Vec<Version>,
}

/// An earlier value.
#[derive(Clone, Serialize, Deserialize)]
struct Version {
    version_id: String,
    value: String,
    created: u64,
    author: Option<String>,
}

impl Record {
    /// Makes `value` the current version, the current one the newest
    /// earlier one. Returns the new version id.
    fn write(&mut self, value: &str, author: Option<&str>) -> String {
        let now = now_secs();
        let version = new_version();
        let replaced = Version {
            version_id: std::mem::replace(&mut self.version_id, version.clone()),
            value: std::mem::replace(&mut self.value, value.to_owned()),
            created: self.last_changed,
            author: std::mem::replace(&mut self.author, author.map(str::to_owned)),
        };
        self.history.insert(0, replaced);
        self.history.truncate(MAX_VERSIONS - 1);
        self.last_changed = now;
        version
    }

    /// The record without its history, as a journal line holds it.
    fn without_history(&self) -> Record {
        Record {
            tags: self.tags.clone(),
            arn: self.arn.clone(),
            value: self.value.clone(),
            version_id: self.version_id.clone(),
            created: self.created,
            last_changed: self.last_changed,
            last_accessed: self.last_accessed,
            deleted: self.deleted,
            deletion_date: self.deletion_date,
            author: self.author.clone(),
            history: Vec::new(),
        }
    }

    /// The value of `version_id`, current or earlier.
    fn value_of(&self, version_id: &str) -> Option<&str> {
        if self.version_id == version_id {
            return Some(&self.value);
        }
        self.history
            .iter()
            .find(|v| v.version_id == version_id)
            .map(|v| v.value.as_str())
    }
}

fn version_not_found(secret: &SecretRef, version: &str) -> StoreError {
    StoreError::VersionNotFound {
        name: secret.name.clone(),
        version: version.to_owned(),
    }
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

/// One journal line: the new state of the entries a change touched (`None`:
/// removed). Applying it again is harmless, so a journal already folded into
/// the snapshot (a crash between the two steps) replays to the same data.
///
/// The secret's record comes without its history, and `history` says how
/// the change moved it: a new version costs one earlier value in the line,
/// not the up to 99 the secret holds. Lines of earlier kiss-servers have
/// no `history` and hold the whole record, history included: they are
/// applied as they are, so an existing journal still loads.
#[derive(Serialize, Deserialize)]
struct Change {
    secret: (String, Option<Record>),
    #[serde(default, skip_serializing_if = "Option::is_none")]
    history: Option<HistoryChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    policy: Option<(String, Option<Policy>)>,
}

impl Change {
    fn apply(self, data: &mut Data) {
        match (self.secret, self.history) {
            ((key, Some(mut record)), Some(history)) => {
                let old = data
                    .secrets
                    .remove(&key)
                    .map(|r| r.history)
                    .unwrap_or_default();
                record.history = history.rebuild(old);
                data.secrets.insert(key, record);
            }
            (secret, _) => put(&mut data.secrets, secret),
        }
        if let Some(policy) = self.policy {
            put(&mut data.policies, policy);
        }
    }
}

/// How a change moved a secret's earlier versions: `added` (newest first)
/// went in front of the versions from `kept_from` on, and the whole was cut
/// to `len` versions. Every change the store makes has that shape (a write
/// adds the replaced version and may drop the oldest; anything else adds
/// none), so a line holds the added versions only.
///
/// `kept_from` names a version, not a position, so that replaying the line
/// onto a newer state (a journal already folded into the snapshot) first
/// goes back to the history the line saw, and the lines after it rebuild
/// the rest: the same data in the end. A `kept_from` the history does not
/// hold (none, or dropped since) keeps nothing.
#[derive(Serialize, Deserialize)]
struct HistoryChange {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    added: Vec<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kept_from: Option<String>,
    len: usize,
}

impl HistoryChange {
    /// What turned `before` into `after`.
    fn between(before: &[Version], after: &[Version]) -> HistoryChange {
        if let Some(first) = before.first()
            && let Some(at) = after.iter().position(|v| v.version_id == first.version_id)
        {
            let kept = &after[at..];
            let kept_before = kept.len() <= before.len()
                && kept
                    .iter()
                    .zip(before)
                    .all(|(a, b)| a.version_id == b.version_id);
            if kept_before {
                return HistoryChange {
                    added: after[..at].to_vec(),
                    kept_from: Some(first.version_id.clone()),
                    len: after.len(),
                };
            }
        }
        // Not the shape above (no change of the store's makes this): the
        // whole history, still correct.
        HistoryChange {
            added: after.to_vec(),
            kept_from: None,
            len: after.len(),
        }
    }

    /// The history after the change, from the one before it.
    fn rebuild(self, old: Vec<Version>) -> Vec<Version> {
        let mut history = self.added;
        if let Some(from) = &self.kept_from
            && let Some(at) = old.iter().position(|v| &v.version_id == from)
        {
            history.extend(old.into_iter().skip(at));
        }
        history.truncate(self.len);
        history
    }
}

fn put<V>(map: &mut BTreeMap<String, V>, (key, value): (String, Option<V>)) {
    match value {
        Some(v) => {
            map.insert(key, v);
        }
        None => {
            map.remove(&key);
        }
    }
}

/// The keys a change may touch: a secret's derived name and its read
/// policy's (none when the policy name would be too long for IAM).
struct Keys {
    secret: String,
    policy: Option<String>,
}

impl Keys {
    /// The entries' whole state, to put back if a change cannot be written.
    fn state(&self, data: &Data) -> Change {
        Change {
            secret: (self.secret.clone(), data.secrets.get(&self.secret).cloned()),
            history: None,
            policy: self.policy_state(data),
        }
    }

    /// The journal line of the change from `before` (the entries'
    /// [`Keys::state`] then) to `data`.
    fn line(&self, before: &Change, data: &Data) -> Change {
        let record = data.secrets.get(&self.secret);
        let old = before.secret.1.as_ref().map_or(&[][..], |r| &r.history);
        Change {
            secret: (self.secret.clone(), record.map(Record::without_history)),
            history: record.map(|r| HistoryChange::between(old, &r.history)),
            policy: self.policy_state(data),
        }
    }

    fn policy_state(&self, data: &Data) -> Option<(String, Option<Policy>)> {
        self.policy
            .as_ref()
            .map(|p| (p.clone(), data.policies.get(p).cloned()))
    }
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
    journal_path: PathBuf,
    naming: Naming,
    recovery: Duration,
    state: Mutex<State>,
}

struct State {
    data: Data,
    /// The journal, open for appending (opened at the first change).
    journal: Option<std::fs::File>,
    journal_len: u64,
    snapshot_len: u64,
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
        let bytes = read_if_there(&path)?;
        let mut store = LocalStore::from_bytes(path, bytes.as_deref(), naming, recovery_days)?;
        if let Some(journal) = read_if_there(&store.journal_path)? {
            let state = store.state.get_mut();
            let good = replay(&journal, &mut state.data).map_err(|line| {
                StoreError::Internal(format!(
                    "the store's journal {} is damaged at line {line}; restore the data \
                     directory from a backup or move the journal away (losing the changes \
                     since the snapshot)",
                    store.journal_path.display()
                ))
            })?;
            fill_in_documents(&mut state.data, &store.naming);
            state.journal_len = good;
            if good < journal.len() as u64 {
                // A torn append: never acknowledged. Cut it off, or the next
                // change would be appended to it.
                truncate(&store.journal_path, good).map_err(|e| {
                    StoreError::Internal(format!(
                        "cannot repair the store's journal {}: {e}",
                        store.journal_path.display()
                    ))
                })?;
            }
        }
        Ok(store)
    }

    /// Whether `dir` holds a store (a snapshot or a journal).
    pub fn exists(dir: &Path) -> bool {
        dir.join(STORE_FILE).exists() || dir.join(JOURNAL_FILE).exists()
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
            journal_path: path.with_file_name(JOURNAL_FILE),
            path,
            naming,
            recovery: Duration::from_secs(u64::from(recovery_days) * 86_400),
            state: Mutex::new(State {
                data,
                journal: None,
                journal_len: 0,
                snapshot_len: bytes.map_or(0, |b| b.len() as u64),
            }),
        })
    }

    /// Where the store file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes `change` durable: appended to the journal and fsynced, then
    /// the journal folded into the snapshot if it has grown past it.
    fn persist(&self, state: &mut State, change: &Change) -> StoreResult<()> {
        let unavailable = |e: std::io::Error| {
            StoreError::Unavailable(format!(
                "cannot write the store's journal: {e}; check the disk under --data-dir, then try again"
            ))
        };
        let mut line = serde_json::to_vec(change)
            .map_err(|e| StoreError::Internal(format!("cannot encode a change: {e}")))?;
        line.push(b'\n');
        let journal = match &mut state.journal {
            Some(f) => f,
            None => state
                .journal
                .insert(open_journal(&self.journal_path).map_err(unavailable)?),
        };
        if let Err(e) = journal.write_all(&line).and_then(|()| journal.sync_data()) {
            // Whatever part of the line reached the file must not stay in
            // front of the next change.
            let _ = journal.set_len(state.journal_len);
            return Err(unavailable(e));
        }
        state.journal_len += line.len() as u64;
        if state.journal_len > FOLD_AFTER.max(state.snapshot_len) {
            // The change is durable already: a failed fold is retried at
            // the next change, and only logged.
            if let Err(e) = self.fold(state) {
                tracing::warn!(
                    error = %e,
                    journal = %self.journal_path.display(),
                    "cannot fold the store's journal into its snapshot; will retry"
                );
            }
        }
        Ok(())
    }

    /// Writes the data as the new snapshot and empties the journal.
    fn fold(&self, state: &mut State) -> std::io::Result<()> {
        let bytes = serde_json::to_vec(&state.data).map_err(std::io::Error::other)?;
        write_atomically(&self.path, &bytes)?;
        state.snapshot_len = bytes.len() as u64;
        let journal = match &mut state.journal {
            Some(f) => f,
            None => state.journal.insert(open_journal(&self.journal_path)?),
        };
        journal.set_len(0)?;
        journal.sync_data()?;
        state.journal_len = 0;
        Ok(())
    }

    /// Runs `f` on the data under the lock and makes the result durable
    /// before the lock is released; on a failed write the change is rolled
    /// back. `f` changes nothing but the secret named by `secret` and its
    /// read policy.
    ///
    /// Nothing awaits between the change and its write, so a caller's
    /// deadline or cancellation cannot leave a change in memory (or on disk)
    /// that the caller was told did not happen. The price is a blocking
    /// append on a runtime thread, acceptable for a development backend.
    async fn modify<T>(
        &self,
        secret: &SecretRef,
        f: impl FnOnce(&mut Data) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let keys = Keys {
            secret: self.naming.secret_name(secret)?,
            policy: self.naming.policy_name(secret).ok(),
        };
        let mut state = self.state.lock().await;
        purge_expired(&mut state.data);
        let before = keys.state(&state.data);
        let out = f(&mut state.data)?;
        let line = keys.line(&before, &state.data);
        if let Err(e) = self.persist(&mut state, &line) {
            before.apply(&mut state.data);
            return Err(e);
        }
        Ok(out)
    }

    async fn read<T>(&self, f: impl FnOnce(&Data) -> StoreResult<T>) -> StoreResult<T> {
        let mut state = self.state.lock().await;
        purge_expired(&mut state.data);
        f(&state.data)
    }

    /// The record of `secret`, if it is `secret`'s and live, to change.
    fn owned_live_mut<'a>(
        &self,
        data: &'a mut Data,
        secret: &SecretRef,
    ) -> StoreResult<&'a mut Record> {
        let (aws_name, holder) = self.holder(data, secret)?;
        holder.owned_live(secret)?;
        data.secrets
            .get_mut(&aws_name)
            .ok_or_else(|| rules::not_found(secret))
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

fn read_if_there(path: &Path) -> StoreResult<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Internal(format!(
            "cannot read the store file {}: {e}",
            path.display()
        ))),
    }
}

/// Applies the journal's changes to `data`: the length of its good part,
/// or the (1-based) line that is damaged. Only the last line may be torn.
fn replay(journal: &[u8], data: &mut Data) -> Result<u64, usize> {
    let mut good = 0;
    for (i, line) in journal.split_inclusive(|b| *b == b'\n').enumerate() {
        let complete = line.ends_with(b"\n");
        match serde_json::from_slice::<Change>(line) {
            Ok(change) if complete => change.apply(data),
            // Not fsynced, so never answered: the crash came mid-append.
            _ if good + line.len() == journal.len() => break,
            _ => return Err(i + 1),
        }
        good += line.len();
    }
    Ok(good as u64)
}

fn truncate(path: &Path, len: u64) -> std::io::Result<()> {
    let f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.set_len(len)?;
    f.sync_all()
}

fn private_options() -> std::fs::OpenOptions {
    #[allow(unused_mut, reason = "the mode is set on unix only")]
    let mut opts = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Secret values are in these files.
        opts.mode(0o600);
    }
    opts
}

fn open_journal(path: &Path) -> std::io::Result<std::fs::File> {
    let created = !path.exists();
    let f = private_options().append(true).create(true).open(path)?;
    if created {
        // Make the new file's name durable.
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(f)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("json.tmp");
    {
        let mut f = private_options()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
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
    async fn create_as(
        &self,
        secret: &SecretRef,
        value: &str,
        author: Option<&str>,
    ) -> StoreResult<String> {
        naming::check_value(value)?;
        self.modify(secret, |data| {
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
                author: author.map(str::to_owned),
                history: Vec::new(),
            };
            data.secrets.insert(aws_name, record);
            Ok(version)
        })
        .await
    }

    fn recovery_days(&self) -> u32 {
        u32::try_from(self.recovery.as_secs() / 86_400).unwrap_or(u32::MAX)
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
        self.modify(secret, |data| {
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

    async fn update_as(
        &self,
        secret: &SecretRef,
        value: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String> {
        naming::check_value(value)?;
        self.modify(secret, |data| {
            let rec = self.owned_live_mut(data, secret)?;
            rules::check_version(secret, expected_version, Some(&rec.version_id))?;
            Ok(rec.write(value, author))
        })
        .await
    }

    async fn rollback(
        &self,
        secret: &SecretRef,
        version_id: &str,
        expected_version: Option<&str>,
        author: Option<&str>,
    ) -> StoreResult<String> {
        self.modify(secret, |data| {
            let rec = self.owned_live_mut(data, secret)?;
            rules::check_version(secret, expected_version, Some(&rec.version_id))?;
            let value = rec
                .value_of(version_id)
                .ok_or_else(|| version_not_found(secret, version_id))?
                .to_owned();
            Ok(rec.write(&value, author))
        })
        .await
    }

    async fn versions(&self, secret: &SecretRef) -> StoreResult<Vec<VersionEntry>> {
        self.read(|data| {
            let rec = self.holder(data, secret)?.1.owned_live(secret)?;
            let current = VersionEntry {
                version_id: rec.version_id.clone(),
                created: Some(to_time(rec.last_changed)),
                labels: vec![CURRENT.to_owned()],
                author: rec.author.clone(),
            };
            let earlier = rec.history.iter().enumerate().map(|(i, v)| VersionEntry {
                version_id: v.version_id.clone(),
                created: Some(to_time(v.created)),
                labels: if i == 0 {
                    vec![PREVIOUS.to_owned()]
                } else {
                    Vec::new()
                },
                author: v.author.clone(),
            });
            Ok(std::iter::once(current).chain(earlier).collect())
        })
        .await
    }

    async fn get_version(
        &self,
        secret: &SecretRef,
        version_id: &str,
        include_value: bool,
    ) -> StoreResult<SecretDetails> {
        let details = self.get(secret, include_value).await?;
        if details.version_id == version_id {
            return Ok(details);
        }
        let value = self
            .read(|data| {
                let rec = self.holder(data, secret)?.1.owned_live(secret)?;
                rec.value_of(version_id)
                    .map(str::to_owned)
                    .ok_or_else(|| version_not_found(secret, version_id))
            })
            .await?;
        Ok(SecretDetails {
            version_id: version_id.to_owned(),
            value: include_value.then_some(value),
            ..details
        })
    }

    async fn delete(&self, secret: &SecretRef) -> StoreResult<Option<SystemTime>> {
        let recovery = self.recovery.as_secs();
        self.modify(secret, |data| {
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
        self.modify(secret, |data| {
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
        self.modify(secret, |data| {
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
        self.modify(secret, |data| {
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
        self.modify(secret, |data| {
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
        self.modify(secret, |data| {
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
            st.fold(&mut *st.state.lock().await).unwrap();
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

    /// Everything the store holds, as its snapshot would.
    async fn contents(st: &LocalStore) -> serde_json::Value {
        serde_json::to_value(&st.state.lock().await.data).unwrap()
    }

    /// Every kind of change, as the journal replays it after a reopen.
    #[tokio::test]
    async fn every_change_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (s("ns", "a"), s("ns", "b"));
        let st = store(dir.path());
        st.create(&a, "v1").await.unwrap();
        st.create(&b, "v1").await.unwrap();
        st.update(&a, "v2", None).await.unwrap();
        st.get(&a, true).await.unwrap(); // records the access
        st.create_policy(&a).await.unwrap();
        st.bind(&a, "app").await.unwrap();
        st.bind(&a, "worker").await.unwrap();
        st.unbind(&a, "worker").await.unwrap();
        st.delete(&b).await.unwrap();
        st.restore(&b).await.unwrap();
        st.delete(&b).await.unwrap();
        st.create(&s("ns", "gone"), "v").await.unwrap();
        st.create_policy(&s("ns", "gone")).await.unwrap();
        st.delete_policy(&s("ns", "gone"), false).await.unwrap();
        let want = contents(&st).await;
        drop(st);
        assert!(!dir.path().join(STORE_FILE).exists(), "all in the journal");
        assert_eq!(contents(&store(dir.path())).await, want);

        // And a permanent delete, on a store opened without a window.
        let st = LocalStore::open(dir.path(), Naming::default(), 0).unwrap();
        st.delete(&a).await.unwrap();
        let want = contents(&st).await;
        drop(st);
        let reopened = LocalStore::open(dir.path(), Naming::default(), 0).unwrap();
        assert_eq!(contents(&reopened).await, want);
        assert!(reopened.get(&a, false).await.is_err());
    }

    /// A crash in the middle of an append leaves a torn last line: it was
    /// never acknowledged, so it is dropped, and the next change lands after
    /// the good part.
    #[tokio::test]
    async fn a_torn_last_line_is_dropped_and_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join(JOURNAL_FILE);
        store(dir.path())
            .create(&s("ns", "kept"), "v")
            .await
            .unwrap();
        let good = std::fs::read(&journal).unwrap();
        let mut torn = good.clone();
        torn.extend_from_slice(br#"{"secret":["k8s-secret-ns-torn",{"tags""#);
        std::fs::write(&journal, &torn).unwrap();

        let st = store(dir.path());
        assert_eq!(
            std::fs::read(&journal).unwrap(),
            good,
            "the torn line is cut"
        );
        st.create(&s("ns", "next"), "v").await.unwrap();
        drop(st);
        let names: Vec<_> = store(dir.path())
            .list("ns")
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, ["kept", "next"]);
    }

    #[tokio::test]
    async fn a_damaged_line_before_the_last_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join(JOURNAL_FILE);
        let st = store(dir.path());
        st.create(&s("ns", "one"), "v").await.unwrap();
        st.create(&s("ns", "two"), "v").await.unwrap();
        drop(st);
        let text = std::fs::read_to_string(&journal).unwrap();
        let damaged = text.replacen("{", "#", 1);
        std::fs::write(&journal, damaged).unwrap();
        let Err(e) = LocalStore::open(dir.path(), Naming::default(), 7) else {
            panic!("a damaged journal was accepted");
        };
        let message = e.to_string();
        assert!(message.contains("damaged at line 1"), "{message}");
        assert!(message.contains(JOURNAL_FILE), "{message}");
    }

    /// Past [`FOLD_AFTER`] the journal is folded into the snapshot; a crash
    /// between writing the snapshot and emptying the journal replays the
    /// journal onto a snapshot that already holds it, to the same data.
    #[tokio::test]
    async fn the_journal_is_folded_and_replaying_a_folded_one_is_harmless() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join(JOURNAL_FILE);
        let st = store(dir.path());
        let value = "x".repeat(4096);
        let mut copy = Vec::new();
        let mut i = 0;
        while !dir.path().join(STORE_FILE).exists() {
            copy = std::fs::read(&journal).unwrap_or_default();
            st.create(&s("ns", &format!("s{i}")), &value).await.unwrap();
            i += 1;
            assert!(i < 1000, "never folded");
        }
        assert!(
            std::fs::metadata(&journal).unwrap().len() < 1024,
            "the journal was emptied"
        );
        let want = contents(&st).await;
        drop(st);
        assert_eq!(contents(&store(dir.path())).await, want);

        // The crash: the snapshot written, the journal still full.
        let last = Keys {
            secret: format!("k8s-secret-ns-s{}", i - 1),
            policy: None,
        };
        let st = store(dir.path());
        serde_json::to_writer(&mut copy, &last.state(&st.state.lock().await.data)).unwrap();
        copy.push(b'\n');
        drop(st);
        std::fs::write(&journal, &copy).unwrap();
        assert_eq!(contents(&store(dir.path())).await, want);
    }

    /// A secret of `MAX_VERSIONS` versions of 1 KiB each.
    async fn long_history(st: &LocalStore, secret: &SecretRef) {
        let mut version = st.create(secret, &kib(0)).await.unwrap();
        for i in 1..MAX_VERSIONS {
            version = st.update(secret, &kib(i), Some(&version)).await.unwrap();
        }
    }

    fn kib(i: usize) -> String {
        format!("{i:04}").repeat(256)
    }

    /// An update journals the new value and the version it replaced, not
    /// the whole history: the journal grows by the change, not by the
    /// secret's length.
    #[tokio::test]
    async fn an_update_of_a_long_history_journals_only_what_changed() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join(JOURNAL_FILE);
        let db = s("ns", "db");
        let st = store(dir.path());
        long_history(&st, &db).await;
        assert_eq!(st.versions(&db).await.unwrap().len(), MAX_VERSIONS);
        // An empty journal: what follows is all it holds.
        st.fold(&mut *st.state.lock().await).unwrap();

        let len = || std::fs::metadata(&journal).map_or(0, |m| m.len());
        for i in 0..10 {
            let before = len();
            st.update(&db, &kib(MAX_VERSIONS + i), None).await.unwrap();
            let written = len().saturating_sub(before);
            // Two values of 1 KiB (the new one, the one it replaced) and
            // the names, ids and times around them.
            assert!(
                (1..3 * 1024).contains(&written),
                "update {i} of a {MAX_VERSIONS}-version secret journaled {written} bytes"
            );
        }
        let versions = st.versions(&db).await.unwrap();
        assert_eq!(versions.len(), MAX_VERSIONS, "the oldest are dropped");
        let want = contents(&st).await;
        drop(st);
        assert_eq!(contents(&store(dir.path())).await, want);
    }

    /// Writes past the version cap, with other changes between them, then
    /// the crash between folding and emptying the journal: replaying the
    /// journal onto the snapshot that already holds it gives the same data.
    #[tokio::test]
    async fn a_folded_journal_of_versions_replays_to_the_same_history() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join(JOURNAL_FILE);
        let db = s("ns", "db");
        let st = store(dir.path());
        st.create(&db, "v0").await.unwrap();
        for i in 1..MAX_VERSIONS + 20 {
            st.update_as(&db, &format!("v{i}"), None, Some("ann@example.com"))
                .await
                .unwrap();
            if i == 60 {
                st.create_policy(&db).await.unwrap();
                st.bind(&db, "app").await.unwrap();
                st.get(&db, true).await.unwrap();
            }
        }
        let first = st.versions(&db).await.unwrap()[MAX_VERSIONS - 1]
            .version_id
            .clone();
        st.rollback(&db, &first, None, None).await.unwrap();
        assert!(!dir.path().join(STORE_FILE).exists(), "all in the journal");
        let lines = std::fs::read(&journal).unwrap();
        let want = contents(&st).await;
        st.fold(&mut *st.state.lock().await).unwrap();
        drop(st);
        assert_eq!(contents(&store(dir.path())).await, want, "folded");

        std::fs::write(&journal, &lines).unwrap();
        let st = store(dir.path());
        assert_eq!(contents(&st).await, want, "folded, then replayed again");
        let got = st.get(&db, true).await.unwrap();
        assert_eq!(got.value.as_deref(), Some("v20"));
    }

    /// A journal an earlier kiss-server wrote, each line holding the whole
    /// record with its history, still loads; lines of both kinds replay
    /// together.
    #[tokio::test]
    async fn a_journal_of_whole_records_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join(JOURNAL_FILE);
        let old = include_str!("../../testdata/journal-whole-records.jsonl");
        std::fs::write(&journal, old).unwrap();
        let db = s("team-a", "db");
        let st = store(dir.path());
        let history = st.versions(&db).await.unwrap();
        let mut seen = Vec::new();
        for v in &history {
            let value = st
                .get_version(&db, &v.version_id, true)
                .await
                .unwrap()
                .value;
            seen.push((value.unwrap(), v.author.clone()));
        }
        let who = |w: &str| Some(format!("{w}@example.com"));
        assert_eq!(
            seen,
            [
                ("one".to_owned(), who("cat")),
                ("three".to_owned(), None),
                ("two".to_owned(), who("bob")),
                ("one".to_owned(), who("ann")),
            ]
        );
        assert_eq!(
            st.get(&db, false).await.unwrap().bound_service_accounts,
            ["app"]
        );

        st.update_as(&db, "four", None, Some("dan@example.com"))
            .await
            .unwrap();
        let want = contents(&st).await;
        drop(st);
        let text = std::fs::read_to_string(&journal).unwrap();
        assert!(text.starts_with(old), "the old lines are kept");
        let line: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert!(line["history"].is_object(), "{line}");
        assert!(line["secret"][1].get("history").is_none(), "{line}");
        let st = store(dir.path());
        assert_eq!(contents(&st).await, want);
        assert_eq!(st.versions(&db).await.unwrap().len(), 5);
    }
}
