//! One legitimate user: her own namespace and three secret slots, calls of
//! every RPC chosen by what her model says is there, each answer checked
//! against the model. A write whose answer was lost (or refused while a
//! fault was on) leaves the slot uncertain between before and after; the
//! user then reads her whole namespace back and the state must be one of
//! those, which after a server restart is the check that every
//! acknowledged write survived it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_testkit::{authorized, meta};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::Ctx;
use crate::idp::namespace;
use crate::tally::{Marks, Party, code_name, from_server};

/// The service account every user binds her read policies to.
pub const SERVICE_ACCOUNT: &str = "app";
/// How long a user waits for an answer: longer than the server's own bound
/// on a read (30 s), so that a read left unanswered is the server's fault.
/// A write is not bounded that way (once sent to AWS it runs to its end), so
/// while AWS stalls its answer may come after this.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(45);
/// How long a user waits after an error a fault explains, as a client
/// backing off would, instead of calling again at once.
const FAULT_BACKOFF: Duration = Duration::from_millis(300);
/// How long a user stays away after a write she got no answer to while AWS
/// stalled: the server is still carrying it out (each AWS call is capped at
/// 20 s), and a read-back before it lands would see the state before it.
const LATE_WRITE_WAIT: Duration = Duration::from_secs(120);
/// One user in this many binds her secrets to a ServiceAccount, so that
/// only they need an IAM role (which the driver makes again whenever moto
/// restarts empty, while the load goes on).
const BINDERS_EVERY: usize = 10;

/// Whether user `i` binds (and so needs her ServiceAccount's role).
pub fn binds(i: usize) -> bool {
    i.is_multiple_of(BINDERS_EVERY)
}
/// Slots (secret names) per user.
const SLOTS: usize = 3;
/// A value the model does not know (restored after an adopted read).
const UNKNOWN: &str = "\u{0}unknown";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    Absent,
    Live {
        value: String,
        policy: bool,
        bound: bool,
    },
    Deleted {
        value: String,
    },
}

impl Slot {
    /// Whether what was read back (`self`) is what `expected` says.
    fn shows(&self, expected: &Slot) -> bool {
        match (self, expected) {
            (Slot::Absent, Slot::Absent) | (Slot::Deleted { .. }, Slot::Deleted { .. }) => true,
            (
                Slot::Live {
                    value,
                    policy,
                    bound,
                },
                Slot::Live {
                    value: v,
                    policy: p,
                    bound: b,
                },
            ) => (v == UNKNOWN || v == value) && policy == p && bound == b,
            _ => false,
        }
    }
}

/// How a read-back is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resync {
    /// The state must be one the model allows (acknowledged writes kept).
    Verify,
    /// The backend lost its state (moto restarted): take what is there.
    Adopt,
}

pub struct User {
    pub i: usize,
    ns: String,
    email: String,
    client: KissClient<Channel>,
    slots: [Slot; SLOTS],
    versions: [Option<String>; SLOTS],
    /// States a slot may be in besides its model, after an uncertain write.
    pending: [Vec<Slot>; SLOTS],
    needs: Option<Resync>,
    server_gen: u64,
    moto_gen: u64,
    rng: u64,
    written: u64,
}

/// How a call ended.
enum Ended<T> {
    Ok(T),
    /// An error expected during the fault in progress.
    Tolerated,
    /// Anything else (already counted as unexpected).
    Failed,
}

