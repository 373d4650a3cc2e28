//! Which strings may be written as plain YAML scalars: not one a YAML 1.1 or 1.2 reader would
//! take for a null, boolean, number or timestamp, and not one whose indicators, comments or
//! edge spaces would change what it reads as.
//!
//! These are serde-saphyr's rules (the writer kdrender used before, and still reads with), kept
//! to the letter so that the text does not change: `emit::yaml`'s property test holds the two
//! writers to the same bytes.

/// Whether `text` may be written plain as a mapping value (block style, YAML 1.1 readers).
pub fn is_plain_value(text: &str) -> bool {
    is_plain_word(text) || is_plain_value_in(text, false)
}

/// Whether `text` may be written plain as a mapping key: it must also be safe in flow style and
/// for YAML 1.2 readers, with no `:` at all.
pub fn is_plain_key(text: &str) -> bool {
    is_plain_word(text) || (is_plain_key_only(text) && is_plain_value_in(text, true))
}

/// Most keys and many values are words of letters alone (`metadata`, `containerPort`,
/// `Always`), which no rule below refuses unless a reader resolves the word itself: a null,
/// boolean or special number of YAML 1.1 or 1.2, in any case. This tells them at a glance.
fn is_plain_word(text: &str) -> bool {
    let named = |words: &[&str]| words.iter().any(|word| text.eq_ignore_ascii_case(word));
    !text.is_empty()
        && text.bytes().all(|byte| byte.is_ascii_alphabetic())
        && !named(&RESOLVED_WORDS)
        && !named(&YAML11_BOOLS)
}

/// The value rules; `in_flow` also refuses flow indicators.
fn is_plain_value_in(text: &str, in_flow: bool) -> bool {
    if is_ambiguous(text, false) || starts_with_document_marker(text) || has_edge_space(text) {
        return false;
    }
    let bytes = text.as_bytes();
    let refused_start = match bytes {
        [b'-' | b'?', second, ..] => second.is_ascii_whitespace(),
        [b'-' | b'?'] => true,
        [first, ..] => is_leading_indicator(*first),
        [] => false,
    };
    if refused_start {
        return false;
    }
    if text.is_ascii() {
        return is_plain_ascii_rest(bytes, in_flow);
    }
    if text.contains(": ") || text.trim().ends_with(':') {
        return false;
    }
    let flow_indicators: &[char] = if in_flow {
        &[',', '[', ']', '{', '}']
    } else {
        &[]
    };
    !contains_any_or_control(text, flow_indicators) && !has_comment_start(text)
}

/// The rest of the value rules for ASCII text, in one pass: no control character, no `: `, no
/// `#` after a space (other white space is control), no flow indicator in flow, and no `:` at
/// the end (`trim` has nothing to remove: edge spaces are already refused).
fn is_plain_ascii_rest(bytes: &[u8], in_flow: bool) -> bool {
    let mut previous = 0u8;
    for (index, &byte) in bytes.iter().enumerate() {
        let refused = match byte {
            0..=0x1F | 0x7F => true,
            b':' => bytes.get(index + 1).is_none_or(|&next| next == b' '),
            b'#' => previous == b' ',
            b',' | b'[' | b']' | b'{' | b'}' => in_flow,
            _ => false,
        };
        if refused {
            return false;
        }
        previous = byte;
    }
    true
}

/// The rules a key adds to a value's.
fn is_plain_key_only(text: &str) -> bool {
    if is_ambiguous(text, true) || text == "<<" || starts_with_document_marker(text) {
        return false;
    }
    if has_edge_space(text) {
        return false;
    }
    let bytes = text.as_bytes();
    match bytes {
        [b'-' | b'?'] => return false,
        [b'-' | b'?', second, ..] if second.is_ascii_whitespace() => return false,
        [first, ..] if is_leading_indicator(*first) => return false,
        _ => {}
    }
    if text.is_ascii() {
        // No `:` at all; is_plain_value_in checks the rest.
        return !bytes.contains(&b':');
    }
    !contains_any_or_control(text, &[':']) && !has_comment_start(text)
}

