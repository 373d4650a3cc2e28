//! The diagnostics the commands add to a report, worded in one place.

use crate::diag::Diagnostic;

/// A render that produced nothing, unless that was asked for.
pub fn nothing_rendered() -> Diagnostic {
    Diagnostic::error("no objects rendered: no KubeDirectorCluster was found below the rendered folder")
        .help("pass --allow-empty if an empty result is intended (with pruning, a GitOps tool would delete everything it deployed before)")
}

/// A stream large enough to strain Argo CD.
pub fn large_output(size: usize) -> Diagnostic {
    Diagnostic::warning(format!(
        "the output is {size} bytes; Argo CD keeps every render in memory and in Redis, so consider splitting this folder into several Applications"
    ))
}

/// The base revision of `diff` does not render.
pub fn base_does_not_render(error: &impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error(error)
        .help("the files named above are as they are at the base revision; pass another --base")
}

/// `diff --cluster` names a cluster that neither the base nor the working tree renders.
pub fn unknown_cluster(name: &str, present: &[String]) -> Diagnostic {
    let diagnostic = Diagnostic::error(format!(
        "--cluster names \"{name}\", which is not a KubeDirectorCluster below PATH, at the base revision or in the working tree"
    ));
    match crate::diag::did_you_mean(name, present.iter().map(String::as_str)) {
        Some(help) => diagnostic.help(help),
        None => diagnostic,
    }
}
