//! Every flow of the app, driven through `update` alone.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::*;
use super::keymap;
use super::state::*;
use super::{App, AppConfig};
use crate::tokens::{TokenFile, TokenInfo, TokenStatus};

const T0: u64 = 1_767_225_600; // 2026-01-01 00:00 UTC

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0)
}

fn new_app(namespace: Option<&str>) -> App {
    let (app, effects) = App::new(AppConfig {
        server: "localhost:10000".into(),
        namespace: namespace.map(str::to_owned),
        now: now(),
        size: (100, 30),
        confirm_save: true,
        reveal_for: Some(Duration::from_secs(60)),
        clear_clipboard_after: Some(Duration::from_secs(30)),
        refresh: None,
        recent_namespaces: Vec::new(),
        context: None,
        contexts: Vec::new(),
    });
    assert!(matches!(effects[..], [Effect::ScanTokens]));
    app
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_str(app: &mut App, s: &str) -> Vec<Effect> {
    let mut all = Vec::new();
    for c in s.chars() {
        let a = if c == '\n' {
            code(KeyCode::Enter)
        } else {
            key(c)
        };
        all.extend(app.update(a));
    }
    all
}

fn token(id: &str, expires_in: i64) -> TokenFile {
    TokenFile {
        path: PathBuf::from(format!("/tokens/{id}")),
        status: TokenStatus::Usable(TokenInfo {
            token: format!("jwt-of-{id}"),
            identifier: Some(id.into()),
            subject: None,
            issuer: Some("https://issuer".into()),
            groups: vec!["team-a".into()],
            expires_at: Some(if expires_in >= 0 {
                now() + Duration::from_secs(expires_in as u64)
            } else {
                now() - Duration::from_secs(expires_in.unsigned_abs())
            }),
        }),
    }
}

fn unusable(name: &str) -> TokenFile {
    TokenFile {
        path: PathBuf::from(format!("/tokens/{name}")),
        status: TokenStatus::Unusable {
            reason: "not valid JSON".into(),
        },
    }
}

fn scan(tokens: Vec<TokenFile>) -> Action {
    Action::TokensScanned(TokenScan {
        dir: Some("/tokens".into()),
        explicit: false,
        tokens,
        refresh_hint: "run kubectl get ns".into(),
        problem: None,
    })
}

/// The one call among the effects.
fn the_call(effects: &[Effect]) -> (RequestId, Call) {
    let calls: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Call { id, call } => Some((*id, call.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1, "expected one call in {effects:?}");
    calls.into_iter().next().unwrap()
}

/// The read of their version after a conflict on save, which comes with a
/// reload of the list (it shows the change too).
fn the_conflict_check(effects: &[Effect]) -> (RequestId, Call) {
    let calls: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Call { id, call } => Some((*id, call.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 2, "a read and a reload in {effects:?}");
    assert!(
        calls
            .iter()
            .any(|(_, c)| matches!(c, Call::ListSecrets { .. })),
        "the list is reloaded: {effects:?}"
    );
    calls
        .into_iter()
        .find(|(_, c)| matches!(c, Call::GetSecret { .. }))
        .unwrap()
}

/// The one connect among the effects: its id and the token it sends.
fn the_connect(effects: &[Effect]) -> (RequestId, String) {
    let connects: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Connect { id, token } => Some((*id, token.expose().to_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(connects.len(), 1, "expected one connect in {effects:?}");
    connects.into_iter().next().unwrap()
}

/// No call and no quit: the app stays, on another screen or the same one.
fn stays(effects: &[Effect]) {
    no_call(effects);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Quit)),
        "expected no quit in {effects:?}"
    );
}

fn no_call(effects: &[Effect]) {
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Call { .. })),
        "expected no call in {effects:?}"
    );
}

fn ok(id: RequestId, reply: Reply) -> Action {
    Action::Reply {
        id,
        result: Ok(reply),
    }
}

fn fail(id: RequestId, kind: ErrorKind, msg: &str) -> Action {
    Action::Reply {
        id,
        result: Err(CallError::new(kind, msg)),
    }
}

fn identity(namespaces: &[&str], admin: bool) -> Identity {
    Identity {
        identifier: "ann@example.com".into(),
        namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
        admin,
        expires_at: Some(now() + Duration::from_secs(3600)),
        issuer: "https://issuer".into(),
        recovery_days: Some(7),
    }
}

fn row(name: &str, age_h: u64) -> SecretRow {
    SecretRow {
        name: name.into(),
        created: Some(now() - Duration::from_secs(age_h * 7200)),
        last_changed: Some(now() - Duration::from_secs(age_h * 3600)),
    }
}

fn details(name: &str, version: &str, policy: bool, bound: &[&str]) -> Details {
    Details {
        name: name.into(),
        aws_name: format!("k8s-secret-team-a-{name}"),
        arn: format!("arn:aws:secretsmanager:eu-west-1:1:secret:k8s-secret-team-a-{name}"),
        created: Some(now()),
        last_changed: Some(now()),
        last_accessed: None,
        version_id: version.into(),
        has_read_policy: policy,
        bound_service_accounts: bound.iter().map(|s| s.to_string()).collect(),
        value: None,
    }
}

/// Connects with one token and answers WhoAmI.
fn connected(namespace: Option<&str>, granted: &[&str], admin: bool) -> (App, Vec<Effect>) {
    let mut app = new_app(namespace);
    let (id, token) = the_connect(&app.update(scan(vec![token("ann", 3600)])));
    assert_eq!(token, "jwt-of-ann");
    let (id, call) = the_call(&app.update(ok(id, Reply::Connected)));
    assert_eq!(call, Call::WhoAmI);
    let effects = app.update(ok(id, Reply::WhoAmI(identity(granted, admin))));
    (app, effects)
}

/// On the secrets screen of team-a with these secrets listed and the
/// selected one's details loaded.
fn in_team_a(rows: Vec<SecretRow>) -> App {
    let (mut app, effects) = connected(Some("team-a"), &["team-a", "team-b"], false);
    let (id, call) = the_call(&effects);
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "team-a".into()
        }
    );
    let effects = app.update(ok(id, Reply::Secrets(rows)));
    if let Some(name) = app.state.secrets.selected_name().map(str::to_owned) {
        let (id, _) = the_call(&effects);
        app.update(ok(
            id,
            Reply::Details(Box::new(details(&name, "v1", false, &[]))),
        ));
    }
    app
}

fn editor(app: &App) -> &Editor {
    match &app.state.dialog {
        Some(Dialog::Editor(e)) => e,
        other => panic!("no editor: {other:?}"),
    }
}

fn flash(app: &App) -> String {
    app.state
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default()
}

// ---------------------------------------------------------------- tokens

#[test]
fn one_usable_token_skips_the_picker() {
    let (app, effects) = connected(None, &["team-a"], false);
    no_call(&effects);
    assert_eq!(app.state.screen, Screen::Namespaces);
    assert_eq!(app.state.identifier(), Some("ann@example.com"));
}

#[test]
fn several_tokens_wait_for_a_choice_and_skip_broken_and_expired_ones() {
    let mut app = new_app(None);
    no_call(&app.update(scan(vec![
        unusable("lock"),
        token("old", -3 * 3600),
        token("ann", 3600),
        token("bob", 3600),
    ])));
    assert_eq!(app.state.screen, Screen::Tokens);
    // The cursor starts on the first usable token.
    assert_eq!(app.state.tokens.nav.selected, 2);

    app.update(key('k'));
    no_call(&app.update(code(KeyCode::Enter)));
    assert!(flash(&app).contains("expired 3h ago"), "{}", flash(&app));
    assert!(flash(&app).contains("Run kubectl get ns"));

    app.update(key('k'));
    no_call(&app.update(code(KeyCode::Enter)));
    assert!(flash(&app).contains("not valid JSON"));

    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Down));
    let (_, token) = the_connect(&app.update(code(KeyCode::Enter)));
    assert_eq!(token, "jwt-of-bob");
}

#[test]
fn no_token_files_says_how_to_get_one() {
    let mut app = new_app(None);
    app.update(scan(vec![]));
    no_call(&app.update(code(KeyCode::Enter)));
    assert!(flash(&app).contains("kubelogin"), "{}", flash(&app));
}

#[test]
fn an_unreachable_server_is_reported_on_the_picker() {
    let mut app = new_app(None);
    let (id, _) = the_connect(&app.update(scan(vec![token("ann", 3600)])));
    let (id, _) = the_call(&app.update(ok(id, Reply::Connected)));
    app.update(fail(
        id,
        ErrorKind::Unreachable,
        "Cannot reach kiss-server at localhost:10000.",
    ));
    assert_eq!(app.state.screen, Screen::Tokens);
    assert!(flash(&app).contains("Cannot reach"));
    assert_eq!(app.state.flash.as_ref().unwrap().level, Level::Error);
    // Enter tries again.
    the_connect(&app.update(code(KeyCode::Enter)));
}

#[test]
fn a_refused_token_on_the_picker_says_how_to_refresh_it() {
    let mut app = new_app(None);
    let (id, _) = the_connect(&app.update(scan(vec![token("ann", 3600)])));
    let (id, _) = the_call(&app.update(ok(id, Reply::Connected)));
    // As `tui::convert::call_error` words a refused token.
    app.update(fail(
        id,
        ErrorKind::Unauthenticated,
        "The server refused the token: Token has expired.",
    ));
    assert_eq!(app.state.screen, Screen::Tokens);
    let text = flash(&app);
    assert_eq!(text.matches("refused").count(), 1, "{text}");
    assert_eq!(text.matches("kubectl get ns").count(), 1, "{text}");
    assert!(text.contains("expired. Run kubectl get ns"), "{text}");
}

// ------------------------------------------------------------ namespaces

#[test]
fn the_namespace_picker_filters_and_opens_a_namespace() {
    let (mut app, _) = connected(None, &["sandbox", "team-a", "team-b"], false);
    type_str(&mut app, "TEAM");
    let rows: Vec<_> = app
        .state
        .namespace_rows()
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(rows, ["team-a", "team-b"]);
    app.update(code(KeyCode::Down));
    let (_, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "team-b".into()
        }
    );
    assert_eq!(app.state.screen, Screen::Secrets);
    assert_eq!(app.state.namespace.as_deref(), Some("team-b"));
}

#[test]
fn an_admin_may_type_any_namespace_but_it_must_be_valid() {
    let (mut app, _) = connected(None, &["kiss-admins"], true);
    type_str(&mut app, "Other_NS");
    no_call(&app.update(code(KeyCode::Enter)));
    assert!(flash(&app).contains("only lowercase"), "{}", flash(&app));
    for _ in 0..8 {
        app.update(code(KeyCode::Backspace));
    }
    type_str(&mut app, "payments");
    let rows = app.state.namespace_rows();
    assert!(rows[0].typed);
    let (_, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "payments".into()
        }
    );
}

#[test]
fn a_namespace_missing_from_the_list_can_be_typed_and_the_server_decides() {
    // Under the cluster's RBAC the list is what the server could check; a
    // namespace missing from it may still be allowed.
    let (mut app, _) = connected(None, &["team-a"], false);
    type_str(&mut app, "team");
    let rows = app.state.namespace_rows();
    assert_eq!(rows.len(), 1, "a listed one matches: no typed row");
    assert!(!rows[0].typed);
    app.update(ctrl('u'));
    type_str(&mut app, "Pay_ments");
    assert!(
        app.state.namespace_rows().is_empty(),
        "not a namespace name"
    );
    no_call(&app.update(code(KeyCode::Enter)));
    assert!(flash(&app).contains("No namespace you may use matches 'Pay_ments'"));
    app.update(ctrl('u'));
    type_str(&mut app, "payments");
    let rows = app.state.namespace_rows();
    assert!(rows[0].typed);
    let (id, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "payments".into()
        }
    );
    app.update(fail(
        id,
        ErrorKind::PermissionDenied,
        "User 'ann@example.com' is not authorized for namespace 'payments': no RoleBinding grants it.",
    ));
    assert!(
        flash(&app).contains("no RoleBinding grants it"),
        "{}",
        flash(&app)
    );
}

#[test]
fn namespace_flag_skips_the_picker() {
    let (app, effects) = connected(Some("team-b"), &["team-a", "team-b"], false);
    let (_, call) = the_call(&effects);
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "team-b".into()
        }
    );
    assert_eq!(app.state.screen, Screen::Secrets);
}

// --------------------------------------------------------------- secrets

#[test]
fn the_list_is_sorted_filtered_incrementally_and_case_insensitively() {
    let mut app = in_team_a(vec![row("web-db", 3), row("api-key", 1), row("db-url", 2)]);
    let names = |app: &App| -> Vec<String> {
        let s = &app.state.secrets;
        s.visible.iter().map(|&i| s.rows[i].name.clone()).collect()
    };
    assert_eq!(names(&app), ["api-key", "db-url", "web-db"]);

    app.update(key('/'));
    app.update(key('D'));
    assert_eq!(names(&app), ["db-url", "web-db"]);
    app.update(key('B'));
    app.update(key('-'));
    assert_eq!(names(&app), ["db-url"]);
    assert_eq!(app.state.secrets.selected_name(), Some("db-url"));
    app.update(code(KeyCode::Backspace));
    assert_eq!(names(&app), ["db-url", "web-db"]);
    // The filter line edits like a shell's: Ctrl-W drops the word, Ctrl-Z
    // brings it back.
    app.update(ctrl('w'));
    assert_eq!(names(&app).len(), 3);
    app.update(ctrl('z'));
    assert_eq!(names(&app), ["db-url", "web-db"]);
    app.update(code(KeyCode::Enter));
    assert!(!app.state.secrets.filtering);
    assert_eq!(app.state.secrets.filter, "DB");
    // Esc clears the filter before it leaves the screen.
    app.update(code(KeyCode::Esc));
    assert_eq!(names(&app).len(), 3);
    assert_eq!(app.state.screen, Screen::Secrets);

    app.update(key('s'));
    assert_eq!(app.state.secrets.sort, SortKey::LastChanged);
    assert_eq!(names(&app), ["api-key", "db-url", "web-db"]);
    app.update(key('S'));
    assert_eq!(names(&app), ["web-db", "db-url", "api-key"]);
    app.update(key('s'));
    assert_eq!(app.state.secrets.sort, SortKey::Created);
    app.update(key('s'));
    assert_eq!(app.state.secrets.sort, SortKey::Name);
}

fn screen_text(app: &App) -> String {
    let (w, h) = app.state.size;
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| crate::view::draw(f, &app.state)).unwrap();
    let buf = t.backend().buffer();
    let w = usize::from(buf.area.width);
    buf.content()
        .chunks(w)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
        .collect()
}

