//! The ownership and lifecycle rules, decided once for every backend.
//!
//! A backend gathers facts (what holds a secret's derived name and with
//! which tags, whether it is scheduled for deletion, its current version,
//! the read policy's tags, document and holders) and asks these functions
//! what they mean. Identical situations therefore give identical answers,
//! and identical errors, whichever backend keeps the secrets.

use serde_json::Value;

use super::naming::{MANAGED_BY_KISS, Naming, TAG_MANAGED_BY, TAG_NAME, TAG_NAMESPACE};
use super::{SecretRef, StoreError, StoreResult};

/// The actions kiss's read policy grants, in the order it writes them.
pub const READ_ACTIONS: [&str; 2] = [
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
];

/// The `Sid` of the read policy's one statement, so operators recognise it.
pub const STATEMENT_ID: &str = "KissReadSecret";

/// The three tags that make a secret or a read policy `secret`'s.
pub fn kiss_tags(secret: &SecretRef) -> [(&'static str, &str); 3] {
    [
        (TAG_MANAGED_BY, MANAGED_BY_KISS),
        (TAG_NAMESPACE, secret.namespace.as_str()),
        (TAG_NAME, secret.name.as_str()),
    ]
}

/// Whether a set of tags says the resource is exactly `secret`, managed by kiss.
pub fn tags_match<'a>(
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: &SecretRef,
) -> bool {
    let (mut managed, mut ns, mut name) = (false, false, false);
    for (k, v) in tags {
        match k {
            TAG_MANAGED_BY => managed = v == MANAGED_BY_KISS,
            TAG_NAMESPACE => ns = v == secret.namespace,
            TAG_NAME => name = v == secret.name,
            _ => {}
        }
    }
    managed && ns && name
}

/// The error for anything that is not `secret`: worded as if nothing were
/// there, so that it never reveals another namespace.
pub fn not_found(secret: &SecretRef) -> StoreError {
    StoreError::NotFound {
        namespace: secret.namespace.clone(),
        name: secret.name.clone(),
    }
}

/// What a backend found under a secret's derived name.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    /// The name the resource really has (AWS also resolves partial ARNs).
    pub name: &'a str,
    /// Its tags.
    pub tags: Vec<(&'a str, &'a str)>,
    /// Whether it is scheduled for deletion.
    pub deleted: bool,
}

/// Whose a secret's derived name is, with the backend's record `T` of it
/// when it is the caller's.
#[derive(Debug, Clone)]
pub enum Holder<T> {
    /// Nothing holds the name.
    Missing,
    /// Another namespace's secret, or one kiss did not make.
    Foreign,
    /// Exactly the caller's secret.
    Owned {
        /// What the backend knows of it.
        record: T,
        /// Whether it is scheduled for deletion.
        deleted: bool,
    },
}

