//! The spanned document tree that both input syntaxes parse into.
//!
//! YAML and JSON files become the same [`Node`] tree, in which every value and every mapping key
//! knows its byte range in the file. Later stages convert a tree to `serde_json::Value` for schema
//! checks and typed decoding, and find their way back from a JSON pointer (what schema errors and
//! semantic checks report) to a line in the file with [`Node::locate`].
//!
//! Both parsers are bounded ([`Limits`]): nesting depth, and what all the files of one run may
//! expand to together — values (keys and alias copies included) and bytes of text that aliases
//! copy — so that no input can exhaust the stack or memory. Files parse in parallel against one
//! shared [`Budget`]; when it runs out, [`parse_files`] parses again in file order, so that the
//! file and line blamed never depend on scheduling.

#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

mod json;
mod yaml;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::source::Span;

pub use json::parse_json;
pub use yaml::parse_yaml;

/// Bounds applied while parsing.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most values all files of a run may expand to together: keys, values and alias copies,
    /// and [`DOCUMENT_VALUES`] for each document.
    pub max_nodes: usize,
    /// Most bytes of keys and strings that aliases may copy, all files together.
    pub max_alias_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_nodes: 2_000_000,
            max_alias_bytes: 16 << 20,
        }
    }
}

/// What a document costs beyond its values (the record that keeps it, its classification), in
/// values: a stream of empty documents must not be cheaper than a list of values.
pub const DOCUMENT_VALUES: usize = 8;

/// What the files of one run have used of their [`Limits`], shared by parsers running in
/// parallel.
#[derive(Debug, Default)]
pub struct Budget {
    nodes: AtomicUsize,
    alias_bytes: AtomicUsize,
}

impl Budget {
    fn used(&self) -> (usize, usize) {
        (
            self.nodes.load(Ordering::Relaxed),
            self.alias_bytes.load(Ordering::Relaxed),
        )
    }

    fn reset(&self, (nodes, alias_bytes): (usize, usize)) {
        self.nodes.store(nodes, Ordering::Relaxed);
        self.alias_bytes.store(alias_bytes, Ordering::Relaxed);
    }

    fn exceeded(&self, limits: &Limits) -> bool {
        let (nodes, alias_bytes) = self.used();
        nodes > limits.max_nodes || alias_bytes > limits.max_alias_bytes
    }
}

/// One parser's account against the shared [`Budget`]: it adds to the shared counters in
/// batches (one atomic operation per batch, not per value) and checks against what it last
/// saw of them plus its own pending count, which is exact when files parse one at a time.
struct Meter<'a> {
    limits: Limits,
    budget: &'a Budget,
    seen: (usize, usize),
    pending: (usize, usize),
}

/// Values a parser counts before adding them to the shared budget.
const METER_BATCH: usize = 4096;

/// Which limit ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Exhausted {
    Values,
    AliasBytes,
}

impl<'a> Meter<'a> {
    fn new(limits: Limits, budget: &'a Budget) -> Self {
        Meter {
            limits,
            budget,
            seen: budget.used(),
            pending: (0, 0),
        }
    }

    fn charge(&mut self, nodes: usize, alias_bytes: usize) -> Result<(), Exhausted> {
        self.pending.0 = self.pending.0.saturating_add(nodes);
        self.pending.1 = self.pending.1.saturating_add(alias_bytes);
        if self.seen.0.saturating_add(self.pending.0) > self.limits.max_nodes {
            return Err(Exhausted::Values);
        }
        if self.seen.1.saturating_add(self.pending.1) > self.limits.max_alias_bytes {
            return Err(Exhausted::AliasBytes);
        }
        if self.pending.0 >= METER_BATCH || alias_bytes > 0 {
            self.flush();
        }
        Ok(())
    }

    fn flush(&mut self) {
        let add = |counter: &AtomicUsize, amount: usize| {
            let before = counter
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
                    Some(v.saturating_add(amount))
                })
                .unwrap_or_else(|v| v);
            before.saturating_add(amount)
        };
        self.seen = (
            add(&self.budget.nodes, self.pending.0),
            add(&self.budget.alias_bytes, self.pending.1),
        );
        self.pending = (0, 0);
    }

    /// The error for an exhausted limit, at `span`.
    fn error(&self, exhausted: Exhausted, span: Span) -> ParseError {
        let message = match exhausted {
            Exhausted::Values => format!(
                "the inputs expand to more than {} values in all (keys, aliases and documents included); refusing to go on",
                self.limits.max_nodes
            ),
            Exhausted::AliasBytes => format!(
                "YAML aliases copy more than {} bytes of text in all; refusing to go on",
                self.limits.max_alias_bytes
            ),
        };
        ParseError {
            message,
            span,
            over_budget: true,
        }
    }
}

impl Drop for Meter<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The syntax a file is parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    Yaml,
    Json,
}

