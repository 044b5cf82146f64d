//! Refusals per client address: how many a client may cause before its
//! unauthenticated calls are refused as rate limited, and how many of their
//! audit records are written before the rest are summarised, so that a
//! client whose calls are all refused can neither flood the audit log nor
//! make the server treat each of its calls as new.
//!
//! Addresses come from [`crate::audit::client_address`]: the peer, or the
//! right-most untrusted `X-Forwarded-For` hop behind `--trusted-proxy`;
//! IPv6 addresses count per /64, which one client usually holds whole.
//!
//! Many addresses cannot flood the log either: all of them together write
//! at most [`Refusals::global_budget`] refusal records per interval, the
//! rest counted in one summary for all addresses; and the summaries of one
//! interval name at most [`MAX_SUMMARIES`] addresses, the rest added to
//! that one. Past [`MAX_TRACKED`] addresses, newcomers are not tracked one
//! by one; their refusals only count against the global budget, so they
//! cannot use up each other's.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::limits::RateLimiter;

/// Addresses tracked at once; past this, new ones only count globally.
pub const MAX_TRACKED: usize = 10_000;
/// Addresses named in the summaries of one flush; the others are added to
/// the summary for all addresses.
pub const MAX_SUMMARIES: usize = 100;
/// The "client" of the summary that stands for every address.
pub const ALL: &str = "(all addresses)";
/// The global budget, as a multiple of the per-address one.
const GLOBAL_FACTOR: u32 = 20;

/// One client's audit budget in the current interval.
struct Window {
    start: Instant,
    written: u32,
    suppressed: u64,
}

/// Whether a refusal's audit record is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the client's budget: write it.
    Write,
    /// Past it: counted in the client's next summary instead.
    Suppress,
}

/// Refusals left out of the audit log for one client in one interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// The client address.
    pub client: String,
    /// How many records were left out.
    pub suppressed: u64,
}

/// The per-address refusal state of a running server.
pub struct Refusals {
    rate: RateLimiter,
    budget: u32,
    global_budget: u32,
    interval: Duration,
    state: Mutex<State>,
}

/// The windows of every tracked address, and the one of them all.
struct State {
    windows: HashMap<String, Window>,
    global: Window,
}

/// The key a client address counts under: IPv6 addresses by their /64,
/// IPv4-mapped ones as IPv4; anything else (e.g. "unknown") as it is.
fn group(client: &str) -> std::borrow::Cow<'_, str> {
    match client.parse::<std::net::IpAddr>() {
        Ok(ip) => {
            let grouped = crate::listener::address_group(ip);
            match grouped {
                std::net::IpAddr::V6(_) => format!("{grouped}/64").into(),
                _ if grouped == ip => client.into(),
                _ => grouped.to_string().into(),
            }
        }
        Err(_) => client.into(),
    }
}

fn fresh(now: Instant) -> Window {
    Window {
        start: now,
        written: 0,
        suppressed: 0,
    }
}

impl Refusals {
    /// At most `rate` refusals a second (burst `burst`; `rate` <= 0
    /// disables) per address, and `budget` refusal records per address per
    /// `interval` (0: no budget, every record written).
    pub fn new(rate: f64, burst: u32, budget: u32, interval: Duration) -> Refusals {
        Refusals {
            rate: RateLimiter::new(rate, burst),
            budget,
            global_budget: budget.saturating_mul(GLOBAL_FACTOR),
            interval: interval.max(Duration::from_millis(1)),
            state: Mutex::new(State {
                windows: HashMap::new(),
                global: fresh(Instant::now()),
            }),
        }
    }

    /// Refusal records written per interval over all addresses together.
    pub fn global_budget(&self) -> u32 {
        self.global_budget
    }

    /// The interval of the audit budget.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Counts one refusal of `client`; past its rate, how long until it
    /// may be refused again without being rate limited.
    pub fn charge(&self, client: &str) -> Result<(), Duration> {
        self.rate.check(&group(client))
    }

