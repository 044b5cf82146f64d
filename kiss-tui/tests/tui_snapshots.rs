//! Every screen rendered into a TestBackend at 100x30 and at 60x20, compared
//! with the committed snapshots in `tests/snapshots/`.
//!
//! Update after a deliberate change with
//! `INSTA_UPDATE=always cargo test -p kiss-tui --test tui_snapshots` and
//! review the diff. `KISS_WRITE_ASSETS=1` also rewrites the screenshots in
//! `assets/` from the same renders.

use crossterm::event::KeyCode;
use kiss_tui::app::action::{Call, DeletedRow, ErrorKind, Reply, Sensitive};
use kiss_tui::app::fixtures::{self, Driver};
use kiss_tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

const SIZES: [(u16, u16); 2] = [(100, 30), (60, 20)];

/// The screens written to `assets/tui-<name>.svg` for the README and docs.
const SCREENSHOTS: &[&str] = &[
    "tokens",
    "namespaces",
    "secrets",
    "secrets_revealed",
    "value_view",
    "json_keys",
    "create",
    "update_conflict",
    "update_save_confirm",
    "delete",
    "bind",
    "copy",
    "deleted",
    "history_diff",
    "rollback",
    "help",
    "auth_problem",
];

fn render(d: &Driver) -> Terminal<TestBackend> {
    let (w, h) = d.app.state.size;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| view::draw(f, &d.app.state)).unwrap();
    t
}

/// Renders a screen at both sizes, checks the frame, compares snapshots.
fn check(name: &str, build: impl Fn((u16, u16)) -> Driver) {
    for size in SIZES {
        let d = build(size);
        let t = render(&d);
        let buf = t.backend().buffer();
        frame_is_intact(name, buf);
        reads_on_any_theme(&format!("{name}_{}x{}", size.0, size.1), buf);
        usable_without_colour(&format!("{name}_{}x{}", size.0, size.1), buf);
        insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), t.backend());
        if size == (100, 30)
            && SCREENSHOTS.contains(&name)
            && std::env::var_os("KISS_WRITE_ASSETS").is_some()
        {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                dir.join(format!("tui-{name}.svg")),
                svg::render(buf, &svg::DARK),
            )
            .unwrap();
            // The main screens also as a light theme and NO_COLOR show them.
            if ["secrets", "secrets_revealed", "delete"].contains(&name) {
                for (suffix, theme) in [("light", &svg::LIGHT), ("no_color", &svg::NO_COLOR)] {
                    std::fs::write(
                        dir.join(format!("tui-{name}-{suffix}.svg")),
                        svg::render(buf, theme),
                    )
                    .unwrap();
                }
            }
        }
    }
}

/// Only colours every terminal theme sets to read on its own background:
/// the terminal's own (Reset) and the six standard hues; black only as
/// text on the cyan badge. No grey (ANSI 7 and 8: near-white on light
/// themes, the background itself on Solarized Dark), no bright colours,
/// no true colour.
fn reads_on_any_theme(name: &str, buf: &Buffer) {
    use ratatui::style::Color;
    let hue = |c: Color| {
        matches!(
            c,
            Color::Reset
                | Color::Red
                | Color::Green
                | Color::Yellow
                | Color::Blue
                | Color::Magenta
                | Color::Cyan
        )
    };
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            let badge = c.fg == Color::Black && c.bg == Color::Cyan;
            assert!(
                (hue(c.fg) || badge) && hue(c.bg),
                "{name}: {:?} at {x},{y} is drawn {:?} on {:?}, which some themes cannot read",
                c.symbol(),
                c.fg,
                c.bg
            );
        }
    }
}

