//! The `?` help overlay: what it lists, searching it (`/`), scrolling it
//! and closing it.

use crossterm::event::{KeyCode, KeyEvent};

use super::App;
use super::keymap::{self, Binding, HELP_SECTIONS, KeyContext, bind, ch, key, text};
use super::layout;
use super::line;
use super::nav::scroll_keys;

/// What a key does over the help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpCmd {
    /// Close the help.
    Close,
    /// Scroll by this many lines (negative: up).
    Scroll(i8),
    /// Scroll by this many halves of the visible height (negative: up).
    Halves(i8),
    /// To the first line.
    Top,
    /// To the last page.
    Bottom,
    /// Start typing a search.
    Search,
}

/// What a key does while a help search is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpSearchCmd {
    /// Stop typing; the search stays.
    Keep,
    /// Clear the search.
    Clear,
}

/// The keys while typing a help search.
pub fn search_keys() -> Vec<Binding<HelpSearchCmd>> {
    let mut rows = vec![
        text("type", "search keys and what they do", true),
        bind(
            "Enter",
            "keep the search",
            true,
            &[key(KeyCode::Enter)],
            HelpSearchCmd::Keep,
        ),
        bind(
            "Esc",
            "clear the search",
            true,
            &[key(KeyCode::Esc)],
            HelpSearchCmd::Clear,
        )
        .pinned(),
    ];
    rows.extend(line::keys());
    rows
}

/// One line of the help as it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelpLine {
    /// Between sections.
    Blank,
    /// A section's title; `here` marks the keys of where the user is.
    Title { title: &'static str, here: bool },
    /// One row of keys.
    Key { keys: String, what: &'static str },
}

/// The help's lines: every section, the one of `here` first; with a
/// `query`, only the rows whose keys or words hold it (case-insensitive),
/// under their section's title, and every row of a section whose title
/// holds it.
pub fn help_lines(here: KeyContext, query: &str) -> Vec<HelpLine> {
    let query = query.trim().to_lowercase();
    let mut lines = Vec::new();
    for (i, (title, ctx)) in sections(here).into_iter().enumerate() {
        let title_hit = title.to_lowercase().contains(&query);
        let rows: Vec<HelpLine> = keymap::keys(ctx)
            .into_iter()
            .filter(|k| {
                title_hit
                    || k.keys.to_lowercase().contains(&query)
                    || k.what.to_lowercase().contains(&query)
            })
            .map(|k| HelpLine::Key {
                keys: k.keys,
                what: k.what,
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        if !lines.is_empty() {
            lines.push(HelpLine::Blank);
        }
        lines.push(HelpLine::Title {
            title,
            here: i == 0 && ctx == here && here != KeyContext::Global,
        });
        lines.extend(rows);
    }
    lines
}

/// The help overlay's keys.
pub fn keys() -> Vec<Binding<HelpCmd>> {
    let mut rows = scroll_keys(
        HelpCmd::Scroll,
        HelpCmd::Halves,
        HelpCmd::Top,
        HelpCmd::Bottom,
    );
    rows.extend([
        bind("/", "search the keys", true, &[ch('/')], HelpCmd::Search).brief("search"),
        bind(
            "?/F1/Esc/q",
            "close help",
            true,
            &[ch('?'), key(KeyCode::F(1)), key(KeyCode::Esc), ch('q')],
            HelpCmd::Close,
        )
        .short("?/Esc/q")
        .pinned(),
    ]);
    rows
}

/// The sections of the help, in order: the one of `here` first, as the
/// variant that applies here, so the help says what the keys do here.
pub fn sections(here: KeyContext) -> Vec<(&'static str, KeyContext)> {
    let mut sections: Vec<(&'static str, KeyContext)> = HELP_SECTIONS.to_vec();
    if let Some(i) = sections
        .iter()
        .position(|(_, c)| *c == keymap::section_of(here))
    {
        let (title, _) = sections.remove(i);
        sections.insert(0, (title, here));
    }
    sections
}

impl App {
    pub(super) fn on_help(&mut self, cmd: HelpCmd) {
        let Some(scroll) = self.state.help else {
            return;
        };
        // The search line sits above the list while there is a search.
        let searching = self.state.help_searching || !self.state.help_query.is_empty();
        let rows = layout::help_rows(self.state.size).saturating_sub(u16::from(searching));
        let total = u16::try_from(
            help_lines(self.state.context_below_help(), &self.state.help_query).len(),
        )
        .unwrap_or(u16::MAX);
        let last = total.saturating_sub(rows);
        let half = (rows / 2).max(1);
        self.state.help = match cmd {
            HelpCmd::Close => {
                self.state.help_query = Default::default();
                self.state.help_searching = false;
                None
            }
            HelpCmd::Search => {
                self.state.help_searching = true;
                Some(scroll)
            }
            HelpCmd::Scroll(by) => Some(scroll.saturating_add_signed(i16::from(by))),
            HelpCmd::Halves(n) => {
                Some(scroll.saturating_add_signed(i16::from(n).saturating_mul(half as i16)))
            }
            HelpCmd::Top => Some(0),
            HelpCmd::Bottom => Some(last),
        }
        .map(|s| s.min(last));
    }
}

impl App {
    pub(super) fn on_help_search(&mut self, cmd: HelpSearchCmd) {
        self.state.help_searching = false;
        if cmd == HelpSearchCmd::Clear {
            self.state.help_query = Default::default();
        }
        self.state.help = Some(0);
    }

    /// A key typed into the help search: the list narrows as it is typed.
    pub(super) fn help_text(&mut self, event: KeyEvent) {
        if self.state.help_query.input(event) {
            self.state.help = Some(0);
        }
    }
}
