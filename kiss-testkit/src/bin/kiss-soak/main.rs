//! `kiss-soak`: load, soak and faults against a real kiss-server process
//! (issue 11, "Evidence"). `scripts/soak.sh` builds and runs it; see the
//! README's "Soak" section.
//!
//! For a set time, `--users` distinct users (valid tokens, one namespace
//! each) call every RPC against the local backend and/or moto, while the
//! attacks of issue 11 run from another loopback address, and the driver
//! rotates the IdP's signing key, takes the JWKS endpoint down and up,
//! restarts moto (aws) and kill -9s the server (local). It then checks and
//! prints: no unexpected error, every acknowledged write still there,
//! audit records matching the calls the server answered, the server's RSS
//! flat after warm-up and its fds bounded. Exit status 1 on any failure.

mod attacks;
mod idp;
mod tally;
mod users;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use kiss_proto::pb::{self, kiss_client::KissClient};
use kiss_testkit::{KissServer, Moto, NAMESPACES_REGEX, ServerProcess, authorized, meta};
use tokio::task::JoinSet;
use tonic::Code;

use idp::{Jwks, SigningKey, Tokens};
use tally::{DRIVER_ADDR, Faults, Party, Tally, USERS_ADDR, from_server};
use users::{Resync, User};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Local,
    Aws,
    Both,
}

/// Load, soak and faults against kiss-server (see scripts/soak.sh).
#[derive(Debug, Parser)]
struct Args {
    /// Seconds of load per backend.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Which backend(s); `both` runs local, then aws.
    #[arg(long, value_enum, default_value_t = Which::Both)]
    backend: Which,
    /// Distinct users, each with a valid token and a namespace of her own.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Mean pause between one user's calls, ms (default: 30000 local, 15000
    /// aws: what the server, moto and the driver sustain together on 2
    /// shared cores with the debug build; the local backend rewrites its
    /// whole file under one lock on every write).
    #[arg(long)]
    think_ms: Option<u64>,
    /// HTTP/2 connections the users share (all from 127.0.0.1: keep them
    /// under kiss-server's per-address connection cap, 32 by default).
    #[arg(long, default_value_t = 24)]
    channels: usize,
    /// The kiss-server binary.
    #[arg(long)]
    server_bin: PathBuf,
    /// Where the data, audit logs and server logs go (emptied first).
    #[arg(long, default_value = "target/soak")]
    work_dir: PathBuf,
    /// RSS may grow this much (percent of the warm-up maximum) ...
    #[arg(long, default_value_t = 25)]
    rss_margin_pct: u64,
    /// ... or this many MiB, whichever is more.
    #[arg(long, default_value_t = 16)]
    rss_margin_mib: u64,
    /// Open file descriptors of the server may not exceed this: one
    /// backend connection per request in flight (512, the default
    /// --max-concurrent-requests), the clients' connections (24 users', at
    /// most 32 attacks' under the per-address cap) and the process's own (~20).
    #[arg(long, default_value_t = 640)]
    max_fds: usize,
    /// Seconds between RSS and fd samples (default: 2, or 5 past 120 s runs).
    #[arg(long)]
    sample_every: Option<u64>,
    /// Run without the attacks.
    #[arg(long)]
    no_attacks: bool,
}

/// What every task of one backend's run shares.
pub struct Ctx {
    pub tally: Tally,
    pub faults: Faults,
    pub tokens: RwLock<Arc<Tokens>>,
    /// Bumped at each server restart: users then read their state back.
    pub server_gen: AtomicU64,
    /// Bumped at each moto restart: users then adopt what is there.
    pub moto_gen: AtomicU64,
    pub stop: AtomicBool,
    pub think: Duration,
    pub aws: bool,
    pub users: usize,
    server_pid: AtomicU32,
    /// (seconds since start, pid, VmRSS KiB, open fds).
    samples: Mutex<Vec<(f64, u32, u64, usize)>>,
}

/// How long the server may take to write the summary of refusals it left
/// out of the audit log: once per audit interval (kiss-server's default,
/// 10 s) it writes those of windows that have ended, so up to two
/// intervals; plus slack.
const SUMMARY_WAIT: Duration = Duration::from_secs(23);

