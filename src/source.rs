//! Source files and positions inside them.
//!
//! Every input file is read once into a [`SourceFile`] and kept in the [`SourceMap`] for the whole
//! run, so that any later stage can point a diagnostic at a byte range of it. Paths are stored
//! relative to the rendered folder, with `/` separators, so that messages and output never depend
//! on where the repository was unpacked.
//!
//! Line and column look-ups cost the same whatever the file holds: a file keeps one checkpoint
//! (line and column) per [`CHECKPOINT_BYTES`] of text, not one entry per line, so a file of
//! empty lines costs no more memory than any other, and a look-up scans at most one block.

#![warn(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use std::fmt;

/// Index of a file in the [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub(crate) usize);

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span {
            start,
            end: end.max(start),
        }
    }

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// A span inside a particular file: what a diagnostic points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Origin {
    pub file: FileId,
    pub span: Span,
}

/// Bytes of text per line/column checkpoint.
pub const CHECKPOINT_BYTES: usize = 4096;

/// Where a block of text starts: zero-based line, and column in characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Checkpoint {
    line: usize,
    column: usize,
}

/// One input file as read from disk.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the rendered folder, `/`-separated (`clusters/kafka.yaml`,
    /// `../catalog/kafka/app.yaml`).
    pub path: String,
    pub text: String,
    /// The line and column at the start of every block of [`CHECKPOINT_BYTES`].
    checkpoints: Vec<Checkpoint>,
}

/// What [`SourceMap::get`] answers for an id it never handed out.
static NO_FILE: SourceFile = SourceFile {
    path: String::new(),
    text: String::new(),
    checkpoints: Vec::new(),
};

impl SourceFile {
    pub fn new(path: String, text: String) -> Self {
        let checkpoints = checkpoints(&text);
        SourceFile {
            path,
            text,
            checkpoints,
        }
    }

    /// One-based line and column (in characters) of a byte offset. An offset past the end
    /// counts as the end; one inside a character counts as that character.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let bytes = self.text.as_bytes();
        let mut offset = offset.min(bytes.len());
        while !self.text.is_char_boundary(offset) {
            offset = offset.saturating_sub(1);
        }
        let block = (offset / CHECKPOINT_BYTES).min(self.checkpoints.len().saturating_sub(1));
        let Some(&checkpoint) = self.checkpoints.get(block) else {
            return (1, 1);
        };
        let from = block.saturating_mul(CHECKPOINT_BYTES);
        let end = advance(checkpoint, bytes.get(from..offset).unwrap_or_default());
        (end.line.saturating_add(1), end.column.saturating_add(1))
    }
}

/// Whether a byte begins a character (is not a UTF-8 continuation byte).
fn starts_char(byte: u8) -> bool {
    byte & 0xC0 != 0x80
}

/// The position after `bytes`, starting at `at`.
fn advance(at: Checkpoint, bytes: &[u8]) -> Checkpoint {
    match bytes.iter().rposition(|&b| b == b'\n') {
        Some(last) => Checkpoint {
            line: at
                .line
                .saturating_add(bytes.iter().filter(|&&b| b == b'\n').count()),
            column: bytes
                .get(last.saturating_add(1)..)
                .unwrap_or_default()
                .iter()
                .filter(|&&b| starts_char(b))
                .count(),
        },
        None => Checkpoint {
            line: at.line,
            column: at
                .column
                .saturating_add(bytes.iter().filter(|&&b| starts_char(b)).count()),
        },
    }
}

fn checkpoints(text: &str) -> Vec<Checkpoint> {
    let mut out = Vec::with_capacity(text.len().div_ceil(CHECKPOINT_BYTES));
    let mut at = Checkpoint::default();
    for block in text.as_bytes().chunks(CHECKPOINT_BYTES) {
        out.push(at);
        at = advance(at, block);
    }
    out
}

/// All files read during one run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: String, text: String) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId(self.files.len().saturating_sub(1))
    }

    /// The file an id names (ids come from [`SourceMap::add`]; any other answers an empty file).
    pub fn get(&self, id: FileId) -> &SourceFile {
        self.files.get(id.0).unwrap_or(&NO_FILE)
    }

    pub fn path(&self, id: FileId) -> &str {
        &self.get(id).path
    }

    /// `path:line:column` of an origin, as printed in messages.
    pub fn describe(&self, origin: Origin) -> Location<'_> {
        let file = self.get(origin.file);
        let (line, column) = file.line_col(origin.span.start);
        Location {
            path: &file.path,
            line,
            column,
        }
    }
}

/// A printable `path:line:column`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    pub path: &'a str,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path, self.line, self.column)
    }
}

#[cfg(test)]
// A panic in a test is a failed test: tests may index and add freely.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let file = SourceFile::new("a.yaml".into(), "ab\nçd: x\n".into());
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        // 'ç' is two bytes, so byte 6 is the third character of line 2.
        assert_eq!(file.line_col(6), (2, 3));
        assert_eq!(file.line_col(1000), (3, 1));
    }

    /// Line and column by counting from the start of the file, as a reference.
    fn counted(text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count();
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = before[start..].iter().filter(|&&b| starts_char(b)).count();
        (line + 1, column + 1)
    }

    proptest::proptest! {
        /// Checkpoints give the same answer as counting, across block boundaries and inside
        /// multi-byte characters.
        #[test]
        fn checkpoints_agree_with_counting(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec!["a", "\n", "é", "€", "😀", "\n\n", "xyz"]),
                0..6000,
            ),
            probes in proptest::collection::vec(0usize..40_000, 1..50),
        ) {
            let text: String = pieces.concat();
            let file = SourceFile::new("f".into(), text.clone());
            for offset in probes.into_iter().chain([0, text.len(), CHECKPOINT_BYTES, 2 * CHECKPOINT_BYTES]) {
                proptest::prop_assert_eq!(file.line_col(offset), counted(&text, offset), "offset {}", offset);
            }
        }
    }

    #[test]
    fn a_file_of_empty_lines_keeps_a_checkpoint_per_block_not_per_line() {
        let file = SourceFile::new("f".into(), "\n".repeat(1 << 20));
        assert_eq!(file.checkpoints.len(), (1 << 20) / CHECKPOINT_BYTES);
        assert_eq!(file.line_col(1 << 20), ((1 << 20) + 1, 1));
        assert_eq!(file.line_col(12_345), (12_346, 1));
    }
}
