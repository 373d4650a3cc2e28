//! YAML 1.2 to [`Node`] trees, from the event stream of `granit-parser` (serde-saphyr's parser).
//!
//! Plain scalars resolve with the YAML 1.2 core schema, so `on`, `yes` and `0755` stay strings
//! as they would for a YAML 1.2 reader. Duplicate keys are errors. Aliases are copied in, and the
//! copies count against [`Limits::max_nodes`] (their values) and [`Limits::max_alias_bytes`]
//! (their text), which defeats "billion laughs" documents of either kind.

use std::collections::BTreeMap;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span as YamlSpan, Tag};

use super::{
    Budget, DOCUMENT_VALUES, Entry, Limits, Meter, Node, ParseError, Value, char_span,
    sorted_entries,
};
use crate::source::Span;

/// Parses every document of a YAML stream, with a budget of its own. Empty and `null` documents
/// are left out.
pub fn parse_yaml(text: &str, limits: Limits) -> Result<Vec<Node>, ParseError> {
    parse(text, limits, &Budget::default())
}

/// Parses every document of a YAML stream against the run's budget.
pub(super) fn parse(text: &str, limits: Limits, budget: &Budget) -> Result<Vec<Node>, ParseError> {
    let mut builder = Builder {
        limits,
        meter: Meter::new(limits, budget),
        stack: Vec::new(),
        anchors: BTreeMap::new(),
        documents: Vec::new(),
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let at = e.marker().byte_offset().unwrap_or(0);
            ParseError::new(format!("YAML syntax: {}", e.info()), char_span(text, at))
        })?;
        builder.event(event, span, text)?;
    }
    Ok(builder.documents)
}

/// What a subtree costs when an alias copies it: its values, and the bytes of its keys and
/// strings.
#[derive(Clone, Copy, Debug, Default)]
struct Weight {
    values: usize,
    bytes: usize,
}

impl Weight {
    fn add(&mut self, other: Weight) {
        self.values = self.values.saturating_add(other.values);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
        weight: Weight,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<Entry>,
        key: Option<(String, Span)>,
        weight: Weight,
    },
}

struct Builder<'a> {
    limits: Limits,
    meter: Meter<'a>,
    stack: Vec<Frame>,
    anchors: BTreeMap<usize, (Node, Weight)>,
    documents: Vec<Node>,
}

fn byte_span(span: &YamlSpan) -> Span {
    Span::new(
        span.start.byte_offset().unwrap_or(0),
        span.end.byte_offset().unwrap_or(0),
    )
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: YamlSpan, text: &str) -> Result<(), ParseError> {
        let at = byte_span(&span);
        match event {
            Event::DocumentStart(..) => {
                self.anchors.clear();
                self.charge(DOCUMENT_VALUES, 0, at)?;
            }
            Event::Scalar(value, style, anchor, tag) => {
                self.scalar(&value, style, anchor, tag.as_deref(), at, text)?;
            }
            Event::SequenceStart(_, anchor, _) => {
                self.open(at)?;
                self.stack.push(Frame::Seq {
                    start: at.start,
                    anchor,
                    items: Vec::new(),
                    weight: Weight::default(),
                });
            }
            Event::MappingStart(_, anchor, _) => {
                self.open(at)?;
                self.stack.push(Frame::Map {
                    start: at.start,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    weight: Weight::default(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(at, text)?,
            Event::Alias(id) => self.alias(id, at)?,
            Event::UnresolvedAlias(name) => {
                return Err(ParseError::new(
                    format!("YAML alias `*{name}` has no anchor"),
                    at,
                ));
            }
            _ => {}
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        at: Span,
        text: &str,
    ) -> Result<(), ParseError> {
        let node = Node {
            value: resolve_scalar(value, style, tag, at)?,
            span: trim_span(at, text),
        };
        self.charge(1, 0, at)?;
        let weight = Weight {
            values: 1,
            bytes: value.len(),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), weight));
        }
        self.push(node, weight)
    }

    /// A copy of the anchored node, charged before it is copied: an alias the budget refuses
    /// is never copied.
    fn alias(&mut self, id: usize, at: Span) -> Result<(), ParseError> {
        let Some(weight) = self.anchors.get(&id).map(|(_, weight)| *weight) else {
            return Err(ParseError::new("YAML alias to an unknown anchor", at));
        };
        self.charge(weight.values, weight.bytes, at)?;
        let Some(mut copy) = self.anchors.get(&id).map(|(target, _)| target.clone()) else {
            return Err(ParseError::new("YAML alias to an unknown anchor", at));
        };
        copy.span = at;
        self.push(copy, weight)
    }

    fn charge(&mut self, values: usize, alias_bytes: usize, at: Span) -> Result<(), ParseError> {
        self.meter
            .charge(values, alias_bytes)
            .map_err(|exhausted| self.meter.error(exhausted, at))
    }

    fn open(&mut self, at: Span) -> Result<(), ParseError> {
        self.charge(1, 0, at)?;
        if self.stack.len() >= self.limits.max_depth {
            return Err(ParseError::new(
                format!(
                    "nesting deeper than {} levels is not accepted",
                    self.limits.max_depth
                ),
                at,
            ));
        }
        Ok(())
    }

    /// Closes the innermost collection and hands it to its parent.
    fn close(&mut self, at: Span, text: &str) -> Result<(), ParseError> {
        let (anchor, value, start, mut weight) = match self.stack.pop() {
            Some(Frame::Seq {
                start,
                anchor,
                mut items,
                weight,
            }) => {
                items.shrink_to_fit();
                (anchor, Value::Seq(items), start, weight)
            }
            Some(Frame::Map {
                start,
                anchor,
                entries,
                weight,
                ..
            }) => (
                anchor,
                Value::Map(sorted_entries(entries, "mapping")?),
                start,
                weight,
            ),
            None => return Err(ParseError::new("YAML syntax: unbalanced collection", at)),
        };
        weight.add(Weight {
            values: 1,
            bytes: 0,
        });
        let node = Node {
            value,
            span: trim_span(Span::new(start, at.end), text),
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), weight));
        }
        self.push(node, weight)
    }

    fn push(&mut self, node: Node, node_weight: Weight) -> Result<(), ParseError> {
        match self.stack.last_mut() {
            None => {
                if !node.is_null() {
                    self.documents.push(node);
                }
            }
            Some(Frame::Seq { items, weight, .. }) => {
                weight.add(node_weight);
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                key,
                weight,
                ..
            }) => {
                weight.add(node_weight);
                match key.take() {
                    None => {
                        let span = node.span;
                        *key = Some((key_name(node)?, span));
                    }
                    Some((name, key_span)) => entries.push(Entry {
                        key: name,
                        key_span,
                        value: node,
                    }),
                }
            }
        }
        Ok(())
    }
}

