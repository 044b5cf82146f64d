//! Line diffs between two values of a secret, with the changed characters
//! of a changed line marked, and masked unless the user asked to see them.
//! The verbs print them; the app draws them.

use std::time::Duration;

use similar::{ChangeTag, DiffOp, DiffTag, TextDiff};

/// Lines of context kept around each change.
pub const CONTEXT: usize = 3;

/// What a masked line shows instead of its text: the same for every line,
/// so that not even a length is revealed.
pub const MASK: &str = "••••••••";

/// Past this a diff stops looking for the smallest edit and settles for a
/// correct, coarser one: values are at most 64 KiB, but a hostile pair of
/// them must not freeze the app.
const TIMEOUT: Duration = Duration::from_millis(200);

/// Whether a line is in both values, only the old one, or only the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// In both.
    Same,
    /// Only in the old value.
    Removed,
    /// Only in the new value.
    Added,
}

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Where the line is.
    pub kind: Kind,
    /// The line's text without its line break, in parts: `true` marks the
    /// characters that changed against its counterpart line.
    pub parts: Vec<(bool, String)>,
}

impl Line {
    /// The line's whole text.
    pub fn text(&self) -> String {
        self.parts.iter().map(|(_, t)| t.as_str()).collect()
    }
}

/// A run of changes with the context around them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    /// First old line (0-based) and how many old lines the hunk covers.
    pub old: (usize, usize),
    /// First new line (0-based) and how many new lines the hunk covers.
    pub new: (usize, usize),
    /// Its lines, in order.
    pub lines: Vec<Line>,
}

/// The difference between two values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Hunks, in order; none if the values are the same.
    pub hunks: Vec<Hunk>,
    /// Lines only in the new value.
    pub added: usize,
    /// Lines only in the old value.
    pub removed: usize,
    /// The values differ only in the line break at the end of one of them.
    pub final_newline: bool,
}

impl Diff {
    /// Whether the two values are the same.
    pub fn is_empty(&self) -> bool {
        self.hunks.is_empty() && !self.final_newline
    }

    /// "2 lines added, 1 removed", or "no change".
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "no change".into();
        }
        if self.hunks.is_empty() {
            return "only the line break at the end differs".into();
        }
        let plural = |n: usize| if n == 1 { "line" } else { "lines" };
        match (self.added, self.removed) {
            (a, 0) => format!("{a} {} added", plural(a)),
            (0, r) => format!("{r} {} removed", plural(r)),
            (a, r) => format!("{a} {} added, {r} removed", plural(a)),
        }
    }
}

/// The line diff of `old` against `new`. A last line without a line break
/// is the same line as with one (an editor adds or drops it unseen); that
/// the break changed is said in [`Diff::final_newline`] when nothing else did.
pub fn diff(old: &str, new: &str) -> Diff {
    let ended = |s: &str| {
        if s.is_empty() || s.ends_with('\n') {
            s.to_owned()
        } else {
            format!("{s}\n")
        }
    };
    let (old_n, new_n) = (ended(old), ended(new));
    let lines = TextDiff::configure()
        .timeout(TIMEOUT)
        .diff_lines(old_n.as_str(), new_n.as_str());
    let mut out = Diff::default();
    for group in lines.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        let old_range = (
            first.old_range().start,
            last.old_range().end - first.old_range().start,
        );
        let new_range = (
            first.new_range().start,
            last.new_range().end - first.new_range().start,
        );
        let mut hunk = Hunk {
            old: old_range,
            new: new_range,
            lines: Vec::new(),
        };
        for op in &group {
            let changes: Vec<(ChangeTag, &str)> = lines
                .iter_changes(op)
                .map(|c| (c.tag(), c.value()))
                .collect();
            let pairs = paired_lines(op, &changes);
            for (i, (tag, value)) in changes.iter().enumerate() {
                let kind = match tag {
                    ChangeTag::Equal => Kind::Same,
                    ChangeTag::Delete => {
                        out.removed += 1;
                        Kind::Removed
                    }
                    ChangeTag::Insert => {
                        out.added += 1;
                        Kind::Added
                    }
                };
                let text = value.strip_suffix('\n').unwrap_or(value);
                let text = text.strip_suffix('\r').unwrap_or(text);
                let parts = match pairs.get(&i) {
                    Some(other) => marked(text, other, kind),
                    None => vec![(false, text.to_owned())],
                };
                hunk.lines.push(Line { kind, parts });
            }
        }
        out.hunks.push(hunk);
    }
    out.final_newline = out.hunks.is_empty() && old != new;
    out
}

/// In a replacement, the i-th removed line and the i-th added line are each
/// other's counterparts: by change index, the counterpart's text.
fn paired_lines<'a>(
    op: &DiffOp,
    changes: &[(ChangeTag, &'a str)],
) -> std::collections::HashMap<usize, &'a str> {
    let mut pairs = std::collections::HashMap::new();
    if op.tag() != DiffTag::Replace {
        return pairs;
    }
    let removed: Vec<usize> = (0..changes.len())
        .filter(|&i| changes[i].0 == ChangeTag::Delete)
        .collect();
    let added: Vec<usize> = (0..changes.len())
        .filter(|&i| changes[i].0 == ChangeTag::Insert)
        .collect();
    let bare = |s: &'a str| s.strip_suffix('\n').unwrap_or(s);
    for (&r, &a) in removed.iter().zip(&added) {
        pairs.insert(r, bare(changes[a].1));
        pairs.insert(a, bare(changes[r].1));
    }
    pairs
}

