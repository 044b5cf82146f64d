//! The key tables are complete and honest: every label names exactly the
//! keys of its row, every key of a table reaches that table's handler where
//! the table applies, and a key no table holds does nothing (or is typed
//! text, where the focus takes text).

use std::collections::HashSet;

use crossterm::event::KeyCode;

use super::action::{Action, Call, DeletedRow, Effect, ErrorKind, Reply, Sensitive};
use super::fixtures::{self, Driver};
use super::keymap::{self, ALL_CONTEXTS, Command, Key, KeyContext, ch, ctrl, key};
use super::state::Dialog;

/// An app whose focus is in `ctx`, in a state where its keys can act: a
/// list with rows and the cursor off its ends, a form with text in it.
fn reach(ctx: KeyContext) -> Driver {
    let on_secrets = || {
        let mut d = Driver::in_namespace((100, 30), fixtures::sample_rows());
        d.key(KeyCode::Down).key(KeyCode::Down);
        d.calls.clear();
        d.effects.clear();
        d
    };
    let mut d = match ctx {
        KeyContext::Tokens => {
            let mut d = Driver::new((100, 30), None);
            d.act(fixtures::scan(vec![
                fixtures::token("ann@example.com", &["team-a"], 3600),
                fixtures::token("bob@example.com", &["team-a"], 3600),
                fixtures::token("cat@example.com", &["team-a"], 3600),
            ]));
            d.key(KeyCode::Down);
            d
        }
        KeyContext::TokensBack => {
            let mut d = on_secrets();
            d.act(Action::Key(ch('T').event()));
            d.act(fixtures::scan(vec![
                fixtures::token("ann@example.com", &["team-a"], 3600),
                fixtures::token("bob@example.com", &["team-a"], 3600),
                fixtures::token("cat@example.com", &["team-a"], 3600),
            ]));
            d.key(KeyCode::Down);
            d
        }
        KeyContext::Namespaces => {
            let mut d = Driver::new((100, 30), None);
            d.pick_token(fixtures::identity(&["sandbox", "team-a", "team-b"], false));
            d.type_str("a");
            d.key(KeyCode::Down);
            d
        }
        KeyContext::Global | KeyContext::Secrets => on_secrets(),
        KeyContext::Filter => {
            let mut d = on_secrets();
            d.type_str("/e");
            d
        }
        KeyContext::EditorName => {
            let mut d = on_secrets();
            d.type_str("ndb");
            d
        }
        KeyContext::Quit => {
            let mut d = on_secrets();
            d.type_str("ndb").ctrl('c');
            d
        }
        KeyContext::Editor => {
            let mut d = on_secrets();
            d.type_str("ndb").key(KeyCode::Tab).type_str("v");
            d
        }
        KeyContext::EditorPolicy => {
            let mut d = on_secrets();
            d.type_str("ndb").key(KeyCode::Tab).key(KeyCode::Tab);
            d
        }
        KeyContext::EditorUpdate | KeyContext::Discard | KeyContext::SaveConfirm => {
            let mut d = on_secrets();
            d.type_str("e");
            let name = d.app.state.secrets.selected_name().unwrap_or("").to_owned();
            let mut details = fixtures::details("team-a", &name, true, &[]);
            details.value = Some(super::action::Sensitive("old".into()));
            d.ok(
                |c| matches!(c, Call::GetSecret { .. }),
                Reply::Details(Box::new(details)),
            );
            d.type_str("x");
            if ctx == KeyContext::Discard {
                d.key(KeyCode::Esc);
            }
            if ctx == KeyContext::SaveConfirm {
                // A diff long enough to scroll either way from where it is.
                for _ in 0..30 {
                    d.key(KeyCode::Enter).type_str("x");
                }
                d.ctrl('s').type_str("jjj");
            }
            d
        }
        KeyContext::Conflict => {
            let mut d = on_secrets();
            d.type_str("e");
            let name = d.app.state.secrets.selected_name().unwrap_or("").to_owned();
            let mut details = fixtures::details("team-a", &name, true, &[]);
            details.value = Some(super::action::Sensitive("old".into()));
            d.ok(
                |c| matches!(c, Call::GetSecret { .. }),
                Reply::Details(Box::new(details.clone())),
            );
            for _ in 0..30 {
                d.key(KeyCode::Enter).type_str("x");
            }
            d.ctrl('s').type_str("y");
            d.fail(
                |c| matches!(c, Call::UpdateSecret { .. }),
                super::action::ErrorKind::Conflict,
                "changed",
            );
            details.version_id = "theirs".into();
            details.value = Some(super::action::Sensitive("theirs".into()));
            d.ok(
                |c| matches!(c, Call::GetSecret { .. }),
                Reply::Details(Box::new(details)),
            );
            d.type_str("jjj");
            d
        }
        KeyContext::Delete => {
            let mut d = on_secrets();
            d.type_str("d");
            d
        }
        KeyContext::DeleteForGood => {
            let mut d = on_secrets();
            d.recovery_days(Some(0)).type_str("d");
            d
        }
        KeyContext::BindInput | KeyContext::BindList | KeyContext::Unbind => {
            let mut d = on_secrets();
            d.type_str("b");
            let name = d.app.state.secrets.selected_name().unwrap_or("").to_owned();
            d.ok(
                |c| matches!(c, Call::GetSecret { .. }),
                Reply::Details(Box::new(fixtures::details(
                    "team-a",
                    &name,
                    true,
                    &["api", "web", "worker"],
                ))),
            );
            if ctx == KeyContext::BindInput {
                d.type_str("sa");
            } else {
                d.key(KeyCode::Tab).key(KeyCode::Down);
                if ctx == KeyContext::Unbind {
                    d.type_str("x");
                }
            }
            d
        }
        KeyContext::Deleted => {
            let mut d = on_secrets();
            d.type_str("D");
            let gone = |name: &str| DeletedRow {
                name: name.into(),
                deleted: Some(fixtures::now()),
                deletion_date: Some(fixtures::now()),
            };
            d.ok(
                |c| matches!(c, Call::ListDeleted { .. }),
                Reply::DeletedSecrets(vec![gone("a"), gone("b"), gone("c")]),
            );
            d.key(KeyCode::Down);
            d
        }
        KeyContext::History | KeyContext::Rollback => {
            let mut d = on_secrets();
            d.type_str("h");
            d.ok(
                |c| matches!(c, Call::ListVersions { .. }),
                Reply::Versions(fixtures::versions()),
            );
            d.key(KeyCode::Down);
            if ctx == KeyContext::Rollback {
                d.type_str("R").answer_versions();
            }
            d
        }
        KeyContext::Value => {
            // A long value, revealed and scrolled part-way, so that every
            // scroll key has somewhere to go.
            let mut d = on_secrets();
            let name = d.app.state.secrets.selected_name().unwrap().to_owned();
            d.type_str("x");
            let mut details = fixtures::details("team-a", &name, false, &[]);
            details.value = Some(Sensitive(
                (1..=200).map(|i| format!("line {i}\n")).collect(),
            ));
            d.ok(
                |c| {
                    matches!(
                        c,
                        Call::GetSecret {
                            include_value: true,
                            ..
                        }
                    )
                },
                Reply::Details(Box::new(details)),
            );
            d.type_str("G").key(KeyCode::Up).key(KeyCode::Up);
            d
        }
        KeyContext::ValueKeys | KeyContext::KeyEdit | KeyContext::KeyRemove => {
            // A JSON object of three keys, the middle one selected.
            let mut d = on_secrets();
            let name = d.app.state.secrets.selected_name().unwrap().to_owned();
            d.type_str("x");
            let mut details = fixtures::details("team-a", &name, false, &[]);
            details.value = Some(Sensitive(
                r#"{"user": "app", "pass": "x", "port": 5432}"#.into(),
            ));
            d.ok(
                |c| {
                    matches!(
                        c,
                        Call::GetSecret {
                            include_value: true,
                            ..
                        }
                    )
                },
                Reply::Details(Box::new(details)),
            );
            d.key(KeyCode::Down);
            match ctx {
                KeyContext::KeyEdit => d.type_str("e"),
                KeyContext::KeyRemove => d.type_str("d"),
                _ => &mut d,
            };
            d
        }
        KeyContext::Search => {
            // Results from two namespaces, one in the middle selected, so
            // every move and Enter act.
            let mut d = on_secrets();
            d.type_str("F");
            for _ in 0..2 {
                d.ok(
                    |c| matches!(c, Call::ListSecrets { .. }),
                    Reply::Secrets(fixtures::sample_rows()),
                );
            }
            d.key(KeyCode::Down).key(KeyCode::Down);
            d
        }
        KeyContext::Copy => {
            let mut d = on_secrets();
            d.type_str("y").key(KeyCode::Down);
            d
        }
        KeyContext::Help => {
            let mut d = on_secrets();
            d.type_str("?").key(KeyCode::Down);
            d
        }
        KeyContext::Command => {
            let mut d = on_secrets();
            d.type_str(":").type_str("ns team-");
            d
        }
        KeyContext::HelpSearch => {
            let mut d = on_secrets();
            d.type_str("?").type_str("/").type_str("del");
            d
        }
        KeyContext::AuthProblem => {
            let mut d = on_secrets();
            d.type_str("r");
            d.fail(
                |c| matches!(c, Call::ListSecrets { .. }),
                ErrorKind::Unauthenticated,
                "The token has expired.",
            );
            d
        }
    };
    d.calls.clear();
    d.effects.clear();
    if ctx != KeyContext::Global {
        assert_eq!(d.app.state.key_context(), ctx, "reach({ctx:?})");
    }
    d
}

