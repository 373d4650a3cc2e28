//! A `ResourceList`'s text: what `kdrender fn` reads from it, and its items passed through as
//! they were written.
//!
//! The items a function is given are not its own: they must come out meaning exactly what they
//! meant in, for a YAML 1.1 reader (kustomize, Argo CD) as for a YAML 1.2 one. Decoding them and
//! encoding them again cannot promise that (`yes`, `on` and `0644` change meaning between the two
//! versions, `!!binary` values get decoded, styles and tags are lost), so they are never decoded:
//! their text is copied.
//!
//! - A block sequence (`items:` then `- …` lines, what kustomize and kpt send) is copied line
//!   for line, so every item keeps its columns; rendered objects follow at the same indentation.
//! - A flow sequence (`items: [{…}, {…}]`, JSON) becomes a block sequence of the same flow items,
//!   each copied as written, its later lines indented by two more spaces (insignificant in flow
//!   style: line breaks and leading spaces there only separate tokens, or fold into one space).
//! - Directives (`%YAML 1.1`, `%TAG`) are copied too, so tags and versions keep their meaning.
//!
//! After writing, the output is read back and the passed-through items' events (each scalar's
//! text, style and tag; each collection's kind and tag; anchors and aliases, by order of
//! definition; where each item begins and ends) are compared with the input's, through one
//! SHA-256 digest of them all. A difference is an error, never a silently changed item. Both
//! readings stream: what is kept of the items is their text and that digest, whatever their
//! number.

#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle, StructureStyle};
use sha2::{Digest, Sha256};

use crate::document::{self, Limits, ParseError};
use crate::source::Span;

/// Why a ResourceList cannot be read, or its items cannot pass through unchanged.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("stdin:{line}:{column}: YAML syntax: {info}")]
    Syntax {
        line: usize,
        column: usize,
        info: String,
    },
    #[error("it holds more than {0} values, the limit for all inputs of a render")]
    TooManyValues(usize),
    #[error("stdin holds no YAML document")]
    NoDocument,
    #[error("stdin holds more than one YAML document")]
    SeveralDocuments,
    #[error("stdin is not a ResourceList (a mapping with kind: ResourceList)")]
    NotAMapping,
    #[error("the ResourceList has `{0}` twice")]
    KeyTwice(&'static str),
    #[error("`items` must be a list of objects")]
    ItemsNotAList,
    #[error("items[{0}] is not a Kubernetes object (a mapping)")]
    ItemNotAnObject(usize),
    #[error(
        "an item uses an alias whose anchor is outside the items; kdrender passes items through as written, so every alias must point into them"
    )]
    AliasOutsideItems,
    #[error("cannot find where the first item of `items` begins")]
    FirstItemNotFound,
    #[error("the functionConfig cannot be read: {0}")]
    FunctionConfig(#[source] ParseError),
    #[error("kdrender cannot pass the items through unchanged: {0}")]
    NotPassedThrough(Changed),
}

/// How the output would change the items passed through.
#[derive(Debug, thiserror::Error)]
pub enum Changed {
    #[error("{0}")]
    Unreadable(Box<ListError>),
    #[error("items went missing")]
    ItemsMissing,
    #[error("the items would read differently")]
    ReadDifferently,
}

/// The parts of a ResourceList that `kdrender fn` reads, and its items as written.
#[derive(Debug, Default)]
pub struct ResourceList<'a> {
    /// Directives and the `---` that ends them, when the input has directives.
    prefix: &'a str,
    /// `kind`, when it is a string.
    pub kind: Option<String>,
    /// The text of `functionConfig`'s value.
    function_config: Option<&'a str>,
    items: Items<'a>,
    /// The number of items, and the digest of their events.
    count: usize,
    digest: [u8; 32],
}

/// The input's items, as text.
#[derive(Debug, Default)]
enum Items<'a> {
    #[default]
    None,
    /// A block sequence: its lines, and the column of its `-`.
    Block { lines: &'a str, indent: usize },
    /// A flow sequence, as block entries of its items' text.
    Flow(String),
}