/// What must still show under NO_COLOR, which drops every colour but
/// keeps bold, dim and reverse video: the status bar stands apart from the
/// screen (reverse video, not a background colour), and the focused box
/// from the dim unfocused ones.
fn usable_without_colour(name: &str, buf: &Buffer) {
    use ratatui::style::Modifier;
    let bar = (6..buf.area.width)
        .map(|x| &buf[(x, 0)])
        .all(|c| c.modifier.contains(Modifier::REVERSED));
    assert!(bar, "{name}: the status bar is not reverse video");
    let corners: Vec<_> = (0..buf.area.height)
        .flat_map(|y| (0..buf.area.width).map(move |x| (x, y)))
        .map(|p| &buf[p])
        .filter(|c| c.symbol() == "╭")
        .collect();
    // Unfocused boxes (and what is under a dialog) are dim; the box with
    // the focus is not, so it can be found without its cyan.
    if !corners.is_empty() {
        assert!(
            corners.iter().any(|c| !c.modifier.contains(Modifier::DIM)),
            "{name}: without colour, no box shows the focus"
        );
    }
}

fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width)
        .map(|x| buf[(x, y)].symbol().to_owned())
        .collect()
}

/// The status bar and the footer are never drawn over, and dialogs keep
/// their borders inside the screen.
fn frame_is_intact(name: &str, buf: &Buffer) {
    let top = row_text(buf, 0);
    assert!(
        top.starts_with(" kiss "),
        "{name}: status bar overwritten: {top:?}"
    );
    let bottom = row_text(buf, buf.area.height - 1);
    assert!(
        !bottom.trim().is_empty() && !bottom.contains('│') && !bottom.contains('╰'),
        "{name}: footer overwritten: {bottom:?}"
    );
}

fn secrets(size: (u16, u16)) -> Driver {
    Driver::in_namespace(size, fixtures::sample_rows())
}

fn is_get(c: &Call) -> bool {
    matches!(c, Call::GetSecret { .. })
}

#[test]
fn token_picker() {
    check("tokens", |size| {
        let mut d = Driver::new(size, None);
        // Two usable tokens: the picker waits for a choice.
        let mut t = fixtures::usual_tokens();
        t.insert(
            1,
            fixtures::token("ann@staging.example.com", &["team-a-staging"], 8 * 3600),
        );
        d.act(fixtures::scan(t));
        d
    });
}

#[test]
fn token_picker_expired_selected() {
    check("tokens_expired", |size| {
        let mut d = Driver::new(size, None);
        let mut t = fixtures::usual_tokens();
        t.insert(
            1,
            fixtures::token("ann@staging.example.com", &["team-a-staging"], 8 * 3600),
        );
        d.act(fixtures::scan(t));
        d.key(KeyCode::Down).key(KeyCode::Down).key(KeyCode::Enter);
        d
    });
}

#[test]
fn token_picker_empty() {
    check("tokens_empty", |size| {
        let mut d = Driver::new(size, None);
        d.act(fixtures::scan(vec![]));
        d
    });
}

#[test]
fn token_picker_connecting() {
    check("tokens_connecting", |size| {
        let mut d = Driver::new(size, None);
        d.act(fixtures::scan(fixtures::usual_tokens()));
        d.connected();
        d
    });
}

#[test]
fn server_unreachable() {
    check("tokens_unreachable", |size| {
        let mut d = Driver::new(size, None);
        d.act(fixtures::scan(fixtures::usual_tokens()));
        d.connected();
        d.fail(
            |c| matches!(c, Call::WhoAmI),
            ErrorKind::Unreachable,
            "Cannot reach kiss-server at kiss.example.com:443: tcp connect error: Connection refused (os error 111); check --server-addr and whether it uses TLS (--secure=false for plaintext).",
        );
        d
    });
}

#[test]
fn namespace_picker() {
    check("namespaces", |size| {
        let mut d = Driver::new(size, None);
        d.pick_token(fixtures::identity(&["sandbox", "team-a", "team-b"], false));
        d.type_str("te").key(KeyCode::Down);
        d
    });
}

#[test]
fn namespace_picker_admin() {
    check("namespaces_admin", |size| {
        let mut d = Driver::new(size, None);
        d.pick_token(fixtures::identity(&["kiss-admins"], true));
        d.type_str("payments");
        d
    });
}