/// Parses one file against the run's budget.
fn parse_with(
    text: &str,
    syntax: Syntax,
    limits: Limits,
    budget: &Budget,
) -> Result<Vec<Node>, ParseError> {
    match syntax {
        Syntax::Yaml => yaml::parse(text, limits, budget),
        Syntax::Json => json::parse(text, limits, budget).map(|node| vec![node]),
    }
}

/// Parses files on every core against the run's shared `budget`, keeping their order, and
/// hands each document to `reduce` on the worker that parsed it (to drop what the caller will
/// not keep before the next file is parsed). When the budget runs out, the files are parsed
/// again one after the other from where the budget stood, so that the file and the place
/// reported are always the same; files after that one are not parsed (their result is empty:
/// the run fails on the reported error).
pub fn parse_files(
    files: &[(&str, Syntax)],
    limits: Limits,
    budget: &Budget,
    reduce: impl Fn(&mut Node) + Sync,
) -> Vec<Result<Vec<Node>, ParseError>> {
    let parse_and_reduce = |text, syntax| {
        parse_with(text, syntax, limits, budget).map(|mut nodes| {
            nodes.iter_mut().for_each(&reduce);
            nodes
        })
    };
    let before = budget.used();
    let results = crate::parallel::map(files, |&(text, syntax)| parse_and_reduce(text, syntax));
    let over = |r: &Result<Vec<Node>, ParseError>| r.as_ref().is_err_and(|e| e.over_budget);
    if !budget.exceeded(&limits) && !results.iter().any(over) {
        return results;
    }
    drop(results);
    budget.reset(before);
    let mut exhausted = false;
    files
        .iter()
        .map(|&(text, syntax)| {
            if exhausted {
                return Ok(Vec::new());
            }
            let result = parse_and_reduce(text, syntax);
            exhausted = over(&result);
            result
        })
        .collect()
}

/// Parses one file again, with a budget of its own: for a file that has passed the run's
/// limits and budget once, to read whole what was dropped from it then.
pub fn parse_again(text: &str, syntax: Syntax, limits: Limits) -> Result<Vec<Node>, ParseError> {
    parse_with(text, syntax, limits, &Budget::default())
}

/// A syntax error, or a limit exceeded, at a place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
    /// The run's budget ran out (rather than this file being malformed).
    pub over_budget: bool,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

impl ParseError {
    fn new(message: impl Into<String>, span: Span) -> Self {
        ParseError {
            message: message.into(),
            span,
            over_budget: false,
        }
    }
}

/// The span of the character at byte `at` (moved back to the start of a character, and empty
/// at the end of the text): where a syntax error found at one byte is shown.
fn char_span(text: &str, at: usize) -> Span {
    let mut start = at.min(text.len());
    while !text.is_char_boundary(start) {
        start = start.saturating_sub(1);
    }
    let width = text
        .get(start..)
        .and_then(|rest| rest.chars().next())
        .map_or(0, char::len_utf8);
    Span::new(start, start.saturating_add(width))
}

/// Sorts a mapping's entries by key (so that [`Node::get`] and [`Node::locate`] can search
/// them) and refuses a key that appears twice, pointing at the repetition that comes first in
/// the file. Sorting the entries instead of keeping a set of keys copies no key.
fn sorted_entries(mut entries: Vec<Entry>, what: &str) -> Result<Vec<Entry>, ParseError> {
    entries.sort_by(|a, b| a.key.cmp(&b.key).then(a.key_span.cmp(&b.key_span)));
    let repeated = entries
        .windows(2)
        .filter_map(|pair| match pair {
            [first, second] if first.key == second.key => Some(second),
            _ => None,
        })
        .min_by_key(|entry| entry.key_span.start);
    if let Some(entry) = repeated {
        return Err(ParseError::new(
            format!("duplicate key `{}` in the same {what}", entry.key),
            entry.key_span,
        ));
    }
    entries.shrink_to_fit();
    Ok(entries)
}

/// A value with the byte range it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    /// Entries sorted by key (the parsers refuse a key written twice).
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry for `key`; mapping entries are sorted by key, so this is a binary search.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries
                .binary_search_by(|e| e.key.as_str().cmp(key))
                .ok()
                .and_then(|i| entries.get(i)),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// Plain data for schema checks and serde decoding.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// The span a JSON pointer (`/spec/roles/0/id`) designates: the value if it exists, otherwise
    /// the deepest existing ancestor. With `want_key`, a final mapping member is located by its
    /// key rather than its value (for "unknown field" messages).
    pub fn locate(&self, pointer: &str, want_key: bool) -> Span {
        let mut node = self;
        let mut segments = pointer_segments(pointer).peekable();
        while let Some(segment) = segments.next() {
            let last = segments.peek().is_none();
            match &node.value {
                Value::Map(_) => match node.entry(&segment) {
                    Some(entry) if last && want_key => return entry.key_span,
                    Some(entry) => node = &entry.value,
                    None => return node.span,
                },
                Value::Seq(items) => match segment.parse::<usize>().ok().and_then(|i| items.get(i))
                {
                    Some(item) => node = item,
                    None => return node.span,
                },
                _ => return node.span,
            }
        }
        node.span
    }
}