/// Indicators that cannot start a plain scalar.
fn is_leading_indicator(byte: u8) -> bool {
    matches!(
        byte,
        b',' | b':'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

fn has_edge_space(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_whitespace)
        || bytes.last().is_some_and(u8::is_ascii_whitespace)
}

fn starts_with_document_marker(text: &str) -> bool {
    let Some(rest) = text
        .strip_prefix("---")
        .or_else(|| text.strip_prefix("..."))
    else {
        return false;
    };
    rest.as_bytes().first().is_none_or(u8::is_ascii_whitespace)
}

/// Characters no plain or single-quoted scalar can carry: they must be escaped.
pub fn needs_escape(ch: char) -> bool {
    ch.is_control()
        || matches!(
            ch,
            '\u{FEFF}' | '\u{2028}' | '\u{2029}' | '\u{FFFE}' | '\u{FFFF}'
        )
}

fn contains_any_or_control(text: &str, chars: &[char]) -> bool {
    text.chars()
        .any(|ch| needs_escape(ch) || chars.contains(&ch))
}

/// A `#` after white space starts a comment.
fn has_comment_start(text: &str) -> bool {
    text.match_indices('#').any(|(index, _)| {
        text.get(..index)
            .and_then(|before| before.chars().next_back())
            .is_some_and(char::is_whitespace)
    })
}

/// Whether a reader could resolve `text` to something other than a string, or refuse it.
fn is_ambiguous(text: &str, yaml_12: bool) -> bool {
    !is_surely_a_word(text) && resolves_otherwise(text, yaml_12)
}

/// The rules of [`is_ambiguous`], without its shortcut.
fn resolves_otherwise(text: &str, yaml_12: bool) -> bool {
    text.is_empty()
        || text == "~"
        || RESOLVED_WORDS
            .iter()
            .any(|word| text.eq_ignore_ascii_case(word))
        || text.eq_ignore_ascii_case("-inf")
        || super::number::is_numeric(text, yaml_12)
        || (!yaml_12
            && (is_yaml11_bool(text)
                || super::number::is_yaml11_timestamp(text)
                || matches!(text, "<<" | "=")))
}

/// Most strings written (names, labels, paths) are none of the words, numbers or timestamps
/// [`is_ambiguous`] looks for, and this tells them at a glance: longer than any of the words
/// (five letters at most, padding aside), starting with a letter (numbers and timestamps start
/// with a digit, a sign, a dot or an underscore) and not ending in white space (which a YAML
/// 1.1 boolean may be padded with).
fn is_surely_a_word(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() > 5
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes.last().is_some_and(|b| !b.is_ascii_whitespace())
}

/// YAML 1.1's boolean spellings, padding ignored.
fn is_yaml11_bool(text: &str) -> bool {
    let trimmed = text.trim_matches([' ', '\t', '\r', '\n']);
    YAML11_BOOLS
        .iter()
        .any(|word| trimmed.eq_ignore_ascii_case(word))
}

/// The words readers resolve to a null, a boolean or a special number, in any case.
const RESOLVED_WORDS: [&str; 7] = ["~", "null", "true", "false", "nan", "inf", "+inf"];

/// YAML 1.1's boolean spellings, in any case.
const YAML11_BOOLS: [&str; 8] = ["true", "yes", "y", "on", "false", "no", "n", "off"];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of the words, numbers and timestamps a reader resolves, and of plain words.
    const PIECES: &[&str] = &[
        "true",
        "False",
        "YES",
        "n",
        "off",
        "null",
        "~",
        ".inf",
        "-",
        "+",
        ".",
        "_",
        "0x1f",
        "0o7",
        "0b1",
        "12",
        "1:30",
        "2001-12-14",
        "t",
        "21:59:43.10",
        "Z",
        "e5",
        " ",
        "\t",
        "\n",
        "<<",
        "=",
        "word",
        "é",
    ];

    proptest! {
        #[test]
        fn the_shortcut_never_passes_a_string_a_reader_resolves_otherwise(
            pieces in proptest::collection::vec(proptest::sample::select(PIECES), 1..5)
        ) {
            let text = pieces.concat();
            if is_surely_a_word(&text) {
                prop_assert!(!resolves_otherwise(&text, false), "{text:?}");
                prop_assert!(!resolves_otherwise(&text, true), "{text:?}");
            }
        }
    }

    proptest! {
        /// Words of letters (the resolved words among them, in any case) are plain by the
        /// shortcut exactly when they are plain by the rules, as keys and as values.
        #[test]
        fn the_word_shortcut_agrees_with_the_rules(
            text in proptest::prop_oneof![
                "[a-zA-Z]{1,12}",
                proptest::sample::select(vec![
                    "null", "NULL", "True", "false", "YES", "no", "On", "off", "y", "N", "NaN",
                    "Inf", "nil", "yess", "Off", "x", "kind",
                ])
                .prop_map(str::to_string),
            ]
        ) {
            prop_assert_eq!(is_plain_word(&text), is_plain_value_in(&text, false), "{:?}", text);
            prop_assert_eq!(
                is_plain_word(&text),
                is_plain_key_only(&text) && is_plain_value_in(&text, true),
                "{:?}",
                text
            );
        }
    }

    #[test]
    fn names_and_paths_take_the_shortcut_and_padded_words_do_not() {
        assert!(is_surely_a_word("kubedirector"));
        assert!(!is_surely_a_word("/etc/config"));
        assert!(!is_surely_a_word("false "));
        assert!(!is_surely_a_word("false"));
        // A YAML 1.1 boolean, padded, is still one.
        assert!(is_ambiguous("False\t", false));
    }
}
