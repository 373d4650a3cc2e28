//! The YAML writer: a JSON value as block-style YAML text, written straight into a `String`.
//!
//! The objects kdrender builds are its own data (a `serde_json::Value` tree), so this writer
//! needs none of a general serializer's machinery (serde's visitor calls, a state machine for
//! where the next token goes, a text per key): it walks the tree once. Its text is exactly
//! serde-saphyr's with its default options, which kdrender wrote with before (and still reads
//! with): two-space indentation, sequences under a key at the key's column, `{}` and `[]` for
//! empty collections, keys in sorted order, strings quoted by the same rules (see [`plain`],
//! [`number`], [`scalar`]). A property test holds the two writers to the same bytes.
//!
//! Two shapes the objects never have make the writer hand the whole document to serde-saphyr
//! instead: a float (its shortest round-trip spelling needs its float formatter), and a key too
//! long for YAML's implicit key form (`? key`).

mod number;
mod plain;
mod scalar;

use serde_json::{Map, Value};

use self::scalar::Unusual;

use super::YamlError;

/// Two spaces per level.
const INDENT: usize = 2;

/// Appends `value` as one YAML document (no `---` separator) to `out`.
pub fn write(out: &mut String, value: &Value) -> Result<(), YamlError> {
    let start = out.len();
    if write_document(out, value).is_err() {
        out.truncate(start);
        out.push_str(&serde_saphyr::to_string(value)?);
    }
    Ok(())
}

/// The document, unless it has an [`Unusual`] shape (then `out` holds part of it).
fn write_document(out: &mut String, value: &Value) -> Result<(), Unusual> {
    match value {
        Value::Object(map) if !map.is_empty() => write_map(out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(out, items, 0, false),
        _ => write_inline(out, value, 0),
    }
}

/// A mapping whose keys start at `column`. `inline` when the first key follows a `- ` already
/// written.
fn write_map(
    out: &mut String,
    map: &Map<String, Value>,
    column: usize,
    inline: bool,
) -> Result<(), Unusual> {
    for (index, (key, value)) in map.iter().enumerate() {
        if index > 0 || !inline {
            push_spaces(out, column);
        }
        scalar::write_key(out, key)?;
        out.push(':');
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                write_map(out, inner, column + INDENT, false)?;
            }
            // Under a key, a sequence's dashes stand at the key's column.
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                write_seq(out, items, column, false)?;
            }
            _ => {
                out.push(' ');
                write_inline(out, value, column)?;
            }
        }
    }
    Ok(())
}

/// A sequence whose dashes stand at `column`. `inline` when the first dash follows a `- `
/// already written.
fn write_seq(
    out: &mut String,
    items: &[Value],
    column: usize,
    inline: bool,
) -> Result<(), Unusual> {
    for (index, item) in items.iter().enumerate() {
        if index > 0 || !inline {
            push_spaces(out, column);
        }
        out.push_str("- ");
        match item {
            Value::Object(inner) if !inner.is_empty() => {
                write_map(out, inner, column + INDENT, true)?;
            }
            Value::Array(inner) if !inner.is_empty() => {
                write_seq(out, inner, column + INDENT, true)?;
            }
            _ => write_inline(out, item, column)?,
        }
    }
    Ok(())
}

/// A value that starts on the current line: a scalar (a block scalar's body indented past
/// `column`), or an empty collection. Ends the line.
fn write_inline(out: &mut String, value: &Value, column: usize) -> Result<(), Unusual> {
    match value {
        Value::Null => out.push_str("null\n"),
        Value::Bool(true) => out.push_str("true\n"),
        Value::Bool(false) => out.push_str("false\n"),
        Value::Number(number) => write_number(out, number)?,
        Value::String(text) => scalar::write_value(out, text, column),
        Value::Array(_) => out.push_str("[]\n"),
        Value::Object(_) => out.push_str("{}\n"),
    }
    Ok(())
}

fn write_number(out: &mut String, number: &serde_json::Number) -> Result<(), Unusual> {
    use std::fmt::Write as _;
    if let Some(n) = number.as_u64() {
        let _ = writeln!(out, "{n}");
    } else if let Some(n) = number.as_i64() {
        let _ = writeln!(out, "{n}");
    } else {
        return Err(Unusual);
    }
    Ok(())
}