impl<'a> ResourceList<'a> {
    /// Reads a ResourceList's structure (of its items, only their text and digest).
    pub fn read(text: &'a str) -> Result<ResourceList<'a>, ListError> {
        let outline = Outline::of(text, usize::MAX, Limits::default().max_nodes)?;
        let Some(sequence) = outline.items else {
            return Ok(ResourceList {
                prefix: outline.prefix,
                kind: outline.kind,
                function_config: outline
                    .function_config
                    .and_then(|s| text.get(s.start..s.end)),
                ..ResourceList::default()
            });
        };
        let items = match (sequence.style, sequence.first_start) {
            (_, None) => Items::None,
            (StructureStyle::Block, Some(first)) => {
                let dash = dash_line(text, first).ok_or(ListError::FirstItemNotFound)?;
                let end = if sequence.end >= text.len() {
                    text.len()
                } else {
                    line_start(text, sequence.end)
                };
                Items::Block {
                    lines: text.get(dash..end).unwrap_or_default(),
                    indent: indentation(text, dash),
                }
            }
            (StructureStyle::Flow, Some(_)) => Items::Flow(sequence.block_entries),
        };
        Ok(ResourceList {
            prefix: outline.prefix,
            kind: outline.kind,
            function_config: outline
                .function_config
                .and_then(|s| text.get(s.start..s.end)),
            items,
            count: sequence.count,
            digest: sequence.digest,
        })
    }

    /// `functionConfig` as plain data (`None` when absent or null), read as kdrender reads its
    /// own inputs (YAML 1.2).
    pub fn function_config(&self) -> Result<Option<serde_json::Value>, ListError> {
        let Some(text) = self.function_config else {
            return Ok(None);
        };
        let documents =
            document::parse_yaml(text, Limits::default()).map_err(ListError::FunctionConfig)?;
        Ok(documents.first().map(document::Node::to_json))
    }

    /// The output ResourceList: the items as written, then `rendered` (YAML sequence entries
    /// from kdrender's emitter, at column 0), then `results` (a `results:` block, or nothing).
    /// Fails if reading the output back does not give every item exactly as it came in.
    pub fn write(&self, rendered: &str, results: &str) -> Result<String, ListError> {
        let (items, indent) = match &self.items {
            Items::None => ("", 0),
            Items::Block { lines, indent } => (*lines, *indent),
            Items::Flow(entries) => (entries.as_str(), 0),
        };
        let mut out = String::with_capacity(
            [
                self.prefix.len(),
                items.len(),
                rendered.len(),
                results.len(),
                80,
            ]
            .iter()
            .fold(0usize, |sum, n| sum.saturating_add(*n)),
        );
        if !self.prefix.is_empty() {
            out.push_str(self.prefix);
            out.push('\n');
        }
        out.push_str("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n");
        if items.is_empty() && rendered.is_empty() {
            out.push_str("items: []\n");
        } else {
            out.push_str("items:\n");
        }
        out.push_str(items);
        if !items.is_empty() && !items.ends_with('\n') {
            out.push('\n');
        }
        for line in rendered.split_inclusive('\n') {
            if !line.trim_end_matches('\n').is_empty() {
                out.extend(std::iter::repeat_n(' ', indent));
            }
            out.push_str(line);
        }
        out.push_str(results);
        self.check(&out)?;
        Ok(out)
    }

    /// Reads `out` back: the passed-through items must be the input's, event for event.
    fn check(&self, out: &str) -> Result<(), ListError> {
        if self.count == 0 {
            // Nothing passed through: nothing to compare.
            return Ok(());
        }
        let back = Outline::of(out, self.count, usize::MAX)
            .map_err(|e| ListError::NotPassedThrough(Changed::Unreadable(Box::new(e))))?;
        let (count, digest) = back.items.map_or((0, [0; 32]), |s| (s.count, s.digest));
        if count < self.count {
            return Err(ListError::NotPassedThrough(Changed::ItemsMissing));
        }
        if digest != self.digest {
            return Err(ListError::NotPassedThrough(Changed::ReadDifferently));
        }
        Ok(())
    }
}

/// `- ` and a flow item, its later lines indented by two more spaces.
fn push_flow_item(out: &mut String, item: &str) {
    for (index, line) in item.split_inclusive('\n').enumerate() {
        if index == 0 {
            out.push_str("- ");
        } else if !line.trim_end_matches(['\n', '\r']).is_empty() {
            out.push_str("  ");
        }
        out.push_str(line);
    }
    if !item.ends_with('\n') {
        out.push('\n');
    }
}

/// The start of the line holding byte `at`.
fn line_start(text: &str, at: usize) -> usize {
    text.get(..at)
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |i| i.saturating_add(1))
}

