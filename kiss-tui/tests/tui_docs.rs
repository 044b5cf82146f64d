//! The key map in docs/tui.md is the one the app uses: every key of every
//! screen appears there, with the same words.

use kiss_tui::app::keymap::{self, HELP_SECTIONS};

#[test]
fn docs_list_every_key() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/tui.md"))
        .expect("docs/tui.md exists");
    let mut missing = Vec::new();
    for (title, ctx) in HELP_SECTIONS {
        for k in keymap::keys(*ctx) {
            let row = format!("| `{}` | {} |", k.keys, k.what);
            if !doc.contains(&row) {
                missing.push(format!("{title}: {row}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/tui.md lacks:\n{}",
        missing.join("\n")
    );
}