/// Appends `count` spaces, a slice at a time (pushing them one `char` at a time was 1.6% of a
/// 100-cluster render).
fn push_spaces(out: &mut String, count: usize) {
    const SPACES: &str = "                                ";
    let mut left = count;
    while left > 0 {
        let now = left.min(SPACES.len());
        out.push_str(SPACES.get(..now).unwrap_or_default());
        left -= now;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// What the writer must match: serde-saphyr with its default options.
    fn saphyr(value: &Value) -> String {
        serde_saphyr::to_string(value).unwrap()
    }

    /// The writer's own text, never serde-saphyr's (no fallback).
    fn direct(value: &Value) -> String {
        let mut out = String::new();
        assert!(
            write_document(&mut out, value).is_ok(),
            "fell back on {value}"
        );
        out
    }

    /// Strings a YAML 1.1 or 1.2 reader would misread, and strings that test every style.
    const TRAPS: &[&str] = &[
        "",
        " ",
        "  ",
        "on",
        "Off",
        "YES",
        "no",
        "y",
        "N",
        "true",
        "False",
        "null",
        "NULL",
        "~",
        "nan",
        ".NaN",
        "inf",
        "-.inf",
        "+.inf",
        "0",
        "-0",
        "+1",
        "0755",
        "0o17",
        "0x1F",
        "0b101",
        "0b-1",
        "0x_1",
        "1_000",
        "_1",
        "1__0",
        "1e3",
        "1E+3",
        "12e",
        ".5",
        "5.",
        "1.2.3",
        "1:30",
        "01:30",
        "190:20:30.15",
        "1:60",
        "2001-12-14",
        "2001-1-4",
        "2001-12-14t21:59:43.10-05:00",
        "2001-12-14 21:59:43.10 -5",
        "2001-12-14 21:59:43,1Z",
        "<<",
        "=",
        "---",
        "...",
        "--- x",
        "---x",
        "... y",
        "-",
        "?",
        "- x",
        "-x",
        "? x",
        "?x",
        ":",
        ":x",
        "a:",
        "a: b",
        "a:b",
        "#",
        "a #b",
        "a#b",
        ".",
        "&a",
        "*a",
        "!t",
        "|",
        ">",
        "'",
        "\"",
        "%",
        "@",
        "`",
        ",",
        "[",
        "]",
        "{",
        "}",
        "a,b",
        "[a]",
        "{a}",
        " lead",
        "trail ",
        "\ttab",
        "tab\t",
        "a\tb",
        "\n",
        "\n\n",
        "a\n",
        "a\n\n",
        "a\nb",
        "a\nb\n",
        "\na",
        " a\nb",
        "a\n b",
        "  x\n",
        "a\r\nb",
        "\r",
        "a\u{85}b",
        "a\u{2028}b",
        "\u{2029}",
        "\u{feff}a",
        "é",
        "字",
        "😀",
        "\0",
        "\u{7}",
        "\u{1b}",
        "\u{7f}",
        "\u{9f}",
        "\u{a0}",
        "\u{fffe}",
        "\u{ffff}",
        "\\",
        "'q'",
        "\"q\"",
    ];

    /// Pieces that strings are assembled from.
    const PIECES: &[&str] = &[
        "word", "x", " ", "  ", "\t", "\n", ": ", ":", "#", " #", "-", "'", "\"", "\\", "é", "字",
        "\u{1}", "\u{85}", "\u{feff}", "1", "0", ".", "e", "_", "${v}", "{", "[", ",",
    ];

    fn hostile_string() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(TRAPS).prop_map(str::to_string),
            proptest::collection::vec(proptest::sample::select(PIECES), 0..12)
                .prop_map(|pieces| pieces.concat()),
            // Long lines, folded (or not) at runs of spaces and tabs.
            proptest::collection::vec(
                (
                    "[a-zé]{0,30}",
                    proptest::sample::select(&[" ", "  ", " \t", "\t", "   "][..])
                ),
                2..12
            )
            .prop_map(|words| words.into_iter().map(|(w, s)| format!("{w}{s}")).collect()),
            any::<String>(),
        ]
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            hostile_string().prop_map(Value::String),
            hostile_string().prop_map(Value::String),
        ]
    }

    fn tree() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(5, 64, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map(hostile_string(), inner, 0..5)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any tree of strings, numbers, booleans and nulls, with hostile strings as keys and
        /// values, is written as exactly serde-saphyr's text.
        #[test]
        fn any_tree_is_written_as_serde_saphyr_writes_it(value in tree()) {
            prop_assert_eq!(direct(&value), saphyr(&value));
        }

        /// The same inside an object, as every rendered object is.
        #[test]
        fn any_object_is_written_as_serde_saphyr_writes_it(
            map in proptest::collection::btree_map(hostile_string(), tree(), 1..6)
        ) {
            let value = Value::Object(map.into_iter().collect());
            prop_assert_eq!(direct(&value), saphyr(&value));
        }
    }

    #[test]
    fn every_trap_is_written_as_serde_saphyr_writes_it() {
        for trap in TRAPS {
            let value = json!({ *trap: [*trap, {*trap: *trap}], "k": *trap });
            assert_eq!(direct(&value), saphyr(&value), "{trap:?}");
        }
    }

    #[test]
    fn long_lines_fold_as_serde_saphyr_folds_them() {
        let words = ["a", "bb", "ccc dd", "e  f", "g\th", "i \tj", "é字😀"];
        for width in [70, 79, 80, 81, 82, 120, 200, 400] {
            for word in words {
                let line = std::iter::repeat_n(word, width)
                    .collect::<Vec<_>>()
                    .join(" ");
                let line = line.chars().take(width).collect::<String>();
                let value = json!({"k": &line, "s": [&line, [&line]], "m": [{"k": &line}]});
                assert_eq!(direct(&value), saphyr(&value), "{line:?}");
            }
        }
    }

    #[test]
    fn floats_and_long_keys_are_left_to_serde_saphyr() {
        let long_key = "k".repeat(1100);
        let quoted_long_key = "\u{1}".repeat(300);
        for value in [
            json!({"f": 1.5}),
            json!([0.1, 1e300]),
            json!({ long_key: 1 }),
            json!({"a": [{ quoted_long_key: "v" }]}),
        ] {
            let mut out = String::new();
            assert!(write_document(&mut out, &value).is_err(), "{value}");
            let mut out = String::from("---\n");
            write(&mut out, &value).unwrap();
            assert_eq!(out, format!("---\n{}", saphyr(&value)));
        }
    }
}