impl<T> Holder<T> {
    /// Decides whose the name `derived` is from what was found under it: the
    /// caller's only if it has exactly that name and exactly its three tags.
    pub fn of(secret: &SecretRef, derived: &str, found: Option<(Found<'_>, T)>) -> Holder<T> {
        match found {
            None => Holder::Missing,
            Some((f, record))
                if f.name == derived && tags_match(f.tags.iter().copied(), secret) =>
            {
                Holder::Owned {
                    record,
                    deleted: f.deleted,
                }
            }
            Some(_) => Holder::Foreign,
        }
    }

    /// The caller's secret, live or scheduled for deletion (restore, unbind,
    /// delete-policy); NotFound otherwise.
    pub fn owned(self, secret: &SecretRef) -> StoreResult<T> {
        match self {
            Holder::Owned { record, .. } => Ok(record),
            Holder::Missing | Holder::Foreign => Err(not_found(secret)),
        }
    }

    /// The caller's live secret (get, update, delete, create-policy, bind);
    /// a secret scheduled for deletion is NotFound for these.
    pub fn owned_live(self, secret: &SecretRef) -> StoreResult<T> {
        match self {
            Holder::Owned {
                record,
                deleted: false,
            } => Ok(record),
            _ => Err(not_found(secret)),
        }
    }

    /// The caller's secret if it can be restored: only a deleted one can.
    pub fn restorable(self, secret: &SecretRef) -> StoreResult<T> {
        match self {
            Holder::Owned {
                record,
                deleted: true,
            } => Ok(record),
            Holder::Owned { deleted: false, .. } => Err(StoreError::NotDeleted {
                name: secret.name.clone(),
            }),
            Holder::Missing | Holder::Foreign => Err(not_found(secret)),
        }
    }

    /// Why the name cannot be created, or None when it is free. Another
    /// namespace's secret is AlreadyExists, like the caller's own, so the
    /// owner is never revealed, not even that it is being deleted.
    pub fn why_taken(&self, secret: &SecretRef) -> Option<StoreError> {
        match self {
            Holder::Missing => None,
            Holder::Owned { deleted: true, .. } => Some(StoreError::ScheduledForDeletion {
                name: secret.name.clone(),
            }),
            Holder::Owned { deleted: false, .. } | Holder::Foreign => {
                Some(StoreError::AlreadyExists {
                    name: secret.name.clone(),
                })
            }
        }
    }
}

/// The kiss name of a listed resource, if it is exactly one of
/// `namespace`'s secrets: its own tags say so (tag filters of a backend
/// only narrow the search) and its name is the one kiss derives from them.
/// Resources without a name tag are skipped.
pub fn listed_name<'a>(
    naming: &Naming,
    namespace: &str,
    name: &str,
    tags: &[(&'a str, &'a str)],
) -> Option<&'a str> {
    let kiss_name = tags.iter().find(|(k, _)| *k == TAG_NAME)?.1;
    let secret = SecretRef::new(namespace, kiss_name);
    let derived = naming.secret_name(&secret).ok()?;
    (name == derived && tags_match(tags.iter().copied(), &secret)).then_some(kiss_name)
}

/// Listings are sorted by kiss name, whatever order the backend keeps.
pub fn sort_by_name<T>(entries: &mut [T], name: impl Fn(&T) -> &str) {
    entries.sort_by(|a, b| name(a).cmp(name(b)));
}

/// Refuses an update based on a version that is no longer current. An
/// empty or absent expected version (the Go client) replaces whatever is
/// current.
pub fn check_version(
    secret: &SecretRef,
    expected: Option<&str>,
    current: Option<&str>,
) -> StoreResult<()> {
    match expected.filter(|v| !v.is_empty()) {
        Some(expected) if current != Some(expected) => Err(StoreError::VersionConflict {
            name: secret.name.clone(),
            expected: expected.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The IAM policy document that lets a role read exactly one secret.
///
/// No `secretsmanager:VersionStage` condition: the Secrets Store CSI
/// driver's AWS provider calls GetSecretValue without a stage, and the Go
/// kiss's `AWSCURRENT` condition made those calls fail. The resource is the
/// full ARN (with AWS's random suffix), so a secret deleted for good and
/// created again under the same name is not readable through an old policy.
pub fn read_policy_document(secret_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": STATEMENT_ID,
            "Effect": "Allow",
            "Action": READ_ACTIONS,
            "Resource": secret_arn,
        }],
    })
    .to_string()
}

/// What a backend found under a read policy's name.
#[derive(Debug, Clone)]
pub struct PolicyFound<'a> {
    /// The policy's tags.
    pub tags: Vec<(&'a str, &'a str)>,
    /// Its (decoded) default document.
    pub document: &'a str,
}

/// Whose the read policy's name is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyState {
    /// No policy has the name.
    Absent,
    /// kiss's read policy of the secret, granting `resource`.
    Ours {
        /// The secret ARN its first statement grants.
        resource: String,
    },
    /// A policy of that name that kiss did not make for this secret: other
    /// tags, or a document granting more than reading it.
    Foreign,
}

/// How to bring the read policy into being.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyPlan {
    /// Create it.
    Create,
    /// It exists for an earlier secret of the same name (another ARN): make
    /// it grant this one.
    Repoint,
}

