//! Reading a kiss-server's `--audit-log` (JSON lines) the way every test
//! does: all records so far, or once there are enough of them, since a
//! call's record may be written just after its answer.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// Every record in the file so far (none if it does not exist yet).
/// Panics on a line that is not JSON: the audit log must never hold one.
pub fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("an audit line is not JSON ({e}): {line}"))
        })
        .collect()
}

/// The records once there are at least `n`, or what there is after about
/// four seconds (the caller's assertions then say what is missing).
pub async fn records_when(path: &Path, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let found = records(path);
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    records(path)
}
