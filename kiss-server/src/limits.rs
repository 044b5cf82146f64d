//! Per-identity rate limiting (token buckets), so that one user cannot use
//! up the account-wide Secrets Manager quotas for everyone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Buckets are forgotten once this many identities are tracked and full.
const MAX_TRACKED: usize = 10_000;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// A token bucket per identity.
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    /// `rate` tokens per second, up to `burst` stored. `rate` <= 0 disables.
    pub fn new(rate: f64, burst: u32) -> RateLimiter {
        RateLimiter {
            rate,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `who`; when none is left, how long until one is.
    pub fn check(&self, who: &str) -> Result<(), Duration> {
        self.check_at(who, Instant::now())
    }

    fn check_at(&self, who: &str, now: Instant) -> Result<(), Duration> {
        if self.rate <= 0.0 || !self.rate.is_finite() {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(who) {
            let (rate, burst) = (self.rate, self.burst);
            buckets
                .retain(|_, b| b.tokens + now.duration_since(b.last).as_secs_f64() * rate < burst);
        }
        let bucket = buckets.entry(who.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(
                Duration::try_from_secs_f64((1.0 - bucket.tokens) / self.rate)
                    .unwrap_or(Duration::MAX),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_sustained_rate_per_identity() {
        let limiter = RateLimiter::new(2.0, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check_at("a", t0).is_ok());
        }
        let wait = limiter.check_at("a", t0).unwrap_err();
        assert!(
            wait > Duration::from_millis(400) && wait <= Duration::from_millis(500),
            "{wait:?}"
        );
        assert!(
            limiter.check_at("b", t0).is_ok(),
            "identities have their own buckets"
        );
        assert!(
            limiter
                .check_at("a", t0 + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            limiter
                .check_at("a", t0 + Duration::from_millis(500))
                .is_err()
        );
    }

    #[test]
    fn zero_rate_disables() {
        let limiter = RateLimiter::new(0.0, 1);
        for _ in 0..100 {
            assert!(limiter.check("a").is_ok());
        }
    }
}
