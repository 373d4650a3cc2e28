//! `kdrender validate`: every problem of every app and cluster, and a count; no objects. The
//! report is text on stderr, or (`--format json|github`) a document for programs on stdout with
//! the count line still on stderr.

use super::{Outcome, Text, report};
use crate::diag::Diagnostics;
use crate::exit;
use crate::options::{Environment, InputOptions, OptionsError, ReportFormat};
use crate::pipeline::{self, Checked};
use crate::source::SourceMap;

/// Validates what `options` name; a run refused before reading (`options` is an error) is
/// reported in the same format.
pub fn run(
    options: Result<InputOptions, OptionsError>,
    format: ReportFormat,
    env: &Environment,
) -> Outcome {
    let (checked, files) = match options {
        // Rendering everything also checks the templates; the objects are not kept.
        Ok(options) => {
            let cwd = env.working_directory().unwrap_or_default();
            let files = report::Files::new(&options.path, &options.root, &cwd);
            (pipeline::check_everything(&options), files)
        }
        Err(error) => (refused(error), report::Files::default()),
    };
    let diagnostics = &checked.diagnostics;
    let counts = (checked.apps, checked.clusters);
    let count_line = report::count_line(counts.0, counts.1, diagnostics);
    let (stdout, stderr) = match format {
        ReportFormat::Text => {
            let mut stderr = diagnostics.render(&checked.sources);
            stderr.push_str(&count_line);
            (String::new(), stderr)
        }
        ReportFormat::Json => (
            report::json(diagnostics, &checked.sources, &files, counts),
            count_line,
        ),
        ReportFormat::Github => (
            report::github(diagnostics, &checked.sources, &files),
            count_line,
        ),
    };
    Outcome {
        stdout: Text::from(stdout),
        stderr,
        code: if diagnostics.has_errors() {
            exit::INVALID_INPUT
        } else {
            exit::SUCCESS
        },
    }
}

/// Nothing read: the one problem that stopped the run.
fn refused(error: OptionsError) -> Checked {
    let mut diagnostics = Diagnostics::default();
    diagnostics.push(error.into());
    Checked {
        diagnostics,
        sources: SourceMap::default(),
        apps: 0,
        clusters: 0,
    }
}