/// A mapping key as the string it names.
fn key_name(node: Node) -> Result<String, ParseError> {
    Ok(match node.value {
        Value::String(s) => s,
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Seq(_) | Value::Map(_) => {
            return Err(ParseError::new(
                "mapping keys must be plain values, not collections",
                node.span,
            ));
        }
    })
}

/// Spans of block collections run to the start of the next token; trim trailing whitespace so
/// that snippets end where the value does.
fn trim_span(span: Span, text: &str) -> Span {
    let end = text
        .get(span.start..span.end)
        .map_or(span.end, |s| span.start.saturating_add(s.trim_end().len()));
    Span::new(span.start, end.max(span.start))
}

fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    at: Span,
) -> Result<Value, ParseError> {
    if let Some(tag) = tag {
        let core = tag.handle() == "tag:yaml.org,2002:";
        match (core, tag.suffix()) {
            (true, "str") => return Ok(Value::String(text.to_string())),
            (true, "null" | "bool" | "int" | "float") => {}
            _ => {
                return Err(ParseError::new(
                    format!(
                        "YAML tag `{}{}` is not supported",
                        tag.original_handle(),
                        tag.suffix()
                    ),
                    at,
                ));
            }
        }
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(text.to_string()));
    }
    Ok(match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ => match core_number(text) {
            Some(Ok(number)) => Value::Number(number),
            Some(Err(())) => {
                return Err(ParseError::new(
                    format!("`{text}` is not a finite number that JSON can hold"),
                    at,
                ));
            }
            None => Value::String(text.to_string()),
        },
    })
}

/// YAML 1.2 core-schema numbers: `None` when `text` is not one.
fn core_number(text: &str) -> Option<Result<serde_json::Number, ()>> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    if let Some(hex) = text.strip_prefix("0x") {
        return radix(hex, 16);
    }
    if let Some(octal) = text.strip_prefix("0o") {
        return radix(octal, 8);
    }
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(Err(()));
    }
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        let value: i128 = match unsigned.parse::<i128>() {
            Ok(v) => v,
            Err(_) => return Some(Err(())),
        };
        let value = if negative {
            match value.checked_neg() {
                Some(v) => v,
                None => return Some(Err(())),
            }
        } else {
            value
        };
        return Some(if let Ok(v) = i64::try_from(value) {
            Ok(v.into())
        } else if let Ok(v) = u64::try_from(value) {
            Ok(v.into())
        } else {
            Err(())
        });
    }
    if is_core_float(unsigned) {
        let value: f64 = text.parse().ok()?;
        return Some(serde_json::Number::from_f64(value).ok_or(()));
    }
    None
}

fn radix(digits: &str, base: u32) -> Option<Result<serde_json::Number, ()>> {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    Some(
        u64::from_str_radix(digits, base)
            .map(Into::into)
            .map_err(|_| ()),
    )
}

/// `(\.[0-9]+ | [0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` with at least a dot or an exponent.
fn is_core_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, Some(exponent)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok && (mantissa.contains('.') || exponent.is_some())
}

