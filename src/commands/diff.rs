//! `kdrender diff`: the plan of what a change does, as text or JSON.

use super::{Outcome, Text, diags};
use crate::diff::{self, Comparison, DiffError, json, text};
use crate::exit;
use crate::options::{DiffOptions, Environment, Format};

pub fn run(options: &DiffOptions, env: &Environment) -> Outcome {
    let mut outcome = match diff::compare(options, env) {
        Ok(comparison) => report(options, &comparison),
        Err(error) => refused(error),
    };
    // Diagnostics quote input files (names, snippets): no control character of theirs reaches a
    // terminal raw (the text plan on stdout is escaped as it is written).
    outcome.stderr = crate::visible::visible_lines(&outcome.stderr);
    outcome
}

/// The plan on stdout, the working tree's warnings on stderr.
fn report(options: &DiffOptions, comparison: &Comparison) -> Outcome {
    let base = comparison.base(&options.base);
    let plan = &comparison.plan;
    let groups = &comparison.groups;
    let stdout = match options.format {
        Format::Text => text::render(plan, groups, &base, options.color, options.stat),
        Format::Json => json::render(plan, groups, &base, options.stat),
    };
    let head = &comparison.head;
    Outcome {
        stdout: Text::from(stdout),
        stderr: head.diagnostics.render(&head.sources),
        code: if options.exit_code && !plan.is_empty() {
            exit::CHANGES_FOUND
        } else {
            exit::SUCCESS
        },
    }
}

fn refused(error: DiffError) -> Outcome {
    let code = error.exit_code();
    match error {
        DiffError::Root(error) => Outcome::refused(error),
        DiffError::Head(failure) => (*failure).into(),
        DiffError::Base(base) => {
            let diagnostic = diags::base_does_not_render(&base);
            let mut failure = base.failure;
            failure.diagnostics.push(diagnostic);
            failure.into()
        }
        DiffError::UnknownClusters { unknown, present } => {
            let mut diagnostics = crate::diag::Diagnostics::default();
            for name in &unknown {
                diagnostics.push(diags::unknown_cluster(name, &present));
            }
            Outcome::invalid(&diagnostics, &crate::source::SourceMap::default())
        }
        DiffError::NotAFolder(_) | DiffError::Git(_) | DiffError::TemporaryFolder { .. } => {
            Outcome::error(&error, code)
        }
    }
}