/// The spaces that begin the line starting at `start`.
fn indentation(text: &str, start: usize) -> usize {
    text.get(start..).map_or(0, |line| {
        line.len()
            .saturating_sub(line.trim_start_matches(' ').len())
    })
}

/// The start of the line that holds the `-` of a block sequence's item beginning at `at`: the
/// nearest line at or before it whose first character, after spaces, is `-` followed by a space
/// or the end of the line (between a `-` and its item there are only spaces, properties and
/// comments, none of which begins that way; an item that is a mapping begins no line that way).
fn dash_line(text: &str, at: usize) -> Option<usize> {
    let mut start = line_start(text, at);
    loop {
        let line = text
            .get(start..)
            .and_then(|rest| rest.lines().next())
            .unwrap_or_default();
        let content = line.trim_start_matches(' ');
        if content == "-" || content.starts_with("- ") || content.starts_with("-\t") {
            return Some(start);
        }
        start = line_start(text, start.checked_sub(1)?);
    }
}

/// The `items` sequence, as one walk sees it.
#[derive(Debug)]
struct Sequence {
    style: StructureStyle,
    /// Where the first item begins (with its anchor and tag).
    first_start: Option<usize>,
    count: usize,
    /// The digest of the events of the first items (as many as the walk was asked to digest).
    digest: [u8; 32],
    /// For a flow sequence: its items as block entries.
    block_entries: String,
    /// Where the sequence ends (its closing event).
    end: usize,
}

/// What one pass over the events finds.
#[derive(Debug, Default)]
struct Outline<'a> {
    prefix: &'a str,
    kind: Option<String>,
    function_config: Option<Span>,
    items: Option<Sequence>,
}

/// Which value of the root mapping the walk is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Kind,
    FunctionConfig,
    Items,
    Other,
}

/// The state of one walk over a ResourceList's events.
struct Walk<'a> {
    text: &'a str,
    outline: Outline<'a>,
    /// Collections open around the next event.
    depth: usize,
    documents: usize,
    /// At depth 1 (the root mapping's keys and values): whether the next node is a key, and
    /// whether the node being read is one.
    at_key: bool,
    reading_key: bool,
    section: Section,
    seen: Vec<&'static str>,
    /// Where the item being read begins; whether an `Anchor` event now belongs to it.
    item_start: Option<usize>,
    item_just_began: bool,
    /// How many items to digest, and the digest of those read so far.
    digest_items: usize,
    hasher: Sha256,
    /// Anchors defined inside `items`, numbered in order of definition.
    anchors: BTreeMap<usize, u64>,
}

