//! Launch to first frame, launch to the secrets listed, and resident memory,
//! of the real `kiss-tui` binary in a 100x30 tmux pane against a local
//! dev-mode kiss-server holding many secrets.
//!
//! Run: `cargo bench -p kiss-tui --bench tui_launch` (needs tmux). Targets:
//! first frame ≤ 100 ms, resident memory ≤ 40 MB. Set `KISS_BENCH_SECRETS`
//! to change how many secrets the namespace holds (default 1000).
//!
//! Times are measured from spawning the process to tmux showing the text, by
//! polling the pane; they include the polling interval (~2 ms).

use std::time::{Duration, Instant};

use kiss_server::dev::{DEMO_USER, DevOptions, DevServer};
use kiss_testkit::{Tmux, shell_quote};
use kiss_tui::client::Client;
use kiss_tui::settings::Settings;

const RUNS: usize = 10;

fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // and expects a quick run.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let Some(tmux) = Tmux::new("tui_launch", 100, 30) else {
        return;
    };
    let n: usize = std::env::var("KISS_BENCH_SECRETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (dev, token_path) = rt.block_on(async {
        let dev = DevServer::start(DevOptions {
            data_dir: tmp.path().join("data"),
            token_dir: tmp.path().join("tokens"),
            addr: "127.0.0.1:0".parse().unwrap(),
            seed_samples: false,
        })
        .await
        .unwrap();
        let settings = Settings {
            server_addr: dev.addr.to_string(),
            secure: false,
            ..Settings::default()
        };
        let c = Client::connect(&settings, dev.mint_token(DEMO_USER, &["team-a"], 3600))
            .await
            .unwrap();
        let start = Instant::now();
        for i in 0..n {
            c.create("team-a", &format!("bench-{i:05}"), "value")
                .await
                .unwrap();
        }
        eprintln!("created {n} secrets in {:?}", start.elapsed());
        let path = dev.user_token_path.clone();
        (dev, path)
    });

    let bin = kiss_testkit::binary!("kiss-tui", "kiss-tui");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();

    let mut first_frame = Vec::new();
    let mut listed = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..RUNS {
        let cmd = format!(
            "exec env -u KISS_CONFIG HOME={home} {bin} --server-addr {addr} --secure=false --token-path {token} --namespace team-a",
            home = shell_quote(home.to_str().unwrap()),
            bin = shell_quote(bin.to_str().unwrap()),
            addr = dev.addr,
            token = shell_quote(token_path.to_str().unwrap()),
        );
        let start = Instant::now();
        tmux.respawn(&cmd);
        let mut seen_frame = None;
        loop {
            let screen = tmux.screen();
            if seen_frame.is_none() && screen.contains(" kiss ") {
                seen_frame = Some(start.elapsed());
            }
            if screen.contains("bench-00000") && screen.contains(&format!("({n})")) {
                listed.push(start.elapsed());
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "never listed:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        first_frame.push(seen_frame.unwrap());
        let pid = tmux.display("#{pane_pid}");
        // Let the details load and the app settle before reading its memory.
        std::thread::sleep(Duration::from_millis(300));
        if let Some(kib) = rss_kib(&pid) {
            rss.push(kib);
        }
        tmux.keys(&["C-c"]);
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("kiss-tui launch, {RUNS} runs, {n} secrets in the namespace, 100x30 tmux pane:");
    println!(
        "  launch to first frame:      median {:?}",
        median(first_frame)
    );
    println!("  launch to secrets listed:   median {:?}", median(listed));
    rss.sort();
    if let Some(max) = rss.last() {
        println!(
            "  resident memory (VmRSS):    median {:.1} MB, max {:.1} MB",
            rss[rss.len() / 2] as f64 / 1024.0,
            *max as f64 / 1024.0
        );
    }
    rt.block_on(dev.shutdown());
}