#[test]
fn details_that_fail_to_load_say_so_and_r_tries_again() {
    let mut app = in_team_a(vec![row("a", 1), row("b", 1)]);
    app.state.size = (100, 30);
    // The server went away: `r` clears what was known, and the list fails.
    let (id, _) = the_call(&app.update(key('r')));
    app.update(fail(
        id,
        ErrorKind::Unreachable,
        "Cannot reach kiss-server at localhost:1.",
    ));
    let screen = screen_text(&app);
    assert!(!screen.contains("loading details"), "{screen}");
    assert!(screen.contains("Details not loaded"), "{screen}");
    assert!(screen.contains("Press r to try again"), "{screen}");
    // A details load of its own that fails says the same.
    app.update(key('j'));
    let (id, _) = the_call(&app.update(Action::DetailsDue { name: "b".into() }));
    app.update(fail(
        id,
        ErrorKind::Unreachable,
        "Cannot reach kiss-server.",
    ));
    assert!(screen_text(&app).contains("Details not loaded: Cannot reach"));
    // The server is back: `r` loads the list, then the details.
    let (id, _) = the_call(&app.update(key('r')));
    let (id, call) = the_call(&app.update(ok(id, Reply::Secrets(vec![row("a", 1), row("b", 1)]))));
    assert!(matches!(call, Call::GetSecret { ref name, .. } if name == "b"));
    assert!(screen_text(&app).contains("loading details"));
    app.update(ok(
        id,
        Reply::Details(Box::new(details("b", "v1", false, &[]))),
    ));
    let screen = screen_text(&app);
    assert!(!screen.contains("Details not loaded"), "{screen}");
    assert!(app.state.secrets.details_error.is_none());
}

#[test]
fn details_load_once_the_selection_rests() {
    let mut app = in_team_a(vec![row("a", 1), row("b", 1), row("c", 1)]);
    let effects = app.update(key('j'));
    no_call(&effects);
    let due = match &effects[..] {
        [Effect::After { action, .. }] => match action.as_ref() {
            Action::DetailsDue { name } => name.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(due, "b");
    app.update(key('j'));
    // The user moved on: the delayed load for 'b' does nothing.
    no_call(&app.update(Action::DetailsDue { name: "b".into() }));
    let (_, call) = the_call(&app.update(Action::DetailsDue { name: "c".into() }));
    assert_eq!(
        call,
        Call::GetSecret {
            namespace: "team-a".into(),
            name: "c".into(),
            include_value: false
        }
    );
}

#[test]
fn a_stale_reply_is_dropped() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (first, _) = the_call(&app.update(key('r')));
    let (second, _) = the_call(&app.update(key('r')));
    // The first reload's answer arrives after the second was asked for.
    app.update(ok(first, Reply::Secrets(vec![row("stale", 1)])));
    assert_eq!(app.state.secrets.rows[0].name, "a");
    app.update(ok(second, Reply::Secrets(vec![row("fresh", 1)])));
    assert_eq!(app.state.secrets.rows[0].name, "fresh");

    // Replies from another namespace's session are dropped too.
    let (old, _) = the_call(&app.update(key('r')));
    app.update(key('N'));
    assert_eq!(app.state.screen, Screen::Namespaces);
    app.update(ok(old, Reply::Secrets(vec![row("other", 1)])));
    assert_eq!(app.state.secrets.rows[0].name, "fresh");
}

#[test]
fn reveal_shows_the_value_until_the_selection_moves() {
    let mut app = in_team_a(vec![row("a", 1), row("b", 1)]);
    let (id, call) = the_call(&app.update(key('v')));
    assert_eq!(
        call,
        Call::GetSecret {
            namespace: "team-a".into(),
            name: "a".into(),
            include_value: true
        }
    );
    let mut d = details("a", "v1", false, &[]);
    d.value = Some(Sensitive("hunter2".into()));
    app.update(ok(id, Reply::Details(Box::new(d))));
    assert_eq!(
        app.state.secrets.revealed,
        Some(("a".into(), Sensitive("hunter2".into())))
    );
    // The cached details never keep the value.
    assert_eq!(app.state.secrets.details["a"].value, None);
    app.update(key('v'));
    assert_eq!(app.state.secrets.revealed, None);
    let (id, _) = the_call(&app.update(key('v')));
    let mut d = details("a", "v1", false, &[]);
    d.value = Some(Sensitive("hunter2".into()));
    app.update(ok(id, Reply::Details(Box::new(d))));
    app.update(key('j'));
    assert_eq!(app.state.secrets.revealed, None);
}

#[test]
fn the_server_going_away_mid_session_keeps_everything() {
    let mut app = in_team_a(vec![row("a", 1), row("b", 1)]);
    let (id, _) = the_call(&app.update(key('r')));
    app.update(fail(
        id,
        ErrorKind::Unreachable,
        "Cannot reach kiss-server at localhost:10000: connection refused.",
    ));
    assert_eq!(app.state.screen, Screen::Secrets);
    assert_eq!(app.state.secrets.rows.len(), 2);
    assert!(flash(&app).contains("Cannot reach"));
    assert!(flash(&app).contains("Press r to try again"));
    // And a save in flight keeps its text.
    app.update(key('n'));
    type_str(&mut app, "new-one");
    app.update(code(KeyCode::Tab));
    type_str(&mut app, "top\nsecret");
    let (id, _) = the_call(&app.update(ctrl('s')));
    app.update(fail(
        id,
        ErrorKind::Unreachable,
        "Cannot reach kiss-server.",
    ));
    let ed = editor(&app);
    assert!(!ed.saving);
    assert_eq!(ed.value_text(), "top\nsecret");
    assert_eq!(ed.name_text(), "new-one");
    assert!(ed.error.as_ref().unwrap().contains("Cannot reach"));
    assert!(ed.error.as_ref().unwrap().contains("still here"));
    // The server is back: saving again works.
    let (_, call) = the_call(&app.update(ctrl('s')));
    assert!(matches!(call, Call::CreateSecret { .. }));
}

// ---------------------------------------------------------------- create

#[test]
fn create_validates_the_name_as_typed_and_keeps_newlines_and_pastes() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "My");
    assert!(
        editor(&app)
            .name_error
            .as_ref()
            .unwrap()
            .contains("uppercase")
    );
    app.update(code(KeyCode::Backspace));
    app.update(code(KeyCode::Backspace));
    type_str(&mut app, "db-pass");
    assert_eq!(editor(&app).name_error, None);
    // Enter in the name goes to the value; Enter in the value is a newline.
    app.update(code(KeyCode::Enter));
    assert_eq!(editor(&app).focus, EditorFocus::Value);
    type_str(&mut app, "line 1\n");
    app.update(Action::Paste("line 2\r\nline 3\rline 4".into()));
    assert_eq!(editor(&app).value_text(), "line 1\nline 2\nline 3\nline 4");
    app.update(code(KeyCode::Tab));
    assert_eq!(editor(&app).focus, EditorFocus::Policy);
    app.update(key(' '));
    assert!(editor(&app).with_policy);

    let (id, call) = the_call(&app.update(ctrl('s')));
    assert_eq!(
        call,
        Call::CreateSecret {
            namespace: "team-a".into(),
            name: "db-pass".into(),
            value: Sensitive("line 1\nline 2\nline 3\nline 4".into()),
        }
    );
    // Keys while saving change nothing.
    app.update(key('x'));
    assert_eq!(editor(&app).value_text(), "line 1\nline 2\nline 3\nline 4");

    let effects = app.update(ok(
        id,
        Reply::Created {
            version_id: "v1".into(),
        },
    ));
    assert!(app.state.dialog.is_none());
    assert!(flash(&app).contains("Created 'db-pass'"));
    assert_eq!(app.state.secrets.selected_name(), Some("db-pass"));
    let calls: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Call { call, .. } => Some(call.clone()),
            _ => None,
        })
        .collect();
    assert!(calls.contains(&Call::CreatePolicy {
        namespace: "team-a".into(),
        name: "db-pass".into()
    }));
    assert!(calls.contains(&Call::ListSecrets {
        namespace: "team-a".into()
    }));
}

#[test]
fn a_secret_created_under_a_filter_that_hides_it_is_shown_and_selected() {
    let mut app = in_team_a(vec![row("api-key", 1), row("db-url", 1), row("zeta", 1)]);
    app.update(key('/'));
    type_str(&mut app, "db");
    app.update(code(KeyCode::Enter));
    app.update(key('n'));
    type_str(&mut app, "cache");
    app.update(code(KeyCode::Enter));
    type_str(&mut app, "v");
    let (id, _) = the_call(&app.update(ctrl('s')));
    let effects = app.update(ok(
        id,
        Reply::Created {
            version_id: "v1".into(),
        },
    ));
    assert_eq!(app.state.secrets.selected_name(), Some("cache"));
    assert_eq!(app.state.secrets.filter, "");
    assert!(flash(&app).contains("filter hid it"), "{}", flash(&app));
    // The reload that follows keeps it selected.
    let (id, _) = the_call(&effects);
    app.update(ok(
        id,
        Reply::Secrets(vec![
            row("api-key", 1),
            row("cache", 0),
            row("db-url", 1),
            row("zeta", 1),
        ]),
    ));
    assert_eq!(app.state.secrets.selected_name(), Some("cache"));
}

#[test]
fn a_secret_found_gone_reloads_the_list() {
    let mut app = in_team_a(vec![row("a", 1), row("b", 1)]);
    app.update(key('j'));
    let (id, _) = the_call(&app.update(Action::DetailsDue { name: "b".into() }));
    let (_, call) =
        the_call(&app.update(fail(id, ErrorKind::NotFound, "Secret 'b' does not exist.")));
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "team-a".into()
        }
    );
    assert!(flash(&app).contains("reloaded"), "{}", flash(&app));
}

#[test]
fn deleting_a_secret_someone_already_deleted_closes_the_dialog_and_reloads() {
    let mut app = in_team_a(vec![row("a", 1), row("b", 1)]);
    app.update(key('d'));
    let (id, _) = the_call(&app.update(key('y')));
    let effects = app.update(fail(
        id,
        ErrorKind::NotFound,
        "Secret 'a' does not exist in namespace 'team-a'.",
    ));
    assert!(app.state.dialog.is_none(), "{:?}", app.state.dialog);
    assert!(flash(&app).contains("already deleted"), "{}", flash(&app));
    assert!(app.state.secrets.rows.iter().all(|r| r.name != "a"));
    let (_, call) = the_call(&effects);
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "team-a".into()
        }
    );
}

#[test]
fn a_multi_line_paste_into_the_name_is_refused_out_loud() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "db-");
    app.update(Action::Paste("pass\r\nhunter2\n".into()));
    assert_eq!(editor(&app).name_text(), "db-", "nothing of it is kept");
    let msg = flash(&app);
    assert!(msg.contains("Not pasted"), "{msg}");
    assert!(msg.contains("one line"), "{msg}");
    assert_eq!(
        app.state.flash.as_ref().unwrap().level,
        Level::Error,
        "stays until a key is pressed"
    );
    // One line with a trailing newline, as copied from a terminal, is fine.
    app.update(Action::Paste("pass\n".into()));
    assert_eq!(editor(&app).name_text(), "db-pass");
    assert_eq!(editor(&app).name_error, None);
}

#[test]
fn an_invalid_name_is_not_sent() {
    let mut app = in_team_a(vec![]);
    app.update(key('n'));
    app.update(code(KeyCode::Tab));
    type_str(&mut app, "value");
    no_call(&app.update(ctrl('s')));
    let ed = editor(&app);
    assert_eq!(ed.focus, EditorFocus::Name);
    assert!(ed.error.as_ref().unwrap().contains("Fix the name first"));
    assert_eq!(ed.value_text(), "value");
}

#[test]
fn a_failed_save_keeps_the_text() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "a");
    app.update(code(KeyCode::Tab));
    type_str(&mut app, "x\ny");
    let (id, _) = the_call(&app.update(ctrl('s')));
    app.update(fail(
        id,
        ErrorKind::AlreadyExists,
        "A secret named 'a' already exists.",
    ));
    let ed = editor(&app);
    assert_eq!(ed.value_text(), "x\ny");
    assert!(ed.error.as_ref().unwrap().contains("already exists"));
    assert!(!ed.saving);
}

#[test]
fn escape_asks_before_discarding_typed_text() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    // Nothing typed: Esc just closes.
    app.update(code(KeyCode::Esc));
    assert!(app.state.dialog.is_none());

    app.update(key('n'));
    type_str(&mut app, "abc");
    app.update(code(KeyCode::Esc));
    assert!(editor(&app).confirm_discard);
    app.update(key('n'));
    assert!(!editor(&app).confirm_discard);
    assert_eq!(editor(&app).name_text(), "abc");
    app.update(code(KeyCode::Esc));
    app.update(key('y'));
    assert!(app.state.dialog.is_none());
}

#[test]
fn the_help_scrolls_with_the_keys_it_lists_and_stops_at_its_end() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state.size = (100, 30);
    app.update(key('?'));
    let title = |app: &App| {
        let screen = screen_text(app);
        let at = screen.find("Keys · ").expect("the help's title");
        screen[at..].split(" · ").nth(1).unwrap_or("").to_owned()
    };
    let first = title(&app);
    let (_, of) = first.split_once('/').unwrap();
    let last = format!("{of}/{of}");
    assert_eq!(first, format!("1/{of}"));
    // The last key of the last section ("Quit?") shows at the bottom.
    for k in [key('G'), code(KeyCode::End)] {
        app.update(key('g'));
        app.update(k);
        assert_eq!(title(&app), last);
        assert!(screen_text(&app).contains("keep the text"));
    }
    // Past the end nothing moves, so one k is one line up.
    for _ in 0..500 {
        app.update(key('j'));
    }
    assert_eq!(title(&app), last);
    app.update(key('k'));
    let n: u16 = of.parse().unwrap();
    assert_eq!(title(&app), format!("{}/{of}", n - 1));
    app.update(code(KeyCode::Home));
    assert_eq!(title(&app), format!("1/{of}"));
    app.update(key(' '));
    let paged: u16 = title(&app).split('/').next().unwrap().parse().unwrap();
    assert!(paged > 10, "Space scrolls a page: {paged}");
    app.update(ctrl('u'));
    let half: u16 = title(&app).split('/').next().unwrap().parse().unwrap();
    assert!(
        half > 1 && half < paged,
        "Ctrl-U scrolls half a page back: {half}"
    );
    app.update(ctrl('d'));
    assert_eq!(title(&app), format!("{paged}/{of}"));
}

#[test]
fn question_mark_is_text_in_the_editor_and_help_elsewhere() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('?'));
    assert_eq!(app.state.help, Some(0));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.state.help, None);
    app.update(key('n'));
    app.update(code(KeyCode::Tab));
    app.update(key('?'));
    assert_eq!(app.state.help, None);
    assert_eq!(editor(&app).value_text(), "?");
    app.update(code(KeyCode::F(1)));
    assert_eq!(app.state.help, Some(0));
}

// ---------------------------------------------------------------- update