impl PolicyState {
    /// Decides whose the policy is. `secret_name` is the secret's derived
    /// backend name: kiss's policy has the secret's tags and grants nothing
    /// but reading secrets of that name (the Go kiss's `AWSCURRENT`
    /// condition is tolerated, so its policies stay kiss's).
    pub fn of(secret: &SecretRef, secret_name: &str, found: Option<PolicyFound<'_>>) -> Self {
        let Some(found) = found else {
            return PolicyState::Absent;
        };
        if !tags_match(found.tags.iter().copied(), secret) {
            return PolicyState::Foreign;
        }
        match serde_json::from_str::<Value>(found.document) {
            Ok(doc) => match reads_only(&doc, secret_name) {
                Some(resource) => PolicyState::Ours { resource },
                None => PolicyState::Foreign,
            },
            Err(_) => PolicyState::Foreign,
        }
    }

    /// Bind and delete-policy need kiss's policy.
    pub fn require(&self, secret: &SecretRef, policy_name: &str) -> StoreResult<()> {
        match self {
            PolicyState::Ours { .. } => Ok(()),
            PolicyState::Absent => Err(StoreError::PolicyMissing {
                name: secret.name.clone(),
            }),
            PolicyState::Foreign => Err(foreign(secret, policy_name)),
        }
    }

    /// Whether a secret's details report the policy: only kiss's own.
    pub fn reported(&self) -> bool {
        matches!(self, PolicyState::Ours { .. })
    }

    /// What create-policy does for the secret at `secret_arn`.
    pub fn plan(
        &self,
        secret: &SecretRef,
        policy_name: &str,
        secret_arn: &str,
    ) -> StoreResult<PolicyPlan> {
        match self {
            PolicyState::Absent => Ok(PolicyPlan::Create),
            PolicyState::Ours { resource } if resource == secret_arn => {
                Err(StoreError::PolicyExists {
                    name: secret.name.clone(),
                })
            }
            PolicyState::Ours { .. } => Ok(PolicyPlan::Repoint),
            PolicyState::Foreign => Err(foreign(secret, policy_name)),
        }
    }

    /// Unbind detaches only kiss's policy; without one nothing is bound.
    pub fn unbindable(
        &self,
        secret: &SecretRef,
        policy_name: &str,
        service_account: &str,
    ) -> StoreResult<()> {
        match self {
            PolicyState::Ours { .. } => Ok(()),
            PolicyState::Absent => Err(not_bound(secret, service_account)),
            PolicyState::Foreign => Err(foreign(secret, policy_name)),
        }
    }
}

/// The error for a service account the read policy is not attached to.
pub fn not_bound(secret: &SecretRef, service_account: &str) -> StoreError {
    StoreError::NotBound {
        name: secret.name.clone(),
        service_account: service_account.to_owned(),
    }
}

fn foreign(secret: &SecretRef, policy_name: &str) -> StoreError {
    StoreError::PolicyForeign {
        name: secret.name.clone(),
        policy: policy_name.to_owned(),
    }
}

/// The secret ARN a document grants if it grants nothing but reading
/// secrets named `secret_name`.
fn reads_only(doc: &Value, secret_name: &str) -> Option<String> {
    let statements = match &doc["Statement"] {
        Value::Array(s) if !s.is_empty() => s.as_slice(),
        s @ Value::Object(_) => std::slice::from_ref(s),
        _ => return None,
    };
    let mut first = None;
    for s in statements {
        let allowed = s["Effect"] == "Allow"
            && s.get("NotAction").is_none()
            && s.get("NotResource").is_none();
        let actions_ok =
            strings(&s["Action"]).is_some_and(|a| a.iter().all(|a| READ_ACTIONS.contains(a)));
        let resources = strings(&s["Resource"])?;
        if !allowed || !actions_ok || !resources.iter().all(|r| names_secret(r, secret_name)) {
            return None;
        }
        first = first.or_else(|| resources.first().map(|r| (*r).to_owned()));
    }
    first
}

