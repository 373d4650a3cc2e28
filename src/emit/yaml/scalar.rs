//! How one string is written: plain when that reads back as the same string, a literal block
//! (`|`) when it has several lines, a folded block (`>`) when one long line can be wrapped,
//! double-quoted with escapes otherwise. serde-saphyr's choices, kept to the letter (see
//! [`super::plain`]).

use std::fmt::Write as _;

use super::plain::{is_plain_key, is_plain_value, needs_escape};

/// Longer single lines are folded.
const FOLD_WIDTH: usize = 80;

/// Keys longer than this need YAML's explicit `? key` form.
const SIMPLE_KEY_MAX: usize = 1024;

/// Indentation of a block scalar's body past its parent's column.
const INDENT: usize = 2;

/// A shape this writer leaves to serde-saphyr: a float, or a key for YAML's explicit form.
pub struct Unusual;

/// A mapping key, plain or double-quoted; too long a key (as written) is [`Unusual`].
pub fn write_key(out: &mut String, key: &str) -> Result<(), Unusual> {
    let start = out.len();
    if is_plain_key(key) {
        out.push_str(key);
    } else {
        write_double_quoted(out, key);
    }
    let written = out.get(start..).unwrap_or_default();
    if written.len() > SIMPLE_KEY_MAX && written.chars().count() > SIMPLE_KEY_MAX {
        return Err(Unusual);
    }
    Ok(())
}

/// A string in value position, ending its line. `column` is where its parent (key or dash)
/// starts: a block scalar's body is indented past it.
pub fn write_value(out: &mut String, text: &str, column: usize) {
    if text.contains('\n') {
        if is_block_safe(text) {
            write_literal(out, text, column + INDENT);
            return;
        }
    } else if text.len() > FOLD_WIDTH && is_foldable(text) {
        write_folded(out, text, column + INDENT);
        return;
    }
    if matches!(text, "." | "#" | "-") {
        out.push('\'');
        out.push_str(text);
        out.push('\'');
    } else if is_plain_value(text) {
        out.push_str(text);
    } else {
        write_double_quoted(out, text);
    }
    out.push('\n');
}

/// A long line is folded when, trailing spaces aside, it could have been written plain.
fn is_foldable(text: &str) -> bool {
    let probe = text.trim_end_matches(' ');
    !probe.is_empty() && is_plain_value(probe) && text.chars().count() > FOLD_WIDTH
}

/// Whether every character can stand as itself in a block scalar.
fn is_block_safe(text: &str) -> bool {
    if text.is_ascii() {
        // One pass with no early exit, which compiles to vector code: config files and the
        // configmeta document are most of the output, and nearly all of it is ASCII.
        let refused = text.bytes().fold(false, |refused, byte| {
            refused | (byte < 0x20 && byte != b'\n' && byte != b'\t') | (byte == 0x7F)
        });
        return !refused;
    }
    text.chars().all(stands_in_block)
}

/// Whether a character can stand as itself in a block scalar.
fn stands_in_block(ch: char) -> bool {
    match ch {
        '\n' | '\t' => true,
        '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}' => false,
        ch => matches!(
            u32::from(ch),
            0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x0010_FFFF
        ),
    }
}

/// The header's indentation indicator, needed when the first line starts with spaces.
fn push_indicator(out: &mut String, content: &str) {
    let first = content.split('\n').find(|line| !line.is_empty());
    if first.is_some_and(|line| line.starts_with(' ')) {
        out.push(char::from(b'0' + INDENT as u8));
    }
}

/// `|`, with the chomping that keeps the trailing newlines exactly, then the lines at `body`.
fn write_literal(out: &mut String, text: &str, body: usize) {
    let content = text.trim_end_matches('\n');
    let trailing = text.len() - content.len();
    out.push('|');
    push_indicator(out, content);
    match trailing {
        0 => out.push('-'),
        1 if !content.is_empty() => {}
        _ => out.push('+'),
    }
    out.push('\n');
    if content.is_empty() {
        push_newlines(out, trailing);
        return;
    }
    for line in content.split('\n') {
        if !line.is_empty() {
            push_spaces(out, body);
            out.push_str(line);
        }
        out.push('\n');
    }
    push_newlines(out, trailing.saturating_sub(1));
}