#[test]
fn footers_offer_only_keys_that_work_there() {
    use keymap::{KeyContext, keys};
    let shown = |ctx| -> Vec<String> { keys(ctx).into_iter().map(|k| k.keys).collect() };
    let mut app = in_team_a(vec![row("a", 1)]);
    // Bindings input: `?` is text, so F1 is the help key.
    app.update(key('b'));
    assert!(app.state.is_typing());
    type_str(&mut app, "web?");
    assert!(app.state.help.is_none());
    match &app.state.dialog {
        Some(Dialog::Bind(b)) => assert_eq!(b.input, "web?"),
        other => panic!("{other:?}"),
    }
    app.update(code(KeyCode::Tab));
    assert!(!app.state.is_typing(), "the list takes no text");
    app.update(code(KeyCode::Esc));
    // The update form has one field: no Tab.
    open_editor_on(&mut app, "base", "v1");
    assert_eq!(app.state.key_context(), KeyContext::EditorUpdate);
    assert!(!shown(KeyContext::EditorUpdate).contains(&"Tab/Shift-Tab".to_owned()));
    // Discard?: Esc keeps editing, as the footer says.
    type_str(&mut app, "x");
    app.update(code(KeyCode::Esc));
    assert_eq!(app.state.key_context(), KeyContext::Discard);
    assert!(
        keys(KeyContext::Discard)
            .iter()
            .any(|k| k.short == "n/Esc" && k.what == "keep editing")
    );
    app.update(code(KeyCode::Esc));
    assert_eq!(editor(&app).value_text(), "basex");
    assert_eq!(app.state.key_context(), KeyContext::EditorUpdate);
    // The create form has three fields.
    app.update(code(KeyCode::Esc));
    app.update(key('y'));
    app.update(key('n'));
    // It opens on the name; each field has its own keys.
    assert_eq!(app.state.key_context(), KeyContext::EditorName);
    assert!(shown(KeyContext::EditorName).contains(&"Tab/Shift-Tab".to_owned()));
}

fn open_editor_on(app: &mut App, value: &str, version: &str) {
    let name = app.state.secrets.selected_name().unwrap().to_owned();
    let (id, call) = the_call(&app.update(key('e')));
    assert_eq!(
        call,
        Call::GetSecret {
            namespace: "team-a".into(),
            name: name.clone(),
            include_value: true
        }
    );
    assert!(editor(app).loading);
    let mut d = details(&name, version, false, &[]);
    d.value = Some(Sensitive(value.into()));
    app.update(ok(id, Reply::Details(Box::new(d))));
}

/// Ctrl-S on the update form, then `y` on the diff it shows.
fn confirmed_save(app: &mut App) -> Vec<Effect> {
    no_call(&app.update(ctrl('s')));
    assert!(
        editor(app).save_diff.is_some(),
        "Ctrl-S shows the diff first"
    );
    app.update(key('y'))
}

#[test]
fn update_sends_the_version_it_started_from() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "old\nvalue\n", "v1");
    assert_eq!(editor(&app).value_text(), "old\nvalue\n");
    assert!(!editor(&app).is_dirty());
    type_str(&mut app, "more");
    // Ctrl-S shows what the save changes; n goes back to the text.
    no_call(&app.update(ctrl('s')));
    let d = editor(&app).save_diff.clone().expect("the diff is shown");
    assert_eq!(d.diff.summary(), "1 line added");
    assert!(!d.over_theirs);
    assert_eq!(app.state.key_context(), keymap::KeyContext::SaveConfirm);
    stays(&app.update(key('n')));
    assert!(editor(&app).save_diff.is_none());
    assert_eq!(editor(&app).value_text(), "old\nvalue\nmore");
    let (id, call) = the_call(&confirmed_save(&mut app));
    assert_eq!(
        call,
        Call::UpdateSecret {
            namespace: "team-a".into(),
            name: "a".into(),
            value: Sensitive("old\nvalue\nmore".into()),
            expected_version_id: "v1".into(),
        }
    );
    let (_, call) = the_call(&app.update(ok(
        id,
        Reply::Updated {
            version_id: "v2".into(),
        },
    )));
    assert!(matches!(call, Call::ListSecrets { .. }));
    assert!(app.state.dialog.is_none());
    assert!(flash(&app).contains("Saved the new value of 'a'"));
}

#[test]
fn saving_an_unchanged_value_says_so_and_sends_nothing() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "same", "v1");
    stays(&app.update(ctrl('s')));
    assert!(editor(&app).save_diff.is_none());
    assert!(
        flash(&app).contains("Nothing changed in 'a'"),
        "{}",
        flash(&app)
    );
}

#[test]
fn with_confirm_save_off_ctrl_s_saves_at_once() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state.confirm_save = false;
    open_editor_on(&mut app, "old", "v1");
    type_str(&mut app, "!");
    let (_, call) = the_call(&app.update(ctrl('s')));
    assert!(matches!(call, Call::UpdateSecret { .. }));
}

/// Opens 'a' at "base" (v1), types " mine", saves, and answers that
/// someone saved v2 = `theirs` meanwhile. Returns with the panel up.
fn conflict_on_save(app: &mut App, theirs: &str) {
    open_editor_on(app, "base", "v1");
    type_str(app, " mine");
    let (id, _) = the_call(&confirmed_save(app));
    let (check, call) = the_conflict_check(&app.update(fail(
        id,
        ErrorKind::Conflict,
        "The secret changed since version v1.",
    )));
    // Their value is read to show what they changed.
    assert_eq!(
        call,
        Call::GetSecret {
            namespace: "team-a".into(),
            name: "a".into(),
            include_value: true
        }
    );
    assert_eq!(app.state.key_context(), keymap::KeyContext::Conflict);
    let mut d = details("a", "v2", false, &[]);
    d.value = Some(Sensitive(theirs.into()));
    app.update(ok(check, Reply::Details(Box::new(d))));
    // Their value is not kept with the table's details.
    assert!(app.state.secrets.details["a"].value.is_none());
}

#[test]
fn a_version_conflict_shows_what_they_changed_and_what_overwriting_does() {
    let mut app = in_team_a(vec![row("a", 1)]);
    conflict_on_save(&mut app, "base\ntheirs");
    let ed = editor(&app);
    assert_eq!(ed.value_text(), "base mine", "the text is kept");
    assert!(
        ed.error
            .as_ref()
            .unwrap()
            .contains("Someone else changed 'a'"),
        "{:?}",
        ed.error
    );
    let c = ed.conflict.as_ref().expect("the conflict is shown");
    assert!(c.shown);
    assert_eq!(c.version, "v2");
    // Theirs against the base: they added a line.
    assert_eq!(c.theirs_vs_base.summary(), "1 line added");
    // Theirs against mine: overwriting removes their two lines for mine.
    assert_eq!(c.theirs_vs_mine.summary(), "1 line added, 2 removed");
    assert!(!c.revealed, "values are masked until v");
    stays(&app.update(key('v')));
    assert!(editor(&app).conflict.as_ref().unwrap().revealed);
    // Typing is not taken while the panel is up.
    stays(&app.update(key('x')));
    assert_eq!(editor(&app).value_text(), "base mine");
}

#[test]
fn overwrite_after_a_conflict_names_their_version_as_expected() {
    let mut app = in_team_a(vec![row("a", 1)]);
    conflict_on_save(&mut app, "theirs");
    let (_, call) = the_call(&app.update(key('o')));
    match call {
        Call::UpdateSecret {
            expected_version_id,
            value,
            ..
        } => {
            assert_eq!(expected_version_id, "v2");
            assert_eq!(value.expose(), "base mine");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn keep_editing_after_a_conflict_then_save_diffs_against_theirs() {
    let mut app = in_team_a(vec![row("a", 1)]);
    conflict_on_save(&mut app, "theirs");
    stays(&app.update(code(KeyCode::Esc)));
    assert_eq!(app.state.key_context(), keymap::KeyContext::EditorUpdate);
    type_str(&mut app, "!");
    assert_eq!(editor(&app).value_text(), "base mine!");
    no_call(&app.update(ctrl('s')));
    let d = editor(&app).save_diff.clone().expect("the diff is shown");
    assert!(d.over_theirs, "the save replaces their version");
    assert_eq!(
        d.diff,
        crate::diff::diff("theirs", "base mine!"),
        "the diff is against their version, not the one opened"
    );
    let (_, call) = the_call(&app.update(key('y')));
    match call {
        Call::UpdateSecret {
            expected_version_id,
            ..
        } => assert_eq!(expected_version_id, "v2"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn take_theirs_puts_their_value_in_the_editor_and_undo_brings_mine_back() {
    let mut app = in_team_a(vec![row("a", 1)]);
    conflict_on_save(&mut app, "theirs\nvalue");
    stays(&app.update(key('t')));
    let ed = editor(&app);
    assert_eq!(ed.value_text(), "theirs\nvalue");
    assert!(ed.conflict.is_none());
    assert!(!ed.is_dirty(), "their version is the new starting point");
    assert_eq!(app.state.key_context(), keymap::KeyContext::EditorUpdate);
    // Saving theirs unchanged sends nothing.
    stays(&app.update(ctrl('s')));
    assert!(flash(&app).contains("Nothing changed"), "{}", flash(&app));
    // An edit on theirs is sent against their version.
    type_str(&mut app, "!");
    let (_, call) = the_call(&confirmed_save(&mut app));
    match call {
        Call::UpdateSecret {
            expected_version_id,
            value,
            ..
        } => {
            assert_eq!(expected_version_id, "v2");
            assert_eq!(value.expose(), "theirs\nvalue!");
        }
        other => panic!("{other:?}"),
    }
    // Undo walks back past the take: the user's text is not lost.
    let mut app = in_team_a(vec![row("a", 1)]);
    conflict_on_save(&mut app, "theirs");
    app.update(key('t'));
    app.update(ctrl('z'));
    app.update(ctrl('z'));
    assert_eq!(editor(&app).value_text(), "base mine");
}

#[test]
fn a_conflict_whose_version_cannot_be_read_keeps_the_text_and_retries_on_save() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "base", "v1");
    type_str(&mut app, " mine");
    let (id, _) = the_call(&confirmed_save(&mut app));
    let (check, _) = the_conflict_check(&app.update(fail(id, ErrorKind::Conflict, "changed")));
    // Nothing to take or overwrite before their version is read.
    stays(&app.update(key('o')));
    stays(&app.update(key('t')));
    app.update(fail(
        check,
        ErrorKind::Unreachable,
        "The server is restarting.",
    ));
    let c = editor(&app).conflict.clone().unwrap();
    assert!(c.error.unwrap().contains("The server is restarting."));
    app.update(code(KeyCode::Esc));
    assert_eq!(editor(&app).value_text(), "base mine");
    // Saving again goes against the version opened, finding the conflict
    // again rather than overwriting blindly.
    let (_, call) = the_call(&confirmed_save(&mut app));
    match call {
        Call::UpdateSecret {
            expected_version_id,
            ..
        } => assert_eq!(expected_version_id, "v1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn saving_the_same_text_as_theirs_sends_nothing() {
    let mut app = in_team_a(vec![row("a", 1)]);
    conflict_on_save(&mut app, "base mine");
    app.update(code(KeyCode::Esc));
    stays(&app.update(ctrl('s')));
    assert!(
        flash(&app).contains("same as the version of 'a' saved meanwhile"),
        "{}",
        flash(&app)
    );
    assert!(editor(&app).conflict.is_none());
    assert!(!editor(&app).is_dirty());
}

#[test]
fn a_long_save_diff_scrolls() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "", "v1");
    for i in 0..40 {
        type_str(&mut app, &format!("line {i}"));
        app.update(code(KeyCode::Enter));
    }
    no_call(&app.update(ctrl('s')));
    stays(&app.update(key('j')));
    stays(&app.update(key('j')));
    assert_eq!(editor(&app).save_diff.as_ref().unwrap().scroll, 2);
    stays(&app.update(key('G')));
    let bottom = editor(&app).save_diff.as_ref().unwrap().scroll;
    assert!(bottom >= 40, "{bottom}");
    stays(&app.update(key('g')));
    assert_eq!(editor(&app).save_diff.as_ref().unwrap().scroll, 0);
}

#[test]
fn an_unchanged_edit_closes_without_asking() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "same", "v1");
    app.update(code(KeyCode::Esc));
    assert!(app.state.dialog.is_none());
}

#[test]
fn a_failed_load_closes_the_editor_with_a_message() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (id, _) = the_call(&app.update(key('e')));
    app.update(fail(id, ErrorKind::NotFound, "Secret 'a' not found."));
    assert!(app.state.dialog.is_none());
    assert!(flash(&app).contains("Could not open 'a' for editing"));
}

// --------------------------------------------------------- expired token

/// 'a' open in the editor at "base edited", its save refused because the
/// token expired.
fn refused_while_editing() -> App {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "base", "v1");
    type_str(&mut app, " edited");
    let (id, _) = the_call(&confirmed_save(&mut app));
    app.update(fail(
        id,
        ErrorKind::Unauthenticated,
        "The server refused the token: token expired.",
    ));
    app
}

#[test]
fn an_expired_token_offers_another_and_the_typed_text_survives() {
    let mut app = refused_while_editing();
    assert!(app.state.auth_problem.as_ref().unwrap().contains("expired"));
    assert_eq!(editor(&app).value_text(), "base edited");
    assert!(!editor(&app).saving);

    // t: pick another token.
    let effects = app.update(key('t'));
    assert!(matches!(effects[..], [Effect::ScanTokens]));
    assert_eq!(app.state.screen, Screen::Tokens);
    assert!(app.state.auth_problem.is_none());
    // The rescan does not pick by itself, even with one usable token.
    no_call(&app.update(scan(vec![token("ann", -60), token("ann2", 7200)])));
    app.update(key('j'));
    let (id, token) = the_connect(&app.update(code(KeyCode::Enter)));
    assert_eq!(token, "jwt-of-ann2");
    let (id, _) = the_call(&app.update(ok(id, Reply::Connected)));
    let (_, call) = the_call(&app.update(ok(id, Reply::WhoAmI(identity(&["team-a"], false)))));
    assert!(matches!(call, Call::ListSecrets { .. }));
    // Back where the user was, text and version intact.
    assert_eq!(app.state.screen, Screen::Secrets);
    assert_eq!(editor(&app).value_text(), "base edited");
    let (_, call) = the_call(&confirmed_save(&mut app));
    assert!(
        matches!(call, Call::UpdateSecret { expected_version_id, .. } if expected_version_id == "v1")
    );
}

#[test]
fn escape_on_the_picker_from_a_refused_token_keeps_the_editor_text() {
    let mut app = refused_while_editing();
    let effects = app.update(key('t'));
    assert!(matches!(effects[..], [Effect::ScanTokens]));
    assert_eq!(app.state.screen, Screen::Tokens);
    app.update(scan(vec![token("ann", 3600)]));
    // Esc goes back to the open editor; nothing is lost.
    stays(&app.update(code(KeyCode::Esc)));
    assert_eq!(app.state.screen, Screen::Secrets);
    assert_eq!(editor(&app).value_text(), "base edited");
    assert!(!editor(&app).saving);
    assert_eq!(app.state.key_context(), keymap::KeyContext::EditorUpdate);
    // q on the picker quits, but asks first while the editor holds text.
    let (id, _) = the_call(&confirmed_save(&mut app));
    app.update(fail(
        id,
        ErrorKind::Unauthenticated,
        "The server refused the token: token expired.",
    ));
    app.update(key('t'));
    app.update(scan(vec![token("ann", 3600)]));
    stays(&app.update(key('q')));
    assert_eq!(app.state.key_context(), keymap::KeyContext::Quit);
    stays(&app.update(code(KeyCode::Esc)));
    assert_eq!(editor(&app).value_text(), "base edited");
}

