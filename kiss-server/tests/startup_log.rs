//! What the kiss-server binary writes to its log at start-up, read from a
//! file as a log collector would: warnings about settings that leave a door
//! open, and plain text (no terminal colour codes) when the log is not a
//! terminal.

use std::time::{Duration, Instant};

use kiss_testkit::{KissServer, ServerProcess};

/// A server on the local backend whose identity provider never answers:
/// enough to start, listen and log, without moto.
fn start(extra: &[&str]) -> ServerProcess {
    let server = KissServer::new(kiss_testkit::binary!("kiss-server", "kiss-server"));
    let data = server.dir().join("data");
    server
        .args([
            "--backend",
            "local",
            "--jwks-url",
            "http://127.0.0.1:1/jwks.json",
        ])
        .arg("--data-dir")
        .arg(data)
        .args(extra)
        .spawn()
}

/// Waits until the log says the server listens; returns the log.
async fn log_once_listening(server: &ServerProcess) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let log = server.log();
        if log.contains("kiss-server listening") {
            return log;
        }
        assert!(
            Instant::now() < deadline,
            "kiss-server did not log that it listens within a minute:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_dash_separator_is_warned_about_at_start_up() {
    let mut dash = start(&[]);
    let log = log_once_listening(&dash).await;
    let warning = log
        .lines()
        .find(|l| l.contains("--secret-name-separator is '-'"))
        .unwrap_or_else(|| panic!("no warning about the '-' separator:\n{log}"));
    assert!(warning.contains("WARN"), "{warning}");
    for says in [
        "namespace 'a' can take the names namespace 'a-b' would use",
        "'k8s-secret-a-b-new'",
        "ALREADY_EXISTS",
        "--secret-name-separator _",
        "docs/aws.md",
    ] {
        assert!(
            warning.contains(says),
            "the warning should say {says:?}: {warning}"
        );
    }
    dash.kill();

    let mut underscore = start(&["--secret-name-separator", "_"]);
    let log = log_once_listening(&underscore).await;
    assert!(
        !log.contains("--secret-name-separator is"),
        "'_' is not ambiguous, nothing to warn about:\n{log}"
    );
    underscore.kill();
}

#[tokio::test]
async fn a_log_written_to_a_file_has_no_colour_codes() {
    // The testkit sends stdout and stderr to a file; NO_COLOR is not set.
    let mut server = start(&[]);
    let log = log_once_listening(&server).await;
    assert!(log.contains("INFO"), "{log}");
    assert!(
        !log.contains("\x1b["),
        "ANSI escape codes in a log written to a file:\n{log:?}"
    );
    server.kill();
}