impl<'a> Outline<'a> {
    /// Walks `text`, digesting the events of its first `digest_items` items, refusing more
    /// than `max_values` values (the same bound as for the inputs of a render: the walk keeps
    /// nothing per value, but takes time for each).
    fn of(text: &'a str, digest_items: usize, max_values: usize) -> Result<Outline<'a>, ListError> {
        let mut walk = Walk {
            text,
            outline: Outline::default(),
            depth: 0,
            documents: 0,
            at_key: true,
            reading_key: false,
            section: Section::Other,
            seen: Vec::new(),
            item_start: None,
            item_just_began: false,
            digest_items,
            hasher: Sha256::new(),
            anchors: BTreeMap::new(),
        };
        let options = granit_parser::options! { emit_anchor_events: true };
        let mut values = 0usize;
        for event in Parser::new_from_str_with_options(text, options) {
            let (event, span) = event.map_err(|e| {
                let at = e.marker().byte_offset().unwrap_or(0);
                let (line, column) =
                    crate::source::SourceFile::new(String::new(), text.to_string()).line_col(at);
                ListError::Syntax {
                    line,
                    column,
                    info: e.info().to_string(),
                }
            })?;
            if matches!(
                event,
                Event::Scalar(..)
                    | Event::Alias(_)
                    | Event::SequenceStart(..)
                    | Event::MappingStart(..)
            ) {
                values = values.saturating_add(1);
                if values > max_values {
                    return Err(ListError::TooManyValues(max_values));
                }
            }
            walk.event(&event, &span)?;
        }
        if walk.documents == 0 {
            return Err(ListError::NoDocument);
        }
        Ok(walk.outline)
    }
}

fn offset(marker: &granit_parser::Marker) -> usize {
    marker.byte_offset().unwrap_or(0)
}

impl Walk<'_> {
    fn event(&mut self, event: &Event<'_>, span: &granit_parser::Span) -> Result<(), ListError> {
        let start = offset(&span.start);
        let end = offset(&span.end);
        if !matches!(event, Event::Anchor(..)) {
            self.item_just_began = false;
        }
        match event {
            Event::DocumentStart(explicit, _) => {
                self.documents = self.documents.saturating_add(1);
                if self.documents > 1 {
                    return Err(ListError::SeveralDocuments);
                }
                let before = self.text.get(..start).unwrap_or_default();
                if *explicit && before.lines().any(|l| l.starts_with('%')) {
                    self.outline.prefix = self.text.get(..end).unwrap_or_default();
                }
            }
            Event::Anchor(..) => {
                if self.item_just_began
                    && let Some(item_start) = &mut self.item_start
                {
                    *item_start = (*item_start).min(start);
                }
            }
            Event::Scalar(..) | Event::Alias(_) => {
                self.node_start(event, span)?;
                self.node_end(end);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.node_start(event, span)?;
                self.depth = self.depth.saturating_add(1);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.depth = self.depth.saturating_sub(1);
                self.digest(event)?;
                if self.depth == 1 && !self.reading_key && self.section == Section::Items {
                    self.items_end(start);
                }
                self.node_end(end);
            }
            _ => {}
        }
        Ok(())
    }

    /// The `items` sequence closed at `at`.
    fn items_end(&mut self, at: usize) {
        let hasher = std::mem::take(&mut self.hasher);
        if let Some(items) = &mut self.outline.items {
            items.end = at;
            items.digest = hasher.finalize().into();
        }
    }

    fn node_start(
        &mut self,
        event: &Event<'_>,
        span: &granit_parser::Span,
    ) -> Result<(), ListError> {
        let start = offset(&span.start);
        match self.depth {
            0 if !matches!(event, Event::MappingStart(..)) => {
                return Err(ListError::NotAMapping);
            }
            1 if self.at_key => {
                self.reading_key = true;
                self.at_key = false;
                self.root_key(event)?;
            }
            1 => {
                self.reading_key = false;
                self.root_value(event, start)?;
            }
            2 if self.section == Section::Items => self.item_begins(event, span)?,
            _ => {}
        }
        self.digest(event)
    }

    fn item_begins(
        &mut self,
        event: &Event<'_>,
        span: &granit_parser::Span,
    ) -> Result<(), ListError> {
        let index = self.outline.items.as_ref().map_or(0, |s| s.count);
        if matches!(event, Event::Scalar(..) | Event::SequenceStart(..)) {
            return Err(ListError::ItemNotAnObject(index));
        }
        let start = offset(&span.start);
        let tag_start = span.tag_start.as_ref().map_or(start, offset).min(start);
        self.item_start = Some(tag_start);
        self.item_just_began = true;
        if index < self.digest_items {
            self.hasher.update(b"item");
        }
        Ok(())
    }