#[derive(Debug, Clone, Copy)]
enum Event {
    Rotate,
    KillServer,
    JwksOutage(Duration),
    MotoOutage(Duration),
}

fn schedule(aws: bool, seconds: u64) -> Vec<(f64, Event)> {
    let t = seconds as f64;
    let outage = Duration::from_secs_f64((t * 0.06).max(5.0));
    let long = seconds >= 150;
    let mut events: Vec<(f64, Event)> = if aws {
        vec![
            (0.12, Event::Rotate),
            (0.25, Event::MotoOutage(outage)),
            (0.45, Event::JwksOutage(outage)),
        ]
    } else {
        vec![
            (0.12, Event::Rotate),
            (0.25, Event::KillServer),
            (0.50, Event::JwksOutage(outage)),
        ]
    };
    if long {
        events.push((
            0.40,
            if aws {
                Event::MotoOutage(outage)
            } else {
                Event::KillServer
            },
        ));
        events.push((0.70, Event::Rotate));
    } else {
        events.push((0.72, Event::Rotate));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    events.into_iter().map(|(f, e)| (f * t, e)).collect()
}

/// One backend's run: the server and what it depends on.
struct Rig {
    args: Arc<Args>,
    aws: bool,
    dir: PathBuf,
    port: u16,
    moto: Option<Moto>,
    server: Option<ServerProcess>,
    incarnation: u32,
    jwks: Jwks,
    keys: Vec<Arc<SigningKey>>,
    forger: Arc<SigningKey>,
    attacks: Option<JoinSet<()>>,
    ctx: Arc<Ctx>,
    start: Instant,
    timeline: Vec<String>,
}

impl Rig {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn note(&mut self, what: String) {
        let line = format!("{:>6.1} s  {what}", self.start.elapsed().as_secs_f64());
        println!("  {line}");
        self.timeline.push(line);
    }

    async fn spawn_server(&mut self) {
        let audit = self.dir.join(format!("audit-{}.jsonl", self.incarnation));
        let mut server = KissServer::new(&self.args.server_bin)
            .port(self.port)
            .args(["--jwks-url", &self.jwks.url()])
            .args(["--namespaces-regex", NAMESPACES_REGEX])
            .args(["--issuer", idp::ISSUER, "--audience", idp::AUDIENCE])
            .args(["--required-claim", "token_use=id"])
            .arg("--audit-log")
            .arg(&audit)
            .env("KISS_LOG", "warn");
        server = match &self.moto {
            Some(moto) => server.aws(moto),
            None => server
                .args(["--backend", "local", "--data-dir"])
                .arg(self.dir.join("data")),
        };
        let mut process = server.spawn();
        process.wait_ready().await;
        self.ctx.server_pid.store(process.pid(), Ordering::SeqCst);
        self.server = Some(process);
    }

    fn save_log(&self) {
        if let Some(server) = &self.server {
            let path = self.dir.join(format!("server-{}.log", self.incarnation));
            let _ = std::fs::write(path, server.log());
        }
    }

    fn start_attacks(&mut self) {
        if !self.args.no_attacks {
            self.attacks = Some(attacks::spawn(&self.ctx, self.addr(), self.forger.clone()));
        }
    }

    /// Stops the attacks and waits until the server has summarised every
    /// refusal it left out of the audit log: those counts live in memory
    /// until then, and a kill -9 would lose them (by design).
    async fn quiet_attacks(&mut self) {
        if let Some(mut set) = self.attacks.take() {
            set.abort_all();
            while set.join_next().await.is_some() {}
            tokio::time::sleep(SUMMARY_WAIT).await;
        }
    }

    async fn create_roles(&self) {
        let Some(moto) = &self.moto else { return };
        let iam = kiss_testkit::aws::AwsState::of(moto).await.iam;
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/SOAK"},"Action":"sts:AssumeRoleWithWebIdentity"}]}"#;
        let mut set = JoinSet::new();
        let next = Arc::new(AtomicU64::new(0));
        for _ in 0..16 {
            let (iam, next, users) = (iam.clone(), next.clone(), self.args.users as u64);
            set.spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= users {
                        return;
                    }
                    if !users::binds(i as usize) {
                        continue;
                    }
                    let role = format!(
                        "k8s-sa_{}_{}",
                        idp::namespace(i as usize),
                        users::SERVICE_ACCOUNT
                    );
                    iam.create_role()
                        .role_name(&role)
                        .assume_role_policy_document(trust)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("moto does not create role {role}: {e:?}"));
                }
            });
        }
        while set.join_next().await.is_some() {}
    }

    async fn run_event(&mut self, event: Event) {
        match event {
            Event::Rotate => self.rotate().await,
            Event::KillServer => {
                self.note("attacks paused until the server has summarised their refusals".into());
                self.quiet_attacks().await;
                let pid = self.ctx.server_pid.load(Ordering::SeqCst);
                self.ctx.faults.server.begin();
                let t0 = Instant::now();
                self.save_log();
                if let Some(mut s) = self.server.take() {
                    s.kill();
                }
                self.ctx.server_gen.fetch_add(1, Ordering::SeqCst);
                self.incarnation += 1;
                self.spawn_server().await;
                self.ctx.faults.server.end();
                let new = self.ctx.server_pid.load(Ordering::SeqCst);
                self.note(format!(
                    "kill -9 of kiss-server (pid {pid}); restarted as pid {new}, ready after {:.1} s",
                    t0.elapsed().as_secs_f64()
                ));
                self.start_attacks();
            }
            Event::JwksOutage(d) => {
                self.jwks.stop();
                self.note(format!("JWKS endpoint stopped for {} s", d.as_secs()));
                tokio::time::sleep(d).await;
                self.jwks.resume();
                self.note("JWKS endpoint back".into());
            }
            Event::MotoOutage(d) => {
                self.ctx.faults.moto.begin();
                let Some(moto) = self.moto.as_mut() else {
                    return;
                };
                moto.stop();
                self.note(format!("moto stopped for {} s", d.as_secs()));
                tokio::time::sleep(d).await;
                self.ctx.moto_gen.fetch_add(1, Ordering::SeqCst);
                let t0 = Instant::now();
                if let Some(moto) = self.moto.as_mut() {
                    moto.restart();
                }
                self.create_roles().await;
                self.ctx.faults.moto.end();
                self.note(format!(
                    "moto restarted (empty) and its {} roles made again in {:.1} s",
                    (0..self.args.users).filter(|&i| users::binds(i)).count(),
                    t0.elapsed().as_secs_f64()
                ));
            }
        }
    }

    /// A key rotation as an IdP does it: publish the new key beside the
    /// old, wait until the server has it (a probe token signed by it is
    /// accepted), switch every token to it, then withdraw the old key.
    async fn rotate(&mut self) {
        let kid = format!("soak-{}", self.keys.len() + 1);
        let users = self.args.users;
        let key = {
            let kid = kid.clone();
            tokio::task::spawn_blocking(move || Arc::new(SigningKey::generate(&kid)))
                .await
                .expect("key generation")
        };
        let old = self.keys.last().expect("a key").clone();
        self.jwks.publish(&[&old, &key]);
        let tokens = {
            let key = key.clone();
            tokio::task::spawn_blocking(move || Arc::new(Tokens::mint(&key, users)))
                .await
                .expect("minting")
        };
        let t0 = Instant::now();
        let probes = self.probe(&tokens.probe).await;
        *self.ctx.tokens.write().unwrap() = tokens;
        self.keys.push(key.clone());
        self.note(format!(
            "key rotation: JWKS serves {} + {kid}; the server accepted {kid} after {probes} probe(s), {:.1} s; every token now signed by {kid}",
            old.kid,
            t0.elapsed().as_secs_f64()
        ));
        tokio::time::sleep(Duration::from_secs(3)).await;
        self.jwks.publish(&[&key]);
        self.note(format!(
            "key rotation: {} withdrawn, JWKS serves {kid} only",
            old.kid
        ));
    }

    /// Pings with `token` until it is accepted; how many tries it took.
    async fn probe(&self, token: &str) -> u32 {
        let mut client = KissClient::new(attacks::channel_from(self.addr(), DRIVER_ADDR));
        for n in 1.. {
            self.ctx.tally.sent(Party::Driver, "Ping");
            let r = client
                .ping(authorized(
                    token,
                    pb::PingRequest {
                        metadata: meta(idp::PROBE_NAMESPACE),
                    },
                ))
                .await;
            let code = match &r {
                Ok(_) => Code::Ok,
                Err(s) => s.code(),
            };
            if r.as_ref().map_or_else(from_server, |_| true) {
                self.ctx.tally.answered(Party::Driver, "Ping");
            }
            self.ctx
                .tally
                .outcome("driver rotation probe", &tally::code_name(code));
            match code {
                Code::Ok => return n,
                Code::Unauthenticated | Code::ResourceExhausted if n < 120 => {}
                _ => {
                    self.ctx.tally.unexpected(format!("rotation probe: {r:?}"));
                    return n;
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        unreachable!()
    }
}

fn sample(pid: u32) -> Option<(u64, usize)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some((rss, fds))
}

/// What the audit log files say: records by (client, rpc), refusals
/// summarised by client, other notices, torn lines.
#[derive(Default)]
struct AuditLog {
    records: BTreeMap<(String, String), u64>,
    suppressed: BTreeMap<String, u64>,
    notices: BTreeMap<String, u64>,
    torn: u64,
}

fn read_audit(dir: &Path) -> AuditLog {
    let mut log = AuditLog::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("audit-"))
        })
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                log.torn += 1;
                continue;
            };
            let client = v["client"].as_str().unwrap_or("?").to_owned();
            if let Some(notice) = v["notice"].as_str() {
                if notice == "refusals_suppressed" {
                    *log.suppressed.entry(client).or_default() += v["count"].as_u64().unwrap_or(0);
                } else {
                    *log.notices.entry(notice.to_owned()).or_default() += 1;
                }
                continue;
            }
            let rpc = v["rpc"].as_str().unwrap_or("?").to_owned();
            *log.records.entry((client, rpc)).or_default() += 1;
        }
    }
    log
}