#[test]
fn a_token_without_the_namespace_keeps_the_editor_until_one_fits() {
    let mut app = refused_while_editing();
    app.update(key('t'));
    app.update(scan(vec![token("bob", 3600), token("ann", 3600)]));
    // bob's token does not grant team-a.
    let (id, _) = the_connect(&app.update(code(KeyCode::Enter)));
    let (id, _) = the_call(&app.update(ok(id, Reply::Connected)));
    no_call(&app.update(ok(id, Reply::WhoAmI(identity(&["team-b"], false)))));
    assert_eq!(app.state.screen, Screen::Tokens);
    assert!(
        flash(&app).contains("unsaved text is kept"),
        "{}",
        flash(&app)
    );
    assert_eq!(editor(&app).value_text(), "base edited");
    // Then ann's, which does.
    app.update(code(KeyCode::Down));
    let (id, _) = the_connect(&app.update(code(KeyCode::Enter)));
    let (id, _) = the_call(&app.update(ok(id, Reply::Connected)));
    app.update(ok(id, Reply::WhoAmI(identity(&["team-a"], false))));
    assert_eq!(app.state.screen, Screen::Secrets);
    assert_eq!(editor(&app).value_text(), "base edited");
    assert_eq!(app.state.key_context(), keymap::KeyContext::EditorUpdate);
}

#[test]
fn a_new_token_without_the_namespace_goes_to_the_picker() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('T'));
    app.update(scan(vec![token("bob", 3600)]));
    let (id, _) = the_connect(&app.update(code(KeyCode::Enter)));
    let (id, _) = the_call(&app.update(ok(id, Reply::Connected)));
    no_call(&app.update(ok(id, Reply::WhoAmI(identity(&["team-b"], false)))));
    assert_eq!(app.state.screen, Screen::Namespaces);
    assert!(flash(&app).contains("may not use 'team-a'"));
}

#[test]
fn permission_denied_is_shown_as_the_server_says_it() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (id, _) = the_call(&app.update(key('r')));
    app.update(fail(
        id,
        ErrorKind::PermissionDenied,
        "User 'ann@example.com' is not authorized for namespace 'team-a'.",
    ));
    assert!(flash(&app).contains("is not authorized for namespace 'team-a'"));
    assert!(app.state.auth_problem.is_none());
}

// ---------------------------------------------------------------- delete

#[test]
fn delete_removes_the_policy_first_when_asked() {
    let mut app = in_team_a(vec![row("a", 1), row("b", 1)]);
    app.state
        .secrets
        .details
        .insert("a".into(), details("a", "v1", true, &["web"]));
    no_call(&app.update(key('d')));
    match &app.state.dialog {
        Some(Dialog::Delete(d)) => {
            assert_eq!(d.name, "a");
            assert!(
                !d.remove_policy,
                "removing the policy is opt-in: a restore does not bring it back"
            );
        }
        other => panic!("{other:?}"),
    }
    app.update(key(' '));
    let (id, call) = the_call(&app.update(key('y')));
    assert_eq!(
        call,
        Call::DeletePolicy {
            namespace: "team-a".into(),
            name: "a".into(),
            unbind: true
        }
    );
    let (id, call) = the_call(&app.update(ok(
        id,
        Reply::PolicyDeleted {
            unbound: vec!["web".into()],
        },
    )));
    assert_eq!(
        call,
        Call::DeleteSecret {
            namespace: "team-a".into(),
            name: "a".into()
        }
    );
    app.update(ok(
        id,
        Reply::Deleted {
            deletion_date: Some(now() + Duration::from_secs(7 * 86_400)),
        },
    ));
    assert!(app.state.dialog.is_none());
    assert!(flash(&app).contains("Deleted 'a'"));
    assert!(flash(&app).contains("(D)"));
    assert_eq!(app.state.secrets.rows.len(), 1);
}

#[test]
fn where_deletes_are_final_the_dialog_says_so_and_the_name_must_be_typed() {
    let mut app = in_team_a(vec![row("api-key", 1), row("b", 1)]);
    let session = app.state.session.as_mut().unwrap();
    session.identity.as_mut().unwrap().recovery_days = Some(0);
    app.update(key('d'));
    match &app.state.dialog {
        Some(Dialog::Delete(d)) => assert!(d.for_good()),
        other => panic!("{other:?}"),
    }
    // A `y` out of habit is a letter of the name, not a confirmation.
    no_call(&app.update(key('y')));
    no_call(&app.update(code(KeyCode::Enter)));
    match &app.state.dialog {
        Some(Dialog::Delete(d)) => {
            assert!(!d.busy);
            let error = d.error.as_deref().unwrap_or("");
            assert!(
                error.contains("Type the secret's name, 'api-key'"),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
    app.update(ctrl('u'));
    type_str(&mut app, "api-key");
    let (id, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::DeleteSecret {
            namespace: "team-a".into(),
            name: "api-key".into()
        }
    );
    app.update(ok(
        id,
        Reply::Deleted {
            deletion_date: None,
        },
    ));
    assert!(app.state.dialog.is_none());
    assert!(flash(&app).contains("for good"), "{}", flash(&app));
    assert!(!flash(&app).contains("Restore"), "{}", flash(&app));
}

#[test]
fn the_delete_dialog_states_the_servers_recovery_window() {
    for (days, needle) in [
        (Some(7), "for 7 days"),
        (Some(1), "for 1 day."),
        (None, "if this server"),
        (Some(0), "cannot be restored"),
    ] {
        let mut app = in_team_a(vec![row("a", 1)]);
        let session = app.state.session.as_mut().unwrap();
        session.identity.as_mut().unwrap().recovery_days = days;
        app.update(key('d'));
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
        t.draw(|f| crate::view::draw(f, &app.state)).unwrap();
        let screen: String = t
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect();
        assert!(screen.contains(needle), "{days:?}: {needle}");
        assert!(
            !screen.contains("recovery window"),
            "{days:?}: no vague promise"
        );
    }
}

#[test]
fn delete_without_policy_and_cancel() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('d'));
    app.update(key('n'));
    assert!(app.state.dialog.is_none());
    app.state
        .secrets
        .details
        .insert("a".into(), details("a", "v1", true, &["web"]));
    app.update(key('d'));
    // Unticked by default even when the secret has a policy.
    let (id, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert!(matches!(call, Call::DeleteSecret { .. }));
    app.update(fail(
        id,
        ErrorKind::Unreachable,
        "Cannot reach kiss-server.",
    ));
    match &app.state.dialog {
        Some(Dialog::Delete(d)) => {
            assert!(!d.busy);
            assert!(d.error.as_ref().unwrap().contains("Not deleted"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_policy_does_not_stop_the_delete() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('d'));
    app.update(key('p'));
    let (id, call) = the_call(&app.update(key('y')));
    assert!(matches!(call, Call::DeletePolicy { .. }));
    let (_, call) = the_call(&app.update(fail(id, ErrorKind::NotFound, "no policy")));
    assert!(matches!(call, Call::DeleteSecret { .. }));
}

// --------------------------------------------------------------- restore

#[test]
fn recently_deleted_secrets_can_be_restored() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (id, call) = the_call(&app.update(key('D')));
    assert_eq!(
        call,
        Call::ListDeleted {
            namespace: "team-a".into()
        }
    );
    assert_eq!(app.state.screen, Screen::Deleted);
    app.update(ok(
        id,
        Reply::DeletedSecrets(vec![DeletedRow {
            name: "gone".into(),
            deleted: Some(now()),
            deletion_date: Some(now() + Duration::from_secs(86_400)),
        }]),
    ));
    let (id, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Restore {
            namespace: "team-a".into(),
            name: "gone".into()
        }
    );
    let (_, call) = the_call(&app.update(ok(id, Reply::Restored)));
    assert!(matches!(call, Call::ListSecrets { .. }));
    assert!(app.state.deleted.rows.is_empty());
    assert!(flash(&app).contains("Restored 'gone'"));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.state.screen, Screen::Secrets);
    assert!(app.state.secrets.rows.iter().any(|r| r.name == "gone"));
}

// --------------------------------------------------------------- history

/// Every call among the effects.
fn all_calls(effects: &[Effect]) -> Vec<(RequestId, Call)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Call { id, call } => Some((*id, call.clone())),
            _ => None,
        })
        .collect()
}

/// Answers each GetVersion among `effects` with that version's value.
fn answer_values(app: &mut App, effects: &[Effect]) -> usize {
    let calls = all_calls(effects);
    for (id, call) in &calls {
        let Call::GetVersion { version_id, .. } = call else {
            panic!("expected only GetVersion calls, got {call:?}");
        };
        let mut d = super::fixtures::details("team-a", "db", false, &[]);
        d.version_id = version_id.clone();
        d.value = Some(Sensitive(super::fixtures::version_value(version_id).into()));
        app.update(ok(*id, Reply::Details(Box::new(d))));
    }
    calls.len()
}

fn in_history() -> App {
    let mut app = in_team_a(vec![row("db", 1)]);
    let (id, call) = the_call(&app.update(key('h')));
    assert_eq!(
        call,
        Call::ListVersions {
            namespace: "team-a".into(),
            name: "db".into()
        }
    );
    assert_eq!(app.state.screen, Screen::History);
    app.update(ok(id, Reply::Versions(super::fixtures::versions())));
    app
}

#[test]
fn history_shows_a_version_its_value_only_when_asked_and_a_diff() {
    let mut app = in_history();
    assert_eq!(app.state.history.rows.len(), 3);
    // Enter shows the version without reading its value.
    app.update(code(KeyCode::Down));
    stays(&app.update(code(KeyCode::Enter)));
    assert_eq!(app.state.history.pane, HistoryPane::Version);
    assert!(app.state.history.values.is_empty());
    // v reads that version's value, once.
    let effects = app.update(key('v'));
    let (_, call) = the_call(&effects);
    let previous = super::fixtures::versions()[1].version_id.clone();
    assert_eq!(
        call,
        Call::GetVersion {
            namespace: "team-a".into(),
            name: "db".into(),
            version_id: previous.clone()
        }
    );
    answer_values(&mut app, &effects);
    assert!(app.state.history.revealed);
    stays(&app.update(key('v')));
    assert!(!app.state.history.revealed);
    // d reads the current value too and diffs.
    let effects = app.update(key('d'));
    assert_eq!(
        answer_values(&mut app, &effects),
        1,
        "only the one not read yet"
    );
    assert_eq!(app.state.history.pane, HistoryPane::Diff);
    let d = app
        .state
        .history
        .diff_to_current(&previous)
        .expect("both values read");
    assert_eq!((d.added, d.removed), (1, 1));
    // Back to the secrets, history dropped.
    app.update(key('q'));
    assert_eq!(app.state.screen, Screen::Secrets);
    assert!(app.state.history.values.is_empty());
}

#[test]
fn the_history_diff_is_made_once_however_often_the_screen_is_drawn() {
    let mut app = in_history();
    app.update(code(KeyCode::Down));
    let effects = app.update(key('d'));
    answer_values(&mut app, &effects);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap();
    // The spinner's ticks redraw the screen ten times a second.
    for _ in 0..20 {
        app.update(Action::Tick(app.state.now));
        t.draw(|f| crate::view::draw(f, &app.state)).unwrap();
    }
    assert_eq!(app.state.history.diffs.made(), 1);
    // The rollback's diff goes the other way: one more, made once too.
    stays(&app.update(key('R')));
    for _ in 0..5 {
        t.draw(|f| crate::view::draw(f, &app.state)).unwrap();
    }
    assert_eq!(app.state.history.diffs.made(), 2);
}

#[test]
fn rollback_asks_with_the_diff_then_rolls_back_from_the_current_version() {
    let mut app = in_history();
    let versions = super::fixtures::versions();
    // The current version is not something to roll back to.
    stays(&app.update(key('R')));
    assert!(app.state.history.confirm.is_none());
    assert!(
        flash(&app).contains("current version already"),
        "{}",
        flash(&app)
    );
    app.update(code(KeyCode::Down));
    app.update(code(KeyCode::Down));
    let effects = app.update(key('R'));
    assert_eq!(
        app.state.history.confirm.as_deref(),
        Some(versions[2].version_id.as_str())
    );
    assert_eq!(answer_values(&mut app, &effects), 2);
    let d = app
        .state
        .history
        .rollback_diff(&versions[2].version_id)
        .unwrap();
    assert_eq!((d.added, d.removed), (1, 2), "{d:?}");
    // n cancels, nothing sent.
    stays(&app.update(key('n')));
    assert!(app.state.history.confirm.is_none());
    app.update(key('R'));
    let (id, call) = the_call(&app.update(key('y')));
    assert_eq!(
        call,
        Call::Rollback {
            namespace: "team-a".into(),
            name: "db".into(),
            version_id: versions[2].version_id.clone(),
            expected_version_id: versions[0].version_id.clone(),
        }
    );
    // A second y while it is on its way sends nothing.
    no_call(&app.update(key('y')));
    let (_, call) = the_call(&app.update(ok(
        id,
        Reply::RolledBack {
            version_id: "44444444-0000-4000-8000-000000000004".into(),
        },
    )));
    assert!(matches!(call, Call::ListVersions { .. }));
    assert!(app.state.history.confirm.is_none());
    assert!(flash(&app).contains("Rolled back 'db'"), "{}", flash(&app));
    assert!(flash(&app).contains("44444444"), "{}", flash(&app));
}

#[test]
fn a_rollback_is_not_sent_before_its_diff_shows_nor_cancelled_on_its_way() {
    let mut app = in_history();
    app.update(code(KeyCode::Down));
    let reads = app.update(key('R'));
    // The values are still being read: y sends nothing yet.
    no_call(&app.update(key('y')));
    answer_values(&mut app, &reads);
    let (id, _) = the_call(&app.update(key('y')));
    // On its way, n does not drop the confirmation its reply belongs to.
    stays(&app.update(key('n')));
    assert!(app.state.history.confirm.is_some());
    app.update(ok(
        id,
        Reply::RolledBack {
            version_id: "44444444-0000-4000-8000-000000000004".into(),
        },
    ));
    assert!(
        flash(&app).contains("value of version 22222222"),
        "{}",
        flash(&app)
    );
}

#[test]
fn a_stale_rollback_says_so_and_lists_the_versions_again() {
    let mut app = in_history();
    app.update(code(KeyCode::Down));
    let reads = app.update(key('R'));
    answer_values(&mut app, &reads);
    let (id, _) = the_call(&app.update(key('y')));
    let (_, call) = the_call(&app.update(fail(id, ErrorKind::Conflict, "changed")));
    assert!(matches!(call, Call::ListVersions { .. }));
    assert!(app.state.history.confirm.is_none());
    assert!(!app.state.history.rolling_back);
    assert!(
        flash(&app).contains("someone changed 'db' meanwhile"),
        "{}",
        flash(&app)
    );
}

