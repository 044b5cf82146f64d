//! Admission: the bounds a call must pass before it may use capacity that
//! other users share. Per-identity bounds come first, so that one token
//! cannot hold what everyone needs; the shared concurrency permit is taken
//! only once the request has been read and authorized.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

use crate::auth::Identity;
use crate::limits::RateLimiter;
use crate::metrics::metrics;

/// The admission bounds, from the server's flags.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Sustained calls per second per identity; 0 disables.
    pub rate_per_second: f64,
    /// Calls per identity in a burst above the sustained rate.
    pub burst: u32,
    /// Calls handled at once, across all users.
    pub max_in_flight: usize,
    /// Calls one identity may have in flight at once.
    pub max_in_flight_per_identity: usize,
    /// How long an admitted call has to send its request.
    pub read_deadline: Duration,
    /// Sustained refusals per second per client address before its
    /// unauthenticated calls are refused as rate limited; 0 disables.
    pub refusals_per_second: f64,
    /// Refusals per client address in a burst above that rate.
    pub refusal_burst: u32,
    /// Refusal records written per client address per `audit_interval`;
    /// the rest are counted in one summary record. 0: all are written.
    pub audited_refusals: u32,
    /// The interval of `audited_refusals`.
    pub audit_interval: Duration,
    /// Health `Watch` streams open at once, across all connections.
    pub max_watch_streams: usize,
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections one client address (IPv6: one /64) may have open at
    /// once; 0: no per-address cap.
    pub max_connections_per_address: usize,
    /// How long a new connection has to open its HTTP/2 session.
    pub handshake_timeout: Duration,
    /// How long a connection may stay open with no stream; zero: for ever.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    /// The bounds of a server whose flags say nothing else.
    fn default() -> Limits {
        Limits {
            rate_per_second: 10.0,
            burst: 50,
            max_in_flight: 512,
            max_in_flight_per_identity: 32,
            read_deadline: READ_DEADLINE,
            refusals_per_second: 10.0,
            refusal_burst: 200,
            audited_refusals: 50,
            audit_interval: Duration::from_secs(10),
            max_watch_streams: crate::public::MAX_WATCH_STREAMS,
            max_connections: crate::listener::MAX_CONNECTIONS,
            max_connections_per_address: crate::listener::MAX_CONNECTIONS_PER_ADDRESS,
            handshake_timeout: crate::listener::HANDSHAKE_TIMEOUT,
            idle_timeout: crate::listener::IDLE_TIMEOUT,
        }
    }
}

impl Limits {
    /// No rate limit and generous concurrency: for dev mode and benchmarks.
    /// Refusals are neither limited nor summarised, and one address may
    /// open as many connections as the overall cap allows.
    pub fn unlimited() -> Limits {
        Limits {
            max_connections_per_address: 0,
            rate_per_second: 0.0,
            burst: 1,
            max_in_flight: 4096,
            max_in_flight_per_identity: 4096,
            refusals_per_second: 0.0,
            refusal_burst: 1,
            audited_refusals: 0,
            ..Limits::default()
        }
    }
}

/// The admission state of a running server.
pub struct Admission {
    limits: Limits,
    rate: RateLimiter,
    in_flight: Arc<Semaphore>,
    per_identity: Arc<Mutex<HashMap<String, usize>>>,
}

/// Held while a call of an identity is in flight.
pub struct IdentitySlot {
    key: String,
    counts: Arc<Mutex<HashMap<String, usize>>>,
}

impl Drop for IdentitySlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Who an identity is for limits: (`iss`, `sub`), which the user cannot
/// change, unlike the identifier claim (an e-mail she may edit).
fn identity_key(identity: &Identity) -> String {
    format!("{}\n{}", identity.issuer, identity.subject)
}

