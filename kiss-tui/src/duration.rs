//! Go's duration syntax (`10s`, `1m30s`, `500ms`, `1h`), as the Go client's
//! `-timeout` flag took it, so existing scripts keep working; and the
//! countdown a token's expiry is shown as.

use std::time::{Duration, SystemTime};

/// A compact duration: `45s`, `41m 12s`, `3h 12m`, `2d 3h`.
pub fn duration_short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A coarse duration for tables: `45s`, `41m`, `3h`, `2d`, `5mo`, `2y`.
pub fn duration_coarse(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        86_400..5_184_000 => format!("{}d", s / 86_400),
        5_184_000..63_072_000 => format!("{}mo", s / 2_592_000),
        _ => format!("{}y", s / 31_536_000),
    }
}

/// The one way a token's expiry is written, in the app and by the verbs:
/// `expires in 41m 12s`, `expired 3h ago`, or `no expiry`.
pub fn expiry(expires_at: Option<SystemTime>, now: SystemTime) -> String {
    match expires_at {
        None => "no expiry".into(),
        Some(t) => match t.duration_since(now) {
            Ok(d) if !d.is_zero() => format!("expires in {}", duration_short(d)),
            _ => format!(
                "expired {} ago",
                duration_coarse(now.duration_since(t).unwrap_or_default())
            ),
        },
    }
}

/// Why a duration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not a duration: {reason}; write it as Go does, e.g. 10s, 1m30s, 500ms or 1h")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

/// Parses a Go duration such as `1h2m3.5s`. Units: ns, us (µs, μs), ms, s, m, h.
/// A bare `0` is allowed, as in Go; negative durations are refused.
pub fn parse_go(input: &str) -> Result<Duration, DurationError> {
    let err = |reason| DurationError {
        input: input.to_owned(),
        reason,
    };
    let s = input.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') {
        return Err(err("it is negative"));
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(err("it is empty"));
    }
    let mut rest = s;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, tail) = rest.split_at(num_len);
        if num.is_empty() || num == "." {
            return Err(err("a number is missing"));
        }
        let value: f64 = num.parse().map_err(|_| err("a number is malformed"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let nanos_per = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(err("a unit is missing (ns, us, ms, s, m or h)")),
            _ => return Err(err("the unit is unknown (use ns, us, ms, s, m or h)")),
        };
        total += value * nanos_per;
        rest = tail;
    }
    // Go's durations are i64 nanoseconds: about 292 years.
    if !total.is_finite() || total > i64::MAX as f64 {
        return Err(err("it is too large"));
    }
    Ok(Duration::from_nanos(total.round() as u64))
}

/// Formats a duration the way Go prints it: `10s`, `1m30s`, `500ms`, `1h0m0s`.
pub fn format_go(d: Duration) -> String {
    if d.is_zero() {
        return "0s".into();
    }
    if d < Duration::from_secs(1) {
        let nanos = d.as_nanos();
        return if nanos.is_multiple_of(1_000_000) {
            format!("{}ms", nanos / 1_000_000)
        } else if nanos.is_multiple_of(1000) {
            format!("{}µs", nanos / 1000)
        } else {
            format!("{nanos}ns")
        };
    }
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    let frac = d.subsec_nanos();
    let secs = if frac == 0 {
        format!("{s}s")
    } else {
        let digits = format!("{frac:09}");
        format!("{s}.{}s", digits.trim_end_matches('0'))
    };
    if h > 0 {
        format!("{h}h{m}m{secs}")
    } else if m > 0 {
        format!("{m}m{secs}")
    } else {
        secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("10s", Duration::from_secs(10)),
            ("1m30s", Duration::from_secs(90)),
            ("500ms", Duration::from_millis(500)),
            ("1h", Duration::from_secs(3600)),
            ("1.5s", Duration::from_millis(1500)),
            ("2h45m", Duration::from_secs(2 * 3600 + 45 * 60)),
            ("1h2m3s4ms5us6ns", Duration::new(3723, 4_005_006)),
            ("3µs", Duration::from_micros(3)),
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("+5s", Duration::from_secs(5)),
            (".5s", Duration::from_millis(500)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_go(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_what_go_refuses() {
        for bad in [
            "", "10", "s", "1x", "-1s", "1.2.3s", "1 s", "1hh", ".s", "1e3s",
        ] {
            let err = parse_go(bad).unwrap_err().to_string();
            assert!(err.contains("e.g. 10s"), "{bad}: {err}");
        }
        assert!(parse_go("9999999999h").is_err());
    }

    #[test]
    fn formats_as_go_does() {
        assert_eq!(format_go(Duration::from_secs(10)), "10s");
        assert_eq!(format_go(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_go(Duration::from_millis(500)), "500ms");
        assert_eq!(format_go(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_go(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_go(Duration::ZERO), "0s");
    }
}