impl User {
    pub fn new(ctx: &Ctx, i: usize, channel: Channel) -> User {
        User {
            i,
            ns: namespace(i),
            email: format!("user{i}@soak.example"),
            client: KissClient::new(channel),
            slots: std::array::from_fn(|_| Slot::Absent),
            versions: Default::default(),
            pending: Default::default(),
            needs: None,
            server_gen: ctx.server_gen.load(Ordering::SeqCst),
            moto_gen: ctx.moto_gen.load(Ordering::SeqCst),
            rng: 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d),
            written: 0,
        }
    }

    fn rand(&mut self, n: u64) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng % n
    }

    fn token(&self, ctx: &Ctx) -> String {
        ctx.tokens.read().unwrap().users[self.i].clone()
    }

    fn name(s: usize) -> String {
        format!("s{s}")
    }

    /// The user's life until the run stops.
    pub async fn run(mut self, ctx: Arc<Ctx>) -> User {
        // Spread the first calls over the think time.
        let first = self.rand(ctx.think.as_millis() as u64 + 1);
        tokio::time::sleep(Duration::from_millis(first)).await;
        while !ctx.stop.load(Ordering::SeqCst) {
            self.step(&ctx).await;
            let think = ctx.think.as_millis() as u64;
            let pause = think / 2 + self.rand(think + 1);
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
        self
    }

    /// What a restart or an uncertain answer calls for, if anything.
    pub fn due(&mut self, ctx: &Ctx) -> Option<Resync> {
        let moto = ctx.moto_gen.load(Ordering::SeqCst);
        let server = ctx.server_gen.load(Ordering::SeqCst);
        if moto != self.moto_gen {
            self.moto_gen = moto;
            self.needs = Some(Resync::Adopt);
        }
        if server != self.server_gen {
            self.server_gen = server;
            self.needs.get_or_insert(Resync::Verify);
        }
        self.needs
    }

    async fn step(&mut self, ctx: &Ctx) {
        if let Some(mode) = self.due(ctx) {
            if self.resync(ctx, mode).await {
                self.needs = None;
            }
            return;
        }
        match self.rand(100) {
            0..8 => self.ping(ctx).await,
            8..14 => self.who_am_i(ctx).await,
            14..24 => self.list(ctx).await,
            24..30 => self.list_deleted(ctx).await,
            _ => {
                let s = self.rand(SLOTS as u64) as usize;
                self.slot_op(ctx, s).await
            }
        }
    }

    /// Sends one call and sorts its end: counted for the audit comparison
    /// and the outcome table; an error is tolerated only inside a fault.
    async fn call<T>(
        &mut self,
        ctx: &Ctx,
        rpc: &'static str,
        fut: impl Future<Output = Result<tonic::Response<T>, Status>>,
        marks: Marks,
    ) -> Ended<T> {
        ctx.tally.sent(Party::Users, rpc);
        let result = fut.await;
        let answered = result.as_ref().map_or_else(from_server, |_| true);
        if answered {
            ctx.tally.answered(Party::Users, rpc);
        }
        let what = format!("user {rpc}");
        match result {
            Ok(r) => {
                ctx.tally.outcome(&what, "OK");
                Ended::Ok(r.into_inner())
            }
            Err(status) => {
                let server_fault = ctx.faults.server_overlapped(marks);
                let moto_fault = ctx.aws && ctx.faults.moto_overlapped(marks);
                let outcome = if answered {
                    code_name(status.code())
                } else {
                    "no answer".into()
                };
                let writes = kiss_proto::Rpc::ALL
                    .iter()
                    .any(|r| r.name() == rpc && r.changes_state());
                let tolerated = if !answered {
                    server_fault || (moto_fault && writes)
                } else {
                    // While AWS is down or slow the server sheds what it
                    // cannot hold and bounds what it holds: both are answers.
                    moto_fault
                        && matches!(
                            status.code(),
                            Code::Unavailable
                                | Code::NotFound
                                | Code::ResourceExhausted
                                | Code::DeadlineExceeded
                        )
                };
                if tolerated {
                    ctx.tally.outcome(&what, &format!("{outcome} (fault)"));
                    let wait = if !answered && !server_fault {
                        LATE_WRITE_WAIT
                    } else {
                        FAULT_BACKOFF
                    };
                    tokio::time::sleep(wait).await;
                    Ended::Tolerated
                } else {
                    ctx.tally.outcome(&what, &format!("{outcome} (unexpected)"));
                    ctx.tally.unexpected(format!(
                        "{what}: {outcome}: {}",
                        status.message().chars().take(160).collect::<String>()
                    ));
                    Ended::Failed
                }
            }
        }
    }

    fn req<T>(&self, ctx: &Ctx, message: T) -> tonic::Request<T> {
        authorized(&self.token(ctx), message)
    }

    async fn ping(&mut self, ctx: &Ctx) {
        let marks = ctx.faults.mark();
        let req = self.req(
            ctx,
            pb::PingRequest {
                metadata: meta(&self.ns),
            },
        );
        let mut client = self.client.clone();
        self.call(ctx, "Ping", client.ping(req), marks).await;
    }

    async fn who_am_i(&mut self, ctx: &Ctx) {
        let marks = ctx.faults.mark();
        let req = self.req(ctx, pb::WhoAmIRequest {});
        let mut client = self.client.clone();
        if let Ended::Ok(me) = self.call(ctx, "WhoAmI", client.who_am_i(req), marks).await
            && (me.identifier != self.email || me.namespaces != [self.ns.clone()])
        {
            ctx.tally.unexpected(format!(
                "WhoAmI of {} answered {} {:?}",
                self.email, me.identifier, me.namespaces
            ));
        }
    }

    /// A read that disagrees with the model: inside a moto fault the
    /// backend may have lost its state (adopt it); otherwise an
    /// acknowledged write is missing.
    fn disagrees(&mut self, ctx: &Ctx, marks: Marks, what: String) {
        if ctx.aws && ctx.faults.moto_overlapped(marks) {
            ctx.tally
                .outcome("user read during a moto fault", "differs (adopted)");
            self.needs = Some(Resync::Adopt);
        } else {
            ctx.tally.lost(format!("{}: {what}", self.ns));
            self.needs.get_or_insert(Resync::Verify);
        }
    }

    async fn list_names(&mut self, ctx: &Ctx, marks: Marks) -> Ended<Vec<String>> {
        let req = self.req(
            ctx,
            pb::ListSecretsRequest {
                metadata: meta(&self.ns),
            },
        );
        let mut client = self.client.clone();
        match self
            .call(ctx, "ListSecrets", client.list_secrets(req), marks)
            .await
        {
            Ended::Ok(r) => Ended::Ok(r.secrets),
            Ended::Tolerated => Ended::Tolerated,
            Ended::Failed => Ended::Failed,
        }
    }

    async fn deleted_names(&mut self, ctx: &Ctx, marks: Marks) -> Ended<Vec<String>> {
        let req = self.req(
            ctx,
            pb::ListDeletedSecretsRequest {
                metadata: meta(&self.ns),
            },
        );
        let mut client = self.client.clone();
        match self
            .call(
                ctx,
                "ListDeletedSecrets",
                client.list_deleted_secrets(req),
                marks,
            )
            .await
        {
            Ended::Ok(r) => Ended::Ok(r.secrets.into_iter().map(|d| d.name).collect()),
            Ended::Tolerated => Ended::Tolerated,
            Ended::Failed => Ended::Failed,
        }
    }

    fn expected_names(&self, live: bool) -> Vec<String> {
        (0..SLOTS)
            .filter(|&s| match &self.slots[s] {
                Slot::Live { .. } => live,
                Slot::Deleted { .. } => !live,
                Slot::Absent => false,
            })
            .map(Self::name)
            .collect()
    }

    async fn list(&mut self, ctx: &Ctx) {
        let marks = ctx.faults.mark();
        if let Ended::Ok(mut names) = self.list_names(ctx, marks).await {
            names.sort();
            let expected = self.expected_names(true);
            if names != expected {
                self.disagrees(
                    ctx,
                    marks,
                    format!("listed {names:?}, expected {expected:?}"),
                );
            }
        }
    }

    async fn list_deleted(&mut self, ctx: &Ctx) {
        let marks = ctx.faults.mark();
        if let Ended::Ok(mut names) = self.deleted_names(ctx, marks).await {
            names.sort();
            let expected = self.expected_names(false);
            if names != expected {
                self.disagrees(
                    ctx,
                    marks,
                    format!("listed deleted {names:?}, expected {expected:?}"),
                );
            }
        }
    }

    async fn get(&mut self, ctx: &Ctx, s: usize, marks: Marks) -> Ended<pb::SecretDetails> {
        let req = self.req(
            ctx,
            pb::GetSecretRequest {
                metadata: meta(&self.ns),
                name: Self::name(s),
                include_value: true,
                version_id: String::new(),
            },
        );
        let mut client = self.client.clone();
        match self
            .call(ctx, "GetSecret", client.get_secret(req), marks)
            .await
        {
            Ended::Ok(r) => match r.secret {
                Some(d) => Ended::Ok(d),
                None => {
                    ctx.tally
                        .unexpected("GetSecret answered without a secret".into());
                    Ended::Failed
                }
            },
            Ended::Tolerated => Ended::Tolerated,
            Ended::Failed => Ended::Failed,
        }
    }

    fn observed(d: &pb::SecretDetails) -> Slot {
        Slot::Live {
            value: d.value.clone().unwrap_or_default(),
            policy: d.has_read_policy,
            bound: d
                .bound_service_accounts
                .iter()
                .any(|s| s == SERVICE_ACCOUNT),
        }
    }

    fn new_value(&mut self) -> String {
        self.written += 1;
        let len = 8 + self.rand(120) as usize;
        let mut v = format!("{}.{}.", self.i, self.written);
        while v.len() < len {
            v.push(char::from(b'a' + self.rand(26) as u8));
        }
        v
    }

    /// One call on slot `s`, chosen among those its state allows.
    async fn slot_op(&mut self, ctx: &Ctx, s: usize) {
        let name = Self::name(s);
        let marks = ctx.faults.mark();
        let ns = self.ns.clone();
        let mut client = self.client.clone();
        let before = self.slots[s].clone();
        let roll = self.rand(100);
        // (rpc, the state an OK leaves, the call)
        match before.clone() {
            Slot::Absent => {
                let value = self.new_value();
                let req = self.req(
                    ctx,
                    pb::CreateSecretRequest {
                        metadata: meta(&ns),
                        name,
                        value: value.clone(),
                    },
                );
                let after = Slot::Live {
                    value,
                    policy: false,
                    bound: false,
                };
                let ended = self
                    .call(ctx, "CreateSecret", client.create_secret(req), marks)
                    .await;
                self.wrote(ctx, s, after, ended.map(|r| Some(r.version_id)));
            }
            Slot::Live {
                value,
                policy,
                bound,
            } => {
                if roll < 35 {
                    match self.get(ctx, s, marks).await {
                        Ended::Ok(d) => {
                            let seen = Self::observed(&d);
                            if seen.shows(&before) {
                                self.slots[s] = seen;
                                self.versions[s] = Some(d.version_id);
                            } else {
                                self.disagrees(
                                    ctx,
                                    marks,
                                    format!("{name}: read {seen:?}, expected {before:?}"),
                                );
                            }
                        }
                        Ended::Tolerated | Ended::Failed => {}
                    }
                } else if roll < 55 {
                    let new = self.new_value();
                    let req = self.req(
                        ctx,
                        pb::UpdateSecretRequest {
                            metadata: meta(&ns),
                            name,
                            value: new.clone(),
                            expected_version_id: self.versions[s].clone().unwrap_or_default(),
                        },
                    );
                    let after = Slot::Live {
                        value: new,
                        policy,
                        bound,
                    };
                    let ended = self
                        .call(ctx, "UpdateSecret", client.update_secret(req), marks)
                        .await;
                    self.wrote(ctx, s, after, ended.map(|r| Some(r.version_id)));
                } else if !policy && roll < 75 {
                    let req = self.req(
                        ctx,
                        pb::DeleteSecretRequest {
                            metadata: meta(&ns),
                            name,
                        },
                    );
                    let ended = self
                        .call(ctx, "DeleteSecret", client.delete_secret(req), marks)
                        .await;
                    self.wrote(ctx, s, Slot::Deleted { value }, ended.map(|_| None));
                } else if !policy {
                    let req = self.req(
                        ctx,
                        pb::CreateSecretIamPolicyRequest {
                            metadata: meta(&ns),
                            name,
                        },
                    );
                    let after = Slot::Live {
                        value,
                        policy: true,
                        bound: false,
                    };
                    let ended = self
                        .call(
                            ctx,
                            "CreateSecretIAMPolicy",
                            client.create_secret_iam_policy(req),
                            marks,
                        )
                        .await;
                    let version = self.versions[s].clone();
                    self.wrote(ctx, s, after, ended.map(|_| version));
                } else if roll < 78 || !binds(self.i) {
                    let req = self.req(
                        ctx,
                        pb::DeleteSecretIamPolicyRequest {
                            metadata: meta(&ns),
                            name,
                            unbind: bound,
                        },
                    );
                    let after = Slot::Live {
                        value: value.clone(),
                        policy: false,
                        bound: false,
                    };
                    if bound {
                        // Unbound but not yet deleted, if cut short.
                        self.pending[s].push(Slot::Live {
                            value,
                            policy: true,
                            bound: false,
                        });
                    }
                    let ended = self
                        .call(
                            ctx,
                            "DeleteSecretIAMPolicy",
                            client.delete_secret_iam_policy(req),
                            marks,
                        )
                        .await;
                    if let Ended::Ok(r) = &ended {
                        let expected: Vec<String> = if bound {
                            vec![SERVICE_ACCOUNT.into()]
                        } else {
                            vec![]
                        };
                        if r.unbound_service_accounts != expected {
                            ctx.tally.unexpected(format!(
                                "DeleteSecretIAMPolicy unbound {:?}, expected {expected:?}",
                                r.unbound_service_accounts
                            ));
                        }
                    }
                    let version = self.versions[s].clone();
                    self.wrote(ctx, s, after, ended.map(|_| version));
                } else {
                    let rpc_bind = !bound;
                    let after = Slot::Live {
                        value,
                        policy: true,
                        bound: rpc_bind,
                    };
                    let ended = if rpc_bind {
                        let req = self.req(
                            ctx,
                            pb::BindSecretRequest {
                                metadata: meta(&ns),
                                name,
                                service_account_name: SERVICE_ACCOUNT.into(),
                            },
                        );
                        self.call(ctx, "BindSecret", client.bind_secret(req), marks)
                            .await
                            .map(drop)
                    } else {
                        let req = self.req(
                            ctx,
                            pb::UnbindSecretRequest {
                                metadata: meta(&ns),
                                name,
                                service_account_name: SERVICE_ACCOUNT.into(),
                            },
                        );
                        self.call(ctx, "UnbindSecret", client.unbind_secret(req), marks)
                            .await
                            .map(drop)
                    };
                    let version = self.versions[s].clone();
                    self.wrote(ctx, s, after, ended.map(|_| version));
                }
            }
            Slot::Deleted { value } => {
                let req = self.req(
                    ctx,
                    pb::RestoreSecretRequest {
                        metadata: meta(&ns),
                        name,
                    },
                );
                let after = Slot::Live {
                    value,
                    policy: false,
                    bound: false,
                };
                let ended = self
                    .call(ctx, "RestoreSecret", client.restore_secret(req), marks)
                    .await;
                self.wrote(ctx, s, after, ended.map(|_| None));
            }
        }
    }

    /// The end of a write to slot `s` that leaves `after` when it worked:
    /// acknowledged, the model moves on; otherwise it may or may not have
    /// happened, so the slot is read back before anything else.
    fn wrote(&mut self, ctx: &Ctx, s: usize, after: Slot, ended: Ended<Option<String>>) {
        match ended {
            Ended::Ok(version) => {
                ctx.tally.acked_writes.fetch_add(1, Ordering::Relaxed);
                self.slots[s] = after;
                self.versions[s] = version;
                self.pending[s].clear();
            }
            Ended::Tolerated | Ended::Failed => {
                self.pending[s].push(after);
                self.needs.get_or_insert(Resync::Verify);
            }
        }
    }

    /// Reads the whole namespace back. `Verify`: every slot must be in a
    /// state its acknowledged writes (and uncertain ones) allow. Either
    /// way the model becomes what was read. False if a call failed, so the
    /// read-back must be tried again.
    pub async fn resync(&mut self, ctx: &Ctx, mode: Resync) -> bool {
        let marks = ctx.faults.mark();
        let Ended::Ok(live) = self.list_names(ctx, marks).await else {
            return false;
        };
        let Ended::Ok(deleted) = self.deleted_names(ctx, marks).await else {
            return false;
        };
        let mut seen: Vec<(Slot, Option<String>)> = Vec::new();
        for s in 0..SLOTS {
            let name = Self::name(s);
            if live.contains(&name) {
                match self.get(ctx, s, marks).await {
                    Ended::Ok(d) => seen.push((Self::observed(&d), Some(d.version_id))),
                    _ => return false,
                }
            } else if deleted.contains(&name) {
                seen.push((
                    Slot::Deleted {
                        value: UNKNOWN.into(),
                    },
                    None,
                ));
            } else {
                seen.push((Slot::Absent, None));
            }
        }
        let strays: Vec<&String> = live
            .iter()
            .chain(&deleted)
            .filter(|n| !(0..SLOTS).any(|s| Self::name(s) == **n))
            .collect();
        if !strays.is_empty() {
            ctx.tally
                .lost(format!("{}: secrets nobody made: {strays:?}", self.ns));
        }
        let moto_fault = ctx.aws && ctx.faults.moto_overlapped(marks);
        for (s, (observed, version)) in seen.into_iter().enumerate() {
            let allowed: Vec<Slot> = std::iter::once(self.slots[s].clone())
                .chain(self.pending[s].drain(..))
                .collect();
            let matched = allowed.iter().find(|a| observed.shows(a)).cloned();
            if mode == Resync::Verify {
                ctx.tally.verified.fetch_add(1, Ordering::Relaxed);
                if matched.is_none() {
                    if moto_fault {
                        // moto restarted under the read: adopt instead.
                        ctx.tally
                            .outcome("user read-back during a moto fault", "differs (adopted)");
                    } else {
                        ctx.tally.lost(format!(
                            "{} s{s}: read back {observed:?}, acknowledged {:?} (or {:?})",
                            self.ns,
                            allowed[0],
                            &allowed[1..]
                        ));
                    }
                }
            }
            // A deleted secret keeps the value it had, for its restore.
            self.slots[s] = match (observed, matched) {
                (Slot::Deleted { .. }, Some(Slot::Deleted { value })) => Slot::Deleted { value },
                (Slot::Deleted { .. }, Some(Slot::Live { value, .. })) => Slot::Deleted { value },
                (other, _) => other,
            };
            self.versions[s] = version;
        }
        true
    }
}

impl<T> Ended<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Ended<U> {
        match self {
            Ended::Ok(t) => Ended::Ok(f(t)),
            Ended::Tolerated => Ended::Tolerated,
            Ended::Failed => Ended::Failed,
        }
    }
}
