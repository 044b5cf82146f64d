//! The full-screen app: the terminal, one event loop, and the effects the
//! app asks for.
//!
//! The loop waits on three things at once — terminal events (crossterm's
//! `EventStream`), finished calls (an mpsc channel fed by spawned tasks) and
//! a clock — turns each into an [`Action`], lets [`App::update`] decide, runs
//! the returned effects without waiting on them, and redraws. Nothing on
//! this path waits on the network.

pub mod calls;
mod convert;
mod external;
mod terminal;

use std::time::{Duration, SystemTime};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt as _;
use tokio::sync::mpsc;

use crate::app::{Action, App, AppConfig, Effect};
use crate::client::Client;
use crate::clipboard::Clipboard;
use crate::tokens::TokenScan;
use crate::view;

pub use terminal::{install_panic_hook, restore_terminal};

/// How often the clock ticks while a call is in flight (spinner frames).
const BUSY_TICK: Duration = Duration::from_millis(100);

/// The app was told to stop by a signal (SIGTERM; SIGHUP when its terminal
/// closed) rather than quit by the user. The terminal is restored all the
/// same; the exit status says which signal, as a shell would.
#[derive(Debug, thiserror::Error)]
#[error("stopped by {name}")]
pub struct Stopped {
    pub name: &'static str,
    pub signal: u8,
}

impl Stopped {
    /// The exit status a shell reports for a process ended by this signal.
    pub fn exit_status(&self) -> u8 {
        128 + self.signal
    }
}

pub use crate::settings::Settings;

/// The app started in a kubeconfig context: its name and the token its
/// exec plugin gave. Not Debug: the token is never printed.
pub struct ContextStart {
    /// The context.
    pub context: String,
    /// The token.
    pub token: String,
}

/// What switching kubeconfig contexts inside the app needs: the flags and
/// the config file, resolved again for each context, and its contexts.
pub struct Kube {
    /// The command line's common flags.
    pub flags: crate::options::CommonFlags,
    /// The config file.
    pub file: crate::config::ConfigFile,
    /// The kubeconfig's context names.
    pub contexts: Vec<String>,
    /// Context tokens, reused until they expire.
    pub tokens:
        std::sync::Arc<crate::kubeconfig::CredentialCache<crate::kubeconfig::ProcessRunner>>,
}

/// Runs the full-screen app until the user quits.
pub async fn run(settings: Settings) -> anyhow::Result<()> {
    run_in(settings, None, None).await
}

/// Runs the app, in a kubeconfig context when `start` says so; with
/// `kube`, `:ctx` switches contexts.
pub async fn run_in(
    settings: Settings,
    start: Option<ContextStart>,
    kube: Option<Kube>,
) -> anyhow::Result<()> {
    let mut term = terminal::Terminal::enter(settings.mouse)?;
    let result = event_loop(&mut term, settings, start, kube).await;
    drop(term);
    result
}

