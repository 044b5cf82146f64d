//! Time to first frame of the history screen for a secret with 100
//! versions (AWS's cap), against a local dev-mode kiss-server: from the `h`
//! key to a rendered 100x30 frame listing every version, the gRPC call and
//! its answer included. The app's own work (update and draw) is reported
//! apart from the round trip.
//!
//! Run: `cargo bench -p kiss-tui --bench tui_history`.

use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use kiss_server::dev::{DEMO_USER, DevOptions, DevServer};
use kiss_tui::app::action::{Action, Effect, SecretRow};
use kiss_tui::app::fixtures::Driver;
use kiss_tui::client::Client;
use kiss_tui::settings::Settings;
use kiss_tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const VERSIONS: usize = 100;
const RUNS: usize = 50;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (dev, client) = rt.block_on(async {
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
        c.create("team-a", "db", "v0").await.unwrap();
        for i in 1..VERSIONS {
            c.update("team-a", "db", &format!("v{i}"), None)
                .await
                .unwrap();
        }
        (dev, c)
    });
    let row = SecretRow {
        name: "db".into(),
        created: None,
        last_changed: None,
    };
    let (mut total, mut app_only) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let mut d = Driver::in_namespace((100, 30), vec![row.clone()]);
        let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
        let t0 = Instant::now();
        let effects = d.app.update(Action::Key(crossterm::event::KeyEvent::new(
            KeyCode::Char('h'),
            crossterm::event::KeyModifiers::NONE,
        )));
        let Some((id, call)) = effects.into_iter().find_map(|e| match e {
            Effect::Call { id, call } => Some((id, call)),
            _ => None,
        }) else {
            panic!("h made no call");
        };
        let t1 = Instant::now();
        let result = rt.block_on(kiss_tui::tui::calls::perform(&client, call));
        let t2 = Instant::now();
        d.app.update(Action::Reply { id, result });
        terminal.draw(|f| view::draw(f, &d.app.state)).unwrap();
        let t3 = Instant::now();
        assert_eq!(d.app.state.history.rows.len(), VERSIONS);
        total.push(t3 - t0);
        app_only.push((t1 - t0) + (t3 - t2));
    }
    println!(
        "history of {VERSIONS} versions, local backend: h to first frame median {:.2} ms (app alone {:.3} ms), {RUNS} runs",
        median(total).as_secs_f64() * 1e3,
        median(app_only).as_secs_f64() * 1e3
    );
    rt.block_on(dev.shutdown());
}