#[test]
fn a_history_that_cannot_be_listed_says_why_and_r_retries() {
    let mut app = in_team_a(vec![row("db", 1)]);
    let (id, _) = the_call(&app.update(key('h')));
    app.update(fail(
        id,
        ErrorKind::Unreachable,
        "The server is not reachable.",
    ));
    // The screen's own message names the key that helps.
    assert_eq!(
        app.state.history.load_error.as_deref(),
        Some("The server is not reachable. Press r to try again.")
    );
    assert!(
        flash(&app).contains("Press r to try again"),
        "{}",
        flash(&app)
    );
    let (id, call) = the_call(&app.update(key('r')));
    assert!(matches!(call, Call::ListVersions { .. }));
    app.update(ok(id, Reply::Versions(super::fixtures::versions())));
    assert!(app.state.history.load_error.is_none());
    assert_eq!(app.state.history.rows.len(), 3);
}

// ------------------------------------------------------------------ bind

#[test]
fn bind_validates_the_name_and_creates_the_policy_first_when_missing() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (id, call) = the_call(&app.update(key('b')));
    assert!(matches!(
        call,
        Call::GetSecret {
            include_value: false,
            ..
        }
    ));
    app.update(ok(
        id,
        Reply::Details(Box::new(details("a", "v1", false, &[]))),
    ));
    type_str(&mut app, "Web_SA");
    match &app.state.dialog {
        Some(Dialog::Bind(b)) => assert!(b.input_error.is_some()),
        other => panic!("{other:?}"),
    }
    no_call(&app.update(code(KeyCode::Enter)));
    app.update(ctrl('u'));
    type_str(&mut app, "web");
    let (id, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::CreatePolicy {
            namespace: "team-a".into(),
            name: "a".into()
        }
    );
    let (id, call) = the_call(&app.update(ok(id, Reply::PolicyCreated)));
    assert_eq!(
        call,
        Call::Bind {
            namespace: "team-a".into(),
            name: "a".into(),
            service_account: "web".into()
        }
    );
    let (id, _) = the_call(&app.update(ok(id, Reply::Bound)));
    assert!(flash(&app).contains("Bound 'a' to service account 'web'"));
    app.update(ok(
        id,
        Reply::Details(Box::new(details("a", "v1", true, &["web"]))),
    ));

    // Unbind from the list.
    app.update(code(KeyCode::Tab));
    app.update(key('x'));
    let (id, call) = the_call(&app.update(key('y')));
    assert_eq!(
        call,
        Call::Unbind {
            namespace: "team-a".into(),
            name: "a".into(),
            service_account: "web".into()
        }
    );
    app.update(ok(id, Reply::Unbound));
    assert!(
        app.state.secrets.details["a"]
            .bound_service_accounts
            .is_empty()
    );
}

#[test]
fn a_failed_bind_keeps_the_typed_name() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state
        .secrets
        .details
        .insert("a".into(), details("a", "v1", true, &[]));
    app.update(key('b'));
    type_str(&mut app, "web");
    let (id, _) = the_call(&app.update(code(KeyCode::Enter)));
    app.update(fail(id, ErrorKind::PermissionDenied, "Not allowed."));
    match &app.state.dialog {
        Some(Dialog::Bind(b)) => {
            assert_eq!(b.input, "web");
            assert_eq!(b.error.as_deref(), Some("Not allowed."));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_bind_input_edits_like_a_shell_line() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state
        .secrets
        .details
        .insert("a".into(), details("a", "v1", true, &[]));
    app.update(key('b'));
    type_str(&mut app, "web-api");
    app.update(ctrl('w'));
    let input = |app: &App| match &app.state.dialog {
        Some(Dialog::Bind(b)) => b.input.to_string(),
        other => panic!("{other:?}"),
    };
    assert_eq!(input(&app), "web-", "Ctrl-W deletes one part of the name");
    app.update(ctrl('z'));
    assert_eq!(input(&app), "web-api", "Ctrl-Z brings it back");
    app.update(ctrl('a'));
    type_str(&mut app, "my-");
    assert_eq!(input(&app), "my-web-api", "typing goes where the cursor is");
    let (_, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::Bind {
            namespace: "team-a".into(),
            name: "a".into(),
            service_account: "my-web-api".into()
        }
    );
}

// ------------------------------------------------------------------ copy

#[test]
fn copy_the_aws_name_and_manifests_from_known_details() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('y'));
    let effects = app.update(key('a'));
    match &effects[..] {
        [Effect::Copy { what, text }] => {
            assert_eq!(text.expose(), "k8s-secret-team-a-a");
            assert!(what.contains("AWS name"));
        }
        other => panic!("{other:?}"),
    }
    assert!(app.state.dialog.is_none());
    for (k, needle) in [
        ('e', "external-secrets.io/v1\n"),
        ('l', "kubernetes-client.io/v1"),
        ('c', "objectType: \"secretsmanager\""),
    ] {
        app.update(key('y'));
        match &app.update(key(k))[..] {
            [Effect::Copy { text, .. }] => {
                assert!(text.expose().contains(needle), "{k}: {}", text.expose());
                assert!(text.expose().contains("k8s-secret-team-a-a"));
                assert!(text.expose().contains("namespace: team-a"));
            }
            other => panic!("{other:?}"),
        }
    }
    app.update(Action::Copied {
        what: "the AWS name of 'a'".into(),
        outcome: Ok(CopyVia::Osc52),
    });
    assert!(flash(&app).contains("OSC 52"));
}

#[test]
fn copying_the_value_reads_it_first() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('y'));
    let (id, call) = the_call(&app.update(key('v')));
    assert!(matches!(
        call,
        Call::GetSecret {
            include_value: true,
            ..
        }
    ));
    let mut d = details("a", "v1", false, &[]);
    d.value = Some(Sensitive("s3cr3t\n".into()));
    match &app.update(ok(id, Reply::Details(Box::new(d))))[..] {
        [Effect::Copy { text, .. }] => assert_eq!(text.expose(), "s3cr3t\n"),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- global

#[test]
fn ctrl_c_quits_from_anywhere() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('/'));
    let effects = app.update(ctrl('c'));
    assert!(matches!(effects[..], [Effect::Quit]));
    // The editor open but nothing typed: nothing to lose.
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    assert!(matches!(app.update(ctrl('c'))[..], [Effect::Quit]));
}

#[test]
fn ctrl_c_with_unsaved_text_asks_and_a_second_one_quits() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "typing");
    stays(&app.update(ctrl('c')));
    assert_eq!(app.state.key_context(), keymap::KeyContext::Quit);
    // n keeps the text, where it was.
    stays(&app.update(key('n')));
    assert_eq!(app.state.key_context(), keymap::KeyContext::EditorName);
    assert_eq!(editor(&app).name_text(), "typing");
    // Asked again: Esc is no; typed keys do not reach the editor.
    stays(&app.update(ctrl('c')));
    stays(&app.update(key('x')));
    app.update(code(KeyCode::Esc));
    assert_eq!(editor(&app).name_text(), "typing");
    assert_eq!(app.state.key_context(), keymap::KeyContext::EditorName);
    // Ctrl-C twice quits; so does y.
    stays(&app.update(ctrl('c')));
    assert!(matches!(app.update(ctrl('c'))[..], [Effect::Quit]));
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "typing");
    app.update(ctrl('c'));
    assert!(matches!(app.update(key('y'))[..], [Effect::Quit]));
}

#[test]
fn q_quits_from_the_secrets_and_esc_goes_back_one_screen() {
    let mut app = in_team_a(vec![row("a", 1)]);
    assert!(matches!(app.update(key('q'))[..], [Effect::Quit]));
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.state.screen, Screen::Namespaces);
    let effects = app.update(code(KeyCode::Esc));
    assert!(matches!(effects[..], [Effect::ScanTokens]));
    assert_eq!(app.state.screen, Screen::Tokens);
    // A session exists: Esc on the picker goes back, q quits.
    stays(&app.update(code(KeyCode::Esc)));
    assert_eq!(app.state.screen, Screen::Namespaces);
    app.update(code(KeyCode::Esc));
    assert!(matches!(app.update(key('q'))[..], [Effect::Quit]));
    // Help says so.
    let secrets = keymap::keys(keymap::KeyContext::Secrets);
    assert!(secrets.iter().any(|k| k.keys == "q" && k.what == "quit"));
    let back = keymap::keys(keymap::KeyContext::TokensBack);
    assert!(back.iter().any(|k| k.keys == "q" && k.what == "quit"));
    assert!(back.iter().any(|k| k.keys == "Esc" && k.what == "back"));
}

#[test]
fn below_the_minimum_size_keys_do_nothing_but_quit() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(Action::Resize(20, 5));
    // The confirmation would not be visible: d and y do nothing.
    stays(&app.update(key('d')));
    assert!(app.state.dialog.is_none());
    stays(&app.update(key('y')));
    app.update(Action::Paste("pasted".into()));
    assert!(app.state.dialog.is_none());
    // Back to a usable size, keys act again.
    app.update(Action::Resize(100, 30));
    app.update(key('d'));
    assert!(matches!(app.state.dialog, Some(Dialog::Delete(_))));
    // Small with unsaved text: Ctrl-C asks (the screen says how to answer),
    // a second quits; y, which the user cannot see asked, does not.
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "typing");
    app.update(Action::Resize(20, 5));
    stays(&app.update(ctrl('c')));
    stays(&app.update(key('y')));
    assert!(matches!(app.update(ctrl('c'))[..], [Effect::Quit]));
}

#[test]
fn escape_on_the_picker_quits_only_at_startup() {
    let mut app = new_app(None);
    app.update(scan(vec![token("ann", 3600), token("bob", 3600)]));
    assert_eq!(app.state.key_context(), keymap::KeyContext::Tokens);
    let effects = app.update(code(KeyCode::Esc));
    assert!(matches!(effects[..], [Effect::Quit]));
}

#[test]
fn escape_on_the_picker_opened_with_t_goes_back_to_the_secrets() {
    let mut app = in_team_a(vec![row("a", 1), row("b", 1)]);
    app.update(key('j'));
    let effects = app.update(key('T'));
    assert!(matches!(effects[..], [Effect::ScanTokens]));
    assert_eq!(app.state.screen, Screen::Tokens);
    assert_eq!(app.state.key_context(), keymap::KeyContext::TokensBack);
    let back = keymap::keys(keymap::KeyContext::TokensBack);
    assert!(back.iter().any(|k| k.footer && k.what == "back"));
    assert!(back.iter().any(|k| k.keys == "q" && k.what == "quit"));
    app.update(scan(vec![token("ann", 3600), token("bob", 3600)]));
    stays(&app.update(code(KeyCode::Esc)));
    assert_eq!(app.state.screen, Screen::Secrets);
    assert_eq!(app.state.namespace.as_deref(), Some("team-a"));
    assert_eq!(app.state.secrets.selected_name(), Some("b"));
    assert_eq!(app.state.key_context(), keymap::KeyContext::Secrets);
}

#[test]
fn info_messages_expire_and_errors_wait_for_a_key() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('s'));
    assert!(app.state.flash.is_some());
    app.update(Action::Tick(now() + Duration::from_secs(60)));
    assert!(app.state.flash.is_none());
    let (id, _) = the_call(&app.update(key('r')));
    app.update(fail(id, ErrorKind::Other, "boom"));
    app.update(Action::Tick(now() + Duration::from_secs(600)));
    assert!(app.state.flash.is_some());
    app.update(key('j'));
    assert!(app.state.flash.is_none());
}

#[test]
fn paste_is_normalised() {
    assert_eq!(super::normalize_paste("a\r\nb\rc\n"), "a\nb\nc\n");
}

#[test]
fn sensitive_text_never_shows_in_debug_output() {
    let call = Call::CreateSecret {
        namespace: "n".into(),
        name: "x".into(),
        value: Sensitive("hunter2".into()),
    };
    assert!(!format!("{call:?}").contains("hunter2"));
    let mut d = details("a", "v", false, &[]);
    d.value = Some(Sensitive("hunter2".into()));
    assert!(!format!("{d:?}").contains("hunter2"));
}

#[test]
fn a_resize_keeps_the_selection_visible() {
    let rows: Vec<_> = (0..100).map(|i| row(&format!("s{i:03}"), 1)).collect();
    let mut app = in_team_a(rows);
    app.update(key('G'));
    assert_eq!(app.state.secrets.nav.selected, 99);
    app.update(Action::Resize(60, 20));
    let n = app.state.secrets.nav;
    assert!(n.offset <= 99 && 99 < n.offset + 20);
}

/// Reveals `a`'s value, "hunter2", as the server sends it.
fn revealed_a(app: &mut App) {
    let (id, _) = the_call(&app.update(key('v')));
    let mut d = details("a", "v1", false, &[]);
    d.value = Some(Sensitive("hunter2".into()));
    app.update(ok(id, Reply::Details(Box::new(d))));
    assert!(app.state.secrets.is_revealed("a"));
}

#[test]
fn a_revealed_value_hides_again_after_its_time_and_says_when() {
    let mut app = in_team_a(vec![row("a", 1)]);
    revealed_a(&mut app);
    assert!(
        screen_text(&app).contains("hides in 1m 00s"),
        "{}",
        screen_text(&app)
    );
    stays(&app.update(Action::Tick(now() + Duration::from_secs(59))));
    assert!(app.state.secrets.is_revealed("a"));
    assert!(screen_text(&app).contains("hides in 1s"));
    app.update(Action::Tick(now() + Duration::from_secs(60)));
    assert_eq!(app.state.secrets.revealed, None);
    assert!(!screen_text(&app).contains("hunter2"));

    // reveal_seconds = 0: shown until hidden.
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state.reveal_for = None;
    revealed_a(&mut app);
    app.update(Action::Tick(now() + Duration::from_secs(3600)));
    assert!(app.state.secrets.is_revealed("a"));
    assert!(!screen_text(&app).contains("hides in"));
}

#[test]
fn history_values_hide_again_after_their_time() {
    let mut app = in_history();
    app.update(key('v'));
    assert!(app.state.history.revealed);
    assert!(screen_text(&app).contains("values shown, hides in 1m 00s"));
    app.update(Action::Tick(now() + Duration::from_secs(60)));
    assert!(!app.state.history.revealed);
}