async fn run_backend(args: Arc<Args>, aws: bool) -> bool {
    let name = if aws { "aws (moto)" } else { "local" };
    let dir = args.work_dir.join(if aws { "aws" } else { "local" });
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).expect("the work directory is created");
    let dir = dir.canonicalize().expect("an absolute work directory");
    let think = Duration::from_millis(args.think_ms.unwrap_or(if aws { 15_000 } else { 30_000 }));
    println!(
        "==== soak: {name} backend, {} users, {} s, mean think time {} ms, {} connections; work dir {}",
        args.users,
        args.seconds,
        think.as_millis(),
        args.channels,
        dir.display()
    );

    let users_n = args.users;
    let (key, forger, tokens) = tokio::task::spawn_blocking(move || {
        let key = SigningKey::generate("soak-1");
        let tokens = Tokens::mint(&key, users_n);
        (
            Arc::new(key),
            Arc::new(SigningKey::generate("evil")),
            tokens,
        )
    })
    .await
    .expect("keys");
    let jwks = Jwks::start(&[&key]).await;
    let moto = aws.then(Moto::start);
    let ctx = Arc::new(Ctx {
        tally: Tally::default(),
        faults: Faults::default(),
        tokens: RwLock::new(Arc::new(tokens)),
        server_gen: AtomicU64::new(0),
        moto_gen: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        think,
        aws,
        users: args.users,
        server_pid: AtomicU32::new(0),
        samples: Mutex::default(),
    });
    let mut rig = Rig {
        args: args.clone(),
        aws,
        dir: dir.clone(),
        port: kiss_testkit::free_port(),
        moto,
        server: None,
        incarnation: 0,
        jwks,
        keys: vec![key],
        forger,
        attacks: None,
        ctx: ctx.clone(),
        start: Instant::now(),
        timeline: Vec::new(),
    };
    rig.create_roles().await;
    rig.spawn_server().await;
    rig.start = Instant::now();
    rig.note(format!(
        "kiss-server pid {} ready on {}",
        ctx.server_pid.load(Ordering::SeqCst),
        rig.addr()
    ));

    let every =
        Duration::from_secs(
            args.sample_every
                .unwrap_or(if args.seconds > 120 { 5 } else { 2 }),
        );
    let sampler = {
        let ctx = ctx.clone();
        let start = rig.start;
        tokio::spawn(async move {
            loop {
                let pid = ctx.server_pid.load(Ordering::SeqCst);
                if let Some((rss, fds)) = sample(pid) {
                    ctx.samples.lock().unwrap().push((
                        start.elapsed().as_secs_f64(),
                        pid,
                        rss,
                        fds,
                    ));
                }
                tokio::time::sleep(every).await;
            }
        })
    };

    let channels: Vec<_> = (0..args.channels.max(1))
        .map(|_| attacks::channel_with_timeout(rig.addr(), USERS_ADDR, users::CALL_TIMEOUT))
        .collect();
    let mut people = JoinSet::new();
    for i in 0..args.users {
        let user = User::new(&ctx, i, channels[i % channels.len()].clone());
        people.spawn(user.run(ctx.clone()));
    }
    rig.start_attacks();

    for (at, event) in schedule(aws, args.seconds) {
        let at = Duration::from_secs_f64(at);
        if let Some(wait) = at.checked_sub(rig.start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        rig.run_event(event).await;
    }
    if let Some(wait) = Duration::from_secs(args.seconds).checked_sub(rig.start.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    ctx.stop.store(true, Ordering::SeqCst);
    let load_ended = rig.start.elapsed();
    rig.note("load ends; users finish their last call, attacks stop".into());
    let attacks_stopped = Instant::now();
    if let Some(mut set) = rig.attacks.take() {
        set.abort_all();
        while set.join_next().await.is_some() {}
    }
    let mut everyone = Vec::new();
    while let Some(user) = people.join_next().await {
        everyone.push(user.expect("a user task"));
    }

    // The final read-back: every acknowledged write (on aws: since the
    // last moto restart) must be there.
    let mut checks = JoinSet::new();
    let gate = Arc::new(tokio::sync::Semaphore::new(32));
    for mut user in everyone {
        let (ctx, gate) = (ctx.clone(), gate.clone());
        checks.spawn(async move {
            let _turn = gate.acquire_owned().await;
            if user.due(&ctx) == Some(Resync::Adopt) {
                for _ in 0..20 {
                    if user.resync(&ctx, Resync::Adopt).await {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
            for _ in 0..20 {
                if user.resync(&ctx, Resync::Verify).await {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            ctx.tally
                .unexpected(format!("user {}: the final read-back never worked", user.i));
            false
        });
    }
    while checks.join_next().await.is_some() {}
    rig.note("final read-back of every user's namespace done".into());
    if let Some(wait) = SUMMARY_WAIT.checked_sub(attacks_stopped.elapsed()) {
        tokio::time::sleep(wait).await;
    }
    sampler.abort();
    rig.save_log();
    let exit = match rig.server.as_mut() {
        Some(s) => Some(s.terminate().await),
        None => None,
    };
    rig.note(format!("kiss-server stopped with SIGTERM: {exit:?}"));
    if let Some(mut moto) = rig.moto.take() {
        moto.stop();
    }
    report(&rig, &dir, load_ended, exit.is_some_and(|e| e.success()))
}

/// Prints everything and says whether the run passed.
fn report(rig: &Rig, dir: &Path, load: Duration, clean_exit: bool) -> bool {
    let ctx = &rig.ctx;
    let args = &rig.args;
    let tally = &ctx.tally;
    let mut failures: Vec<String> = Vec::new();
    let backend = if rig.aws { "aws" } else { "local" };

    println!("\n---- {backend}: calls by users, per RPC (outcome: count)");
    let outcomes = tally.outcomes.lock().unwrap();
    let mut last = String::new();
    for ((what, outcome), n) in outcomes.iter() {
        if *what != last {
            print!("\n  {what:<40}");
            last = what.clone();
        }
        print!(" {outcome}: {n};");
    }
    println!();
    let calls = tally.calls.lock().unwrap();
    let total_user: u64 = calls
        .iter()
        .filter(|((p, _), _)| *p == Party::Users)
        .map(|(_, c)| c.answered + c.unanswered)
        .sum();
    let total_attack: u64 = calls
        .iter()
        .filter(|((p, _), _)| *p == Party::Attacks)
        .map(|(_, c)| c.answered + c.unanswered)
        .sum();
    println!(
        "\n  user calls: {total_user} in {:.0} s ({:.0}/s); audited attack calls: {total_attack}; acknowledged writes: {}",
        load.as_secs_f64(),
        total_user as f64 / load.as_secs_f64().max(1.0),
        tally.acked_writes.load(Ordering::SeqCst)
    );

    println!(
        "\n---- {backend}: fault timeline (the JWKS endpoint served {} key sets in all)",
        rig.jwks.hits()
    );
    for line in &rig.timeline {
        println!("  {line}");
    }

    let unexpected = tally.unexpected.lock().unwrap();
    println!(
        "\n---- {backend}: unexpected errors: {}",
        unexpected.values().sum::<u64>()
    );
    for (what, n) in unexpected.iter().take(30) {
        println!("  {n:>6} × {what}");
    }
    if !unexpected.is_empty() {
        failures.push(format!(
            "{} unexpected errors",
            unexpected.values().sum::<u64>()
        ));
    }

    let lost = tally.lost.lock().unwrap();
    println!(
        "\n---- {backend}: acknowledged writes checked: {} secret states read back after restarts and at the end; missing or wrong: {}",
        tally.verified.load(Ordering::SeqCst),
        lost.len()
    );
    for l in lost.iter().take(20) {
        println!("  {l}");
    }
    if !lost.is_empty() {
        failures.push(format!(
            "{} acknowledged writes missing or wrong",
            lost.len()
        ));
    }

    let audit = read_audit(dir);
    println!(
        "\n---- {backend}: audit records against calls the server answered (client address: answered ≤ records + summarised ≤ answered + unanswered)"
    );
    for party in [Party::Users, Party::Attacks, Party::Driver] {
        let addr = party.addr();
        let mine: Vec<(&&str, &tally::Calls)> = calls
            .iter()
            .filter(|((p, _), _)| *p == party)
            .map(|((_, rpc), c)| (rpc, c))
            .collect();
        let answered: u64 = mine.iter().map(|(_, c)| c.answered).sum();
        let unanswered: u64 = mine.iter().map(|(_, c)| c.unanswered).sum();
        let records: u64 = audit
            .records
            .iter()
            .filter(|((c, _), _)| c == addr)
            .map(|(_, n)| n)
            .sum();
        let summarised = audit.suppressed.get(addr).copied().unwrap_or(0);
        let ok = answered <= records + summarised && records + summarised <= answered + unanswered;
        println!(
            "  {addr} {party:?}: answered {answered}, unanswered {unanswered}; audit records {records} + summarised {summarised} -> {}",
            if ok { "ok" } else { "MISMATCH" }
        );
        if !ok {
            failures.push(format!("audit of {addr} does not match its calls"));
        }
        if summarised == 0 {
            for (rpc, c) in &mine {
                let r = audit
                    .records
                    .get(&(addr.to_owned(), (**rpc).to_owned()))
                    .copied()
                    .unwrap_or(0);
                let ok = c.answered <= r && r <= c.answered + c.unanswered;
                if party == Party::Users || !ok {
                    println!(
                        "      {rpc:<24} answered {:>7}, unanswered {:>4}, records {:>7} {}",
                        c.answered,
                        c.unanswered,
                        r,
                        if ok { "" } else { "MISMATCH" }
                    );
                }
                if !ok {
                    failures.push(format!("audit of {addr} {rpc} does not match"));
                }
            }
        }
    }
    let strangers: u64 = audit
        .records
        .iter()
        .filter(|((c, _), _)| {
            ![Party::Users, Party::Attacks, Party::Driver]
                .iter()
                .any(|p| p.addr() == c)
        })
        .map(|(_, n)| n)
        .sum();
    if strangers > 0 || !audit.notices.is_empty() || audit.torn > 0 {
        println!(
            "  other: {strangers} records from other addresses, notices {:?}, {} torn lines",
            audit.notices, audit.torn
        );
    }
    if !audit.notices.is_empty() {
        failures.push(format!("audit notices {:?}", audit.notices));
    }
    if audit.torn > 1 {
        failures.push(format!("{} torn audit lines", audit.torn));
    }

    let samples = ctx.samples.lock().unwrap();
    println!(
        "\n---- {backend}: server RSS and open fds (sampled every few seconds; * = new process)"
    );
    let mut prev = 0;
    for chunk in samples.chunks(6) {
        let row: Vec<String> = chunk
            .iter()
            .map(|(t, pid, rss, fds)| {
                let star = if *pid != prev { "*" } else { " " };
                prev = *pid;
                format!("{t:>5.0}s{star}{:>6.1}M {fds:>4}fd", *rss as f64 / 1024.0)
            })
            .collect();
        println!("  {}", row.join(" |"));
    }
    let last_pid = samples.last().map(|s| s.1).unwrap_or(0);
    let final_run: Vec<&(f64, u32, u64, usize)> =
        samples.iter().filter(|s| s.1 == last_pid).collect();
    if final_run.len() >= 6 {
        let third = final_run.len() / 3;
        let warm = final_run[..third].iter().map(|s| s.2).max().unwrap_or(0);
        let late = final_run[final_run.len() - third..]
            .iter()
            .map(|s| s.2)
            .max()
            .unwrap_or(0);
        let margin = (warm * args.rss_margin_pct / 100).max(args.rss_margin_mib * 1024);
        let ok = late <= warm + margin;
        println!(
            "  RSS of the last server process (pid {last_pid}, {} samples): warm-up (first third) max {:.1} MiB, last third max {:.1} MiB, allowed {:.1} MiB (+{}% or +{} MiB) -> {}",
            final_run.len(),
            warm as f64 / 1024.0,
            late as f64 / 1024.0,
            (warm + margin) as f64 / 1024.0,
            args.rss_margin_pct,
            args.rss_margin_mib,
            if ok { "flat" } else { "GREW" }
        );
        if !ok {
            failures.push("server RSS grew after warm-up".into());
        }
    } else {
        println!("  too few samples of the last server process for the RSS check");
        failures.push("too few RSS samples".into());
    }
    let max_fds = samples.iter().map(|s| s.3).max().unwrap_or(0);
    let max_rss = samples.iter().map(|s| s.2).max().unwrap_or(0);
    println!(
        "  peak RSS {:.1} MiB; peak open fds {max_fds} (bound {}) -> {}",
        max_rss as f64 / 1024.0,
        args.max_fds,
        if max_fds <= args.max_fds {
            "bounded"
        } else {
            "OVER"
        }
    );
    if max_fds > args.max_fds {
        failures.push(format!("server fds reached {max_fds}"));
    }
    if !clean_exit {
        failures.push("kiss-server did not exit cleanly on SIGTERM".into());
    }

    if failures.is_empty() {
        println!("\n==== soak {backend}: PASS\n");
        true
    } else {
        println!("\n==== soak {backend}: FAIL: {}\n", failures.join("; "));
        for (i, _) in (0..=rig.incarnation).enumerate() {
            println!(
                "  server log: {}",
                dir.join(format!("server-{i}.log")).display()
            );
        }
        false
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Arc::new(Args::parse());
    let backends: &[bool] = match args.backend {
        Which::Local => &[false],
        Which::Aws => &[true],
        Which::Both => &[false, true],
    };
    let mut passed = true;
    for &aws in backends {
        passed &= run_backend(args.clone(), aws).await;
    }
    if passed {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