/// Every key a person might press: letters, digits, punctuation, Ctrl and a
/// letter, and the named keys.
fn every_key() -> Vec<Key> {
    let mut keys: Vec<Key> = (' '..='~').map(ch).collect();
    keys.extend(('a'..='z').map(ctrl));
    keys.extend(
        [
            KeyCode::Enter,
            KeyCode::Esc,
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Backspace,
            KeyCode::Delete,
            KeyCode::Insert,
            KeyCode::Up,
            KeyCode::Down,
            KeyCode::Left,
            KeyCode::Right,
            KeyCode::Home,
            KeyCode::End,
            KeyCode::PageUp,
            KeyCode::PageDown,
        ]
        .into_iter()
        .map(key),
    );
    keys.extend((1..=12).map(|n| key(KeyCode::F(n))));
    keys
}

#[test]
fn every_label_names_exactly_the_keys_of_its_row() {
    for ctx in ALL_CONTEXTS {
        for b in keymap::table(*ctx) {
            if b.keys.is_empty() {
                assert!(
                    keymap::takes_text(*ctx),
                    "{ctx:?}: '{}' describes typed text where none is taken",
                    b.label
                );
                continue;
            }
            let named: HashSet<Key> = keymap::parse_label(&b.label)
                .unwrap_or_else(|e| panic!("{ctx:?}: {e}"))
                .into_iter()
                .collect();
            let bound: HashSet<Key> = b.keys.iter().map(|(k, _)| *k).collect();
            let hidden: Vec<String> = bound.difference(&named).map(|k| keymap::name(*k)).collect();
            let dead: Vec<String> = named.difference(&bound).map(|k| keymap::name(*k)).collect();
            assert!(
                hidden.is_empty() && dead.is_empty(),
                "{ctx:?}: '{}' ({}): works but not shown {hidden:?}, shown but not bound {dead:?}",
                b.label,
                b.what
            );
            if let Some(short) = b.short {
                let short: HashSet<Key> = keymap::parse_label(short)
                    .unwrap_or_else(|e| panic!("{ctx:?}: {e}"))
                    .into_iter()
                    .collect();
                assert!(
                    short.is_subset(&bound),
                    "{ctx:?}: footer '{short:?}' names keys its row does not bind"
                );
            }
        }
    }
}

