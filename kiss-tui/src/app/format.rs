//! Dates and durations as the app shows them. Pure: "now" is always passed
//! in, so screens render the same in tests.

use std::time::{SystemTime, UNIX_EPOCH};

pub use crate::duration::{duration_coarse, duration_short, expiry};

/// How long ago (or from now) `t` is: `3h ago`, `in 5m`, `just now`.
pub fn ago(t: SystemTime, now: SystemTime) -> String {
    match now.duration_since(t) {
        Ok(d) if d.as_secs() < 5 => "just now".into(),
        Ok(d) => format!("{} ago", duration_coarse(d)),
        Err(e) => format!("in {}", duration_coarse(e.duration())),
    }
}

/// A UTC date and time to the minute: `2025-06-01 14:03`.
pub fn date_time(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(dt) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute()
        ),
        Err(_) => "?".into(),
    }
}

/// A UTC date: `2025-06-01`.
pub fn date(t: SystemTime) -> String {
    let full = date_time(t);
    full.get(..10).unwrap_or(&full).to_owned()
}

/// A date for details: `2025-06-01 14:03 (3h ago)` (UTC), or `never`.
pub fn date_with_age(t: Option<SystemTime>, now: SystemTime) -> String {
    match t {
        None => "never".into(),
        Some(t) => format!("{} ({})", date_time(t), ago(t, now)),
    }
}

/// A version id as lists show it: its first 8 characters (a UUID's first
/// group), enough to tell versions apart at a glance.
pub fn short_version(id: &str) -> String {
    id.chars().take(8).collect()
}

/// Capital first letter, full stop at the end.
pub fn sentence(s: &str) -> String {
    let s = s.trim();
    let mut out = String::with_capacity(s.len() + 1);
    let mut chars = s.chars();
    if let Some(c) = chars.next() {
        out.extend(c.to_uppercase());
        out.push_str(chars.as_str());
    }
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_short(Duration::from_secs(45)), "45s");
        assert_eq!(duration_short(Duration::from_secs(41 * 60 + 12)), "41m 12s");
        assert_eq!(
            duration_short(Duration::from_secs(3 * 3600 + 720)),
            "3h 12m"
        );
        assert_eq!(
            duration_short(Duration::from_secs(2 * 86_400 + 3 * 3600)),
            "2d 3h"
        );
        assert_eq!(duration_coarse(Duration::from_secs(90 * 86_400)), "3mo");
    }

    #[test]
    fn expiry_counts_down_and_then_says_expired() {
        let now = at(1_000_000);
        assert_eq!(
            expiry(Some(at(1_000_000 + 42 * 60)), now),
            "expires in 42m 00s"
        );
        assert_eq!(
            expiry(Some(at(1_000_000 - 3 * 3600)), now),
            "expired 3h ago"
        );
        assert_eq!(expiry(Some(now), now), "expired 0s ago");
        assert_eq!(expiry(None, now), "no expiry");
    }

    #[test]
    fn dates_are_utc_to_the_minute() {
        assert_eq!(date_time(at(1_735_689_600)), "2025-01-01 00:00");
        assert_eq!(ago(at(100), at(100 + 7200)), "2h ago");
        assert_eq!(ago(at(100), at(101)), "just now");
        assert_eq!(date_with_age(None, at(0)), "never");
    }
}
