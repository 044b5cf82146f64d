//! What the driver counts while the soak runs: calls the server answered
//! or left unanswered (per client address and RPC, to compare with the
//! audit log), outcomes by kind, unexpected errors, and the fault windows
//! inside which some errors are expected.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tonic::{Code, Status};

/// Where the legitimate users connect from.
pub const USERS_ADDR: [u8; 4] = [127, 0, 0, 1];
/// Where the attacks come from, so that their refusal budget is their own.
pub const ATTACK_ADDR: [u8; 4] = [127, 0, 0, 2];
/// Where the idle connections come from (never a call, never audited).
pub const IDLE_ADDR: [u8; 4] = [127, 0, 0, 4];
/// Where the driver's own probes and checks come from.
pub const DRIVER_ADDR: [u8; 4] = [127, 0, 0, 3];

/// How long after a fault ends its errors are still expected (connection
/// pools noticing, retries in flight).
const GRACE: Duration = Duration::from_secs(5);

/// One kind of fault that comes and goes.
#[derive(Default)]
pub struct Fault {
    active: AtomicBool,
    /// Incremented when the fault starts and when it ends.
    epoch: AtomicU64,
    ended: Mutex<Option<Instant>>,
}

impl Fault {
    pub fn begin(&self) {
        self.active.store(true, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    pub fn end(&self) {
        self.active.store(false, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        *self.ended.lock().unwrap() = Some(Instant::now());
    }

    /// Where the fault stands now, to ask later whether a call overlapped it.
    pub fn mark(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Whether a call that started at `mark` may have met this fault: it
    /// was active then or now, came or went meanwhile, or ended very lately.
    pub fn overlapped(&self, mark: u64) -> bool {
        self.active.load(Ordering::SeqCst)
            || mark % 2 == 1
            || self.mark() != mark
            || self
                .ended
                .lock()
                .unwrap()
                .is_some_and(|t| t.elapsed() < GRACE)
    }
}

/// The faults the driver causes that users may notice.
#[derive(Default)]
pub struct Faults {
    /// kiss-server killed and not yet ready again.
    pub server: Fault,
    /// moto stopped, or restarted and not yet set up again.
    pub moto: Fault,
}

/// The marks of both faults when a call started.
#[derive(Clone, Copy)]
pub struct Marks {
    server: u64,
    moto: u64,
}

impl Faults {
    pub fn mark(&self) -> Marks {
        Marks {
            server: self.server.mark(),
            moto: self.moto.mark(),
        }
    }
    pub fn server_overlapped(&self, m: Marks) -> bool {
        self.server.overlapped(m.server)
    }
    pub fn moto_overlapped(&self, m: Marks) -> bool {
        self.moto.overlapped(m.moto)
    }
}

/// Whether a status came from the server (it has the response's headers)
/// or from the client's own transport (connection refused, reset, timeout).
pub fn from_server(status: &Status) -> bool {
    status.metadata().get("content-type").is_some()
}

/// Who made a call, for the audit comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Party {
    Users,
    Attacks,
    Driver,
}

impl Party {
    pub fn addr(self) -> &'static str {
        match self {
            Party::Users => "127.0.0.1",
            Party::Attacks => "127.0.0.2",
            Party::Driver => "127.0.0.3",
        }
    }
}

/// Calls of one party and RPC: answered by the server, or not.
#[derive(Debug, Default, Clone, Copy)]
pub struct Calls {
    pub answered: u64,
    pub unanswered: u64,
}

/// Everything counted during one backend's run.
#[derive(Default)]
pub struct Tally {
    /// Audited calls (KISS RPCs) by party and RPC name.
    pub calls: Mutex<BTreeMap<(Party, &'static str), Calls>>,
    /// Outcomes by (what, outcome), e.g. ("user CreateSecret", "OK").
    pub outcomes: Mutex<BTreeMap<(String, String), u64>>,
    /// Unexpected errors by message (with a count).
    pub unexpected: Mutex<BTreeMap<String, u64>>,
    /// Acknowledged writes (create, update, delete, restore, policy, bind).
    pub acked_writes: AtomicU64,
    /// Secrets whose state was compared with what was acknowledged.
    pub verified: AtomicU64,
    /// Acknowledged writes not found afterwards.
    pub lost: Mutex<Vec<String>>,
}

impl Tally {
    /// Counts an audited call as sent and not (yet) answered.
    pub fn sent(&self, party: Party, rpc: &'static str) {
        let mut calls = self.calls.lock().unwrap();
        calls.entry((party, rpc)).or_default().unanswered += 1;
    }

    /// The server answered a call counted by [`Tally::sent`].
    pub fn answered(&self, party: Party, rpc: &'static str) {
        let mut calls = self.calls.lock().unwrap();
        let c = calls.entry((party, rpc)).or_default();
        c.unanswered -= 1;
        c.answered += 1;
    }

    pub fn outcome(&self, what: &str, outcome: &str) {
        *self
            .outcomes
            .lock()
            .unwrap()
            .entry((what.to_owned(), outcome.to_owned()))
            .or_default() += 1;
    }

    pub fn unexpected(&self, what: String) {
        *self.unexpected.lock().unwrap().entry(what).or_default() += 1;
    }

    pub fn lost(&self, what: String) {
        self.lost.lock().unwrap().push(what);
    }

    pub fn unexpected_count(&self) -> u64 {
        self.unexpected.lock().unwrap().values().sum()
    }
}

/// The canonical name of a code, as the audit log spells it.
pub fn code_name(code: Code) -> String {
    format!("{code:?}")
}
