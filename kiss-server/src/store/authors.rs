//! Who wrote each version. AWS keeps no author per version (CloudTrail
//! names only the server's role), so kiss records the writer's identifier
//! on the secret itself: one tag per recent version,
//! `security.kaluza.com/v-<version id>` = `<unix milliseconds> <identifier>`,
//! the newest [`MAX_AUTHOR_TAGS`] kept. The time orders the tags, so the
//! oldest can be dropped without listing versions; milliseconds, since a
//! script writes several versions within one second. Ownership ignores these
//! tags ([`super::rules::tags_match`] reads only its three).

use std::collections::BTreeMap;

/// The key prefix of an author tag; the version id follows.
pub const TAG_AUTHOR_PREFIX: &str = "security.kaluza.com/v-";

/// Author tags kept per secret: within AWS's 50 tags per resource beside
/// the three ownership tags and room for an operator's own.
pub const MAX_AUTHOR_TAGS: usize = 40;

/// AWS's longest tag value.
const MAX_TAG_VALUE: usize = 256;

/// The tag recording that `author` wrote `version_id` at `millis`.
pub fn tag(version_id: &str, author: &str, millis: u64) -> (String, String) {
    // Tag values allow Unicode letters, digits, spaces and `_ . : / = + -
    // @`; Rust's `is_alphanumeric` takes in marks AWS refuses (and a
    // refused tag fails the create), so only ASCII is kept, the rest `_`.
    let clean: String = author
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut value = format!("{millis} {clean}");
    if let Some((cut, _)) = value.char_indices().nth(MAX_TAG_VALUE) {
        value.truncate(cut);
    }
    (format!("{TAG_AUTHOR_PREFIX}{version_id}"), value)
}

/// One author tag, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authored {
    /// The tag's key.
    pub key: String,
    /// When it was written.
    pub millis: u64,
    /// Who wrote the version.
    pub author: String,
}

/// The author tags among `tags`, by version id. Tags that do not parse
/// (edited by hand) are ignored.
pub fn read<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> BTreeMap<String, Authored> {
    tags.into_iter()
        .filter_map(|(k, v)| {
            let version = k.strip_prefix(TAG_AUTHOR_PREFIX)?;
            let (millis, author) = v.split_once(' ')?;
            let authored = Authored {
                key: k.to_owned(),
                millis: millis.parse().ok()?,
                author: author.to_owned(),
            };
            Some((version.to_owned(), authored))
        })
        .collect()
}

/// The author tag keys to drop so that, with one more added, at most
/// [`MAX_AUTHOR_TAGS`] remain: the oldest.
pub fn to_drop<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut all: Vec<Authored> = read(tags).into_values().collect();
    let excess = (all.len() + 1).saturating_sub(MAX_AUTHOR_TAGS);
    all.sort_by(|a, b| a.millis.cmp(&b.millis).then_with(|| a.key.cmp(&b.key)));
    all.into_iter().take(excess).map(|a| a.key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_keep_only_allowed_characters() {
        let (k, v) = tag("v1", "alice@example.com", 7);
        assert_eq!(k, "security.kaluza.com/v-v1");
        assert_eq!(v, "7 alice@example.com");
        let (_, odd) = tag("v2", "bob,<x>\n", 8);
        assert_eq!(odd, "8 bob__x__");
        let (_, marks) = tag("v4", "किशोर@example.com", 9);
        assert_eq!(marks, "9 _____@example.com");
        let (_, long) = tag("v3", &"a".repeat(400), 9);
        assert_eq!(long.chars().count(), MAX_TAG_VALUE);
        let read = read([
            (k.as_str(), v.as_str()),
            ("security.kaluza.com/v-x", "junk"),
        ]);
        assert_eq!(read.len(), 1);
        assert_eq!(read["v1"].author, "alice@example.com");
    }

    #[test]
    fn the_oldest_are_dropped_to_stay_under_the_cap() {
        let tags: Vec<(String, String)> = (0..MAX_AUTHOR_TAGS as u64)
            .map(|i| tag(&format!("v{i}"), "a", 100 + i))
            .collect();
        let pairs = || tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        assert_eq!(to_drop(pairs()), ["security.kaluza.com/v-v0"]);
        assert!(to_drop(pairs().take(MAX_AUTHOR_TAGS - 1)).is_empty());
        let ownership = [("security.kaluza.com/managed-by", "kiss")];
        assert!(to_drop(ownership).is_empty());
    }
}