#[test]
fn a_copied_value_is_cleared_from_the_clipboard_after_its_time_and_on_quit() {
    let mut app = in_team_a(vec![row("a", 1)]);
    revealed_a(&mut app);
    app.update(key('y'));
    let effects = app.update(key('v'));
    let [Effect::Copy { what, text }] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert_eq!(text.expose(), "hunter2");
    app.update(Action::Copied {
        what: what.clone(),
        outcome: Ok(CopyVia::Native),
    });
    assert!(
        flash(&app).contains("it is cleared in 30s"),
        "{}",
        flash(&app)
    );
    assert!(screen_text(&app).contains("clipboard cleared in 30s"));
    stays(&app.update(Action::Tick(now() + Duration::from_secs(29))));
    match &app.update(Action::Tick(now() + Duration::from_secs(30)))[..] {
        [Effect::ClearClipboard { text }] => assert_eq!(text.expose(), "hunter2"),
        other => panic!("{other:?}"),
    }
    // Once.
    stays(&app.update(Action::Tick(now() + Duration::from_secs(31))));
    assert!(!screen_text(&app).contains("clipboard cleared in"));

    // Quitting with a value on the clipboard clears it first.
    app.update(key('y'));
    app.update(key('v'));
    app.update(Action::Copied {
        what: "the value of 'a'".into(),
        outcome: Ok(CopyVia::Native),
    });
    match &app.update(key('q'))[..] {
        [Effect::ClearClipboard { text }, Effect::Quit] => assert_eq!(text.expose(), "hunter2"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn only_values_on_the_system_clipboard_are_cleared() {
    let mut app = in_team_a(vec![row("a", 1)]);
    // The AWS name is no secret: it stays.
    app.update(key('y'));
    app.update(key('a'));
    app.update(Action::Copied {
        what: "the AWS name of 'a'".into(),
        outcome: Ok(CopyVia::Native),
    });
    assert!(app.state.clipboard.is_none());
    assert!(!flash(&app).contains("cleared"));
    // Through OSC 52 nothing can be read back or cleared: the message says so.
    revealed_a(&mut app);
    app.update(key('y'));
    app.update(key('v'));
    app.update(Action::Copied {
        what: "the value of 'a'".into(),
        outcome: Ok(CopyVia::Osc52),
    });
    assert!(app.state.clipboard.is_none());
    assert!(flash(&app).contains("clear it yourself"), "{}", flash(&app));
    assert!(matches!(&app.update(key('q'))[..], [Effect::Quit]));
}

#[test]
fn enter_views_a_value_read_only_and_masked_until_asked() {
    let mut app = in_team_a(vec![row("a", 1)]);
    // Enter reads nothing and shows nothing in clear.
    stays(&app.update(code(KeyCode::Enter)));
    assert!(matches!(app.state.dialog, Some(Dialog::View(_))));
    assert_eq!(app.state.key_context(), keymap::KeyContext::Value);
    assert!(screen_text(&app).contains("The value is hidden. v reveals it"));
    // v reads it; control characters are shown, never sent to the terminal.
    let (id, call) = the_call(&app.update(key('v')));
    assert!(matches!(
        call,
        Call::GetSecret {
            include_value: true,
            ..
        }
    ));
    let mut d = details("a", "v1", false, &[]);
    let value: String = std::iter::once("colour=\u{1b}[31mred\tend\n".to_owned())
        .chain((2..=100).map(|i| format!("line {i}\n")))
        .collect();
    d.value = Some(Sensitive(value));
    app.update(ok(id, Reply::Details(Box::new(d))));
    let screen = screen_text(&app);
    assert!(screen.contains("1 │ colour=^[[31mred^Iend"), "{screen}");
    assert!(!screen.contains('\u{1b}'));
    assert!(screen.contains("line 1/100"), "{screen}");
    // It scrolls to its end and no further.
    app.update(key('G'));
    let screen = screen_text(&app);
    assert!(screen.contains("100 │ line 100"), "{screen}");
    let Some(Dialog::View(v)) = &app.state.dialog else {
        panic!()
    };
    let end = v.scroll;
    app.update(code(KeyCode::Down));
    let Some(Dialog::View(v)) = &app.state.dialog else {
        panic!()
    };
    assert_eq!(v.scroll, end);
    // Back: the pane shows the first lines and says how many more.
    app.update(code(KeyCode::Esc));
    assert!(app.state.dialog.is_none());
    let screen = screen_text(&app);
    assert!(
        screen.contains("more lines: Enter views it all"),
        "{screen}"
    );
    assert!(screen.contains("colour=^[[31mred"), "{screen}");
    // e from the view opens the editor.
    app.update(code(KeyCode::Enter));
    let (_, call) = the_call(&app.update(key('e')));
    assert!(matches!(
        call,
        Call::GetSecret {
            include_value: true,
            ..
        }
    ));
    assert!(matches!(app.state.dialog, Some(Dialog::Editor(_))));
}

#[test]
fn x_views_the_value_at_once() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (_, call) = the_call(&app.update(key('x')));
    assert!(matches!(
        call,
        Call::GetSecret {
            include_value: true,
            ..
        }
    ));
    assert!(matches!(app.state.dialog, Some(Dialog::View(_))));
    assert!(screen_text(&app).contains("Reading the value"));
}

#[test]
fn the_editor_takes_the_line_keys_of_every_text_field() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "", "v1");
    type_str(&mut app, "user=app token");
    // Ctrl-W deletes a word, Ctrl-U to the line's start (not undo).
    app.update(ctrl('w'));
    assert_eq!(editor(&app).value_text(), "user=app ");
    app.update(ctrl('a'));
    type_str(&mut app, "# ");
    app.update(ctrl('e'));
    type_str(&mut app, "x");
    assert_eq!(editor(&app).value_text(), "# user=app x");
    app.update(ctrl('u'));
    assert_eq!(editor(&app).value_text(), "");
    // Ctrl-Z undoes, as in the one-line fields.
    app.update(ctrl('z'));
    assert_eq!(editor(&app).value_text(), "# user=app x");
    // The same keys in the create form's name.
    app.update(code(KeyCode::Esc));
    app.update(key('y'));
    app.update(key('n'));
    type_str(&mut app, "db-pass");
    app.update(ctrl('u'));
    assert_eq!(editor(&app).name.lines().join(""), "");
    assert!(app.state.key_context() == keymap::KeyContext::EditorName);
}

#[test]
fn ctrl_v_tab_types_a_tab_and_tab_alone_does_not() {
    // The update form: Tab is no key of its own, and types nothing.
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "", "v1");
    type_str(&mut app, "a");
    app.update(code(KeyCode::Tab));
    assert_eq!(editor(&app).value_text(), "a");
    app.update(ctrl('v'));
    app.update(code(KeyCode::Tab));
    type_str(&mut app, "b");
    assert_eq!(editor(&app).value_text(), "a\tb");
    // The create form: Tab moves on from the value, Ctrl-V Tab types one.
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "tsv");
    app.update(code(KeyCode::Tab));
    type_str(&mut app, "c1");
    app.update(ctrl('v'));
    app.update(code(KeyCode::Tab));
    type_str(&mut app, "c2");
    assert_eq!(editor(&app).value_text(), "c1\tc2");
    assert_eq!(editor(&app).focus, EditorFocus::Value);
    app.update(code(KeyCode::Tab));
    assert_eq!(editor(&app).focus, EditorFocus::Policy);
}

fn the_external_edit(effects: &[Effect]) -> String {
    match effects {
        [Effect::EditExternally { text }] => text.expose().to_owned(),
        other => panic!("expected the editor to be run: {other:?}"),
    }
}

#[test]
fn capital_e_edits_the_value_in_the_users_editor_and_saves_with_the_version_check() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (id, call) = the_call(&app.update(key('E')));
    assert!(matches!(
        call,
        Call::GetSecret {
            include_value: true,
            ..
        }
    ));
    let mut d = details("a", "v7", false, &[]);
    d.value = Some(Sensitive("user=app\npassword=old".into()));
    // Once the value is here, the editor runs on it.
    let text = the_external_edit(&app.update(ok(id, Reply::Details(Box::new(d)))));
    assert_eq!(text, "user=app\npassword=old");
    // The editor's final newline is not taken as a change of the value.
    app.update(Action::EditedExternally {
        result: Ok(Sensitive("user=app\npassword=new\n".into())),
    });
    assert_eq!(editor(&app).value_text(), "user=app\npassword=new");
    assert!(flash(&app).contains("Ctrl-S saves it"), "{}", flash(&app));
    // Nothing is written until the form's own save, with its version check.
    let (_, call) = the_call(&confirmed_save(&mut app));
    assert_eq!(
        call,
        Call::UpdateSecret {
            namespace: "team-a".into(),
            name: "a".into(),
            value: Sensitive("user=app\npassword=new".into()),
            expected_version_id: "v7".into(),
        }
    );
}

#[test]
fn ctrl_o_sends_the_forms_text_to_the_editor_and_a_failed_editor_keeps_it() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "old", "v1");
    type_str(&mut app, " typed");
    assert_eq!(the_external_edit(&app.update(ctrl('o'))), "old typed");
    app.update(Action::EditedExternally {
        result: Err(
            "The editor 'vim' exited with exit status: 1: nothing was taken from it.".into(),
        ),
    });
    assert_eq!(editor(&app).value_text(), "old typed");
    assert!(flash(&app).contains("Your text in the form is unchanged"));
    app.update(ctrl('o'));
    app.update(Action::EditedExternally {
        result: Ok(Sensitive("old typed\n".into())),
    });
    assert!(flash(&app).contains("Nothing changed"));
}

#[test]
fn slash_in_the_help_narrows_it_to_what_matches() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('?'));
    let full = super::help::help_lines(app.state.context_below_help(), "").len();
    app.update(key('/'));
    assert_eq!(app.state.key_context(), keymap::KeyContext::HelpSearch);
    // `?` and `q` are typed text here, not help and quit.
    type_str(&mut app, "undo");
    let lines = super::help::help_lines(app.state.context_below_help(), &app.state.help_query);
    assert!(lines.len() < full, "{lines:?}");
    let keys: Vec<_> = lines
        .iter()
        .filter_map(|l| match l {
            super::help::HelpLine::Key { what, .. } => Some(*what),
            _ => None,
        })
        .collect();
    assert!(
        !keys.is_empty() && keys.iter().all(|w| w.contains("undo")),
        "{keys:?}"
    );
    let screen = screen_text(&app);
    assert!(screen.contains("/undo"), "{screen}");
    assert!(screen.contains("Ctrl-Z"), "{screen}");
    assert!(!screen.contains("reveal/hide value"), "{screen}");
    // Enter keeps the search and gives the keys back to the help.
    app.update(code(KeyCode::Enter));
    assert_eq!(app.state.key_context(), keymap::KeyContext::Help);
    assert!(screen_text(&app).contains("/undo"));
    // A search that matches nothing says so.
    app.update(key('/'));
    type_str(&mut app, "zzz");
    assert!(screen_text(&app).contains("No key matches 'undozzz'"));
    // Esc clears the search, a second Esc closes the help.
    app.update(code(KeyCode::Esc));
    assert!(app.state.help_query.is_empty());
    assert_eq!(app.state.key_context(), keymap::KeyContext::Help);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.state.help, None);
}

fn click(column: u16, row: u16) -> Action {
    Action::Mouse(super::mouse::MouseInput::Click { column, row })
}

#[test]
fn the_mouse_selects_scrolls_opens_and_presses_footer_keys() {
    use super::mouse::MouseInput;
    let mut app = in_team_a(vec![row("a", 1), row("b", 1), row("c", 1)]);
    // The first data row of the table is the screen's fourth (status bar,
    // border, header); the table is the left half at 100 columns.
    assert_eq!(app.state.secrets.selected_name(), Some("a"));
    app.update(click(10, 5));
    assert_eq!(app.state.secrets.selected_name(), Some("c"));
    app.update(click(10, 4));
    assert_eq!(app.state.secrets.selected_name(), Some("b"));
    // Below the last row, on the border, or in the details: nothing.
    for (x, y) in [(10, 6), (0, 3), (70, 3)] {
        stays(&app.update(click(x, y)));
        assert_eq!(app.state.secrets.selected_name(), Some("b"));
    }
    // The wheel moves the selection like the arrows.
    app.update(Action::Mouse(MouseInput::WheelDown));
    assert_eq!(app.state.secrets.selected_name(), Some("c"));
    app.update(Action::Mouse(MouseInput::WheelUp));
    assert_eq!(app.state.secrets.selected_name(), Some("b"));
    // A click on the selected row opens it, as Enter does: the value view.
    app.update(click(10, 4));
    assert!(matches!(app.state.dialog, Some(Dialog::View(_))));
    app.update(code(KeyCode::Esc));
    // A click on a footer hint presses its key.
    let footer_y = app.state.size.1 - 1;
    let hint = keymap::footer(&app.state, app.state.size.0)
        .into_iter()
        .find(|h| h.keys == "n")
        .expect("n in the footer");
    app.update(click(hint.columns.0 + 1, footer_y));
    assert!(matches!(app.state.dialog, Some(Dialog::Editor(_))));
}

#[test]
fn a_click_never_restores_a_deleted_secret() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (id, _) = the_call(&app.update(key('D')));
    app.update(ok(
        id,
        Reply::DeletedSecrets(vec![
            DeletedRow {
                name: "old".into(),
                deleted: Some(now()),
                deletion_date: None,
            },
            DeletedRow {
                name: "older".into(),
                deleted: Some(now()),
                deletion_date: None,
            },
        ]),
    ));
    assert_eq!(app.state.screen, Screen::Deleted);
    app.update(click(10, 4));
    assert_eq!(app.state.deleted.nav.selected, 1);
    // A second click selects, it does not press Enter (restore).
    no_call(&app.update(click(10, 4)));
}

#[test]
fn the_list_reloads_by_itself_when_asked_to_and_says_how_fresh_it_is() {
    let mut app = in_team_a(vec![row("a", 1)]);
    // Off by default: time passing reloads nothing.
    assert!(
        !app.update(Action::Tick(now() + Duration::from_secs(600)))
            .iter()
            .any(|e| matches!(
                e,
                Effect::Call {
                    call: Call::ListSecrets { .. },
                    ..
                }
            ))
    );
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state.refresh = Some(Duration::from_secs(30));
    let lists = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Effect::Call {
                        call: Call::ListSecrets { .. },
                        ..
                    }
                )
            })
            .count()
    };
    assert_eq!(
        lists(&app.update(Action::Tick(now() + Duration::from_secs(29)))),
        0
    );
    assert!(
        screen_text(&app).contains("refreshed 29s ago"),
        "{}",
        screen_text(&app)
    );
    let effects = app.update(Action::Tick(now() + Duration::from_secs(30)));
    assert_eq!(lists(&effects), 1);
    // One at a time: a reload in flight is not asked for again.
    assert_eq!(
        lists(&app.update(Action::Tick(now() + Duration::from_secs(61)))),
        0
    );
    let (id, _) = the_call(
        &effects
            .into_iter()
            .filter(|e| matches!(e, Effect::Call { .. }))
            .collect::<Vec<_>>(),
    );
    app.update(ok(id, Reply::Secrets(vec![row("a", 1), row("b", 1)])));
    assert_eq!(app.state.secrets.rows.len(), 2);
    assert!(screen_text(&app).contains("refreshed 0s ago"));
}