#[test]
fn secrets_table() {
    check("secrets", |size| {
        let mut d = secrets(size);
        d.act(kiss_tui::app::Action::Tick(fixtures::now()));
        d
    });
}

#[test]
fn secrets_loading() {
    check("secrets_loading", |size| {
        let mut d = Driver::new(size, Some("team-a"));
        d.pick_token(fixtures::identity(&["team-a"], false));
        d
    });
}

#[test]
fn secrets_empty() {
    check("secrets_empty", |size| Driver::in_namespace(size, vec![]));
}

#[test]
fn secrets_filtered_and_sorted() {
    check("secrets_filter", |size| {
        let mut d = secrets(size);
        d.type_str("s");
        d.type_str("/E-");
        d
    });
}

#[test]
fn secrets_value_revealed() {
    check("secrets_revealed", |size| {
        let mut d = secrets(size);
        d.type_str("v");
        let mut det = fixtures::details("team-a", "api-key", true, &["payments"]);
        det.value = Some(Sensitive(
            "-----BEGIN CERTIFICATE-----\nMIIBdemoCERT\n-----END CERTIFICATE-----".into(),
        ));
        d.ok(is_get, Reply::Details(Box::new(det)));
        d
    });
}

#[test]
fn value_view() {
    // x: the value read at once, full-screen, with line numbers; a long
    // line wraps under its number and an escape shows as ^[.
    check("value_view", |size| {
        let mut d = secrets(size);
        d.type_str("x");
        let mut det = fixtures::details("team-a", "api-key", true, &["payments"]);
        let mut value = String::from("# rendered by the deploy job\ncolour=\u{1b}[31mred\n");
        value.push_str(&format!("key={}\n", "k".repeat(150)));
        for i in 4..=60 {
            value.push_str(&format!("SETTING_{i}=value-{i}\n"));
        }
        det.value = Some(Sensitive(value));
        d.ok(is_get, Reply::Details(Box::new(det)));
        d
    });
}

#[test]
fn json_keys() {
    // A JSON object key by key: masked, one shown; then editing one.
    let build = |size, editing: bool| {
        let mut d = secrets(size);
        d.type_str("x");
        let mut det = fixtures::details("team-a", "api-key", true, &["payments"]);
        det.value = Some(Sensitive(
            r#"{"username": "app", "db-password": "hunter2", "port": 5432, "tls.crt": "-----BEGIN CERTIFICATE-----"}"#.into(),
        ));
        d.ok(is_get, Reply::Details(Box::new(det)));
        d.key(KeyCode::Down).type_str("v");
        if editing {
            d.type_str("e");
        }
        d
    };
    check("json_keys", |size| build(size, false));
    check("json_key_edit", |size| build(size, true));
}

#[test]
fn search_every_namespace() {
    // F: the listings come in; one namespace refuses; the name narrows.
    check("search", |size| {
        let mut d = secrets(size);
        d.type_str("F");
        d.ok(
            |c| matches!(c, Call::ListSecrets { namespace } if namespace == "team-a"),
            Reply::Secrets(fixtures::sample_rows()),
        );
        d.fail(
            |c| matches!(c, Call::ListSecrets { namespace } if namespace == "team-b"),
            ErrorKind::PermissionDenied,
            "You may not list the secrets of team-b.",
        );
        d.type_str("pass");
        d
    });
}

#[test]
fn many_secrets_scrolled() {
    check("secrets_many", |size| {
        let mut d = Driver::in_namespace(size, fixtures::many_rows(10_000));
        d.key(KeyCode::PageDown).key(KeyCode::Down);
        d
    });
}

#[test]
fn create_form() {
    check("create", |size| {
        let mut d = secrets(size);
        d.type_str("n").type_str("Db_pass");
        d.key(KeyCode::Tab);
        d.type_str("host=db.internal\nuser=app\n");
        d.act(kiss_tui::app::Action::Paste("password=hunter2\r\n".into()));
        d.key(KeyCode::Tab).key(KeyCode::Char(' '));
        d
    });
}

