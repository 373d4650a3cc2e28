//! Compact JSON, byte for byte as `serde_json::to_string` writes a `Value` (keys sorted, no
//! spaces), without serde's machinery: `diff` keeps every base object as this text and writes
//! every object of the working tree again to compare with it, and the configmeta printer
//! writes its strings with [`push_string`]. The tests hold both writers to serde_json's output.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

/// Appends `value` as compact JSON.
pub fn write(value: &Value, out: &mut String) {
    write_mapped(value, out, &|text| Cow::Borrowed(text));
}

/// [`write`], with every string value (no key) written as `map` turns it.
pub fn write_mapped<M>(value: &Value, out: &mut String, map: &M)
where
    M: for<'t> Fn(&'t str) -> Cow<'t, str>,
{
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        // serde_json writes a number as its Display does (itoa, or the shortest float).
        Value::Number(number) => {
            let _ = write!(out, "{number}");
        }
        Value::String(text) => push_string(&map(text), out),
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_mapped(item, out, map);
            }
            out.push(']');
        }
        Value::Object(fields) => {
            out.push('{');
            for (index, (key, item)) in fields.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                push_string(key, out);
                out.push(':');
                write_mapped(item, out, map);
            }
            out.push('}');
        }
    }
}

/// `value` as compact JSON.
pub fn to_string(value: &Value) -> String {
    let mut text = String::new();
    write(value, &mut text);
    text
}

/// Calls `f` with `value` as compact JSON, written into a buffer this thread reuses: for text
/// that is only looked at (compared, measured), never kept.
pub fn with_text<T>(value: &Value, f: impl FnOnce(&str) -> T) -> T {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with(|buffer| match buffer.try_borrow_mut() {
        Ok(mut text) => {
            text.clear();
            write(value, &mut text);
            f(&text)
        }
        // Only if `f` itself asked for compact text: then it gets a buffer of its own.
        Err(_) => f(&to_string(value)),
    })
}

/// Appends a JSON string literal, escaped exactly as serde_json escapes it.
pub fn push_string(text: &str, out: &mut String) {
    out.reserve(text.len().saturating_add(2));
    out.push('"');
    let bytes = text.as_bytes();
    // `text[clean_from..]` is not yet in `out`; every byte before `at` needs no escape.
    let (mut clean_from, mut at) = (0, 0);
    while let Some(found) = next_escape(bytes, at) {
        out.push_str(text.get(clean_from..found).unwrap_or_default());
        let byte = bytes.get(found).copied().unwrap_or_default();
        match byte {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                let _ = write!(out, "\\u{byte:04x}");
            }
        }
        at = found.saturating_add(1);
        clean_from = at;
    }
    out.push_str(text.get(clean_from..).unwrap_or_default());
    out.push('"');
}

/// Where the first byte at or after `from` that JSON escapes is (a control character, `"`
/// or `\`). Eight bytes are looked at at once (long config files are mostly runs that need
/// none), the rest one by one.
fn next_escape(bytes: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let needs_escape = |byte: u8| byte < 0x20 || byte == b'"' || byte == b'\\';
    let mut at = from;
    let rest = bytes.get(from..)?;
    let mut words = rest.chunks_exact(8);
    for chunk in &mut words {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        // The high bit of each byte below 0x20, or equal to `"` or `\`, is set (classic
        // zero-byte tests; bytes of 0x80 and above are masked off by `!word`, and a byte
        // after a match may be flagged too, which only the first match makes irrelevant).
        let below_space = word.wrapping_sub(ONES.wrapping_mul(0x20)) & !word;
        let quote = word ^ ONES.wrapping_mul(u64::from(b'"'));
        let backslash = word ^ ONES.wrapping_mul(u64::from(b'\\'));
        let zero_in = |w: u64| w.wrapping_sub(ONES) & !w;
        let flagged = (below_space | zero_in(quote) | zero_in(backslash)) & HIGHS;
        if flagged != 0 {
            // The lowest flag is exact: the first byte that needs an escape.
            return Some(at.saturating_add((flagged.trailing_zeros() / 8) as usize));
        }
        at = at.saturating_add(8);
    }
    let tail = words.remainder();
    tail.iter()
        .position(|&byte| needs_escape(byte))
        .map(|offset| at.saturating_add(offset))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let every_control: String = (0u8..0x20).map(char::from).collect();
        for text in [
            "plain",
            "",
            "a \"quoted\" \\ path\u{7f}",
            "only a \\ backslash",
            "only a \" quote",
            "a line\n",
            "ünïcode ✓ \u{1f600}",
            every_control.as_str(),
        ] {
            let mut ours = String::new();
            push_string(text, &mut ours);
            assert_eq!(ours, serde_json::to_string(text).unwrap());
        }
        for byte in 0u8..0x80 {
            let text = format!("a{}b", char::from(byte));
            let mut ours = String::new();
            push_string(&text, &mut ours);
            assert_eq!(
                ours,
                serde_json::to_string(&text).unwrap(),
                "byte {byte:#04x}"
            );
        }
    }

    #[test]
    fn an_escape_is_found_wherever_it_lies_in_a_long_string() {
        // Every position within and across the eight-byte words the scan reads, next to bytes
        // of 0x80 and above (UTF-8) and to bytes just above and below the ones escaped.
        for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
            for at in 0..24 {
                for filler in ["x", "é", " ", "!", "#", "[", "]", "\u{7f}"] {
                    let mut text: String = filler.repeat(24);
                    let boundary = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
                    text.insert(boundary, special);
                    let mut ours = String::new();
                    push_string(&text, &mut ours);
                    assert_eq!(ours, serde_json::to_string(&text).unwrap(), "{text:?}");
                }
            }
        }
    }

    #[test]
    fn every_kind_of_value_is_written_as_serde_json_writes_it() {
        let value = json!({
            "z": [1, -2, 2.5, 1e300, -0.0, 1.0, u64::MAX, i64::MIN, 0.1],
            "a": {"nested": {"empty": {}, "list": []}, "null": null},
            "t": true, "f": false,
            "text": "line\nbreak \"quoted\" \u{1}",
            "": "empty key",
            "ключ": "ünïcode",
        });
        assert_eq!(to_string(&value), serde_json::to_string(&value).unwrap());
        assert_eq!(
            with_text(&value, str::to_string),
            serde_json::to_string(&value).unwrap()
        );
    }

    /// Any JSON value: scalars of every kind (floats from their bits, so that odd ones come
    /// up), nested in lists and maps.
    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|bits| json!(f64::from_bits(bits))),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..8)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_value_is_written_as_serde_json_writes_it(value in any_value()) {
            prop_assert_eq!(to_string(&value), serde_json::to_string(&value).unwrap());
        }
    }
}