fn strings(v: &Value) -> Option<Vec<&str>> {
    match v {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(a) if !a.is_empty() => a.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// Whether `arn` is a Secrets Manager ARN of the secret `secret_name`
/// (AWS appends `-` and six random characters; no wildcards).
fn names_secret(arn: &str, secret_name: &str) -> bool {
    let Some((head, rest)) = arn.split_once(":secret:") else {
        return false;
    };
    let suffix_ok = match rest.strip_prefix(secret_name) {
        Some("") => true,
        Some(s) => {
            s.len() == 7 && s.starts_with('-') && s[1..].chars().all(|c| c.is_ascii_alphanumeric())
        }
        None => false,
    };
    head.starts_with("arn:") && head.contains(":secretsmanager:") && suffix_ok
}

/// Who holds a read policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holders {
    /// (ServiceAccount, role name) of the namespace's ServiceAccount roles.
    pub roles: Vec<(String, String)>,
    /// Roles, users and groups that are not the namespace's ServiceAccount
    /// roles; counted, never named, since they may be another team's.
    pub foreign: usize,
}

impl Holders {
    /// Sorts role names into the namespace's ServiceAccounts and the rest.
    pub fn of<'a>(
        naming: &Naming,
        namespace: &str,
        roles: impl IntoIterator<Item = &'a str>,
    ) -> Holders {
        let mut holders = Holders::default();
        for role in roles {
            match naming.service_account_of_role(namespace, role) {
                Some(sa) => holders.roles.push((sa, role.to_owned())),
                None => holders.foreign += 1,
            }
        }
        holders
    }

    /// The namespace's ServiceAccounts, sorted.
    pub fn service_accounts(&self) -> Vec<String> {
        let mut sas: Vec<String> = self.roles.iter().map(|(sa, _)| sa.clone()).collect();
        sas.sort();
        sas.dedup();
        sas
    }

    fn describe(&self, include_roles: bool) -> Vec<String> {
        let mut out = if include_roles {
            self.service_accounts()
        } else {
            Vec::new()
        };
        if self.foreign > 0 {
            out.push(format!(
                "{} IAM role(s), user(s) or group(s) outside this namespace, which kiss does not detach",
                self.foreign
            ));
        }
        out
    }

    /// Whether delete-policy may go ahead: without `unbind` only an
    /// unattached policy; with it, only one no holder outside the namespace
    /// keeps, checked before anything is detached (otherwise the namespace's
    /// workloads would lose access and the policy would stay).
    pub fn may_delete(&self, secret: &SecretRef, unbind: bool) -> StoreResult<()> {
        let refused = |service_accounts| StoreError::PolicyAttached {
            name: secret.name.clone(),
            service_accounts,
        };
        if !unbind && (!self.roles.is_empty() || self.foreign > 0) {
            return Err(refused(self.describe(true)));
        }
        if self.foreign > 0 {
            return Err(refused(self.describe(false)));
        }
        Ok(())
    }
}

