//! The module layers point down: `demo` runs `tui`, never the other way, so
//! the app has no demo-only paths.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("the source directory is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a source file is readable");
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn tui_does_not_reach_up_into_demo() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![(
        "src/tui.rs".to_owned(),
        std::fs::read_to_string(src.join("tui.rs")).expect("src/tui.rs exists"),
    )];
    sources(&src.join("tui"), &mut files);
    let offenders: Vec<&str> = files
        .iter()
        .filter(|(_, text)| text.contains("crate::demo") || text.contains("demo::"))
        .map(|(path, _)| path.as_str())
        .collect();
    assert!(
        offenders.is_empty(),
        "these tui modules use demo, which sits above them: {offenders:?}"
    );
}