    /// Whether the record of a refusal of `client` is written, and the
    /// summaries of intervals this ended that left records out (its
    /// address's previous one, all addresses' previous one).
    pub fn audit(&self, client: &str, now: Instant) -> (Verdict, Vec<Summary>) {
        if self.budget == 0 {
            return (Verdict::Write, Vec::new());
        }
        let key = group(client);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let State { windows, global } = &mut *state;
        let mut summaries = Vec::new();
        if now.saturating_duration_since(global.start) >= self.interval {
            if global.suppressed > 0 {
                summaries.push(Summary {
                    client: ALL.to_owned(),
                    suppressed: global.suppressed,
                });
            }
            *global = fresh(now);
        }
        let tracked = windows.len() < MAX_TRACKED || windows.contains_key(key.as_ref());
        let verdict = if !tracked {
            // Not tracked one by one: only the global budget applies, so
            // newcomers cannot use up each other's (or anyone's) budget.
            take(global, self.global_budget)
        } else {
            let w = windows
                .entry(key.clone().into_owned())
                .or_insert(fresh(now));
            if now.saturating_duration_since(w.start) >= self.interval {
                if w.suppressed > 0 {
                    summaries.push(Summary {
                        client: key.into_owned(),
                        suppressed: w.suppressed,
                    });
                }
                *w = fresh(now);
            }
            if w.written >= self.budget {
                w.suppressed += 1;
                Verdict::Suppress
            } else {
                let verdict = take(global, self.global_budget);
                if verdict == Verdict::Write {
                    w.written += 1;
                }
                verdict
            }
        };
        (verdict, summaries)
    }

    /// The summaries of every interval, ended or not, all forgotten: for
    /// shutdown, so that no count of left-out refusals is lost with the
    /// process.
    pub fn drain(&self) -> Vec<Summary> {
        // Far enough ahead that every interval has ended.
        let later = Instant::now() + self.interval;
        self.due(later)
    }

    /// The summaries of every interval that has ended, which are forgotten:
    /// at most [`MAX_SUMMARIES`] addresses by name, the others added to the
    /// summary of all addresses.
    pub fn due(&self, now: Instant) -> Vec<Summary> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let State { windows, global } = &mut *state;
        let mut out = Vec::new();
        let mut rest = 0;
        windows.retain(|client, w| {
            if now.saturating_duration_since(w.start) < self.interval {
                return true;
            }
            if w.suppressed > 0 {
                if out.len() < MAX_SUMMARIES {
                    out.push(Summary {
                        client: client.clone(),
                        suppressed: w.suppressed,
                    });
                } else {
                    rest += w.suppressed;
                }
            }
            false
        });
        let ended = now.saturating_duration_since(global.start) >= self.interval;
        if ended {
            rest += global.suppressed;
            *global = fresh(now);
        } else {
            // Not its time yet: counted in its own summary when it ends.
            global.suppressed += rest;
            rest = 0;
        }
        if rest > 0 {
            out.push(Summary {
                client: ALL.to_owned(),
                suppressed: rest,
            });
        }
        out
    }
}