#[test]
fn a_token_kubelogin_rewrote_in_its_file_is_taken_up_quietly() {
    let mut app = in_team_a(vec![row("a", 1)]);
    // The files are read again every 15 s during a session.
    let effects = app.update(Action::Tick(now() + Duration::from_secs(15)));
    assert!(
        effects.iter().any(|e| matches!(e, Effect::ScanTokens)),
        "{effects:?}"
    );
    // Unchanged file: nothing happens.
    stays(&app.update(scan(vec![token("ann", 3600)])));
    // Someone else's newer token in another file: nothing either.
    stays(&app.update(scan(vec![token("ann", 3600), token("bob", 7200)])));
    // The same file now holds a newer token of the same user.
    let mut rewritten = token("ann", 7200);
    if let TokenStatus::Usable(info) = &mut rewritten.status {
        info.token = "jwt-of-ann-refreshed".into();
    }
    let (id, token) = the_connect(&app.update(scan(vec![rewritten])));
    assert_eq!(token, "jwt-of-ann-refreshed");
    stays(&app.update(ok(id, Reply::Connected)));
    assert!(
        flash(&app).contains("Took up the token kubelogin refreshed"),
        "{}",
        flash(&app)
    );
    // The user stays where they were.
    assert_eq!(app.state.screen, Screen::Secrets);
    // Its expiry counts from the new token (the clock is 15 s on).
    assert!(
        screen_text(&app).contains("expires in 1h 59m"),
        "{}",
        screen_text(&app)
    );
}

#[test]
fn r_is_offered_only_where_trying_again_can_help() {
    let mut app = in_team_a(vec![row("a", 1)]);
    let (id, _) = the_call(&app.update(key('r')));
    app.update(fail(
        id,
        ErrorKind::PermissionDenied,
        "You may not list team-a.",
    ));
    assert!(
        flash(&app).contains("Press N to pick another namespace"),
        "{}",
        flash(&app)
    );
    assert!(!flash(&app).contains("Press r"), "{}", flash(&app));
    let (id, _) = the_call(&app.update(key('r')));
    app.update(fail(id, ErrorKind::Unreachable, "The server is down."));
    assert!(
        flash(&app).contains("Press r to try again"),
        "{}",
        flash(&app)
    );
}

#[test]
fn a_save_error_goes_once_the_text_changes() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "old", "v1");
    type_str(&mut app, "!");
    let (id, _) = the_call(&confirmed_save(&mut app));
    app.update(fail(id, ErrorKind::Invalid, "The value is too large."));
    assert!(editor(&app).error.is_some());
    // Moving the cursor is no fix; typing is.
    app.update(code(KeyCode::Left));
    assert!(editor(&app).error.is_some());
    app.update(code(KeyCode::Backspace));
    assert!(editor(&app).error.is_none());
}

#[test]
fn colon_jumps_to_a_namespace_with_completion_and_remembers_it() {
    let (mut app, effects) = connected(Some("team-a"), &["team-a", "team-b", "prod"], false);
    let (id, _) = the_call(&effects);
    // A namespace that lists is remembered for next time.
    let effects = app.update(ok(id, Reply::Secrets(vec![row("a", 1)])));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::RememberNamespaces { namespaces } if namespaces == &["team-a".to_owned()]
    )));
    app.state.recent_namespaces = vec!["team-b".into(), "team-a".into()];
    app.update(key(':'));
    assert_eq!(app.state.key_context(), keymap::KeyContext::Command);
    // Tab completes the command, then the namespace: recent ones first.
    type_str(&mut app, "n");
    app.update(code(KeyCode::Tab));
    assert_eq!(app.state.command.as_ref().unwrap().input.to_string(), "ns ");
    type_str(&mut app, "te");
    app.update(code(KeyCode::Tab));
    let c = app.state.command.as_ref().unwrap();
    assert_eq!(c.input.to_string(), "ns team-");
    assert_eq!(c.choices, ["team-b", "team-a"]);
    assert!(screen_text(&app).contains(":ns team-"));
    type_str(&mut app, "b");
    let (_, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "team-b".into()
        }
    );
    assert_eq!(app.state.namespace.as_deref(), Some("team-b"));
    assert!(app.state.command.is_none());
    // `q` is typed text on the command line; :q quits.
    app.update(key(':'));
    type_str(&mut app, "q");
    assert!(app.state.command.is_some());
    assert!(matches!(
        &app.update(code(KeyCode::Enter))[..],
        [Effect::Quit]
    ));
}

#[test]
fn colon_commands_say_what_they_take() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key(':'));
    type_str(&mut app, "frobnicate");
    app.update(code(KeyCode::Enter));
    assert!(
        flash(&app).contains("Unknown command ':frobnicate'"),
        "{}",
        flash(&app)
    );
    assert!(flash(&app).contains(":ns NAME"));
    app.update(key(':'));
    type_str(&mut app, "ns Team_A");
    no_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(app.state.namespace.as_deref(), Some("team-a"));
    assert_eq!(app.state.flash.as_ref().unwrap().level, Level::Error);
    // :token opens the token picker, Esc on the command line closes it.
    app.update(key(':'));
    app.update(code(KeyCode::Esc));
    assert!(app.state.command.is_none());
    app.update(key(':'));
    type_str(&mut app, "token");
    app.update(code(KeyCode::Enter));
    assert_eq!(app.state.screen, Screen::Tokens);
}

#[test]
fn the_copy_menu_makes_manifests_per_key_of_a_json_secret() {
    let mut app = in_team_a(vec![row("db", 1)]);
    // The keys come from the value: reading it is asked for.
    app.update(key('y'));
    let (id, call) = the_call(&app.update(key('p')));
    assert!(matches!(
        call,
        Call::GetSecret {
            include_value: true,
            ..
        }
    ));
    let mut d = details("db", "v1", false, &[]);
    d.value = Some(Sensitive(
        r#"{"username": "app", "db-password": "hunter2", "port": 5432}"#.into(),
    ));
    let effects = app.update(ok(id, Reply::Details(Box::new(d))));
    let [Effect::Copy { text, what }] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert!(what.contains("one entry per key"), "{what}");
    for k in ["username", "db-password", "port"] {
        assert!(
            text.expose().contains(&format!("property: \"{k}\"")),
            "{}",
            text.expose()
        );
    }
    assert!(
        !text.expose().contains("hunter2"),
        "a manifest never holds a value"
    );
    // Shown already, the value is not read again: the SecretProviderClass.
    revealed_a_json(&mut app);
    app.update(key('y'));
    let effects = app.update(key('f'));
    let [Effect::Copy { text, .. }] = &effects[..] else {
        panic!("{effects:?}")
    };
    assert!(
        text.expose().contains(r#"path: '"db-password"'"#),
        "{}",
        text.expose()
    );
    // dataFrom.extract needs no keys, so no value.
    app.update(key('y'));
    let effects = app.update(key('x'));
    assert!(matches!(&effects[..], [Effect::Copy { .. }]), "{effects:?}");
}

/// Reveals db's JSON value.
fn revealed_a_json(app: &mut App) {
    let (id, _) = the_call(&app.update(key('v')));
    let mut d = details("db", "v1", false, &[]);
    d.value = Some(Sensitive(
        r#"{"username":"app","db-password":"hunter2"}"#.into(),
    ));
    app.update(ok(id, Reply::Details(Box::new(d))));
}

#[test]
fn per_key_manifests_of_a_value_that_is_no_json_object_say_what_to_copy_instead() {
    let mut app = in_team_a(vec![row("a", 1)]);
    revealed_a(&mut app);
    app.update(key('y'));
    assert!(no_copy(&app.update(key('p'))));
    assert!(
        flash(&app).contains("is not a JSON object"),
        "{}",
        flash(&app)
    );
    assert!(flash(&app).contains("ExternalSecret (e)"));
}

fn no_copy(effects: &[Effect]) -> bool {
    !effects.iter().any(|e| matches!(e, Effect::Copy { .. }))
}

#[test]
fn saving_a_json_object_that_no_longer_parses_asks_first_and_names_the_place() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(
        &mut app,
        "{\n  \"user\": \"app\",\n  \"pass\": \"x\"\n}",
        "v1",
    );
    // Delete the comma at the end of line 2.
    app.update(code(KeyCode::Up));
    app.update(code(KeyCode::Up));
    app.update(code(KeyCode::End));
    app.update(code(KeyCode::Backspace));
    no_call(&app.update(ctrl('s')));
    let error = editor(&app).error.clone().expect("it asks first");
    assert!(
        error.contains("was a JSON object and no longer is one"),
        "{error}"
    );
    assert!(error.contains("line 3, column"), "{error}");
    assert!(editor(&app).save_diff.is_none());
    // Ctrl-S again on the same text goes on to the usual save.
    let (_, call) = the_call(&confirmed_save(&mut app));
    assert!(matches!(call, Call::UpdateSecret { .. }));
    // Text that is still JSON is saved without the question.
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "{\"user\": \"app\"}", "v1");
    app.update(code(KeyCode::Left));
    type_str(&mut app, ", \"port\": 5432");
    let (_, call) = the_call(&confirmed_save(&mut app));
    assert!(matches!(call, Call::UpdateSecret { .. }));
}

/// The value view of `db`, whose value is a JSON object, read.
fn viewing_json(value: &str, version: &str) -> App {
    let mut app = in_team_a(vec![row("db", 1)]);
    let (id, _) = the_call(&app.update(key('x')));
    let mut d = details("db", version, false, &[]);
    d.value = Some(Sensitive(value.into()));
    app.update(ok(id, Reply::Details(Box::new(d))));
    assert_eq!(app.state.key_context(), keymap::KeyContext::ValueKeys);
    app
}

fn sent_value(effects: &[Effect]) -> (RequestId, String, String) {
    match the_call(effects) {
        (
            id,
            Call::UpdateSecret {
                value,
                expected_version_id,
                ..
            },
        ) => (id, value.expose().to_owned(), expected_version_id),
        other => panic!("expected an update: {other:?}"),
    }
}

#[test]
fn a_json_secret_shows_its_keys_with_values_masked_one_shown_at_a_time() {
    let mut app = viewing_json(r#"{"user": "app", "pass": "hunter2", "port": 5432}"#, "v1");
    let screen = screen_text(&app);
    for k in ["user", "pass", "port"] {
        assert!(screen.contains(k), "{screen}");
    }
    assert!(
        !screen.contains("hunter2") && !screen.contains("5432"),
        "{screen}"
    );
    // v shows the selected key only.
    app.update(code(KeyCode::Down));
    app.update(key('v'));
    let screen = screen_text(&app);
    assert!(screen.contains("hunter2"), "{screen}");
    assert!(!screen.contains("5432"), "{screen}");
    // y copies that key's value, cleared from the clipboard like any value.
    match &app.update(key('y'))[..] {
        [Effect::Copy { text, what }] => {
            assert_eq!(text.expose(), "hunter2");
            assert!(what.contains("key 'pass'"), "{what}");
        }
        other => panic!("{other:?}"),
    }
    // t shows the text; t there goes back to the keys.
    app.update(key('t'));
    assert_eq!(app.state.key_context(), keymap::KeyContext::Value);
    assert!(screen_text(&app).contains("\"port\": 5432"));
    app.update(key('t'));
    assert_eq!(app.state.key_context(), keymap::KeyContext::ValueKeys);
}

#[test]
fn changing_one_key_sends_the_whole_json_changed_only_there_under_the_version_check() {
    let original = "{\n  \"user\": \"app\",\n  \"pass\": \"old\",\n  \"port\": 5432\n}\n";
    let mut app = viewing_json(original, "v7");
    app.update(code(KeyCode::Down));
    app.update(key('e'));
    assert_eq!(app.state.key_context(), keymap::KeyContext::KeyEdit);
    // Typed text: `q`, `v`, `?` are characters here.
    app.update(ctrl('u'));
    type_str(&mut app, "new?q");
    let (id, sent, version) = sent_value(&app.update(code(KeyCode::Enter)));
    assert_eq!(version, "v7");
    assert_eq!(
        sent, "{\n  \"user\": \"app\",\n  \"pass\": \"new?q\",\n  \"port\": 5432\n}\n",
        "only the one key changed, layout kept"
    );
    app.update(ok(
        id,
        Reply::Updated {
            version_id: "v8".into(),
        },
    ));
    assert!(
        flash(&app).contains("Saved the new value of key 'pass' in 'db'"),
        "{}",
        flash(&app)
    );
    assert_eq!(app.state.key_context(), keymap::KeyContext::ValueKeys);
    // The next change is based on the new version; a number stays a number.
    app.update(code(KeyCode::Down));
    app.update(key('e'));
    app.update(ctrl('u'));
    type_str(&mut app, "5433");
    let (_, sent, version) = sent_value(&app.update(code(KeyCode::Enter)));
    assert_eq!(version, "v8");
    assert!(sent.contains("\"port\": 5433"), "{sent}");
}

#[test]
fn adding_renaming_and_removing_keys_each_make_one_update() {
    let mut app = viewing_json(r#"{"user":"app","pass":"x"}"#, "v1");
    // Add.
    app.update(key('a'));
    type_str(&mut app, "host");
    app.update(code(KeyCode::Tab));
    type_str(&mut app, "db.internal");
    let (id, sent, _) = sent_value(&app.update(code(KeyCode::Enter)));
    assert_eq!(sent, r#"{"user":"app","pass":"x","host":"db.internal"}"#);
    app.update(ok(
        id,
        Reply::Updated {
            version_id: "v2".into(),
        },
    ));
    // A key that exists is not added twice.
    app.update(key('a'));
    type_str(&mut app, "user");
    no_call(&app.update(code(KeyCode::Enter)));
    no_call(&app.update(code(KeyCode::Enter)));
    assert!(screen_text(&app).contains("there is already a key 'user'"));
    app.update(code(KeyCode::Esc));
    app.update(code(KeyCode::Esc));
    // Rename: the name field of the edit.
    app.update(key('e'));
    app.update(code(KeyCode::Tab));
    app.update(ctrl('u'));
    type_str(&mut app, "username");
    // Enter on the name goes to the value; there, Enter saves.
    no_call(&app.update(code(KeyCode::Enter)));
    let (id, sent, version) = sent_value(&app.update(code(KeyCode::Enter)));
    assert_eq!(version, "v2");
    assert_eq!(
        sent,
        r#"{"username":"app","pass":"x","host":"db.internal"}"#
    );
    app.update(ok(
        id,
        Reply::Updated {
            version_id: "v3".into(),
        },
    ));
    // Remove asks first.
    app.update(code(KeyCode::Down));
    no_call(&app.update(key('d')));
    assert!(screen_text(&app).contains("Remove key 'pass' from db?"));
    let (_, sent, version) = sent_value(&app.update(key('y')));
    assert_eq!(version, "v3");
    assert_eq!(sent, r#"{"username":"app","host":"db.internal"}"#);
}

#[test]
fn a_key_change_that_meets_a_newer_version_reads_it_again_and_keeps_the_typed_change() {
    let mut app = viewing_json(r#"{"user":"app","pass":"old"}"#, "v1");
    app.update(code(KeyCode::Down));
    app.update(key('e'));
    app.update(ctrl('u'));
    type_str(&mut app, "mine");
    let (id, _, _) = sent_value(&app.update(code(KeyCode::Enter)));
    // Someone added a key meanwhile: the save is refused as stale.
    let effects = app.update(fail(id, ErrorKind::Conflict, "The secret changed."));
    let (id, call) = the_call(&effects);
    assert!(matches!(
        call,
        Call::GetSecret {
            include_value: true,
            ..
        }
    ));
    assert!(screen_text(&app).contains("was changed meanwhile"));
    let mut d = details("db", "v2", false, &[]);
    d.value = Some(Sensitive(
        r#"{"user":"app","pass":"old","extra":"theirs"}"#.into(),
    ));
    app.update(ok(id, Reply::Details(Box::new(d))));
    // The typed value is still there; Enter applies it to their version.
    assert_eq!(app.state.key_context(), keymap::KeyContext::KeyEdit);
    let (_, sent, version) = sent_value(&app.update(code(KeyCode::Enter)));
    assert_eq!(version, "v2");
    assert_eq!(sent, r#"{"user":"app","pass":"mine","extra":"theirs"}"#);
}

#[test]
fn a_failed_reload_stops_the_automatic_ones_until_r_succeeds() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state.refresh = Some(Duration::from_secs(30));
    let lists = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Effect::Call {
                        call: Call::ListSecrets { .. },
                        ..
                    }
                )
            })
            .count()
    };
    let effects = app.update(Action::Tick(now() + Duration::from_secs(30)));
    let (id, _) = the_call(
        &effects
            .into_iter()
            .filter(|e| matches!(e, Effect::Call { .. }))
            .collect::<Vec<_>>(),
    );
    app.update(fail(
        id,
        ErrorKind::PermissionDenied,
        "You may not list team-a.",
    ));
    for s in [31, 32, 90, 600] {
        assert_eq!(
            lists(&app.update(Action::Tick(now() + Duration::from_secs(s)))),
            0
        );
    }
    let (id, _) = the_call(&app.update(key('r')));
    app.update(ok(id, Reply::Secrets(vec![row("a", 1)])));
    assert_eq!(
        lists(&app.update(Action::Tick(now() + Duration::from_secs(631)))),
        1
    );
}

#[test]
fn a_click_far_down_the_history_reads_one_value_not_every_row_on_the_way() {
    let mut app = in_history();
    app.update(key('v'));
    let reads = |effects: &[Effect]| {
        effects
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Effect::Call {
                        call: Call::GetVersion { .. },
                        ..
                    }
                )
            })
            .count()
    };
    // The history table starts at the fourth row; its third version is on
    // the sixth.
    let effects = app.update(click(10, 5));
    assert_eq!(app.state.history.nav.selected, 2);
    assert!(reads(&effects) <= 1, "{effects:?}");
}

