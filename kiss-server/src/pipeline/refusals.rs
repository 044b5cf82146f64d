//! Refusals per client address: how many a client may cause before its
//! unauthenticated calls are refused as rate limited, and how many of their
//! audit records are written before the rest are summarised, so that a
//! client whose calls are all refused can neither flood the audit log nor
//! make the server treat each of its calls as new.
//!
//! Addresses come from [`crate::audit::client_address`]: the peer, or the
//! right-most untrusted `X-Forwarded-For` hop behind `--trusted-proxy`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::limits::RateLimiter;

/// Addresses tracked at once; past this, new ones share one budget.
const MAX_TRACKED: usize = 10_000;
/// The address newcomers share while [`MAX_TRACKED`] are tracked.
const OVERFLOW: &str = "(other addresses)";

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
    interval: Duration,
    windows: Mutex<HashMap<String, Window>>,
}

impl Refusals {
    /// At most `rate` refusals a second (burst `burst`; `rate` <= 0
    /// disables) per address, and `budget` refusal records per address per
    /// `interval` (0: no budget, every record written).
    pub fn new(rate: f64, burst: u32, budget: u32, interval: Duration) -> Refusals {
        Refusals {
            rate: RateLimiter::new(rate, burst),
            budget,
            interval: interval.max(Duration::from_millis(1)),
            windows: Mutex::default(),
        }
    }

    /// The interval of the audit budget.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Counts one refusal of `client`; past its rate, how long until it
    /// may be refused again without being rate limited.
    pub fn charge(&self, client: &str) -> Result<(), Duration> {
        self.rate.check(client)
    }

    /// Whether the record of a refusal of `client` is written, and the
    /// summary of its previous interval if that one left records out.
    pub fn audit(&self, client: &str, now: Instant) -> (Verdict, Option<Summary>) {
        if self.budget == 0 {
            return (Verdict::Write, None);
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut key = client;
        if windows.len() >= MAX_TRACKED && !windows.contains_key(client) {
            key = OVERFLOW;
        }
        let w = windows.entry(key.to_owned()).or_insert(Window {
            start: now,
            written: 0,
            suppressed: 0,
        });
        let mut summary = None;
        if now.saturating_duration_since(w.start) >= self.interval {
            if w.suppressed > 0 {
                summary = Some(Summary {
                    client: key.to_owned(),
                    suppressed: w.suppressed,
                });
            }
            *w = Window {
                start: now,
                written: 0,
                suppressed: 0,
            };
        }
        let verdict = if w.written < self.budget {
            w.written += 1;
            Verdict::Write
        } else {
            w.suppressed += 1;
            Verdict::Suppress
        };
        (verdict, summary)
    }

    /// The summaries of every interval that has ended, which are forgotten.
    pub fn due(&self, now: Instant) -> Vec<Summary> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        windows.retain(|client, w| {
            if now.saturating_duration_since(w.start) < self.interval {
                return true;
            }
            if w.suppressed > 0 {
                out.push(Summary {
                    client: client.clone(),
                    suppressed: w.suppressed,
                });
            }
            false
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let (verdict, summary) = r.audit("1.2.3.4", later);
        assert_eq!(verdict, Verdict::Write, "a new interval, a new budget");
        assert_eq!(
            summary,
            Some(Summary {
                client: "1.2.3.4".into(),
                suppressed: 2
            })
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
    fn many_addresses_share_one_budget_past_the_tracking_bound() {
        let r = Refusals::new(0.0, 1, 1, Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED {
            assert_eq!(r.audit(&i.to_string(), t0).0, Verdict::Write);
        }
        assert_eq!(r.audit("new-1", t0).0, Verdict::Write);
        assert_eq!(r.audit("new-2", t0).0, Verdict::Suppress);
        assert!(r.windows.lock().unwrap().len() <= MAX_TRACKED + 1);
    }
}
