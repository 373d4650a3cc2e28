//! JSON (RFC 8259) to [`Node`] trees.
//!
//! `.json` inputs are parsed as JSON, not as YAML: KubeDirector's own catalog indents JSON with
//! tab characters, which YAML forbids. A small recursive-descent parser is enough, and unlike
//! `serde_json` it records where every value and key was written.

use super::{
    Budget, DOCUMENT_VALUES, Entry, Limits, Meter, Node, ParseError, Value, char_span,
    sorted_entries,
};
use crate::source::Span;

/// Parses one JSON document (a leading byte-order mark is skipped), with a budget of its own.
pub fn parse_json(text: &str, limits: Limits) -> Result<Node, ParseError> {
    parse(text, limits, &Budget::default())
}

/// Parses one JSON document against the run's budget.
pub(super) fn parse(text: &str, limits: Limits, budget: &Budget) -> Result<Node, ParseError> {
    let start = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut parser = JsonParser {
        text: text.as_bytes(),
        source: text,
        pos: start,
        limits,
        meter: Meter::new(limits, budget),
    };
    parser.charge(DOCUMENT_VALUES)?;
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
    meter: Meter<'a>,
}

impl JsonParser<'_> {
    /// An error at the character at the current position (or at the end of the text).
    fn error_here(&self, message: &str) -> ParseError {
        ParseError::new(message, char_span(self.source, self.pos))
    }

    fn charge(&mut self, values: usize) -> Result<(), ParseError> {
        let at = char_span(self.source, self.pos);
        self.meter
            .charge(values, 0)
            .map_err(|exhausted| self.meter.error(exhausted, at))
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn bump(&mut self, bytes: usize) {
        self.pos = self.pos.saturating_add(bytes);
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.bump(1);
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, ParseError> {
        self.charge(1)?;
        let start = self.pos;
        let value = match self.peek() {
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
        if self.peek() == Some(byte) {
            self.bump(1);
            Ok(())
        } else {
            Err(self.error_here(&format!("JSON syntax: expected {what}")))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.nest(depth)?;
        self.bump(1);
        let mut entries = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.bump(1);
            return Ok(Value::Map(entries));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error_here("JSON syntax: expected a quoted key"));
            }
            self.charge(1)?;
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span::new(key_start, self.pos);
            self.expect(b':', "`:` after the key")?;
            self.skip_whitespace();
            let value = self.value(depth.saturating_add(1))?;
            entries.push(Entry {
                key,
                key_span,
                value,
            });
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.bump(1),
                Some(b'}') => {
                    self.bump(1);
                    return sorted_entries(entries, "object").map(Value::Map);
                }
                _ => return Err(self.error_here("JSON syntax: expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, ParseError> {
        self.nest(depth)?;
        self.bump(1);
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.bump(1);
            return Ok(Value::Seq(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth.saturating_add(1))?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.bump(1),
                Some(b']') => {
                    self.bump(1);
                    items.shrink_to_fit();
                    return Ok(Value::Seq(items));
                }
                _ => return Err(self.error_here("JSON syntax: expected `,` or `]`")),
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, ParseError> {
        let rest = self.text.get(self.pos..).unwrap_or_default();
        if rest.starts_with(word.as_bytes()) {
            self.bump(word.len());
            Ok(value)
        } else {
            Err(self.error_here("JSON syntax: expected a value"))
        }
    }

    /// Skips ASCII digits; whether there was at least one.
    fn digits(&mut self) -> bool {
        let from = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.bump(1);
        }
        self.pos > from
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.bump(1);
        }
        let int_start = self.pos;
        let leading_zero = self.peek() == Some(b'0');
        if !self.digits() || (leading_zero && self.pos.saturating_sub(int_start) > 1) {
            return Err(self.error_here("JSON syntax: malformed number"));
        }
        if self.peek() == Some(b'.') {
            self.bump(1);
            if !self.digits() {
                return Err(self.error_here("JSON syntax: malformed number"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.bump(1);
            if let Some(b'+' | b'-') = self.peek() {
                self.bump(1);
            }
            if !self.digits() {
                return Err(self.error_here("JSON syntax: malformed number"));
            }
        }
        let literal = self.source.get(start..self.pos).unwrap_or_default();
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
        self.bump(1);
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump(1);
            }
            // Runs end at ASCII bytes or at the end, so they are whole characters.
            out.push_str(self.source.get(run_start..self.pos).unwrap_or_default());
            match self.peek() {
                Some(b'"') => {
                    self.bump(1);
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.bump(1);
                    let escaped = match self.peek() {
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
                    self.bump(1);
                }
                Some(_) => {
                    return Err(self.error_here("JSON syntax: control character inside a string"));
                }
                None => return Err(self.error_here("JSON syntax: unterminated string")),
            }
        }
    }

    /// Four hex digits starting at byte `at`.
    fn hex4(&self, at: usize) -> Result<u32, ParseError> {
        self.source
            .get(at..at.saturating_add(4))
            .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.error_here("JSON syntax: malformed \\u escape"))
    }

    /// Reads `uXXXX` (and a following `\uXXXX` low surrogate); leaves `pos` on the last digit.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let first = self.hex4(self.pos.saturating_add(1))?;
        self.bump(4);
        if let Some(high) = first.checked_sub(0xD800).filter(|h| *h < 0x400) {
            let next = self.pos.saturating_add(1);
            if self.source.get(next..next.saturating_add(2)) == Some("\\u") {
                let second = self.hex4(next.saturating_add(2))?;
                if let Some(low) = second.checked_sub(0xDC00).filter(|l| *l < 0x400) {
                    self.bump(6);
                    let code = (high << 10 | low).checked_add(0x10000);
                    return code
                        .and_then(char::from_u32)
                        .ok_or_else(|| self.error_here("JSON syntax: invalid surrogate pair"));
                }
            }
            return Err(self.error_here("JSON syntax: unpaired surrogate"));
        }
        char::from_u32(first).ok_or_else(|| self.error_here("JSON syntax: unpaired surrogate"))
    }
}

#[cfg(test)]
// A panic in a test is a failed test: tests may index and add freely.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
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

    /// Every error path of the parser, each placed at a multi-byte character: the error covers
    /// that whole character (or nothing, at the end of the text), never part of one.
    #[test]
    fn errors_at_multi_byte_characters_cover_the_whole_character() {
        for (text, message, at) in [
            ("{\"a\": “x”}", "expected a value", Some("“")),
            ("{} é", "unexpected content after the document", Some("é")),
            (
                "\u{feff}{} 😀",
                "unexpected content after the document",
                Some("😀"),
            ),
            ("{é: 1}", "expected a quoted key", Some("é")),
            ("{\"a\" ： 1}", "`:` after the key", Some("：")),
            ("{\"a\": 1 é}", "expected `,` or `}`", Some("é")),
            ("[1 é]", "expected `,` or `]`", Some("é")),
            ("\"\\é\"", "unknown escape", Some("é")),
            ("\"é", "unterminated string", None),
            ("-é", "malformed number", Some("é")),
            ("1.é", "malformed number", Some("é")),
            ("1eé", "malformed number", Some("é")),
            ("\"\\ud800é\"", "unpaired surrogate", Some("0")),
            ("[é", "expected a value", Some("é")),
            ("[1, ", "unexpected end of file", None),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.message.contains(message), "{text:?}: {err:?}");
            assert_eq!(
                text.get(err.span.start..err.span.end),
                Some(at.unwrap_or("")),
                "{text:?}: {err:?}"
            );
            if at.is_none() {
                assert_eq!(err.span.start, text.len(), "{text:?}: {err:?}");
            }
        }
    }

    #[test]
    fn hex_escapes_take_hex_digits_only() {
        assert!(parse("\"\\u+041\"").is_err());
        assert_eq!(parse("\"\\u0041\"").unwrap(), "A");
    }
}