    /// A node ended at the current depth, at `end`.
    fn node_end(&mut self, end: usize) {
        match self.depth {
            1 if !self.reading_key => {
                if self.section == Section::FunctionConfig
                    && let Some(span) = &mut self.outline.function_config
                {
                    span.end = end;
                }
                self.at_key = true;
            }
            2 if self.section == Section::Items => {
                let start = self.item_start.take().unwrap_or(end);
                if let Some(items) = &mut self.outline.items {
                    items.first_start.get_or_insert(start);
                    items.count = items.count.saturating_add(1);
                    if items.style == StructureStyle::Flow {
                        let item = self.text.get(start..end).unwrap_or_default();
                        push_flow_item(&mut items.block_entries, item);
                    }
                }
            }
            _ => {}
        }
    }

    fn root_key(&mut self, event: &Event<'_>) -> Result<(), ListError> {
        let name = match event {
            Event::Scalar(name, ..) => name.as_ref(),
            _ => "",
        };
        let (section, key) = match name {
            "kind" => (Section::Kind, "kind"),
            "functionConfig" => (Section::FunctionConfig, "functionConfig"),
            "items" => (Section::Items, "items"),
            _ => (Section::Other, ""),
        };
        if section != Section::Other {
            if self.seen.contains(&key) {
                return Err(ListError::KeyTwice(key));
            }
            self.seen.push(key);
        }
        self.section = section;
        Ok(())
    }

    fn root_value(&mut self, event: &Event<'_>, start: usize) -> Result<(), ListError> {
        match (self.section, event) {
            (Section::Kind, Event::Scalar(value, ..)) => {
                self.outline.kind = Some(value.to_string());
            }
            (Section::FunctionConfig, Event::MappingStart(StructureStyle::Block, ..)) => {
                // From the start of its first key's line: a block mapping, on its own.
                let from = line_start(self.text, start);
                self.outline.function_config = Some(Span::new(from, start));
            }
            (Section::FunctionConfig, _) => {
                // Flow mappings, and what is not a mapping (for the config check to refuse).
                self.outline.function_config = Some(Span::new(start, start));
            }
            (Section::Items, Event::SequenceStart(style, ..)) => {
                self.outline.items = Some(Sequence {
                    style: *style,
                    first_start: None,
                    count: 0,
                    digest: [0; 32],
                    block_entries: String::new(),
                    end: start,
                });
            }
            (Section::Items, Event::MappingStart(..) | Event::Alias(_)) => {
                return Err(ListError::ItemsNotAList);
            }
            _ => {}
        }
        Ok(())
    }

    /// Feeds an event of one of the first `digest_items` items to the digest.
    fn digest(&mut self, event: &Event<'_>) -> Result<(), ListError> {
        let index = self.outline.items.as_ref().map_or(0, |s| s.count);
        if self.item_start.is_none() || index >= self.digest_items {
            return Ok(());
        }
        let hasher = &mut self.hasher;
        let mut field = |bytes: &[u8]| {
            hasher.update(u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_le_bytes());
            hasher.update(bytes);
        };
        let anchors = &mut self.anchors;
        let mut define = |anchor: usize| -> [u8; 8] {
            if anchor == 0 {
                return [0; 8];
            }
            let ordinal = u64::try_from(anchors.len())
                .unwrap_or(u64::MAX)
                .saturating_add(1);
            anchors.insert(anchor, ordinal);
            ordinal.to_le_bytes()
        };
        match event {
            Event::Scalar(value, style, anchor, scalar_tag) => {
                field(b"scalar");
                field(style_name(*style).as_bytes());
                field(value.as_bytes());
                tag_parts(scalar_tag.as_deref())
                    .iter()
                    .for_each(|t| field(t.as_bytes()));
                field(&define(*anchor));
            }
            Event::SequenceStart(_, anchor, collection_tag)
            | Event::MappingStart(_, anchor, collection_tag) => {
                let kind: &[u8] = if matches!(event, Event::SequenceStart(..)) {
                    b"sequence"
                } else {
                    b"mapping"
                };
                field(kind);
                tag_parts(collection_tag.as_deref())
                    .iter()
                    .for_each(|t| field(t.as_bytes()));
                field(&define(*anchor));
            }
            Event::SequenceEnd => field(b"sequence end"),
            Event::MappingEnd => field(b"mapping end"),
            Event::Alias(id) => {
                let Some(ordinal) = anchors.get(id) else {
                    return Err(ListError::AliasOutsideItems);
                };
                field(b"alias");
                field(&ordinal.to_le_bytes());
            }
            _ => {}
        }
        Ok(())
    }
}

