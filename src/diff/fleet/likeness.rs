//! When two clusters change alike: their parts of the plan, with what differs per cluster by
//! construction written as placeholders.
//!
//! A cluster's name reaches its objects in many places (object names, labels, FQDNs, rendered
//! config files), and so do its namespace, its id (a UUID kdrender derives from both) and its
//! roles' rollout hashes. [`Identity::normalize`] writes each occurrence of those as a
//! placeholder, so that one template edit gives the same normalised text in every cluster.
//!
//! Never merging different changes rests on two rules:
//!
//! - an occurrence is a whole word: not preceded or followed by a letter or digit, so cluster
//!   `db` never matches inside `mydb` or `db2`;
//! - the normalised text is an injective encoding: the placeholder marker [`MARK`], where the
//!   text itself holds it, is doubled, and each placeholder names which value it replaced
//!   (name, munged name, namespace, id, hash). Replacing the placeholders with a cluster's own
//!   values gives back exactly its text; so two clusters share a normalised text only when each
//!   one's change is the other's with these values swapped.
//!
//! Rollout hashes are the one exception to "exactly": every hash is the same placeholder, since
//! which digest a role gets says nothing a reviewer can read (the restart and its reasons, which
//! are compared, say why it changed). A name that also occurs as another word in the output (a
//! cluster named like its app) is replaced there too, which may keep alike clusters apart but
//! never merges different ones.

use std::borrow::Cow;

use crate::names::munge;

/// What marks a placeholder in normalised text (a private-use character, doubled where the text
/// itself holds it).
pub const MARK: char = '\u{e000}';

/// What a placeholder stands for; its letter follows [`MARK`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stands {
    Name,
    Munged,
    Namespace,
    Id,
    Hash,
}

impl Stands {
    fn letter(self) -> char {
        match self {
            Stands::Name => 'c',
            Stands::Munged => 'm',
            Stands::Namespace => 'n',
            Stands::Id => 'i',
            Stands::Hash => 'h',
        }
    }
}

/// The values that differ per cluster by construction, longest first (so that a hash or an id
/// is replaced whole before a shorter name could match inside it).
#[derive(Clone, Debug, Default)]
pub struct Identity {
    values: Vec<(String, Stands)>,
    /// The characters the values start with: where the text has none of them, no value starts.
    starts: Vec<char>,
    /// The ASCII ones among them, as bits.
    ascii_starts: u128,
}