#[test]
fn create_form_failed_save_keeps_text() {
    check("create_failed", |size| {
        let mut d = secrets(size);
        d.type_str("n").type_str("db-pass").key(KeyCode::Tab);
        d.type_str("line one\nline two\nline three");
        d.ctrl('s');
        d.fail(
            |c| matches!(c, Call::CreateSecret { .. }),
            ErrorKind::Unreachable,
            "Cannot reach kiss-server at kiss.example.com:443: connection refused.",
        );
        d
    });
}

#[test]
fn update_save_shows_the_diff_first() {
    check("update_save_confirm", |size| {
        let mut d = secrets(size);
        d.type_str("e");
        let mut det = fixtures::details("team-a", "api-key", true, &[]);
        det.value = Some(Sensitive("host=db\nport=5432\nuser=app".into()));
        d.ok(is_get, Reply::Details(Box::new(det)));
        d.key(KeyCode::Up).key(KeyCode::End);
        d.key(KeyCode::Backspace).type_str("3");
        d.ctrl('s');
        d
    });
}

#[test]
fn update_conflict() {
    check("update_conflict", |size| {
        let mut d = secrets(size);
        d.type_str("e");
        let mut det = fixtures::details("team-a", "api-key", true, &[]);
        det.value = Some(Sensitive("sk_live_old".into()));
        d.ok(is_get, Reply::Details(Box::new(det)));
        d.type_str("_mine");
        d.ctrl('s').type_str("y");
        d.fail(
            |c| matches!(c, Call::UpdateSecret { .. }),
            ErrorKind::Conflict,
            "The secret changed.",
        );
        // Their version is read to show what they changed.
        let mut theirs = fixtures::details("team-a", "api-key", true, &[]);
        theirs.version_id = "0b1e7c2d-5f3a-4c9e-8d21-9a6f4e3b2c10".into();
        theirs.value = Some(Sensitive("sk_live_rotated".into()));
        d.ok(is_get, Reply::Details(Box::new(theirs)));
        d
    });
}

#[test]
fn update_conflict_revealed() {
    check("update_conflict_revealed", |size| {
        let mut d = secrets(size);
        d.type_str("e");
        let mut det = fixtures::details("team-a", "api-key", true, &[]);
        det.value = Some(Sensitive("user=svc\npassword=old".into()));
        d.ok(is_get, Reply::Details(Box::new(det)));
        d.type_str("_mine");
        d.ctrl('s').type_str("y");
        d.fail(
            |c| matches!(c, Call::UpdateSecret { .. }),
            ErrorKind::Conflict,
            "The secret changed.",
        );
        let mut theirs = fixtures::details("team-a", "api-key", true, &[]);
        theirs.version_id = "0b1e7c2d-5f3a-4c9e-8d21-9a6f4e3b2c10".into();
        theirs.value = Some(Sensitive("user=svc\npassword=rotated".into()));
        d.ok(is_get, Reply::Details(Box::new(theirs)));
        d.type_str("v");
        d
    });
}

#[test]
fn quit_with_unsaved_text() {
    check("quit_confirm", |size| {
        let mut d = secrets(size);
        d.type_str("n").type_str("half-typed").ctrl('c');
        d
    });
}

#[test]
fn discard_confirmation() {
    check("create_discard", |size| {
        let mut d = secrets(size);
        d.type_str("n").type_str("half-typed").key(KeyCode::Esc);
        d
    });
}

#[test]
fn delete_confirmation() {
    check("delete", |size| {
        let mut d = secrets(size);
        d.type_str("d");
        d
    });
}

