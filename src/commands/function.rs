//! `kdrender fn` (also `kdrender-fn`): the KRM function, a ResourceList on stdin and stdout.

use std::io::Read;

use super::{Outcome, Text};
use crate::krm::{self, FunctionError, ResourceList};
use crate::load::Files;
use crate::options::{Environment, InputOptions};
use crate::pipeline::{self, Failure};
use crate::validate::{Overrides, Scope};
use crate::{emit, exit};

/// Reads the ResourceList from `stdin` and runs the function on it.
pub fn run(stdin: &mut dyn Read, env: &Environment) -> Outcome {
    match krm::read_input(stdin) {
        Ok(input) => run_on(&input, env),
        Err(error) => Outcome::error(&error, error.exit_code()),
    }
}

/// Runs the function on a ResourceList's text.
pub fn run_on(input: &str, env: &Environment) -> Outcome {
    let list = match krm::read_list(input) {
        Ok(list) => list,
        Err(error) => return refused(&ResourceList::default(), &error),
    };
    let (options, allow_empty) = match options(&list, env) {
        Ok(found) => found,
        Err(error) => return refused(&list, &error),
    };
    let rendered = match pipeline::render_objects(&options, Scope::UsedApps, emit::MAX_OUTPUT_BYTES)
    {
        Ok(rendered) => rendered,
        Err(failure) => return render_failed(&list, &failure),
    };
    if rendered.objects.is_empty() && !allow_empty {
        return refused(&list, &FunctionError::NothingRendered);
    }
    match krm::output(&list, &rendered) {
        Ok(text) => Outcome::success(
            Text::from(text),
            rendered.diagnostics.render(&rendered.sources),
        ),
        Err(error) => refused(&ResourceList::default(), &error),
    }
}

/// What to render, and whether rendering nothing is fine.
fn options(
    list: &ResourceList<'_>,
    env: &Environment,
) -> Result<(InputOptions, bool), FunctionError> {
    let config = krm::function_config(list)?;
    // The folder kustomize or kpt runs the function in is the root: nothing outside it is read.
    let root = env.working_directory()?;
    let options = InputOptions {
        path: root.join(&config.path),
        root,
        overrides: Overrides {
            argocd_namespace: None,
            ..config.overrides
        },
        kube_version: None,
        files: Files::Disk,
    };
    Ok((options, config.allow_empty))
}

/// A refusal: the list with the error as its result, and the error on stderr.
fn refused(list: &ResourceList<'_>, error: &FunctionError) -> Outcome {
    Outcome {
        stdout: krm::refusal(list, error)
            .map(Text::from)
            .unwrap_or_default(),
        stderr: format!("error: {error}\n"),
        code: error.exit_code(),
    }
}

/// Inputs that do not render: the list with every error as a result, and the report on stderr.
fn render_failed(list: &ResourceList<'_>, failure: &Failure) -> Outcome {
    Outcome {
        stdout: krm::failure(list, &failure.diagnostics, &failure.sources)
            .map(Text::from)
            .unwrap_or_default(),
        stderr: failure.report(),
        code: exit::INVALID_INPUT,
    }
}