/// One record against the global budget: written, or counted in the
/// summary of all addresses.
fn take(global: &mut Window, budget: u32) -> Verdict {
    if global.written < budget {
        global.written += 1;
        Verdict::Write
    } else {
        global.suppressed += 1;
        Verdict::Suppress
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drain_gives_every_count_even_of_intervals_still_running() {
        let r = Refusals::new(0.0, 0, 1, Duration::from_secs(3600));
        let now = Instant::now();
        for _ in 0..5 {
            let _ = r.audit("10.0.0.1", now);
        }
        assert!(r.due(now).is_empty(), "the interval has not ended");
        let left_out: u64 = r.drain().iter().map(|s| s.suppressed).sum();
        assert_eq!(left_out, 4, "one written, four counted");
        assert!(r.drain().is_empty(), "drained once");
    }

    #[test]
    fn past_the_budget_records_are_counted_then_summarised() {
        let r = Refusals::new(0.0, 1, 3, Duration::from_secs(10));
        let t0 = Instant::now();
        let verdicts: Vec<Verdict> = (0..5).map(|_| r.audit("1.2.3.4", t0).0).collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Write,
                Verdict::Write,
                Verdict::Write,
                Verdict::Suppress,
                Verdict::Suppress
            ]
        );
        assert_eq!(r.audit("5.6.7.8", t0).0, Verdict::Write, "per address");
        assert!(r.due(t0).is_empty(), "the interval has not ended");
        let later = t0 + Duration::from_secs(10);
        let (verdict, summaries) = r.audit("1.2.3.4", later);
        assert_eq!(verdict, Verdict::Write, "a new interval, a new budget");
        assert_eq!(
            summaries,
            [Summary {
                client: "1.2.3.4".into(),
                suppressed: 2
            }]
        );
        r.audit("1.2.3.4", later);
        r.audit("1.2.3.4", later);
        r.audit("1.2.3.4", later);
        assert_eq!(
            r.due(later + Duration::from_secs(10)),
            [Summary {
                client: "1.2.3.4".into(),
                suppressed: 1
            }]
        );
        assert!(r.due(later + Duration::from_secs(20)).is_empty());
    }

    #[test]
    fn many_addresses_write_at_most_the_global_budget() {
        let r = Refusals::new(0.0, 1, 2, Duration::from_secs(10));
        let t0 = Instant::now();
        let global = r.global_budget() as usize;
        let written = (0..global * 3)
            .filter(|i| r.audit(&format!("10.0.{}.{}", i / 256, i % 256), t0).0 == Verdict::Write)
            .count();
        assert_eq!(written, global, "all addresses together");
        let summaries = r.due(t0 + Duration::from_secs(10));
        assert_eq!(
            summaries,
            [Summary {
                client: ALL.into(),
                suppressed: (global * 2) as u64
            }],
            "one line for them all"
        );
    }

    #[test]
    fn ipv6_addresses_count_per_64() {
        let r = Refusals::new(0.0, 1, 2, Duration::from_secs(10));
        let t0 = Instant::now();
        let verdicts: Vec<Verdict> = ["2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff::3"]
            .iter()
            .map(|a| r.audit(a, t0).0)
            .collect();
        assert_eq!(
            verdicts,
            [Verdict::Write, Verdict::Write, Verdict::Suppress]
        );
        assert_eq!(
            r.audit("2001:db8:0:2::1", t0).0,
            Verdict::Write,
            "another /64"
        );
        assert_eq!(r.audit("::ffff:192.0.2.1", t0).0, Verdict::Write);
        assert_eq!(r.audit("192.0.2.1", t0).0, Verdict::Write);
        assert_eq!(
            r.audit("192.0.2.1", t0).0,
            Verdict::Suppress,
            "mapped is the same"
        );
        let summaries = r.due(t0 + Duration::from_secs(10));
        assert!(
            summaries.contains(&Summary {
                client: "2001:db8:0:1::/64".into(),
                suppressed: 1
            }),
            "{summaries:?}"
        );
    }

    #[test]
    fn past_the_tracking_bound_newcomers_do_not_share_one_small_budget() {
        let r = Refusals::new(0.0, 1, 1, Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED {
            r.audit(&format!("u{i}"), t0);
        }
        // Next interval, the tracked addresses not yet forgotten: each
        // newcomer counts against the global budget only, not against one
        // address's budget of 1 shared by all of them.
        let t1 = t0 + Duration::from_secs(10);
        let newcomers: Vec<Verdict> = (0..30)
            .map(|i| r.audit(&format!("new-{i}"), t1).0)
            .collect();
        let written = newcomers.iter().filter(|v| **v == Verdict::Write).count();
        assert_eq!(written, r.global_budget() as usize, "{newcomers:?}");
        assert!(r.state.lock().unwrap().windows.len() <= MAX_TRACKED);
    }

    #[test]
    fn summaries_name_a_bounded_number_of_addresses() {
        let r = Refusals::new(0.0, 1, 1, Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..150 {
            let a = format!("10.1.{}.{}", i / 256, i % 256);
            r.audit(&a, t0);
            r.audit(&a, t0);
        }
        // Only addresses that wrote their budget within the global one are
        // summarised by name; the rest are in the line for all.
        let summaries = r.due(t0 + Duration::from_secs(10));
        assert_eq!(summaries.len(), GLOBAL_FACTOR as usize + 1, "{summaries:?}");
        assert!(summaries.len() <= MAX_SUMMARIES + 1);
        assert_eq!(
            summaries.last(),
            Some(&Summary {
                client: ALL.into(),
                suppressed: 2 * (150 - GLOBAL_FACTOR as u64)
            })
        );
    }
}
