//! JSON (RFC 8259) to [`Node`] trees.
//!
//! `.json` inputs are parsed as JSON, not as YAML: KubeDirector's own catalog indents JSON with
//! tab characters, which YAML forbids. A small recursive-descent parser is enough, and unlike
//! `serde_json` it records where every value and key was written.

use std::collections::BTreeSet;

use super::{Entry, Limits, Node, ParseError, Value};
use crate::source::Span;

/// Parses one JSON document (a leading byte-order mark is skipped).
pub fn parse_json(text: &str, limits: Limits) -> Result<Node, ParseError> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut parser = JsonParser {
        text: text.as_bytes(),
        source: text,
        pos: start,
        limits,
        nodes: 0,
    };
    parser.skip_whitespace();
    let node = parser.value(0)?;
    parser.skip_whitespace();
    if parser.pos < parser.text.len() {
        return Err(parser.error_here("JSON syntax: unexpected content after the document"));
    }
    Ok(node)
}

struct JsonParser<'a> {
    text: &'a [u8],
    source: &'a str,
    pos: usize,
    limits: Limits,
    nodes: usize,
}

impl JsonParser<'_> {
    fn error_here(&self, message: &str) -> ParseError {
        ParseError::new(message, Span::new(self.pos, self.pos + 1))
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.text.get(self.pos) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, ParseError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes {
            return Err(self.error_here("the file holds too many values; refusing to go on"));
        }
        let start = self.pos;
        let value = match self.text.get(self.pos) {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error_here("JSON syntax: expected a value")),
            None => return Err(self.error_here("JSON syntax: unexpected end of file")),
        };
        Ok(Node {
            value,
            span: Span::new(start, self.pos),
        })
    }

    fn nest(&self, depth: usize) -> Result<(), ParseError> {
        if depth >= self.limits.max_depth {
            return Err(self.error_here(&format!(
                "nesting deeper than {} levels is not accepted",
                self.limits.max_depth
            )));
        }
        Ok(())
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), ParseError> {
        self.skip_whitespace();
        if self.text.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error_here(&format!("JSON syntax: expected {what}")))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.nest(depth)?;
        self.pos += 1;
        let mut entries = Vec::new();
        let mut seen = BTreeSet::new();
        self.skip_whitespace();
        if self.text.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Map(entries));
        }
        loop {
            self.skip_whitespace();
            if self.text.get(self.pos) != Some(&b'"') {
                return Err(self.error_here("JSON syntax: expected a quoted key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span::new(key_start, self.pos);
            if !seen.insert(key.clone()) {
                return Err(ParseError::new(
                    format!("duplicate key `{key}` in the same object"),
                    key_span,
                ));
            }
            self.expect(b':', "`:` after the key")?;
            self.skip_whitespace();
            let value = self.value(depth + 1)?;
            entries.push(Entry {
                key,
                key_span,
                value,
            });
            self.skip_whitespace();
            match self.text.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Map(entries));
                }
                _ => return Err(self.error_here("JSON syntax: expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.nest(depth)?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.text.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::Seq(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.text.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Seq(items));
                }
                _ => return Err(self.error_here("JSON syntax: expected `,` or `]`")),
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, ParseError> {
        if self.text[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error_here("JSON syntax: expected a value"))
        }
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.text.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.text.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        if !digits(self) || (self.text[int_start] == b'0' && self.pos - int_start > 1) {
            return Err(self.error_here("JSON syntax: malformed number"));
        }
        if self.text.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error_here("JSON syntax: malformed number"));
            }
        }
        if let Some(b'e' | b'E') = self.text.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.text.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error_here("JSON syntax: malformed number"));
            }
        }
        let literal = &self.source[start..self.pos];
        literal
            .parse::<serde_json::Number>()
            .ok()
            .filter(|n| n.as_f64().is_some_and(f64::is_finite))
            .map(Value::Number)
            .ok_or_else(|| {
                ParseError::new(
                    format!("`{literal}` is not a number JSON can hold"),
                    Span::new(start, self.pos),
                )
            })
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(&b) = self.text.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.source[run_start..self.pos]);
            match self.text.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let escaped = match self.text.get(self.pos) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        _ => return Err(self.error_here("JSON syntax: unknown escape")),
                    };
                    out.push(escaped);
                    self.pos += 1;
                }
                Some(_) => {
                    return Err(self.error_here("JSON syntax: control character inside a string"));
                }
                None => return Err(self.error_here("JSON syntax: unterminated string")),
            }
        }
    }

    /// Reads `uXXXX` (and a following `\uXXXX` low surrogate); leaves `pos` on the last digit.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let hex = |p: &Self, at: usize| -> Result<u32, ParseError> {
            p.source
                .get(at..at + 4)
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .ok_or_else(|| p.error_here("JSON syntax: malformed \\u escape"))
        };
        let first = hex(self, self.pos + 1)?;
        self.pos += 4;
        if (0xD800..0xDC00).contains(&first) {
            if self.source.get(self.pos + 1..self.pos + 3) == Some("\\u") {
                let second = hex(self, self.pos + 3)?;
                if (0xDC00..0xE000).contains(&second) {
                    self.pos += 6;
                    let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    return char::from_u32(code)
                        .ok_or_else(|| self.error_here("JSON syntax: invalid surrogate pair"));
                }
            }
            return Err(self.error_here("JSON syntax: unpaired surrogate"));
        }
        char::from_u32(first).ok_or_else(|| self.error_here("JSON syntax: unpaired surrogate"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<serde_json::Value, ParseError> {
        parse_json(text, Limits::default()).map(|n| n.to_json())
    }

    #[test]
    fn accepts_what_serde_json_accepts_including_tabs() {
        let text =
            "{\n\t\"a\": [1, -2.5e3, true, null, \"x\\u00e9\\ud83d\\ude00\\n\"],\n\t\"b\": {}\n}";
        let ours = parse(text).unwrap();
        let reference: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours, reference);
    }

    #[test]
    fn rejects_malformed_documents_with_positions() {
        for bad in [
            "{\"a\": 01}",
            "{\"a\" 1}",
            "[1,]",
            "{\"a\": 1} x",
            "\"abc",
            "{\"a\":1,\"a\":2}",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.span.start <= bad.len(), "{bad}: {err:?}");
        }
        let err = parse("{\"a\":1,\"a\":2}").unwrap_err();
        assert!(err.message.contains("duplicate key `a`"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let err = parse(&"[".repeat(10_000)).unwrap_err();
        assert!(err.message.contains("nesting"));
    }

    #[test]
    fn spans_cover_values_and_keys() {
        let text = "{\"spec\": {\"roles\": [{\"id\": \"seed\"}]}}";
        let node = parse_json(text, Limits::default()).unwrap();
        let span = node.locate("/spec/roles/0/id", false);
        assert_eq!(&text[span.start..span.end], "\"seed\"");
        let span = node.locate("/spec/roles/0/id", true);
        assert_eq!(&text[span.start..span.end], "\"id\"");
    }
}
