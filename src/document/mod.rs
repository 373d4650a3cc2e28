//! The spanned document tree that both input syntaxes parse into.
//!
//! YAML and JSON files become the same [`Node`] tree, in which every value and every mapping key
//! knows its byte range in the file. Later stages convert a tree to `serde_json::Value` for schema
//! checks and typed decoding, and find their way back from a JSON pointer (what schema errors and
//! semantic checks report) to a line in the file with [`Node::locate`].
//!
//! Both parsers are bounded ([`Limits`]): nesting depth and the number of nodes, which is what
//! alias expansion inflates, so that no input can exhaust the stack or memory.

mod json;
mod yaml;

use crate::source::Span;

pub use json::parse_json;
pub use yaml::parse_yaml;

/// Bounds applied while parsing one file.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes one file may expand to, aliases included.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 64,
            max_nodes: 1_000_000,
        }
    }
}

/// A syntax error, or a limit exceeded, at a place in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

impl ParseError {
    fn new(message: impl Into<String>, span: Span) -> Self {
        ParseError {
            message: message.into(),
            span,
        }
    }
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
    Map(Vec<Entry>),
}

/// One `key: value` pair of a mapping, in file order.
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

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
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
        let segments: Vec<String> = pointer_segments(pointer).collect();
        for (i, segment) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            match &node.value {
                Value::Map(entries) => match entries.iter().find(|e| &e.key == segment) {
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

    fn count(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
            _ => 0,
        }
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
}