impl Admission {
    /// Admission within `limits`.
    pub fn new(limits: Limits) -> Admission {
        let limits = Limits {
            max_in_flight: limits.max_in_flight.max(1),
            max_in_flight_per_identity: limits.max_in_flight_per_identity.max(1),
            ..limits
        };
        Admission {
            limits,
            rate: RateLimiter::new(limits.rate_per_second, limits.burst),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight)),
            per_identity: Arc::default(),
        }
    }

    /// The per-identity bounds: the rate limit, then calls in flight.
    pub fn identity(&self, identity: &Identity) -> Result<IdentitySlot, (Status, &'static str)> {
        let key = identity_key(identity);
        if let Err(wait) = self.rate.check(&key) {
            metrics().limited.with_label_values(&["rate"]).inc();
            let mut status = Status::resource_exhausted(format!(
                "too many requests from '{}'; retry in {:.1} s",
                identity.user,
                wait.as_secs_f64()
            ));
            if let Ok(v) = wait.as_millis().to_string().parse() {
                status.metadata_mut().insert("retry-after-ms", v);
            }
            return Err((
                crate::status::with_reason(status, kiss_proto::reasons::LIMITED),
                "rate_limited",
            ));
        }
        let mut counts = self.per_identity.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(key.clone()).or_insert(0);
        if *n >= self.limits.max_in_flight_per_identity {
            metrics().limited.with_label_values(&["identity"]).inc();
            let status = Status::resource_exhausted(format!(
                "'{}' already has {} calls in progress; wait for them to finish",
                identity.user, self.limits.max_in_flight_per_identity
            ));
            return Err((
                crate::status::with_reason(status, kiss_proto::reasons::LIMITED),
                "identity_concurrency",
            ));
        }
        *n += 1;
        drop(counts);
        Ok(IdentitySlot {
            key,
            counts: self.per_identity.clone(),
        })
    }

    /// How long an admitted call has to send its request.
    pub fn read_deadline(&self) -> Duration {
        self.limits.read_deadline
    }

    /// A shared permit, or RESOURCE_EXHAUSTED at once: a queue would only
    /// turn overload into timeouts.
    pub fn shared(&self) -> Result<OwnedSemaphorePermit, (Status, &'static str)> {
        self.in_flight.clone().try_acquire_owned().map_err(|_| {
            metrics().limited.with_label_values(&["concurrency"]).inc();
            let status = Status::resource_exhausted(format!(
                "kiss-server is handling its maximum of {} requests; retry in a moment",
                self.limits.max_in_flight
            ));
            (
                crate::status::with_reason(status, kiss_proto::reasons::LIMITED),
                "concurrency",
            )
        })
    }
}

/// How long a client has to send its request once the call is admitted,
/// by default: a request is at most 128 KiB, which takes well under this.
pub const READ_DEADLINE: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    fn id(sub: &str, user: &str) -> Identity {
        Identity {
            user: user.into(),
            subject: sub.into(),
            namespaces: Default::default(),
            admin: false,
            expires_at: None,
            issuer: "https://idp".into(),
            credential: Default::default(),
        }
    }

    #[test]
    fn one_identity_cannot_hold_more_than_its_share() {
        let a = Admission::new(Limits {
            max_in_flight_per_identity: 2,
            ..Limits::unlimited()
        });
        let first = a.identity(&id("1", "alice")).unwrap();
        let _second = a.identity(&id("1", "alice")).unwrap();
        assert_eq!(
            a.identity(&id("1", "alice")).err().map(|e| e.1),
            Some("identity_concurrency")
        );
        assert!(
            a.identity(&id("2", "bob")).is_ok(),
            "others are not held up"
        );
        drop(first);
        assert!(
            a.identity(&id("1", "alice")).is_ok(),
            "a finished call frees its slot"
        );
    }

    #[test]
    fn limits_follow_the_subject_not_the_editable_identifier() {
        let a = Admission::new(Limits {
            rate_per_second: 1.0,
            burst: 1,
            ..Limits::unlimited()
        });
        drop(a.identity(&id("victim", "victim@example.com")).unwrap());
        // Someone who set her e-mail to the victim's has her own bucket.
        assert!(a.identity(&id("mallory", "victim@example.com")).is_ok());
        assert_eq!(
            a.identity(&id("victim", "victim@example.com"))
                .err()
                .map(|e| e.1),
            Some("rate_limited")
        );
    }

    #[test]
    fn the_shared_permit_is_refused_not_queued() {
        let a = Admission::new(Limits {
            max_in_flight: 1,
            ..Limits::unlimited()
        });
        let held = a.shared().unwrap();
        assert_eq!(a.shared().err().map(|e| e.1), Some("concurrency"));
        drop(held);
        assert!(a.shared().is_ok());
    }
}