/// The dialog's text, its border and inner margins stripped, in one line.
fn dialog_text(d: &Driver) -> String {
    screen(d)
        .iter()
        .map(|l| {
            l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn dialogs_grow_to_fit_a_long_error_and_keep_their_key_hints() {
    let unreachable = "transport error: tcp connect error: Connection refused (os error 111) while \
                       connecting to kiss.example.com:443 through the corporate proxy";
    let delete_failed = |size| {
        let mut d = secrets(size);
        d.type_str("d").type_str("y");
        d.fail(
            |c| matches!(c, Call::DeleteSecret { .. }),
            ErrorKind::Unreachable,
            unreachable,
        );
        d
    };
    check("delete_failed", delete_failed);
    let bind_failed = |size| {
        let mut d = secrets(size);
        d.type_str("b").type_str("payments-worker");
        d.key(KeyCode::Enter);
        d.fail(
            |c| matches!(c, Call::Bind { .. }),
            ErrorKind::Unreachable,
            unreachable,
        );
        d
    };
    check("bind_failed", bind_failed);
    for size in SIZES {
        let text = dialog_text(&delete_failed(size));
        assert!(text.contains("corporate proxy"), "{size:?}: {text}");
        assert!(text.contains("n/Esc cancel"), "{size:?}: {text}");
        let text = dialog_text(&bind_failed(size));
        assert!(text.contains("corporate proxy"), "{size:?}: {text}");
        assert!(text.contains("Esc close"), "{size:?}: {text}");
    }
}

#[test]
fn delete_confirmation_where_deletes_are_final() {
    check("delete_for_good", |size| {
        let mut d = secrets(size);
        d.recovery_days(Some(0));
        d.type_str("d").type_str("api");
        d
    });
}

#[test]
fn bindings_dialog() {
    check("bind", |size| {
        let mut d = secrets(size);
        d.type_str("b");
        d.ok(
            is_get,
            Reply::Details(Box::new(fixtures::details(
                "team-a",
                "api-key",
                true,
                &["payments", "billing-worker"],
            ))),
        );
        d.type_str("Web_SA");
        d
    });
}

#[test]
fn copy_menu() {
    check("copy", |size| {
        let mut d = secrets(size);
        d.type_str("y").key(KeyCode::Down).key(KeyCode::Down);
        d
    });
}

fn history(size: (u16, u16)) -> Driver {
    let mut d = secrets(size);
    d.type_str("h");
    d.ok(
        |c| matches!(c, Call::ListVersions { .. }),
        Reply::Versions(fixtures::versions()),
    );
    d
}

#[test]
fn history_of_a_secret() {
    check("history", history);
}

#[test]
fn history_diff_masked_then_revealed() {
    check("history_diff_masked", |size| {
        let mut d = history(size);
        d.key(KeyCode::Down).type_str("d").answer_versions();
        d
    });
    check("history_diff", |size| {
        let mut d = history(size);
        d.key(KeyCode::Down)
            .type_str("d")
            .answer_versions()
            .type_str("v");
        d
    });
}

#[test]
fn history_version_shown() {
    check("history_version", |size| {
        let mut d = history(size);
        d.key(KeyCode::Down)
            .key(KeyCode::Enter)
            .type_str("v")
            .answer_versions();
        d
    });
}

#[test]
fn rollback_confirmation_shows_the_diff() {
    check("rollback", |size| {
        let mut d = history(size);
        d.key(KeyCode::Down)
            .key(KeyCode::Down)
            .type_str("R")
            .answer_versions()
            .type_str("v");
        d
    });
}

#[test]
fn recently_deleted() {
    check("deleted", |size| {
        let mut d = secrets(size);
        d.type_str("D");
        let at = |h: u64| fixtures::now() - std::time::Duration::from_secs(h * 3600);
        let until = |h: u64| fixtures::now() + std::time::Duration::from_secs(h * 3600);
        d.ok(
            |c| matches!(c, Call::ListDeleted { .. }),
            Reply::DeletedSecrets(vec![
                DeletedRow {
                    name: "old-db-url".into(),
                    deleted: Some(at(2)),
                    deletion_date: Some(until(7 * 24 - 2)),
                },
                DeletedRow {
                    name: "legacy-token".into(),
                    deleted: Some(at(50)),
                    deletion_date: Some(until(7 * 24 - 50)),
                },
            ]),
        );
        d
    });
}

#[test]
fn help_overlay() {
    check("help", |size| {
        let mut d = secrets(size);
        d.type_str("?");
        d
    });
}

#[test]
fn token_refused() {
    check("auth_problem", |size| {
        let mut d = secrets(size);
        d.type_str("r");
        d.fail(
            |c| matches!(c, Call::ListSecrets { .. }),
            ErrorKind::Unauthenticated,
            "The server refused the token: the token expired at 2026-03-02 09:12 UTC.",
        );
        d
    });
}

#[test]
fn permission_denied() {
    check("permission_denied", |size| {
        let mut d = secrets(size);
        d.type_str("r");
        d.fail(
            |c| matches!(c, Call::ListSecrets { .. }),
            ErrorKind::PermissionDenied,
            "User 'ann@example.com' is not authorized for namespace 'team-a'.",
        );
        d
    });
}

#[test]
fn tiny_terminal_does_not_panic() {
    for size in [(1, 1), (10, 3), (29, 7), (30, 8), (40, 10)] {
        let mut d = secrets(size);
        d.type_str("n");
        render(&d);
        d.key(KeyCode::Esc).type_str("?");
        render(&d);
    }
}

/// Buffer to SVG, for the README's screenshots, as a terminal with a given
/// colour theme would show it: a dark theme, Solarized Light, and a
/// terminal under NO_COLOR (no colours at all, modifiers kept).
mod svg {
    use ratatui::buffer::Buffer;
    use ratatui::style::{Color, Modifier};

    const CW: f32 = 9.03;
    const CH: f32 = 17.5;

    /// A terminal's colours: background, foreground, dimmed text, and the
    /// ANSI colours 0–7 (None: NO_COLOR, every colour is the default).
    pub struct Theme {
        pub bg: &'static str,
        pub fg: &'static str,
        pub dim: &'static str,
        pub ansi: Option<[&'static str; 8]>,
    }

    /// Tokyo Night, the screenshots' usual dark theme.
    pub const DARK: Theme = Theme {
        bg: "#1a1b26",
        fg: "#c0caf5",
        dim: "#787c99",
        ansi: Some([
            "#15161e", "#f7768e", "#9ece6a", "#e0af68", "#7aa2f7", "#bb9af7", "#7dcfff", "#a9b1d6",
        ]),
    };

    /// Solarized Light: a light background where ANSI 7 is near-white.
    pub const LIGHT: Theme = Theme {
        bg: "#fdf6e3",
        fg: "#657b83",
        dim: "#93a1a1",
        ansi: Some([
            "#073642", "#dc322f", "#859900", "#b58900", "#268bd2", "#d33682", "#2aa198", "#eee8d5",
        ]),
    };

    /// NO_COLOR on a dark terminal: the default colours only.
    pub const NO_COLOR: Theme = Theme {
        bg: "#1a1b26",
        fg: "#c0caf5",
        dim: "#787c99",
        ansi: None,
    };

    fn hex(t: &Theme, c: Color, default: &str) -> String {
        let Some(ansi) = t.ansi else {
            return default.to_owned();
        };
        let i = match c {
            Color::Black => 0,
            Color::Red | Color::LightRed => 1,
            Color::Green | Color::LightGreen => 2,
            Color::Yellow | Color::LightYellow => 3,
            Color::Blue | Color::LightBlue => 4,
            Color::Magenta | Color::LightMagenta => 5,
            Color::Cyan | Color::LightCyan => 6,
            Color::Gray | Color::White => 7,
            Color::Rgb(r, g, b) => return format!("#{r:02x}{g:02x}{b:02x}"),
            _ => return default.to_owned(),
        };
        ansi[i].to_owned()
    }

    fn esc(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    pub fn render(buf: &Buffer, t: &Theme) -> String {
        let (w, h) = (buf.area.width, buf.area.height);
        let mut out = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}">
<rect width="100%" height="100%" rx="6" fill="{}"/>
<g font-family="'JetBrains Mono','DejaVu Sans Mono',Menlo,Consolas,monospace" font-size="15">
"#,
            w as f32 * CW + 16.0,
            h as f32 * CH + 16.0,
            w as f32 * CW + 16.0,
            h as f32 * CH + 16.0,
            t.bg,
        );
        for y in 0..h {
            let mut x = 0;
            while x < w {
                let cell = &buf[(x, y)];
                let reversed = cell.modifier.contains(Modifier::REVERSED);
                let (mut fg, bg) = if reversed {
                    (hex(t, cell.bg, t.bg), hex(t, cell.fg, t.fg))
                } else {
                    (hex(t, cell.fg, t.fg), hex(t, cell.bg, t.bg))
                };
                if cell.modifier.contains(Modifier::DIM) && !reversed {
                    fg = t.dim.into();
                }
                let bold = cell.modifier.contains(Modifier::BOLD);
                // A run of cells with the same look.
                let start = x;
                let mut text = String::new();
                while x < w {
                    let c = &buf[(x, y)];
                    let same = c.fg == cell.fg && c.bg == cell.bg && c.modifier == cell.modifier;
                    if !same {
                        break;
                    }
                    text.push_str(c.symbol());
                    x += 1;
                }
                let px = 8.0 + start as f32 * CW;
                let py = 8.0 + y as f32 * CH;
                if bg != t.bg {
                    out.push_str(&format!(
                        r#"<rect x="{px:.1}" y="{py:.1}" width="{:.1}" height="{CH}" fill="{bg}"/>"#,
                        (x - start) as f32 * CW
                    ));
                }
                if !text.trim().is_empty() {
                    out.push_str(&format!(
                        r#"<text x="{px:.1}" y="{:.1}" fill="{fg}" xml:space="preserve" textLength="{:.1}" lengthAdjust="spacingAndGlyphs"{}>{}</text>"#,
                        py + 13.2,
                        (x - start) as f32 * CW,
                        if bold { r#" font-weight="bold""# } else { "" },
                        esc(&text)
                    ));
                }
                out.push('\n');
            }
        }
        out.push_str("</g>\n</svg>\n");
        out
    }
}

/// The text of the cells drawn in reverse video, row by row.
fn reversed_rows(d: &Driver) -> Vec<String> {
    let t = render(d);
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| &buf[(x, y)])
                .filter(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED))
                .map(|c| c.symbol())
                .collect::<String>()
        })
        .filter(|r| !r.trim().is_empty())
        .collect()
}