async fn event_loop(
    term: &mut terminal::Terminal,
    settings: Settings,
    start: Option<ContextStart>,
    kube: Option<Kube>,
) -> anyhow::Result<()> {
    let size = term.inner().size()?;
    let (mut app, effects) = App::new(AppConfig {
        server: settings.server_addr.clone(),
        namespace: settings.namespace.clone(),
        now: SystemTime::now(),
        size: (size.width, size.height),
        confirm_save: settings.confirm_save,
        reveal_for: settings.reveal_for,
        clear_clipboard_after: settings.clear_clipboard_after,
        refresh: settings.refresh,
        context: start.map(|s| (s.context, crate::app::action::Sensitive(s.token))),
        contexts: kube
            .as_ref()
            .map(|k| k.contexts.clone())
            .unwrap_or_default(),
        recent_namespaces: crate::recent::default_path()
            .filter(|_| settings.remember_namespaces)
            .map(|p| crate::recent::load(&p, &settings.server_addr))
            .unwrap_or_default(),
    });
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut runner = Runner {
        settings,
        client: None,
        tx,
        clipboard: if std::env::var_os("KISS_CLIPBOARD").is_some_and(|v| v == "osc52") {
            Clipboard::osc52_only()
        } else {
            Clipboard::new()
        },
    };
    term.inner().draw(|f| view::draw(f, &app.state))?;
    // Lets the end-to-end test prove that a panic gives the terminal back.
    if std::env::var_os("KISS_TUI_PANIC_AFTER_FIRST_FRAME").is_some() {
        panic!("deliberate panic after the first frame (KISS_TUI_PANIC_AFTER_FIRST_FRAME)");
    }
    for e in effects {
        runner.run(e, term).await;
    }

    let mut events = EventStream::new();
    let mut clock = tokio::time::interval(BUSY_TICK);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_second = 0;
    // Being told to stop (kill, a closed terminal) still restores the terminal.
    let mut stop = stop_signals()?;
    let outcome = loop {
        let action = tokio::select! {
            Some(stopped) = stop.recv() => break Err(stopped.into()),
            event = events.next() => match event {
                Some(Ok(event)) => match to_action(event) {
                    Some(a) => a,
                    None => continue,
                },
                Some(Err(e)) => break Err(anyhow::anyhow!("cannot read the terminal: {e}")),
                None => break Err(anyhow::anyhow!("the terminal closed its input")),
            },
            Some(action) = rx.recv() => action,
            _ = clock.tick() => {
                let now = SystemTime::now();
                let second = now.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                // Idle: redraw once a second, for the expiry countdown.
                if app.state.pending.is_empty() && second == last_second {
                    continue;
                }
                last_second = second;
                Action::Tick(now)
            }
        };
        let effects = app.update(action);
        // The one way out: the app asks for it, like for everything else.
        let quit = effects.iter().any(|e| matches!(e, Effect::Quit));
        for e in effects {
            if let Effect::SwitchContext { context, renew } = e {
                if renew && let Some(k) = &kube {
                    k.tokens.invalidate(&context);
                }
                // The plugin may read the keyboard (a login): the event
                // stream goes for the while, as for the editor.
                drop(events);
                let result = switch_context(term, kube.as_ref(), &context, &mut runner).await;
                events = EventStream::new();
                let _ = runner.tx.send(Action::ContextReady(Box::new(result)));
                continue;
            }
            if let Effect::EditExternally { text } = e {
                // The editor reads the keyboard: the event stream must not
                // be reading it too, so it goes for the while.
                drop(events);
                let result = external::edit(term, &text).await;
                events = EventStream::new();
                let _ = runner.tx.send(Action::EditedExternally { result });
                // The terminal may have been resized while the editor ran.
                if let Ok(size) = term.inner().size() {
                    let _ = runner.tx.send(Action::Resize(size.width, size.height));
                }
                continue;
            }
            runner.run(e, term).await;
        }
        if quit {
            break Ok(());
        }
        if let Err(e) = term.inner().draw(|f| view::draw(f, &app.state)) {
            break Err(e.into());
        }
    };
    // However the app ends, a copied value does not outlive it (quitting
    // has cleared it already; a signal or a lost terminal has not).
    if let Some(hold) = &app.state.clipboard {
        runner.clipboard.clear_if_holds(hold.text.expose());
    }
    outcome
}

/// SIGTERM and SIGHUP, merged into one channel.
fn stop_signals() -> std::io::Result<mpsc::Receiver<Stopped>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = mpsc::channel(1);
    for (kind, stopped) in [
        (
            SignalKind::terminate(),
            Stopped {
                name: "SIGTERM",
                signal: 15,
            },
        ),
        (
            SignalKind::hangup(),
            Stopped {
                name: "SIGHUP",
                signal: 1,
            },
        ),
    ] {
        let mut s = signal(kind)?;
        let tx = tx.clone();
        tokio::spawn(async move {
            if s.recv().await.is_some() {
                let _ = tx.send(stopped).await;
            }
        });
    }
    Ok(rx)
}

