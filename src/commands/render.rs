//! `kdrender render`: every object as a YAML stream (or, `-o json`, one JSON List) on stdout,
//! or one file per object in a folder (`--output-dir DIR`).
//!
//! The stream is spooled as it is made ([`crate::spool`]: in memory, then in an unnamed
//! temporary file) and reaches stdout only once the whole run has succeeded. The folder is
//! written cluster by cluster into a staging folder that replaces DIR only on success
//! ([`crate::output_dir`]).

use std::path::Path;

use super::{Outcome, Text, diags, report};
use crate::diag::{Diagnostic, Diagnostics};
use crate::options::{InputOptions, StreamFormat};
use crate::output_dir::{self, Staging};
use crate::render::Object;
use crate::source::SourceMap;
use crate::{emit, pipeline};

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

/// `render --output-dir DIR`: replace DIR with one file per object, or leave it untouched on any
/// error. Each cluster's files are written into the staging folder as soon as it is rendered.
pub fn to_folder(
    options: &InputOptions,
    dir: &Path,
    allow_empty: bool,
    max_output_bytes: usize,
) -> Outcome {
    // A folder that cannot be replaced is reported after the inputs' own errors, as when it
    // was checked after rendering: the run then renders without writing.
    let staging = Staging::prepare(dir);
    let write = |objects: &[Object]| match &staging {
        Ok(staging) => staging.write_cluster(objects).map_err(Diagnostic::error),
        Err(_) => Ok(unwritten(objects)),
    };
    let files = match pipeline::render_files(options, max_output_bytes, &write) {
        Ok(files) => files,
        Err(failure) => return failure.into(),
    };
    let mut diagnostics = files.diagnostics;
    if files.objects == 0 && !allow_empty {
        let counts = (files.apps, files.clusters);
        return nothing_rendered(diagnostics, &files.sources, counts);
    }
    let objects = files.objects;
    match staging.and_then(|staging| staging.finish(files.paths)) {
        Ok(count) => {
            let mut stderr = diagnostics.render(&files.sources);
            stderr.push_str(&format!(
                "wrote {objects} object(s) and kustomization.yaml to {} ({count} files)\n",
                dir.display()
            ));
            Outcome::success(Text::default(), stderr)
        }
        Err(error) => {
            diagnostics.push(Diagnostic::error(error));
            Outcome::invalid(&diagnostics, &files.sources)
        }
    }
}

/// A cluster's files when the folder cannot be written: their names, and their size as the
/// folder-less renders count it.
fn unwritten(objects: &[Object]) -> (Vec<String>, usize) {
    let paths = objects.iter().map(output_dir::file_name).collect();
    (
        paths,
        objects.iter().map(|o| emit::json_size(&o.value)).sum(),
    )
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
