//! Input text made safe to print on a terminal: every character a terminal would act on or not
//! show (escape sequences, carriage returns, bidi overrides, zero-width characters) is written as
//! a `\u{…}` escape, so that a repository cannot hide or fake lines of a report about itself
//! (`kdrender diff`'s plan, and every diagnostic, which Argo CD shows and CI logs keep).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether a terminal would act on `c` or not show it: C0 controls but tab (newline too: every
/// piece of the report is one line), DEL, C1 controls, the bidi controls and marks, and the
/// invisible format characters (zero-width spaces and joiners, word joiner and invisible
/// operators, soft hyphen, byte order mark, line and paragraph separators, interlinear
/// annotation marks, tag characters).
fn hidden(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{ad}'
                | '\u{61c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `text` with every [`hidden`] character written as a visible escape: ESC as `\u{1b}`, a
/// right-to-left override as `\u{202e}`, a newline as `\u{a}`.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.contains(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A multi-line report (diagnostics on stderr) made [`visible`] line by line: its line breaks
/// stay, every other hidden character is escaped.
pub fn visible_lines(text: &str) -> String {
    text.split('\n').map(visible).collect::<Vec<_>>().join("\n")
}