#[test]
fn no_key_is_bound_twice_where_a_table_applies() {
    // The global table is part of every other; it is no place of its own.
    for ctx in &ALL_CONTEXTS[1..] {
        for typing in [false, true] {
            let mut seen = HashSet::new();
            for b in keymap::effective(*ctx, typing) {
                for (k, _) in &b.keys {
                    assert!(
                        seen.insert(*k),
                        "{ctx:?}: {} is bound twice; the second row never gets it",
                        keymap::name(*k)
                    );
                }
            }
        }
    }
}

#[test]
fn every_key_of_a_table_reaches_its_handler_and_acts() {
    for ctx in ALL_CONTEXTS {
        let typing = reach(*ctx).app.state.is_typing();
        let effective = keymap::effective(*ctx, typing);
        for b in keymap::table(*ctx) {
            for (k, command) in &b.keys {
                assert_eq!(
                    keymap::lookup(&effective, *k),
                    Some(*command),
                    "{ctx:?}: {} does not reach '{}'",
                    keymap::name(*k),
                    b.what
                );
                let mut d = reach(*ctx);
                let before = format!("{:?}", d.app.state);
                let effects = d.app.update(Action::Key(k.event()));
                let after = format!("{:?}", d.app.state);
                assert!(
                    !effects.is_empty() || before != after,
                    "{ctx:?}: {} ('{}') did nothing",
                    keymap::name(*k),
                    b.what
                );
            }
        }
    }
}

