//! The commands: each runs the pipeline (or a part of it) for one front-end and turns the result
//! into an [`Outcome`] — what belongs on stdout and stderr, and the exit code. The library never
//! prints; `main` writes the outcome.

pub mod adopt;
pub mod argocd;
pub mod completions;
mod diags;
pub mod diff;
pub mod function;
pub mod man;
pub mod render;
pub mod report;
pub mod schema;
pub mod validate;

use std::fmt;
use std::io;

use crate::diag::{Diagnostic, Diagnostics};
use crate::exit;
use crate::pipeline::Failure;
use crate::source::SourceMap;
use crate::spool::Spool;

/// Text for stdout: short texts in memory; a render's stream in a [`Spool`], which moves to an
/// unnamed temporary file past its threshold, so that peak memory stays flat however large the
/// output. Nothing of it reaches stdout before the command has succeeded.
#[derive(Debug, Default)]
pub struct Text {
    spool: Spool,
}

impl Text {
    pub fn len(&self) -> usize {
        self.spool.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spool.is_empty()
    }

    pub fn push(&mut self, piece: String) {
        self.spool.push(piece);
    }

    /// Whether the text is held in a temporary file rather than in memory.
    pub fn is_on_disk(&self) -> bool {
        self.spool.is_on_disk()
    }

    /// Writes the whole text to `out` (stdout, for the binary) and flushes it.
    pub fn write_to<W: io::Write>(self, out: &mut W) -> io::Result<()> {
        self.spool.write_to(out)
    }

    /// The whole text in one string (for tests and short texts).
    pub fn into_string(self) -> io::Result<String> {
        let mut bytes = Vec::with_capacity(self.len());
        self.write_to(&mut bytes)?;
        String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        let mut spool = Spool::default();
        spool.push(text);
        Text { spool }
    }
}

impl From<Spool> for Text {
    fn from(spool: Spool) -> Text {
        Text { spool }
    }
}

/// What a command produced.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: Text,
    pub stderr: String,
    pub code: i32,
}

impl Outcome {
    /// Success: `stdout`, and the report of what was found on the way (warnings).
    fn success(stdout: Text, stderr: String) -> Outcome {
        Outcome {
            stdout,
            stderr,
            code: exit::SUCCESS,
        }
    }

    /// A one-line error and its exit code, nothing on stdout.
    fn error(message: impl fmt::Display, code: i32) -> Outcome {
        Outcome {
            stdout: Text::default(),
            stderr: format!("error: {message}\n"),
            code,
        }
    }

    /// Invalid input: the report of `diagnostics`, nothing on stdout.
    fn invalid(diagnostics: &Diagnostics, sources: &SourceMap) -> Outcome {
        Outcome {
            stdout: Text::default(),
            stderr: diagnostics.render(sources),
            code: exit::INVALID_INPUT,
        }
    }

    /// A run refused before anything is read (the repository root cannot be decided safely).
    pub(crate) fn refused(diagnostic: impl Into<Diagnostic>) -> Outcome {
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(diagnostic.into());
        Outcome::invalid(&diagnostics, &SourceMap::default())
    }
}

/// A run that found errors: the report, closed by the count line `validate` ends with.
impl From<Failure> for Outcome {
    fn from(failure: Failure) -> Outcome {
        let mut outcome = Outcome::invalid(&failure.diagnostics, &failure.sources);
        let count = report::count_line(failure.apps, failure.clusters, &failure.diagnostics);
        outcome.stderr.push_str(&count);
        outcome
    }
}