#[test]
fn the_selection_shows_without_colour() {
    // NO_COLOR drops colours, not reverse video: every list's selected row
    // must be reversed, focused or not.
    let mut d = secrets((100, 30));
    d.key(KeyCode::Down);
    let rows = reversed_rows(&d);
    assert!(
        rows.iter().any(|r| r.contains("database-url")),
        "the selected secret: {rows:?}"
    );
    d.key(KeyCode::Tab);
    let rows = reversed_rows(&d);
    assert!(
        rows.iter().any(|r| r.contains("database-url")),
        "the selected secret while the details have the focus: {rows:?}"
    );

    let mut d = Driver::new((100, 30), None);
    d.pick_token(fixtures::identity(&["sandbox", "team-a", "team-b"], false));
    d.key(KeyCode::Down);
    let rows = reversed_rows(&d);
    assert!(
        rows.iter().any(|r| r.contains("team-a")),
        "the selected namespace: {rows:?}"
    );

    let mut d = secrets((100, 30));
    d.type_str("y");
    assert!(
        !reversed_rows(&d).is_empty(),
        "the copy menu's selected item"
    );
}

fn footer_of(d: &Driver) -> String {
    let t = render(d);
    let buf = t.backend().buffer();
    row_text(buf, buf.area.height - 1)
}

