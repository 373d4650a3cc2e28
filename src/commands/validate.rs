//! `kdrender validate`: every problem of every app and cluster, and a count; no objects.

use super::Outcome;
use crate::exit;
use crate::options::InputOptions;
use crate::pipeline;

pub fn run(options: &InputOptions) -> Outcome {
    // Rendering everything also checks the templates; the objects are not kept.
    let checked = pipeline::check_everything(options);
    let errors = checked.diagnostics.error_count();
    let warnings = checked.diagnostics.warning_count();
    let mut stderr = checked.diagnostics.render(&checked.sources);
    stderr.push_str(&format!(
        "checked {} app(s) and {} cluster(s): {errors} error(s), {warnings} warning(s)\n",
        checked.apps, checked.clusters
    ));
    Outcome {
        stdout: super::Text::default(),
        stderr,
        code: if errors > 0 {
            exit::INVALID_INPUT
        } else {
            exit::SUCCESS
        },
    }
}