impl Identity {
    /// The identity of cluster `name` in `namespace`, whose StatefulSets carry `hashes` (on
    /// either side of the comparison). The namespace itself is a placeholder only when
    /// `namespaces_differ` (the clusters compared lie in several).
    pub fn new<'h>(
        (namespace, name): (&str, &str),
        hashes: impl IntoIterator<Item = &'h String>,
        namespaces_differ: bool,
    ) -> Identity {
        let mut values = vec![
            (name.to_string(), Stands::Name),
            (crate::resolve::cluster_id(namespace, name), Stands::Id),
        ];
        if namespaces_differ {
            values.push((namespace.to_string(), Stands::Namespace));
        }
        let munged = munge(name);
        if munged != name {
            values.push((munged, Stands::Munged));
        }
        values.extend(hashes.into_iter().map(|h| (h.clone(), Stands::Hash)));
        // An empty value would match everywhere.
        values.retain(|(value, _)| !value.is_empty());
        values.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        values.dedup_by(|a, b| a.0 == b.0);
        let mut starts: Vec<char> = values
            .iter()
            .filter_map(|(v, _)| v.chars().next())
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let ascii_starts = starts
            .iter()
            .filter(|c| c.is_ascii())
            .fold(0u128, |bits, &c| bits | 1u128 << u32::from(c));
        Identity {
            values,
            starts,
            ascii_starts,
        }
    }

    /// `text` with every whole-word occurrence of this cluster's values as a placeholder: `text`
    /// itself when it holds none and no marker. Runs of text between occurrences are copied
    /// whole.
    pub fn normalize<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = String::new();
        // `text[..copied]` is in `out`; `at` is where the next character starts.
        let (mut copied, mut at) = (0, 0);
        let mut after_word = false;
        while let Some(&byte) = text.as_bytes().get(at) {
            // Most of the text is ASCII, where a byte is a character: no decoding.
            if byte.is_ascii() && (after_word || !self.may_start(char::from(byte))) {
                after_word = byte.is_ascii_alphanumeric();
                at += 1;
                continue;
            }
            let Some(rest) = text.get(at..) else {
                break;
            };
            let Some(c) = rest.chars().next() else {
                break;
            };
            if !after_word
                && self.may_start(c)
                && let Some((value, stands, tail)) = self.value_at(rest)
            {
                out.push_str(text.get(copied..at).unwrap_or_default());
                out.push(MARK);
                out.push(stands.letter());
                after_word = value.ends_with(is_word);
                at = text.len() - tail.len();
                copied = at;
                continue;
            }
            if c == MARK {
                // Doubled: this one now, the text's own with the run that follows.
                out.push_str(text.get(copied..at).unwrap_or_default());
                out.push(MARK);
                copied = at;
            }
            after_word = is_word(c);
            at += c.len_utf8();
        }
        if copied == 0 && out.is_empty() {
            return Cow::Borrowed(text);
        }
        out.push_str(text.get(copied..).unwrap_or_default());
        Cow::Owned(out)
    }

    /// Whether a value may start with `c`: for ASCII, one bit of a mask.
    fn may_start(&self, c: char) -> bool {
        match u32::from(c) {
            code @ 0..128 => self.ascii_starts & (1u128 << code) != 0,
            _ => self.starts.contains(&c),
        }
    }

    /// The value `text` starts with as a whole word (not followed by a letter or digit), and the
    /// text after it.
    fn value_at<'t>(&self, text: &'t str) -> Option<(&str, Stands, &'t str)> {
        self.values.iter().find_map(|(value, stands)| {
            let tail = text.strip_prefix(value.as_str())?;
            (!tail.starts_with(is_word)).then_some((value.as_str(), *stands, tail))
        })
    }
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(namespace: &str, name: &str, hashes: &[&str]) -> Identity {
        let hashes: Vec<String> = hashes.iter().map(|h| h.to_string()).collect();
        Identity::new((namespace, name), &hashes, true)
    }

    #[test]
    fn the_names_derived_from_a_cluster_normalise_alike() {
        let a = identity("prod", "c1", &["v1-aaaa"]);
        let b = identity("prod", "c22", &["v1-bbbb"]);
        let text = |c: &str, hash: &str| {
            format!(
                "name: {c}-worker\nfqdn: {c}-worker-0.{c}.prod.svc\nkey: node-{c}-worker-0.json\nhash: {hash}\n"
            )
        };
        assert_eq!(
            a.normalize(&text("c1", "v1-aaaa")),
            b.normalize(&text("c22", "v1-bbbb"))
        );
        let id = crate::resolve::cluster_id("prod", "c1");
        assert_eq!(a.normalize(&format!("id: {id}")), "id: \u{e000}i");
    }

    #[test]
    fn only_whole_words_are_replaced() {
        let db = identity("data", "db", &[]);
        assert_eq!(
            db.normalize("db mydb db2 db-0 x.db"),
            "\u{e000}c mydb db2 \u{e000}c-0 x.\u{e000}c"
        );
        // A value followed by a letter or digit is no occurrence: `db` in `db2` stays.
        assert_ne!(
            db.normalize("db2"),
            identity("data", "xy", &[]).normalize("xy2")
        );
    }

    #[test]
    fn occurrences_are_found_anywhere_among_any_characters() {
        let db = identity("data", "db", &[]);
        for (text, normalized) in [
            ("db", "\u{e000}c"),
            ("db.db", "\u{e000}c.\u{e000}c"),
            ("dbdb", "dbdb"),
            ("ü db é", "ü \u{e000}c é"),
            ("édb", "é\u{e000}c"),
            ("x\u{e000}", "x\u{e000}\u{e000}"),
            ("\u{e000}db", "\u{e000}\u{e000}\u{e000}c"),
            ("data/db-0", "\u{e000}n/\u{e000}c-0"),
        ] {
            assert_eq!(db.normalize(text), normalized, "{text}");
        }
        // Text without an occurrence or a marker is handed back as it is, never copied.
        assert!(matches!(
            db.normalize("mydb d b"),
            Cow::Borrowed("mydb d b")
        ));
    }

    #[test]
    fn the_encoding_is_injective_even_for_text_that_holds_the_marker() {
        let a = identity("ns", "a", &[]);
        // The marker followed by `c` in the text is not the placeholder for the name.
        let fake = format!("{MARK}c");
        assert_ne!(a.normalize(&fake), a.normalize("a"));
        assert_eq!(a.normalize(&fake), format!("{MARK}{MARK}c"));
        // Different values never normalise alike: each placeholder says what it replaced.
        assert_ne!(a.normalize("ns"), a.normalize("a"));
    }

    #[test]
    fn different_changes_stay_different() {
        let a = identity("prod", "east", &[]);
        let b = identity("prod", "west", &[]);
        // The same edit with another value, or the other cluster's name, is another change.
        assert_ne!(a.normalize("threads=4 east"), b.normalize("threads=8 west"));
        assert_ne!(a.normalize("peer: west"), b.normalize("peer: east"));
    }
}