#[test]
fn the_footer_fits_its_keys_and_says_when_there_are_more() {
    // At 120 columns the keys used most fit, in fewer words; `?` says
    // there are more (D, s/S, p).
    let footer = footer_of(&secrets((120, 30)));
    for hint in [
        "? more",
        "/ filter",
        "n new",
        "e edit",
        "v reveal",
        "y copy",
        "d delete",
        "b bind",
        "h history",
        "r reload",
        "N namespace",
        "T token",
        "q quit",
    ] {
        assert!(
            footer.contains(hint),
            "{hint:?} missing at 120 columns: {footer:?}"
        );
    }
    // With room for all, `?` is plain help.
    let footer = footer_of(&secrets((160, 30)));
    for hint in ["? help", "D deleted", "s/S sort", "p policy", "q quit"] {
        assert!(
            footer.contains(hint),
            "{hint:?} missing at 160 columns: {footer:?}"
        );
    }
    // Narrower, the least needed go first, `q` stays, and `?` says more.
    for width in [100, 60, 40] {
        let footer = footer_of(&secrets((width, 30)));
        assert!(footer.contains("? more"), "at {width}: {footer:?}");
        assert!(
            footer.trim_end().ends_with("q quit"),
            "at {width}: {footer:?}"
        );
        assert!(!footer.contains("p policy"), "at {width}: {footer:?}");
    }
    let footer = footer_of(&secrets((100, 30)));
    for hint in ["e edit", "v reveal", "d delete", "r reload"] {
        assert!(
            footer.contains(hint),
            "{hint:?} missing at 100 columns: {footer:?}"
        );
    }
}