/// `text` in parts, the characters that differ from `other` marked.
fn marked(text: &str, other: &str, kind: Kind) -> Vec<(bool, String)> {
    let other = other.strip_suffix('\r').unwrap_or(other);
    let (old, new) = if kind == Kind::Removed {
        (text, other)
    } else {
        (other, text)
    };
    let chars = TextDiff::configure().timeout(TIMEOUT).diff_chars(old, new);
    let keep = if kind == Kind::Removed {
        ChangeTag::Delete
    } else {
        ChangeTag::Insert
    };
    let mut parts: Vec<(bool, String)> = Vec::new();
    for change in chars.iter_all_changes() {
        let changed = match change.tag() {
            ChangeTag::Equal => false,
            tag if tag == keep => true,
            _ => continue,
        };
        match parts.last_mut() {
            Some((c, s)) if *c == changed => s.push_str(change.value()),
            _ => parts.push((changed, change.value().to_owned())),
        }
    }
    parts
}

/// The diff as a unified diff: `---`/`+++` naming the two versions, `@@`
/// hunk headers, `-`/`+`/space prefixed lines. Lines are masked unless
/// `show`.
pub fn unified(d: &Diff, from: &str, to: &str, show: bool) -> String {
    let mut out = format!("--- {from}\n+++ {to}\n");
    for hunk in &d.hunks {
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(hunk.old),
            range(hunk.new)
        ));
        for line in &hunk.lines {
            let prefix = match line.kind {
                Kind::Same => ' ',
                Kind::Removed => '-',
                Kind::Added => '+',
            };
            let text = if show { line.text() } else { MASK.to_owned() };
            out.push_str(&format!("{prefix}{text}\n"));
        }
    }
    out
}

/// A hunk range as unified diffs write it: 1-based start, and the count
/// unless it is one.
fn range((start, len): (usize, usize)) -> String {
    match len {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        n => format!("{},{n}", start + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_values_have_no_hunks() {
        let d = diff("a\nb\n", "a\nb\n");
        assert!(d.is_empty());
        assert_eq!(d.summary(), "no change");
    }

    #[test]
    fn a_changed_line_marks_its_changed_characters() {
        let d = diff(
            "host=db\nport=5432\nuser=app\n",
            "host=db\nport=6432\nuser=app\n",
        );
        assert_eq!((d.added, d.removed), (1, 1));
        let lines = &d.hunks[0].lines;
        let removed = lines.iter().find(|l| l.kind == Kind::Removed).unwrap();
        let added = lines.iter().find(|l| l.kind == Kind::Added).unwrap();
        assert_eq!(
            removed.parts,
            [
                (false, "port=".into()),
                (true, "5".into()),
                (false, "432".into())
            ]
        );
        assert_eq!(
            added.parts,
            [
                (false, "port=".into()),
                (true, "6".into()),
                (false, "432".into())
            ]
        );
        assert_eq!(d.summary(), "1 line added, 1 removed");
    }

    #[test]
    fn unified_output_with_and_without_values() {
        let old = "one\ntwo\nthree\n";
        let new = "one\nTWO\nthree\nfour";
        let d = diff(old, new);
        assert_eq!(
            unified(&d, "a", "b", true),
            "--- a\n+++ b\n@@ -1,3 +1,4 @@\n one\n-two\n+TWO\n three\n+four\n"
        );
        let masked = unified(&d, "a", "b", false);
        for secret in ["one", "two", "TWO", "three", "four"] {
            assert!(!masked.contains(secret), "{masked}");
        }
        assert_eq!(masked.lines().filter(|l| l.starts_with('+')).count(), 3);
        assert_eq!(d.summary(), "2 lines added, 1 removed");
    }

    #[test]
    fn a_line_break_added_at_the_end_is_not_a_changed_line() {
        let d = diff("a\nb", "a\nb\nc");
        assert_eq!((d.added, d.removed), (1, 0), "{d:?}");
        let only = diff("a\nb", "a\nb\n");
        assert!(!only.is_empty());
        assert!(only.hunks.is_empty());
        assert_eq!(only.summary(), "only the line break at the end differs");
    }

    #[test]
    fn far_apart_changes_are_separate_hunks() {
        let old: String = (0..30).map(|i| format!("line {i}\n")).collect();
        let new = old
            .replace("line 2\n", "line two\n")
            .replace("line 27\n", "");
        let d = diff(&old, &new);
        assert_eq!(d.hunks.len(), 2);
        assert_eq!(d.hunks[1].old.0, 24);
        assert_eq!(d.summary(), "1 line added, 2 removed");
    }
}
