//! `kdrender render`: every object as a YAML stream (or, `-o json`, one JSON List) on stdout,
//! or one file per object in a folder (`--output-dir DIR`).
//!
//! The stream is spooled as it is made ([`crate::spool`]: in memory, then in an unnamed
//! temporary file) and reaches stdout only once the whole run has succeeded.

use std::path::Path;

use super::{Outcome, Text, diags, report};
use crate::diag::Diagnostics;
use crate::options::{InputOptions, StreamFormat};
use crate::source::SourceMap;
use crate::validate::Scope;
use crate::{emit, output_dir, pipeline};

/// `render` to stdout, as a YAML stream or a JSON List, spooled to a temporary file past
/// `spool_threshold` bytes ([`crate::spool::DEFAULT_THRESHOLD`] but in tests).
pub fn stream(
    options: &InputOptions,
    format: StreamFormat,
    allow_empty: bool,
    (max_output_bytes, spool_threshold): (usize, usize),
) -> Outcome {
    let stream = match pipeline::render_stream(options, format, max_output_bytes, spool_threshold) {
        Ok(stream) => stream,
        Err(failure) => return failure.into(),
    };
    let mut diagnostics = stream.diagnostics;
    if stream.objects == 0 && !allow_empty {
        let counts = (stream.apps, stream.clusters);
        return nothing_rendered(diagnostics, &stream.sources, counts);
    }
    let text = Text::from(stream.text);
    if text.len() > emit::WARN_OUTPUT_BYTES {
        diagnostics.push(diags::large_output(text.len()));
    }
    Outcome::success(text, diagnostics.render(&stream.sources))
}

/// `render --output-dir DIR`: replace DIR with one file per object, or leave it untouched on any error.
pub fn to_folder(
    options: &InputOptions,
    dir: &Path,
    allow_empty: bool,
    max_output_bytes: usize,
) -> Outcome {
    let rendered = match pipeline::render_objects(options, Scope::UsedApps, max_output_bytes) {
        Ok(rendered) => rendered,
        Err(failure) => return failure.into(),
    };
    let mut diagnostics = rendered.diagnostics;
    if rendered.objects.is_empty() && !allow_empty {
        let counts = (rendered.apps, rendered.clusters);
        return nothing_rendered(diagnostics, &rendered.sources, counts);
    }
    let written = output_dir::contents(&rendered.objects)
        .and_then(|files| output_dir::replace(dir, &files).map(|()| files.len()));
    match written {
        Ok(files) => {
            let mut stderr = diagnostics.render(&rendered.sources);
            stderr.push_str(&format!(
                "wrote {} object(s) and kustomization.yaml to {} ({files} files)\n",
                rendered.objects.len(),
                dir.display()
            ));
            Outcome::success(Text::default(), stderr)
        }
        Err(error) => {
            diagnostics.push(crate::diag::Diagnostic::error(error));
            Outcome::invalid(&diagnostics, &rendered.sources)
        }
    }
}

/// A render of no objects without `--allow-empty`: refused, and closed by the count line every
/// failed run ends with.
fn nothing_rendered(
    mut diagnostics: Diagnostics,
    sources: &SourceMap,
    (apps, clusters): (usize, usize),
) -> Outcome {
    diagnostics.push(diags::nothing_rendered());
    let mut outcome = Outcome::invalid(&diagnostics, sources);
    outcome
        .stderr
        .push_str(&report::count_line(apps, clusters, &diagnostics));
    outcome
}
