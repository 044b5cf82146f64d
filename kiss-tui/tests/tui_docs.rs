//! The key list in docs/tui.md is drawn from the app's key tables, the same
//! ones the footer, the help overlay and the key handlers use. After a
//! change to a table, `KISS_WRITE_DOCS=1 cargo test -p kiss-tui --test
//! tui_docs` rewrites the list; without it, a list that differs fails.

use kiss_tui::app::keymap::{self, HELP_SECTIONS, KeyContext};

const START: &str =
    "<!-- keys: generated from kiss-tui/src/app/keymap.rs by tests/tui_docs.rs -->\n";
const END: &str = "<!-- keys: end -->\n";

/// Contexts that only vary a help section, with the rows they change.
const VARIANTS: &[(&str, KeyContext)] = &[
    (
        "Token picker opened with `T` or `t`",
        KeyContext::TokensBack,
    ),
    ("Update form (`e`)", KeyContext::EditorUpdate),
];

fn table() -> String {
    let mut out = String::from("| Where | Key | What it does |\n|---|---|---|\n");
    let mut section = |title: &str, rows: Vec<keymap::KeyHelp>| {
        for (i, k) in rows.iter().enumerate() {
            let title = if i == 0 {
                code_keys(title)
            } else {
                String::new()
            };
            let title = if title.is_empty() {
                " ".to_owned()
            } else {
                format!(" {title} ")
            };
            out.push_str(&format!("|{title}| `{}` | {} |\n", k.keys, k.what));
        }
    };
    for (title, ctx) in HELP_SECTIONS {
        section(title, keymap::keys(*ctx));
        for (variant, v) in VARIANTS {
            if keymap::section_of(*v) != *ctx {
                continue;
            }
            let base: Vec<(String, &str)> = keymap::keys(*ctx)
                .into_iter()
                .map(|k| (k.keys, k.what))
                .collect();
            let differ = keymap::keys(*v)
                .into_iter()
                .filter(|k| !base.contains(&(k.keys.clone(), k.what)))
                .collect();
            section(variant, differ);
        }
    }
    out
}

/// A section title with the key in its parentheses as code: `Copy menu (`y`)`.
fn code_keys(title: &str) -> String {
    let mut out = String::new();
    let mut rest = title;
    while let Some(open) = rest.find('(') {
        let close = rest[open..].find(')').map(|c| open + c);
        match close {
            Some(close) if close - open <= 3 && !rest[open + 1..close].contains('`') => {
                out.push_str(&rest[..open]);
                out.push_str(&format!("(`{}`)", &rest[open + 1..close]));
                rest = &rest[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn docs_list_every_key_from_the_tables() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/tui.md");
    let doc = std::fs::read_to_string(path).expect("docs/tui.md exists");
    let (Some(start), Some(end)) = (doc.find(START), doc.find(END)) else {
        panic!("docs/tui.md lacks the generated key list's markers:\n{START}{END}");
    };
    let generated = table();
    let current = &doc[start + START.len()..end];
    if current == generated {
        return;
    }
    if std::env::var_os("KISS_WRITE_DOCS").is_some() {
        let new = format!("{}{START}{generated}{}", &doc[..start], &doc[end..]);
        std::fs::write(path, new).expect("docs/tui.md is writable");
        return;
    }
    panic!(
        "docs/tui.md's key list is not the app's. Rewrite it with\n  KISS_WRITE_DOCS=1 cargo test -p kiss-tui --test tui_docs\nExpected:\n{generated}"
    );
}
