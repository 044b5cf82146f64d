//! Tests that need a tool the machine may lack (tmux) skip themselves only
//! where that is allowed, and never quietly.

use std::io::Write;
use std::process::Command;

/// Whether this is a CI run (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `tool` runs (`tool <version_flag>` exits 0). When it does not:
/// under `CI=true` this panics, so the test fails; elsewhere the skip of
/// `test` is reported (see [`report_skip`]) and the test should return.
pub fn require_tool(tool: &str, version_flag: &str, test: &str) -> bool {
    let runs = Command::new(tool)
        .arg(version_flag)
        .output()
        .is_ok_and(|o| o.status.success());
    if runs {
        return true;
    }
    let why = format!("{tool} is not installed (scripts/setup-test-env.sh installs it)");
    assert!(
        !in_ci(),
        "{test}: {why}; CI=true, where no test may skip itself"
    );
    report_skip(test, &why);
    false
}

/// Says loudly that `test` did not run and why: straight to the process's
/// stderr, which the test harness does not capture (a passing test's
/// `eprintln!` is never shown), and appended to the file named by
/// `KISS_TEST_SKIP_LOG`, which `scripts/test.sh` sums up at the end.
pub fn report_skip(test: &str, why: &str) {
    let line = format!("SKIPPED {test}: {why}");
    let _ = writeln!(
        std::io::stderr(),
        "\n==== {line} ====\n==== this test checked nothing ===="
    );
    if let Some(path) = std::env::var_os("KISS_TEST_SKIP_LOG")
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        // One write per line, so tests skipping at once do not interleave.
        let _ = file.write_all(format!("{line}\n").as_bytes());
    }
}
