//! With 10,000 secrets listed: one filter keystroke plus the redraw it
//! causes, into a 100x30 TestBackend. Target: at most 16 ms (one frame at
//! 60 Hz). Run: `cargo bench -p kiss-tui --bench tui_filter`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::KeyCode;
use kiss_tui::app::fixtures::{self, Driver};
use kiss_tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn filter_keystroke(c: &mut Criterion) {
    let mut d = Driver::in_namespace((100, 30), fixtures::many_rows(10_000));
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    d.key(KeyCode::Char('/'));
    term.draw(|f| view::draw(f, &d.app.state)).unwrap();

    // From an empty filter: every one of the 10,000 names is checked.
    c.bench_function("first filter keystroke + redraw, 10k secrets", |b| {
        b.iter(|| {
            d.key(KeyCode::Char('7'));
            term.draw(|f| view::draw(f, black_box(&d.app.state)))
                .unwrap();
            // Undo it, so every round starts from the empty filter; the
            // undo is measured too, so this is an upper bound.
            d.key(KeyCode::Backspace);
            d.effects.clear();
        })
    });

    c.bench_function("backspace to an empty filter + redraw, 10k secrets", |b| {
        b.iter(|| {
            d.key(KeyCode::Char('7'));
            d.key(KeyCode::Backspace);
            term.draw(|f| view::draw(f, black_box(&d.app.state)))
                .unwrap();
            d.effects.clear();
        })
    });

    d.type_str("svc-0");
    c.bench_function("narrowing keystroke + redraw, 10k secrets", |b| {
        b.iter(|| {
            d.key(KeyCode::Char('4'));
            term.draw(|f| view::draw(f, black_box(&d.app.state)))
                .unwrap();
            d.key(KeyCode::Backspace);
            d.effects.clear();
        })
    });
    c.bench_function("redraw only, 10k secrets", |b| {
        b.iter(|| {
            term.draw(|f| view::draw(f, black_box(&d.app.state)))
                .unwrap();
        })
    });
}

criterion_group!(benches, filter_keystroke);
criterion_main!(benches);