/// A tag as the prefix it resolves to (after `%TAG` directives) and its suffix.
fn tag_parts(tag: Option<&granit_parser::Tag>) -> [&str; 2] {
    tag.map(|t| [t.handle(), t.suffix()]).unwrap_or_default()
}

fn style_name(style: ScalarStyle) -> &'static str {
    match style {
        ScalarStyle::Plain => "plain",
        ScalarStyle::SingleQuoted => "single-quoted",
        ScalarStyle::DoubleQuoted => "double-quoted",
        ScalarStyle::Literal => "literal",
        ScalarStyle::Folded => "folded",
    }
}

#[cfg(test)]
// A panic in a test is a failed test: tests may index and add freely.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    /// Items as serde-saphyr reads them, for comparing what two texts mean.
    fn items_of(text: &str) -> Vec<serde_json::Value> {
        let list: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// Every scalar of a text as (value, style, tag), as granit-parser reads them.
    fn scalars(text: &str) -> Vec<(String, String, String)> {
        Parser::new_from_str(text)
            .filter_map(|event| match event.unwrap().0 {
                Event::Scalar(value, style, _, tag) => Some((
                    value.to_string(),
                    format!("{style:?}"),
                    tag.map(|t| format!("{}{}", t.handle(), t.suffix()))
                        .unwrap_or_default(),
                )),
                _ => None,
            })
            .collect()
    }

    const RENDERED: &str = "- apiVersion: v1\n  kind: ConfigMap\n  data:\n    script: |\n      echo one\n      echo two\n  metadata:\n    name: rendered\n";

    fn round_trip(input: &str) -> String {
        let list = ResourceList::read(input).unwrap();
        let out = list
            .write(RENDERED, "")
            .unwrap_or_else(|e| panic!("{e}\n{input}"));
        let before = items_of(input);
        let after = items_of(&out);
        assert_eq!(after.len(), before.len() + 1, "{out}");
        assert_eq!(&after[..before.len()], before.as_slice(), "{out}");
        assert_eq!(
            after[before.len()]["data"]["script"],
            "echo one\necho two\n",
            "{out}"
        );
        out
    }

    #[test]
    fn block_items_are_copied_line_for_line_at_any_indentation() {
        let input = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    data: {a: yes, b: 0644}\n  -   &x !!map\n      kind: Thing\n      keep: |+\n        kept\n\n  - kind: Other\n    copy: *x\nfunctionConfig: {kind: RenderFunction}\n";
        let out = round_trip(input);
        assert!(
            out.contains("  - apiVersion: v1\n    kind: ConfigMap\n    data: {a: yes, b: 0644}\n"),
            "{out}"
        );
        assert!(
            out.contains("  - apiVersion: v1\n    kind: ConfigMap\n    data:\n      script: |"),
            "{out}"
        );
        assert!(out.contains("      keep: |+\n        kept\n\n"), "{out}");
    }

    #[test]
    fn windows_line_endings_are_copied_too() {
        let out = round_trip(
            "kind: ResourceList\r\nitems:\r\n- kind: A\r\n  v: |\r\n    one\r\n    two\r\n- kind: B\r\n",
        );
        assert!(
            out.contains("- kind: A\r\n  v: |\r\n    one\r\n    two\r\n- kind: B\r\n"),
            "{out:?}"
        );
    }

    #[test]
    fn flow_and_json_items_become_block_entries_of_the_same_text() {
        round_trip(
            "kind: ResourceList\nitems: [{kind: A, on: on},\n{kind: B,\n  s: 'multi\n\n  line'}, &b !!map {kind: C}]\n",
        );
        let out = round_trip(
            "{\n\"kind\": \"ResourceList\",\n\"items\": [\n{\n\"kind\": \"A\",\n\"v\": \"x\"\n},\n  {\"kind\": \"B\"}\n],\n\"functionConfig\": {\"kind\": \"RenderFunction\"}\n}\n",
        );
        assert!(
            out.contains("- {\n  \"kind\": \"A\",\n  \"v\": \"x\"\n  }\n- {\"kind\": \"B\"}\n"),
            "{out}"
        );
    }

    #[test]
    fn directives_are_kept_and_the_last_item_may_end_the_text() {
        let input = "%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\nkind: ResourceList\nitems:\n- kind: A\n  v: !e!thing x\n  k: |+\n    kept";
        let list = ResourceList::read(input).unwrap();
        let out = list.write(RENDERED, "").unwrap();
        assert!(
            out.starts_with("%YAML 1.1\n%TAG !e! tag:example.com,2000:\n---\napiVersion"),
            "{out}"
        );
        assert!(
            out.contains("  v: !e!thing x\n  k: |+\n    kept\n- apiVersion"),
            "{out}"
        );
    }

    #[test]
    fn the_function_config_is_read_in_block_and_flow_style() {
        for input in [
            "kind: ResourceList\nitems: []\nfunctionConfig:\n  kind: RenderFunction\n  spec:\n    path: x\n",
            "kind: ResourceList\nfunctionConfig: &c\n    kind: RenderFunction\n    spec: {path: x}\nitems: []\n",
            "{\"kind\": \"ResourceList\", \"functionConfig\": {\"kind\": \"RenderFunction\",\n \"spec\": {\"path\": \"x\"}}}",
        ] {
            let config = ResourceList::read(input)
                .unwrap()
                .function_config()
                .unwrap()
                .unwrap();
            assert_eq!(config["spec"]["path"], "x", "{input}");
            assert_eq!(config["kind"], "RenderFunction", "{input}");
        }
        let none = ResourceList::read("kind: ResourceList\nfunctionConfig:\n").unwrap();
        assert_eq!(none.function_config().unwrap(), None);
    }

    #[test]
    fn what_cannot_pass_through_unchanged_is_refused() {
        for (input, expected) in [
            (
                "kind: ResourceList\nx: &a {k: 1}\nitems:\n- *a\n",
                "alias whose anchor is outside",
            ),
            (
                "kind: ResourceList\nitems:\n- just a string\n",
                "items[0] is not a Kubernetes object",
            ),
            (
                "kind: ResourceList\nitems:\n- kind: A\n- [1, 2]\n",
                "items[1] is not a Kubernetes object",
            ),
            (
                "kind: ResourceList\n---\nkind: ResourceList\n",
                "more than one YAML document",
            ),
            ("- kind: ResourceList\n", "not a ResourceList"),
            (
                "kind: ResourceList\nitems: []\nitems: []\n",
                "`items` twice",
            ),
            ("kind: ResourceList\nitems: [\n", "stdin:2:"),
            ("", "no YAML document"),
        ] {
            let error = ResourceList::read(input).unwrap_err().to_string();
            assert!(error.contains(expected), "{input:?}: {error}");
        }
        // The value bound, with a small limit (read() uses the render's, 2,000,000).
        let many = format!("kind: ResourceList\nitems: [{}]\n", "{}, ".repeat(50));
        let error = Outline::of(&many, usize::MAX, 50).unwrap_err().to_string();
        assert!(error.contains("more than 50 values"), "{error}");
        assert!(Outline::of(&many, usize::MAX, 60).is_ok());
    }

    #[test]
    fn a_list_without_items_gets_the_rendered_objects_or_the_results() {
        for input in [
            "kind: ResourceList\nfunctionConfig: {kind: RenderFunction}\n",
            "kind: ResourceList\nitems: []\n",
            "kind: ResourceList\nitems:\n",
        ] {
            let list = ResourceList::read(input).unwrap();
            let out = list.write(RENDERED, "").unwrap();
            assert_eq!(items_of(&out).len(), 1, "{out}");
            let out = list.write("", "results:\n- message: m\n").unwrap();
            assert!(out.contains("items: []\nresults:\n"), "{out}");
        }
        let out = ResourceList::default()
            .write("", "results:\n- message: m\n")
            .unwrap();
        assert_eq!(
            out,
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\nresults:\n- message: m\n"
        );
    }

    #[test]
    fn an_output_that_reads_differently_is_an_error() {
        let list = ResourceList::read("kind: ResourceList\nitems:\n- kind: A\n  v: 1\n").unwrap();
        // Text that continues the last item instead of starting an entry of its own.
        let error = list.write("  extra: 1\n", "").unwrap_err().to_string();
        assert!(
            error.contains("the items would read differently"),
            "{error}"
        );
    }

    proptest::proptest! {
        /// Scalars that YAML 1.1 and 1.2 readers disagree on, in every style, pass through with
        /// their text, style and tag: the output has the same items for serde-saphyr, and every
        /// scalar line appears in it as it was written.
        #[test]
        fn tricky_scalars_pass_through_as_written(
            values in proptest::collection::vec(
                (
                    proptest::sample::select(vec![
                        "yes", "no", "on", "off", "y", "n", "~", "null", "0644", "0x1F", "1e3",
                        ".inf", "-.inf", ".nan", "12:30", "2001-12-14", "1_000", "+12", "0o17", "0b101",
                        "=", "<<", "true", "True", "", "é", "“quoted”",
                    ]),
                    proptest::sample::select(vec!["plain", "single", "double", "literal", "folded", "str", "binary"]),
                ),
                1..12,
            ),
            indent in 0usize..3,
        ) {
            let pad = " ".repeat(indent);
            let mut input = String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
            input.push_str(&format!("{pad}- apiVersion: v1\n{pad}  kind: ConfigMap\n{pad}  data:\n"));
            let mut lines = Vec::new();
            for (i, (value, style)) in values.iter().enumerate() {
                let written = match *style {
                    "plain" if !value.is_empty() && !value.starts_with('“') => value.to_string(),
                    "plain" | "double" => format!("\"{value}\""),
                    "single" => format!("'{value}'"),
                    "literal" => format!("|\n{pad}      {value}"),
                    "folded" => format!(">-\n{pad}      {value}"),
                    "str" => format!("!!str {value}"),
                    _ => "!!binary aGVsbG8=".to_string(),
                };
                let line = format!("{pad}    k{i}: {written}\n");
                lines.push(line.clone());
                input.push_str(&line);
            }
            let list = ResourceList::read(&input).unwrap();
            let out = list.write(RENDERED, "").unwrap();
            for line in &lines {
                proptest::prop_assert!(out.contains(line.as_str()), "{line:?} missing from\n{out}");
            }
            // The output's scalars are the input's, then the rendered object's.
            let before = scalars(&input);
            let after = scalars(&out);
            let items_start = |all: &[(String, String, String)]| {
                all.iter().position(|s| s.0 == "items").unwrap() + 1
            };
            let (b, a) = (items_start(&before), items_start(&after));
            proptest::prop_assert_eq!(&after[a..a + before.len() - b], &before[b..]);
        }
    }
}