#[cfg(test)]
// A panic in a test is a failed test: tests may index and add freely.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn one(text: &str) -> serde_json::Value {
        parse_yaml(text, Limits::default()).unwrap()[0].to_json()
    }

    #[test]
    fn plain_scalars_follow_the_yaml_1_2_core_schema() {
        let value = one(
            "a: on\nb: yes\nc: 0755\nd: 12\ne: 1.5\nf: ~\ng: true\nh: '12'\ni: 0x1F\nj: 1e3\nk: 2001-12-14\n",
        );
        assert_eq!(value["a"], "on");
        assert_eq!(value["b"], "yes");
        assert_eq!(value["c"], 755);
        assert_eq!(value["d"], 12);
        assert_eq!(value["e"], 1.5);
        assert!(value["f"].is_null());
        assert_eq!(value["g"], true);
        assert_eq!(value["h"], "12");
        assert_eq!(value["i"], 31);
        assert_eq!(value["j"], 1000.0);
        assert_eq!(value["k"], "2001-12-14");
    }

    #[test]
    fn multiple_documents_skip_empty_ones() {
        let docs = parse_yaml(
            "---\na: 1\n---\n---\n# only a comment\n---\nb: 2\n",
            Limits::default(),
        )
        .unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn duplicate_keys_are_errors_at_the_second_key() {
        let text = "a: 1\nb: 2\na: 3\n";
        let err = parse_yaml(text, Limits::default()).unwrap_err();
        assert!(err.message.contains("duplicate key `a`"));
        assert_eq!(err.span.start, 10);
    }

    #[test]
    fn alias_bombs_hit_the_node_limit() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n",
                p = i - 1
            ));
        }
        let err = parse_yaml(&text, Limits::default()).unwrap_err();
        assert!(
            err.message.contains("more than 2000000 values"),
            "{}",
            err.message
        );
        assert!(err.over_budget);
    }

    #[test]
    fn aliases_of_long_strings_count_the_bytes_they_copy() {
        // Few values, but each alias would copy 1 MiB of text.
        let text = format!(
            "a: &a {}\nb: [{}]\n",
            "x".repeat(1 << 20),
            "*a, ".repeat(40)
        );
        let limits = Limits::default();
        let err = parse_yaml(&text, limits).unwrap_err();
        assert!(
            err.message.contains("aliases copy more than"),
            "{}",
            err.message
        );
        let at = &text[err.span.start..err.span.end];
        assert_eq!(at, "*a", "the alias that goes over is blamed");
        let fewer = format!(
            "a: &a {}\nb: [{}]\n",
            "x".repeat(1 << 20),
            "*a, ".repeat(15)
        );
        assert_eq!(
            parse_yaml(&fewer, limits).unwrap()[0].to_json()["b"]
                .as_array()
                .unwrap()
                .len(),
            15
        );
    }

    #[test]
    fn mappings_are_searchable_by_key_and_every_repetition_is_found() {
        let docs = parse_yaml("z: 1\na: 2\nm: {y: 1, b: 2}\n", Limits::default()).unwrap();
        assert_eq!(docs[0].get("a").unwrap().to_json(), 2);
        assert_eq!(docs[0].get("m").unwrap().get("y").unwrap().to_json(), 1);
        assert!(docs[0].get("q").is_none());
        // The repetition written first is reported, wherever the keys sort.
        let text = "m: 1\nb: 1\nz: 1\nb: 2\nm: 2\n";
        let err = parse_yaml(text, Limits::default()).unwrap_err();
        assert!(err.message.contains("duplicate key `b`"), "{}", err.message);
        assert_eq!(err.span.start, text.find("b: 2").unwrap());
    }

    #[test]
    fn syntax_errors_at_multi_byte_characters_cover_the_whole_character() {
        for text in [
            "a: 1\n---\n\u{feff}b: 2\n",
            "a: [1, “2”\n",
            "a: “b”: c\n",
            "é: [\n",
            "a:\n\t- é\n",
            "\"é\\qé\"\n",
            "a: 1\n  “b: 2\n",
            "- a\n“: b\n",
            "key: é\n  é: x\n",
        ] {
            let err = parse_yaml(text, Limits::default()).unwrap_err();
            assert!(
                text.get(err.span.start..err.span.end).is_some(),
                "{text:?}: {err:?} cuts a character"
            );
            if err.message.starts_with("YAML syntax") {
                let width = text[err.span.start..]
                    .chars()
                    .next()
                    .map_or(0, char::len_utf8);
                assert_eq!(err.span.len(), width, "{text:?}: {err:?}");
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let text = "[".repeat(100_000);
        let err = parse_yaml(&text, Limits::default()).unwrap_err();
        assert!(
            err.message.contains("nesting") || err.message.contains("YAML syntax"),
            "{}",
            err.message
        );
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse_yaml("a: [1, 2\nb: 3\n", Limits::default()).unwrap_err();
        assert!(err.message.starts_with("YAML syntax"), "{}", err.message);
        assert!(err.span.start > 0);
    }
}