/// `>-`, then the line wrapped at spaces past [`FOLD_WIDTH`] characters, at `body`.
fn write_folded(out: &mut String, text: &str, body: usize) {
    out.push('>');
    push_indicator(out, text);
    out.push_str("-\n");
    if text.starts_with(' ') {
        push_line(out, body, text);
        return;
    }
    let mut fold = Fold::default();
    for (index, ch) in text.char_indices() {
        if let Some((end, cut)) = fold.step(index, ch) {
            push_line(out, body, text.get(fold.start..end).unwrap_or_default());
            fold.start = cut;
        } else if fold.gave_up {
            break;
        }
    }
    push_line(out, body, text.get(fold.start..).unwrap_or_default());
}

/// The state of folding one line: a line breaks at the last run of spaces (not followed by a
/// tab) once a character passes [`FOLD_WIDTH`], counted from the previous break; the line keeps
/// all but one space of the run. Past the width with no run to break at, folding gives up.
#[derive(Default)]
struct Fold {
    /// Where the current output line starts.
    start: usize,
    /// Characters counted since the last break.
    column: usize,
    /// The last finished run of spaces: its start and end.
    last_run: Option<(usize, usize)>,
    /// The run of spaces being read: its start.
    run: Option<usize>,
    gave_up: bool,
}

impl Fold {
    /// Reads one character; `Some((end, next))` when the line breaks: it ends at `end` and the
    /// next starts at `next`.
    fn step(&mut self, index: usize, ch: char) -> Option<(usize, usize)> {
        if ch != ' '
            && let Some(start) = self.run.take()
            && ch != '\t'
        {
            self.last_run = Some((start, index));
        }
        if ch == ' ' && self.run.is_none() {
            self.run = Some(index);
        }
        self.column += 1;
        if self.column <= FOLD_WIDTH {
            return None;
        }
        let Some((start, end)) = self.last_run.take() else {
            self.gave_up = true;
            return None;
        };
        self.column = 0;
        // Spaces are one byte each.
        Some((end.saturating_sub(1).max(start), end))
    }
}

fn push_line(out: &mut String, indent: usize, line: &str) {
    push_spaces(out, indent);
    out.push_str(line);
    out.push('\n');
}

fn push_spaces(out: &mut String, count: usize) {
    out.extend(std::iter::repeat_n(' ', count));
}

fn push_newlines(out: &mut String, count: usize) {
    out.extend(std::iter::repeat_n('\n', count));
}

/// `"…"`, with YAML's escapes.
pub fn write_double_quoted(out: &mut String, text: &str) {
    out.push('"');
    for ch in text.chars() {
        match escape(ch) {
            Some(escaped) => out.push_str(escaped),
            None if u32::from(ch) <= 0xFF
                && (ch.is_control() || ('\u{7F}'..='\u{9F}').contains(&ch)) =>
            {
                let _ = write!(out, "\\x{:02X}", u32::from(ch));
            }
            None if u32::from(ch) <= 0xFFFF && needs_escape(ch) => {
                let _ = write!(out, "\\u{:04X}", u32::from(ch));
            }
            None => out.push(ch),
        }
    }
    out.push('"');
}

/// YAML's named escapes.
fn escape(ch: char) -> Option<&'static str> {
    Some(match ch {
        '\\' => "\\\\",
        '"' => "\\\"",
        '\0' => "\\0",
        '\u{7}' => "\\a",
        '\u{8}' => "\\b",
        '\t' => "\\t",
        '\n' => "\\n",
        '\u{b}' => "\\v",
        '\u{c}' => "\\f",
        '\r' => "\\r",
        '\u{1b}' => "\\e",
        '\u{FEFF}' => "\\uFEFF",
        '\u{0085}' => "\\N",
        '\u{2028}' => "\\L",
        '\u{2029}' => "\\P",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ASCII pass refuses exactly the bytes the character rule refuses.
    #[test]
    fn the_ascii_pass_agrees_with_the_character_rule() {
        for byte in 0u8..0x80 {
            let text = format!("key: value\n{}tail\n", char::from(byte));
            assert!(text.is_ascii());
            assert_eq!(
                is_block_safe(&text),
                text.chars().all(stands_in_block),
                "byte {byte:#04x}"
            );
        }
        assert!(!is_block_safe("line\r\nnext"));
        assert!(is_block_safe("tab\there\n"));
        assert!(!is_block_safe("é\u{0085}"));
    }
}