/// Terminal events the app cares about, as actions.
fn to_action(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) if key.kind != KeyEventKind::Release => Some(Action::Key(key)),
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        Event::Mouse(m) => {
            use crate::app::mouse::MouseInput;
            use crossterm::event::{MouseButton, MouseEventKind};
            match m.kind {
                MouseEventKind::ScrollUp => Some(Action::Mouse(MouseInput::WheelUp)),
                MouseEventKind::ScrollDown => Some(Action::Mouse(MouseInput::WheelDown)),
                MouseEventKind::Down(MouseButton::Left) => Some(Action::Mouse(MouseInput::Click {
                    column: m.column,
                    row: m.row,
                })),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Runs effects: calls as spawned tasks, the rest at once.
struct Runner {
    settings: Settings,
    client: Option<Client>,
    tx: mpsc::UnboundedSender<Action>,
    clipboard: Clipboard,
}

impl Runner {
    async fn run(&mut self, effect: Effect, term: &mut terminal::Terminal) {
        match effect {
            Effect::ScanTokens => {
                let settings = self.settings.clone();
                let tx = self.tx.clone();
                tokio::task::spawn_blocking(move || {
                    let _ = tx.send(Action::TokensScanned(scan_tokens(&settings)));
                });
            }
            Effect::Connect { id, token } => {
                let result = match Client::connect(&self.settings, token.0).await {
                    Ok(client) => {
                        self.client = Some(client);
                        Ok(crate::app::Reply::Connected)
                    }
                    Err(e) => Err(convert::call_error(&e)),
                };
                let _ = self.tx.send(Action::Reply { id, result });
            }
            Effect::Call { id, call } => {
                let client = self.client.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let result = match client {
                        Some(c) => calls::perform(&c, call).await,
                        None => Err(crate::app::CallError::new(
                            crate::app::ErrorKind::Unreachable,
                            "Not connected yet: pick a token first.",
                        )),
                    };
                    let _ = tx.send(Action::Reply { id, result });
                });
            }
            Effect::Copy { what, text } => {
                let outcome = self.clipboard.copy(text.expose(), term.writer());
                let _ = self.tx.send(Action::Copied { what, outcome });
            }
            Effect::ClearClipboard { text } => self.clipboard.clear_if_holds(text.expose()),
            Effect::RememberNamespaces { namespaces } => {
                if let Some(path) =
                    crate::recent::default_path().filter(|_| self.settings.remember_namespaces)
                {
                    let server = self.settings.server_addr.clone();
                    // A convenience: a state directory that cannot be
                    // written costs the completion, nothing else.
                    tokio::task::spawn_blocking(move || {
                        let _ = crate::recent::save(&path, &server, &namespaces);
                    });
                }
            }
            Effect::After { delay, action } => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(*action);
                });
            }
            // Run by the event loop, which owns the event stream.
            Effect::EditExternally { .. } | Effect::SwitchContext { .. } | Effect::Quit => {}
        }
    }
}

/// Lists the token files the settings point at.
pub fn scan_tokens(settings: &Settings) -> TokenScan {
    crate::tokens::discover(
        settings.token_path.as_deref(),
        settings.token_dir.as_deref(),
    )
}

/// Runs `context`'s exec plugin (handing it the terminal if it needs one)
/// and points the runner at the context's server.
async fn switch_context(
    term: &mut terminal::Terminal,
    kube: Option<&Kube>,
    context: &str,
    runner: &mut Runner,
) -> Result<crate::app::contexts::ContextReady, String> {
    let Some(kube) = kube else {
        return Err("no kubeconfig was read at start".into());
    };
    let needs_terminal = crate::kubeconfig::load()
        .ok()
        .and_then(|k| {
            let info = k.context(Some(context)).ok()?;
            let plugin = k.exec_plugin(&info).ok()?;
            crate::kubeconfig::exec::needs_terminal(&plugin, true).ok()
        })
        .unwrap_or(false);
    if needs_terminal {
        term.suspend();
    }
    let (name, flags, file) = (context.to_owned(), kube.flags.clone(), kube.file.clone());
    let tokens = kube.tokens.clone();
    let result =
        tokio::task::spawn_blocking(move || crate::cli::app_context(&name, &flags, &file, &tokens))
            .await
            .map_err(|e| format!("the plugin could not be waited for ({e})"))
            .and_then(|r| r);
    if needs_terminal {
        term.resume()
            .map_err(|e| format!("the terminal could not be taken back ({e})"))?;
    }
    let (settings, token) = result?;
    runner.settings.server_addr = settings.server_addr.clone();
    runner.settings.secure = settings.secure;
    runner.settings.ca_file = settings.ca_file.clone();
    runner.client = None;
    Ok(crate::app::contexts::ContextReady {
        context: context.to_owned(),
        token: crate::app::action::Sensitive(token),
        namespace: settings.namespace,
        server: settings.server_addr,
    })
}