#[test]
fn colon_ns_does_not_throw_away_unsaved_text() {
    let mut app = in_team_a(vec![row("a", 1)]);
    open_editor_on(&mut app, "old", "v1");
    type_str(&mut app, " typed");
    // In the form `:` is text; the command line opens where it is not (the
    // token picker the form waits over), here set open directly.
    app.state.command = Some(Default::default());
    type_str(&mut app, "ns team-b");
    no_call(&app.update(code(KeyCode::Enter)));
    assert!(flash(&app).contains("unsaved text"), "{}", flash(&app));
    assert_eq!(editor(&app).value_text(), "old typed");
}

#[test]
fn a_huge_reveal_time_means_never_not_a_crash() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state.reveal_for = Some(Duration::from_secs(u64::MAX));
    app.state.clear_clipboard_after = Some(Duration::from_secs(u64::MAX));
    revealed_a(&mut app);
    assert!(app.state.secrets.revealed_until.is_none());
    app.update(key('y'));
    app.update(key('v'));
    app.update(Action::Copied {
        what: "the value of 'a'".into(),
        outcome: Ok(CopyVia::Native),
    });
    assert!(app.state.clipboard.is_none());
}

#[test]
fn create_offers_key_value_lines_saved_as_a_json_object() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "db");
    app.update(code(KeyCode::Tab));
    app.update(ctrl('t'));
    assert!(
        screen_text(&app).contains("KEY=value"),
        "{}",
        screen_text(&app)
    );
    type_str(&mut app, "username=app");
    app.update(code(KeyCode::Enter));
    type_str(&mut app, "password=\"s3 cr=t\"");
    let effects = app.update(ctrl('s'));
    let (_, call) = the_call(&effects);
    assert_eq!(
        call,
        Call::CreateSecret {
            namespace: "team-a".into(),
            name: "db".into(),
            value: Sensitive("{\n  \"username\": \"app\",\n  \"password\": \"s3 cr=t\"\n}".into()),
        }
    );
    // A line that is no KEY=value says where, and nothing is sent.
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('n'));
    type_str(&mut app, "db");
    app.update(code(KeyCode::Tab));
    app.update(ctrl('t'));
    type_str(&mut app, "username=app");
    app.update(code(KeyCode::Enter));
    type_str(&mut app, "oops");
    no_call(&app.update(ctrl('s')));
    let error = editor(&app).error.clone().unwrap();
    assert!(error.contains("line 2"), "{error}");
    assert_eq!(editor(&app).value_text(), "username=app\noops");
}

#[test]
fn find_searches_every_namespace_eight_at_a_time_and_notes_a_refusal() {
    let granted: Vec<String> = (1..=20).map(|i| format!("ns-{i:02}")).collect();
    let granted_refs: Vec<&str> = granted.iter().map(String::as_str).collect();
    let (mut app, effects) = connected(Some("ns-01"), &granted_refs, false);
    let (id, _) = the_call(&effects);
    app.update(ok(id, Reply::Secrets(vec![row("local", 1)])));
    let listed = |effects: &[Effect]| -> Vec<(RequestId, String)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Call {
                    id,
                    call: Call::ListSecrets { namespace },
                } => Some((*id, namespace.clone())),
                _ => None,
            })
            .collect()
    };
    let mut waiting = listed(&app.update(key('F')));
    assert_eq!(waiting.len(), 8, "a bound on the calls in flight");
    assert_eq!(app.state.key_context(), keymap::KeyContext::Search);
    let mut answered = 0;
    while let Some((id, ns)) = (!waiting.is_empty()).then(|| waiting.remove(0)) {
        let effects = if ns == "ns-07" {
            app.update(fail(
                id,
                ErrorKind::PermissionDenied,
                "You may not list ns-07.",
            ))
        } else {
            app.update(ok(
                id,
                Reply::Secrets(vec![
                    row(&format!("{ns}-db-password"), 1),
                    row("api-key", 1),
                ]),
            ))
        };
        answered += 1;
        let more = listed(&effects);
        assert!(more.len() <= 1, "one finished, at most one more starts");
        waiting.extend(more);
        // Results show as they arrive.
        if answered == 3 {
            assert!(
                screen_text(&app).contains("3/20 namespaces listed"),
                "{}",
                screen_text(&app)
            );
        }
    }
    assert_eq!(answered, 20);
    let screen = screen_text(&app);
    assert!(screen.contains("1 refused"), "{screen}");
    assert!(
        screen.contains("ns-07: You may not list ns-07."),
        "{screen}"
    );
    // Typing narrows what was found; `q` and `?` are text here.
    type_str(&mut app, "12-db");
    let Some(Dialog::Search(d)) = &app.state.dialog else {
        panic!()
    };
    let names: Vec<_> = d
        .matching()
        .iter()
        .map(|h| (h.namespace.clone(), h.name.clone()))
        .collect();
    assert_eq!(
        names,
        [("ns-12".to_owned(), "ns-12-db-password".to_owned())]
    );
    // Enter opens it in its namespace, selected once the list arrives.
    let (id, call) = the_call(&app.update(code(KeyCode::Enter)));
    assert_eq!(
        call,
        Call::ListSecrets {
            namespace: "ns-12".into()
        }
    );
    app.update(ok(
        id,
        Reply::Secrets(vec![row("a", 1), row("ns-12-db-password", 1), row("z", 1)]),
    ));
    assert_eq!(app.state.namespace.as_deref(), Some("ns-12"));
    assert_eq!(app.state.secrets.selected_name(), Some("ns-12-db-password"));
}

#[test]
fn colon_search_opens_the_search_with_the_name_typed() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key(':'));
    type_str(&mut app, "search db-pass");
    let effects = app.update(code(KeyCode::Enter));
    assert_eq!(
        effects
            .iter()
            .filter(|e| matches!(
                e,
                Effect::Call {
                    call: Call::ListSecrets { .. },
                    ..
                }
            ))
            .count(),
        2,
        "team-a and team-b"
    );
    let Some(Dialog::Search(d)) = &app.state.dialog else {
        panic!("{:?}", app.state.dialog)
    };
    assert_eq!(&*d.query, "db-pass");
}

#[test]
fn colon_ctx_switches_only_to_a_known_context_and_keeps_unsaved_text() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state.contexts = vec!["prod".into(), "staging".into()];
    app.state.context = Some("staging".into());
    // C opens the command line on `ctx `, the contexts listed.
    app.update(key('C'));
    assert_eq!(
        app.state.command.as_ref().unwrap().input.to_string(),
        "ctx "
    );
    type_str(&mut app, "pr");
    app.update(code(KeyCode::Tab));
    assert_eq!(
        app.state.command.as_ref().unwrap().input.to_string(),
        "ctx prod"
    );
    match &app.update(code(KeyCode::Enter))[..] {
        [Effect::SwitchContext { context, renew }] => {
            assert_eq!(context, "prod");
            assert!(!renew);
        }
        other => panic!("{other:?}"),
    }
    app.update(key(':'));
    type_str(&mut app, "ctx nope");
    assert!(app.update(code(KeyCode::Enter)).is_empty());
    assert!(
        flash(&app).contains("the contexts are prod, staging"),
        "{}",
        flash(&app)
    );
    // Ready: the old namespace is remembered, the new one starts over.
    app.update(Action::ContextReady(Box::new(Ok(
        super::contexts::ContextReady {
            context: "prod".into(),
            token: Sensitive("jwt-of-prod".into()),
            namespace: None,
            server: "kiss.prod:443".into(),
        },
    ))));
    assert_eq!(app.state.context.as_deref(), Some("prod"));
    assert_eq!(app.state.server, "kiss.prod:443");
    assert_eq!(app.state.namespace, None);
    assert_eq!(
        app.state.last_namespace.get("staging").map(String::as_str),
        Some("team-a")
    );
}

#[test]
fn a_context_token_is_renewed_by_its_plugin_before_it_expires_and_when_refused() {
    let mut app = in_team_a(vec![row("a", 1)]);
    app.state.context = Some("prod".into());
    app.state.contexts = vec!["prod".into()];
    // The token expires in an hour: nothing yet.
    assert!(
        !app.update(Action::Tick(now() + Duration::from_secs(60)))
            .iter()
            .any(|e| matches!(e, Effect::SwitchContext { .. }))
    );
    // A minute before it expires, the plugin is asked, once.
    let effects = app.update(Action::Tick(now() + Duration::from_secs(3540)));
    assert!(
        effects.iter().any(
            |e| matches!(e, Effect::SwitchContext { context, renew: true } if context == "prod")
        )
    );
    assert!(
        !app.update(Action::Tick(now() + Duration::from_secs(3541)))
            .iter()
            .any(|e| matches!(e, Effect::SwitchContext { .. }))
    );
    // The fresh token is taken up where the user is.
    let (id, token) = the_connect(&app.update(Action::ContextReady(Box::new(Ok(
        super::contexts::ContextReady {
            context: "prod".into(),
            token: Sensitive("jwt-of-ann".into()),
            namespace: None,
            server: "kiss.prod:443".into(),
        },
    )))));
    assert_eq!(token, "jwt-of-ann");
    stays(&app.update(ok(id, Reply::Connected)));
    assert_eq!(app.state.namespace.as_deref(), Some("team-a"));
    assert_eq!(app.state.screen, Screen::Secrets);
    assert!(
        flash(&app).contains("fresh token from the plugin of context 'prod'"),
        "{}",
        flash(&app)
    );
    // A refusal a minute later asks the plugin again.
    app.state.now = now() + Duration::from_secs(3700);
    let (id, _) = the_call(&app.update(key('r')));
    let effects = app.update(fail(
        id,
        ErrorKind::Unauthenticated,
        "The token has expired.",
    ));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::SwitchContext { .. })),
        "{effects:?}"
    );
}

#[test]
fn quitting_asks_first_with_text_in_a_key_edit_or_the_bind_input() {
    let mut app = viewing_json(r#"{"user":"app"}"#, "v1");
    app.update(key('a'));
    type_str(&mut app, "newkey");
    app.update(code(KeyCode::Tab));
    type_str(&mut app, "important value");
    assert!(app.update(ctrl('c')).is_empty(), "Ctrl-C asks first");
    assert!(app.state.quit_confirm);
    app.update(key('n'));
    // Esc asks once too; Enter on the name goes to the value, not a save.
    app.update(code(KeyCode::Esc));
    assert!(screen_text(&app).contains("Esc again throws the typed key away"));
    assert_eq!(app.state.key_context(), keymap::KeyContext::KeyEdit);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.state.key_context(), keymap::KeyContext::ValueKeys);
    app.update(key('a'));
    type_str(&mut app, "host");
    no_call(&app.update(code(KeyCode::Enter)));
    assert!(
        matches!(&app.state.dialog, Some(Dialog::View(v)) if v.keys.edit.as_ref().is_some_and(|e| e.on_value))
    );

    let mut app = in_team_a(vec![row("a", 1)]);
    app.update(key('b'));
    type_str(&mut app, "my-service-account");
    assert!(app.update(ctrl('c')).is_empty(), "Ctrl-C asks first");
    assert!(app.state.quit_confirm);
}

#[test]
fn the_reveal_timer_waits_while_a_key_is_edited_and_v_shows_one_key_only() {
    let mut app = viewing_json(r#"{"user":"app","pass":"x"}"#, "v1");
    app.update(code(KeyCode::Down));
    app.update(key('v'));
    app.update(code(KeyCode::Up));
    app.update(key('v'));
    let Some(Dialog::View(v)) = &app.state.dialog else {
        panic!()
    };
    assert_eq!(
        v.keys.shown.iter().collect::<Vec<_>>(),
        ["user"],
        "the selected key only"
    );
    app.update(key('a'));
    type_str(&mut app, "k2");
    app.update(Action::Tick(now() + Duration::from_secs(120)));
    assert!(
        app.state.secrets.is_revealed("db"),
        "not hidden under an open edit"
    );
    assert_eq!(app.state.key_context(), keymap::KeyContext::KeyEdit);
    app.update(code(KeyCode::Esc));
    app.update(code(KeyCode::Esc));
    app.update(Action::Tick(now() + Duration::from_secs(121)));
    assert!(!app.state.secrets.is_revealed("db"));
    let Some(Dialog::View(v)) = &app.state.dialog else {
        panic!()
    };
    assert!(
        v.keys.shown.is_empty(),
        "read again, every key starts masked"
    );
}