/// Whether the caller may delete the read policy of `secret`: the secret
/// must be theirs (live or deleted); when it is gone for good (the Go kiss
/// deleted at once) the policy's own tags prove whose the policy is.
pub fn may_delete_policy_of<T>(
    secret: &SecretRef,
    holder: &Holder<T>,
    policy: &PolicyState,
    policy_name: &str,
) -> StoreResult<()> {
    match (holder, policy) {
        (Holder::Foreign, _) => Err(not_found(secret)),
        (Holder::Missing, PolicyState::Ours { .. }) => Ok(()),
        (Holder::Missing, _) => Err(not_found(secret)),
        (Holder::Owned { .. }, policy) => policy.require(secret, policy_name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:secretsmanager:eu-west-1:1:secret:k8s-secret-ns-db-AbCdEf";

    fn s() -> SecretRef {
        SecretRef::new("ns", "db")
    }

    fn found(name: &'static str, ns: &'static str, deleted: bool) -> Option<(Found<'static>, ())> {
        Some((
            Found {
                name: "k8s-secret-ns-db",
                tags: vec![
                    (TAG_MANAGED_BY, "kiss"),
                    (TAG_NAMESPACE, ns),
                    (TAG_NAME, name),
                ],
                deleted,
            },
            (),
        ))
    }

    #[test]
    fn tags_must_match_exactly() {
        let s = SecretRef::new("team", "x-foo");
        let ok = [
            (TAG_MANAGED_BY, "kiss"),
            (TAG_NAMESPACE, "team"),
            (TAG_NAME, "x-foo"),
        ];
        assert!(tags_match(ok, &s));
        let other = [
            (TAG_MANAGED_BY, "kiss"),
            (TAG_NAMESPACE, "team-x"),
            (TAG_NAME, "foo"),
        ];
        assert!(!tags_match(other, &s));
        let unmanaged = [(TAG_NAMESPACE, "team"), (TAG_NAME, "x-foo")];
        assert!(!tags_match(unmanaged, &s));
    }

    #[test]
    fn holders_decide_every_lifecycle_answer() {
        let d = "k8s-secret-ns-db";
        let live = Holder::of(&s(), d, found("db", "ns", false));
        let gone = Holder::of(&s(), d, found("db", "ns", true));
        let other = Holder::of(&s(), d, found("db", "ns-x", false));
        let missing = Holder::<()>::of(&s(), d, None);
        assert!(live.clone().owned_live(&s()).is_ok());
        assert_eq!(gone.clone().owned_live(&s()), Err(not_found(&s())));
        assert!(gone.clone().owned(&s()).is_ok());
        assert_eq!(other.clone().owned(&s()), Err(not_found(&s())));
        assert!(gone.clone().restorable(&s()).is_ok());
        assert!(matches!(
            live.clone().restorable(&s()),
            Err(StoreError::NotDeleted { .. })
        ));
        assert_eq!(missing.clone().restorable(&s()), Err(not_found(&s())));
        assert!(matches!(
            gone.why_taken(&s()),
            Some(StoreError::ScheduledForDeletion { .. })
        ));
        assert!(matches!(
            other.why_taken(&s()),
            Some(StoreError::AlreadyExists { .. })
        ));
        assert!(matches!(
            live.why_taken(&s()),
            Some(StoreError::AlreadyExists { .. })
        ));
        assert_eq!(missing.why_taken(&s()), None);
        // A name that resolved to something else is not the caller's.
        let moved = Holder::of(&s(), "k8s-secret-ns-other", found("db", "ns", false));
        assert!(matches!(moved, Holder::Foreign));
    }

    #[test]
    fn versions_are_compared_only_when_given() {
        assert!(check_version(&s(), None, Some("v2")).is_ok());
        assert!(check_version(&s(), Some(""), Some("v2")).is_ok());
        assert!(check_version(&s(), Some("v2"), Some("v2")).is_ok());
        assert!(matches!(
            check_version(&s(), Some("v1"), Some("v2")),
            Err(StoreError::VersionConflict { .. })
        ));
    }

    #[test]
    fn only_kiss_documents_on_kiss_tags_are_ours() {
        let secret = s();
        let tags = kiss_tags(&secret).to_vec();
        let doc = read_policy_document(ARN);
        let state = |tags: Vec<(&str, &str)>, document: &str| {
            PolicyState::of(
                &s(),
                "k8s-secret-ns-db",
                Some(PolicyFound { tags, document }),
            )
        };
        assert_eq!(
            state(tags.clone(), &doc),
            PolicyState::Ours {
                resource: ARN.into()
            }
        );
        assert_eq!(state(Vec::new(), &doc), PolicyState::Foreign);
        let admin = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}"#;
        assert_eq!(state(tags.clone(), admin), PolicyState::Foreign);
        let other_secret = read_policy_document(&ARN.replace("ns-db", "ns-dbx"));
        assert_eq!(state(tags.clone(), &other_secret), PolicyState::Foreign);
        assert_eq!(state(tags.clone(), "not json"), PolicyState::Foreign);
        // The Go kiss's version-stage condition still reads only this secret.
        let go = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["secretsmanager:GetSecretValue"],"Resource":"{ARN}","Condition":{{"ForAnyValue:StringEquals":{{"secretsmanager:VersionStage":"AWSCURRENT"}}}}}}]}}"#
        );
        assert!(state(tags, &go).reported());
    }

    #[test]
    fn policy_plans_and_refusals() {
        let ours = PolicyState::Ours {
            resource: ARN.into(),
        };
        let p = "k8s-secret_ns_db";
        assert_eq!(
            PolicyState::Absent.plan(&s(), p, ARN),
            Ok(PolicyPlan::Create)
        );
        assert!(matches!(
            ours.plan(&s(), p, ARN),
            Err(StoreError::PolicyExists { .. })
        ));
        assert_eq!(ours.plan(&s(), p, "other"), Ok(PolicyPlan::Repoint));
        let foreign = Err(StoreError::PolicyForeign {
            name: "db".into(),
            policy: p.into(),
        });
        assert_eq!(
            PolicyState::Foreign.plan(&s(), p, ARN),
            foreign.clone().map(|()| PolicyPlan::Create)
        );
        assert_eq!(PolicyState::Foreign.require(&s(), p), foreign.clone());
        assert_eq!(PolicyState::Foreign.unbindable(&s(), p, "app"), foreign);
        assert!(matches!(
            PolicyState::Absent.unbindable(&s(), p, "app"),
            Err(StoreError::NotBound { .. })
        ));
        let missing = Holder::<()>::Missing;
        assert!(may_delete_policy_of(&s(), &missing, &ours, p).is_ok());
        assert_eq!(
            may_delete_policy_of(&s(), &missing, &PolicyState::Foreign, p),
            Err(not_found(&s()))
        );
    }

    #[test]
    fn holders_outside_the_namespace_block_deletion_even_with_unbind() {
        let n = Naming::default();
        let h = Holders::of(
            &n,
            "ns",
            ["k8s-sa_ns_web", "k8s-sa_other_web", "k8s-sa_ns_app"],
        );
        assert_eq!(h.service_accounts(), ["app", "web"]);
        assert_eq!(h.foreign, 1);
        let Err(StoreError::PolicyAttached {
            service_accounts, ..
        }) = h.may_delete(&s(), false)
        else {
            panic!("refused while bound");
        };
        assert_eq!(service_accounts.len(), 3);
        assert!(!service_accounts.iter().any(|s| s.contains("other")));
        let Err(StoreError::PolicyAttached {
            service_accounts, ..
        }) = h.may_delete(&s(), true)
        else {
            panic!("refused while held outside");
        };
        assert_eq!(service_accounts.len(), 1);
        let h = Holders::of(&n, "ns", ["k8s-sa_ns_web"]);
        assert!(h.may_delete(&s(), true).is_ok());
        assert!(Holders::default().may_delete(&s(), false).is_ok());
    }

    #[test]
    fn listed_names_need_exact_tags_and_the_derived_name() {
        let n = Naming::default();
        let tags = [
            (TAG_MANAGED_BY, "kiss"),
            (TAG_NAMESPACE, "ns"),
            (TAG_NAME, "db"),
        ];
        assert_eq!(listed_name(&n, "ns", "k8s-secret-ns-db", &tags), Some("db"));
        assert_eq!(listed_name(&n, "ns", "elsewhere-ns-db", &tags), None);
        assert_eq!(listed_name(&n, "n", "k8s-secret-ns-db", &tags), None);
        assert_eq!(listed_name(&n, "ns", "k8s-secret-ns-db", &tags[..2]), None);
    }

    #[test]
    fn grants_read_on_the_exact_arn_without_conditions() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k8s-secret-ns-db-AbCdEf";
        let doc: serde_json::Value = serde_json::from_str(&read_policy_document(arn)).unwrap();
        assert_eq!(doc["Version"], "2012-10-17");
        let statements = doc["Statement"].as_array().unwrap();
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(s["Effect"], "Allow");
        assert_eq!(s["Resource"], arn);
        assert_eq!(
            s["Action"],
            serde_json::json!([
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret"
            ])
        );
        assert!(s.get("Condition").is_none());
    }
}
