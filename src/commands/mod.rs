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

use crate::diag::{Diagnostic, Diagnostics};
use crate::exit;
use crate::pipeline::Failure;
use crate::source::SourceMap;

/// Text for stdout, kept in the pieces it was made in: a large render is never copied into one
/// string, which keeps peak memory near the size of the output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Text {
    pieces: Vec<String>,
}

impl Text {
    pub fn pieces(&self) -> &[String] {
        &self.pieces
    }

    pub fn len(&self) -> usize {
        self.pieces.iter().map(String::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.pieces.iter().all(String::is_empty)
    }

    pub fn push(&mut self, piece: String) {
        self.pieces.push(piece);
    }
}

impl From<String> for Text {
    fn from(text: String) -> Text {
        Text { pieces: vec![text] }
    }
}

impl From<Vec<String>> for Text {
    fn from(pieces: Vec<String>) -> Text {
        Text { pieces }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pieces.iter().try_for_each(|piece| f.write_str(piece))
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