#[test]
fn a_key_no_table_holds_does_nothing() {
    for ctx in &ALL_CONTEXTS[1..] {
        // The editor's text areas take every other key as editing (moving
        // the cursor, Ctrl-K, ...): the help says so, and typed text is
        // the one thing outside the tables.
        if matches!(
            ctx,
            KeyContext::EditorName | KeyContext::Editor | KeyContext::EditorUpdate
        ) {
            continue;
        }
        let typing = reach(*ctx).app.state.is_typing();
        let effective = keymap::effective(*ctx, typing);
        for k in every_key() {
            if keymap::lookup(&effective, k).is_some() {
                continue;
            }
            // Where text is typed, the line editor's own keys (listed in
            // the help from `line::keys`) edit it.
            if keymap::takes_text(*ctx)
                && (k.is_char() || crate::app::line::LineInput::default().input(k.event()))
            {
                continue;
            }
            let mut d = reach(*ctx);
            let before = format!("{:?}", d.app.state);
            let effects = d.app.update(Action::Key(k.event()));
            assert!(
                effects.is_empty() && format!("{:?}", d.app.state) == before,
                "{ctx:?}: {} is in no table but acts: {effects:?}",
                keymap::name(k)
            );
        }
    }
}

#[test]
fn the_help_shows_every_context() {
    let shown: HashSet<KeyContext> = keymap::HELP_SECTIONS.iter().map(|(_, c)| *c).collect();
    for ctx in ALL_CONTEXTS {
        assert!(
            shown.contains(&keymap::section_of(*ctx)),
            "{ctx:?} has no help section"
        );
    }
}

#[test]
fn ctrl_c_quits_from_every_context() {
    for ctx in ALL_CONTEXTS {
        let mut d = reach(*ctx);
        let mut effects = d.app.update(Action::Key(ctrl('c').event()));
        // With unsaved text the first one asks; the second quits.
        if d.app.state.unsaved_text() && *ctx != KeyContext::Quit {
            assert!(effects.is_empty(), "{ctx:?}");
            assert_eq!(d.app.state.key_context(), KeyContext::Quit, "{ctx:?}");
            effects = d.app.update(Action::Key(ctrl('c').event()));
        }
        assert!(matches!(effects[..], [Effect::Quit]), "{ctx:?}");
    }
    // A command only ever reaches the handler of the screen it names.
    let mut d = reach(KeyContext::Copy);
    assert!(matches!(d.app.state.dialog, Some(Dialog::Copy(_))));
    assert_eq!(
        keymap::lookup(&keymap::effective(KeyContext::Copy, false), ch('v')),
        Some(Command::Copy(super::copy::CopyCmd::Copy(
            super::state::CopyItem::Value
        )))
    );
    d.app.update(Action::Key(ch('v').event()));
    assert!(d.app.state.dialog.is_none());
}

#[test]
fn the_footer_says_what_enter_does_in_every_text_field() {
    for ctx in [
        KeyContext::Namespaces,
        KeyContext::Filter,
        KeyContext::EditorName,
        KeyContext::Editor,
        KeyContext::EditorUpdate,
        KeyContext::BindInput,
        KeyContext::DeleteForGood,
    ] {
        assert!(
            keymap::keys(ctx)
                .iter()
                .any(|k| k.footer && k.short.split('/').any(|s| s.contains("Enter"))),
            "{ctx:?}: the footer does not say what Enter does"
        );
    }
}