/// The text of a screen, row by row.
fn screen(d: &Driver) -> Vec<String> {
    let t = render(d);
    let buf = t.backend().buffer();
    (0..buf.area.height).map(|y| row_text(buf, y)).collect()
}

#[test]
fn long_names_end_in_an_ellipsis_and_the_dates_make_room_first() {
    let long = format!("payments-{}", "x".repeat(54)); // 63 characters, the longest allowed
    let mut rows = fixtures::sample_rows();
    rows[0].name = long.clone();
    check("secrets_long_name", |size| {
        Driver::in_namespace(size, rows.clone())
    });
    let d = Driver::in_namespace((100, 30), rows.clone());
    let lines = screen(&d);
    let table = lines.join("\n");
    // The table is half of 100 columns: CREATED goes, CHANGED stays, and
    // the name is cut with "…", never silently.
    assert!(!table.contains("CREATED"), "{table}");
    assert!(table.contains("CHANGED"), "{table}");
    let row = lines
        .iter()
        .find(|l| l.contains("payments-x"))
        .expect("the long name's row");
    assert!(row.contains("xxx…"), "{row}");
    assert!(!row.contains(&long), "{row}");
    // Short names keep both dates.
    let d = Driver::in_namespace((100, 30), fixtures::sample_rows());
    assert!(screen(&d).join("\n").contains("CREATED"));
}

#[test]
fn lists_say_where_the_selection_is() {
    let mut d = Driver::in_namespace((100, 30), fixtures::many_rows(1510));
    assert!(screen(&d).join("\n").contains(" 1/1510 "));
    for _ in 0..11 {
        d.key(KeyCode::Down);
    }
    let lines = screen(&d);
    assert!(lines.join("\n").contains(" 12/1510 "), "{lines:#?}");
    // A list longer than its box has a scrollbar thumb on its right border.
    assert!(
        lines.iter().any(|l| l.chars().nth(49) == Some('┃')),
        "{lines:#?}"
    );
    // A filter counts what it shows.
    d.type_str("/").type_str("00012");
    assert!(screen(&d).join("\n").contains(" 1/1 "), "{:#?}", screen(&d));
}