/// Decodes the segments of an RFC 6901 JSON pointer.
pub fn pointer_segments(pointer: &str) -> impl Iterator<Item = String> + '_ {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
}

/// Escapes one segment for a JSON pointer.
pub fn pointer_escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
// A panic in a test is a failed test: tests may index and add freely.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn pointers_locate_values_keys_and_fall_back_to_ancestors() {
        let text = "spec:\n  roles:\n  - id: a\n  - id: b\n";
        let docs = parse_yaml(text, Limits::default()).unwrap();
        let root = &docs[0];
        let at = |p, key| {
            let span = root.locate(p, key);
            &text[span.start..span.end]
        };
        assert_eq!(at("/spec/roles/1/id", false), "b");
        assert_eq!(at("/spec/roles/1/id", true), "id");
        let fallback = at("/spec/roles/7", false);
        assert!(
            fallback.contains("id: a") && fallback.contains("id: b"),
            "{fallback:?}"
        );
        assert_eq!(
            pointer_segments("/a~1b/c~0d").collect::<Vec<_>>(),
            ["a/b", "c~d"]
        );
    }

    /// A file of `values` values: one sequence of `values - 1` small integers.
    fn file_of(values: usize) -> String {
        let items: Vec<String> = (1..values).map(|i| i.to_string()).collect();
        format!("[{}]\n", items.join(", "))
    }

    fn small_limits() -> Limits {
        Limits {
            max_nodes: 10_000,
            ..Limits::default()
        }
    }

    #[test]
    fn the_value_budget_counts_every_file_of_a_run() {
        // Each file alone is far under the limit; together they are over it.
        let texts: Vec<String> = (0..12).map(|_| file_of(1_000)).collect();
        let files: Vec<(&str, Syntax)> = texts.iter().map(|t| (t.as_str(), Syntax::Yaml)).collect();
        for (text, syntax) in &files {
            assert!(parse_with(text, *syntax, small_limits(), &Budget::default()).is_ok());
        }
        let results = parse_files(&files, small_limits(), &Budget::default(), |_| {});
        // Each file costs 1,000 values and a document: the tenth goes over 10,000.
        let first_error = results.iter().position(Result::is_err).unwrap();
        assert_eq!(first_error, 9);
        let error = results[9].as_ref().unwrap_err();
        assert!(error.over_budget);
        assert!(
            error.message.contains("more than 10000 values in all"),
            "{}",
            error.message
        );
        assert!(
            results[..9]
                .iter()
                .all(|r| r.as_ref().is_ok_and(|d| d.len() == 1))
        );
        // Files after it are not parsed at all.
        assert!(
            results[10..]
                .iter()
                .all(|r| r.as_ref().is_ok_and(Vec::is_empty))
        );
    }

    #[test]
    fn the_file_and_place_blamed_never_depend_on_scheduling() {
        // Uneven files, parsed on several threads: the report is always the sequential one.
        let texts: Vec<String> = (0..40).map(|i| file_of(100 + (i * 37) % 500)).collect();
        let mut files: Vec<(&str, Syntax)> =
            texts.iter().map(|t| (t.as_str(), Syntax::Yaml)).collect();
        let json = file_of(300);
        files.insert(5, (json.as_str(), Syntax::Json));
        let expected: Vec<_> = {
            let budget = Budget::default();
            let mut out = Vec::new();
            let mut over = false;
            for (text, syntax) in &files {
                if over {
                    out.push(Ok(Vec::new()));
                    continue;
                }
                let result = parse_with(text, *syntax, small_limits(), &budget);
                over = result.is_err();
                out.push(result);
            }
            out
        };
        assert!(expected.iter().any(Result::is_err));
        for _ in 0..20 {
            assert_eq!(
                parse_files(&files, small_limits(), &Budget::default(), |_| {}),
                expected
            );
        }
    }

    #[test]
    fn a_budget_carries_over_from_one_batch_of_files_to_the_next() {
        let text = file_of(4_000);
        let budget = Budget::default();
        let first = parse_files(
            &[(text.as_str(), Syntax::Yaml)],
            small_limits(),
            &budget,
            |_| {},
        );
        let second = parse_files(
            &[(text.as_str(), Syntax::Json)],
            small_limits(),
            &budget,
            |_| {},
        );
        assert!(first[0].is_ok() && second[0].is_ok());
        let third = parse_files(
            &[(text.as_str(), Syntax::Yaml)],
            small_limits(),
            &budget,
            |_| {},
        );
        assert!(third[0].as_ref().is_err_and(|e| e.over_budget));
    }

    #[test]
    fn documents_count_against_the_budget() {
        let text = "---\n{}\n".repeat(2_000);
        let limits = small_limits();
        let err = parse_yaml(&text, limits).unwrap_err();
        assert!(err.over_budget, "{err:?}");
        assert!(parse_yaml(&"---\n{}\n".repeat(1_000), limits).is_ok());
    }
}
