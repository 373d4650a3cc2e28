//! `kdrender diff`: what a change does to running systems, before it merges.
//!
//! The repository is rendered twice: as it is in the working tree, and at a base revision,
//! whose whole tree is written into a private temporary folder ([`git`]) and rendered there with
//! the same PATH relative to the repository root (so catalogs outside PATH are found on both
//! sides). The repository is the one PATH lies in as written, found as `render` finds its root,
//! never the one PATH's symlinks lead into. The working tree and the index are never touched.
//! The two sets of objects are compared into a [`plan::Plan`] — objects added, removed and
//! changed, the StatefulSets that restart and why ([`reasons`]), scales, prunes, and warnings
//! for changes Kubernetes refuses in place or that lose data — and printed as text ([`text`])
//! or JSON ([`json`]).

pub mod git;
pub mod json;
pub mod plan;
pub mod reasons;
pub mod text;

use std::path::Path;

use crate::diag::Diagnostic;
use crate::exit::{CHANGES_FOUND, IO_ERROR};
use crate::options::{DiffOptions, Environment, Format, InputOptions};
use crate::validate::{Overrides, Scope};
use crate::{Outcome, Text, exit};

/// Where the comparison starts from, for the report's header.
pub struct Base<'a> {
    /// The revision as given (`HEAD`, `origin/main`).
    pub revision: &'a str,
    /// The commit it names; `None` in a repository without commits.
    pub commit: Option<&'a str>,
    /// PATH relative to the repository root, `/`-separated (`""` for the root).
    pub path: &'a str,
}

impl Base<'_> {
    /// PATH as shown: relative to the repository root, `.` for the root itself.
    pub fn shown_path(&self) -> &str {
        if self.path.is_empty() { "." } else { self.path }
    }
}

fn error(message: String, code: i32) -> Outcome {
    Outcome {
        stdout: Text::default(),
        stderr: format!("error: {message}\n"),
        code,
    }
}

fn git_error(error: git::GitError) -> Outcome {
    match error {
        git::GitError::Input(message) => self::error(message, exit::INVALID_INPUT),
        git::GitError::Io(message) => self::error(message, IO_ERROR),
    }
}

pub fn run(options: &DiffOptions, env: &Environment) -> Outcome {
    let mut outcome = compare(options, env);
    // Diagnostics quote input files (names, snippets): no control character of theirs reaches a
    // terminal raw (the text plan on stdout is escaped as it is written).
    outcome.stderr = crate::visible::visible_lines(&outcome.stderr);
    outcome
}

fn compare(options: &DiffOptions, env: &Environment) -> Outcome {
    let repository = match repository(&options.path, env) {
        Ok(repository) => repository,
        Err(outcome) => return outcome,
    };
    let commit = match git::resolve(&repository, &options.base) {
        Ok(commit) => commit,
        Err(e) => return git_error(e),
    };
    let overrides = options.overrides.clone();

    // The working tree first: its problems are the ones the author is fixing.
    let head_options = InputOptions {
        path: options.path.to_path_buf(),
        root: repository.root.clone(),
        overrides: overrides.clone(),
    };
    let head = match crate::render_objects(
        &head_options,
        Scope::UsedApps,
        crate::emit::MAX_OUTPUT_BYTES,
    ) {
        Ok(rendered) => rendered,
        Err(failure) => {
            return Outcome {
                stdout: Text::default(),
                stderr: failure.report(),
                code: exit::INVALID_INPUT,
            };
        }
    };

    // The base: PATH in the exported tree; absent there, or no commit yet, it renders nothing.
    let base_objects = match &commit {
        Some(commit) => match render_base(options, &repository, commit, overrides) {
            Ok(objects) => objects,
            Err(outcome) => return outcome,
        },
        None => Vec::new(),
    };

    let plan = plan::plan(&base_objects, &head.objects);
    let base = Base {
        revision: &options.base,
        commit: commit.as_deref(),
        path: &repository.prefix,
    };
    let stdout = match options.format {
        Format::Text => text::render(&plan, &base, options.color),
        Format::Json => json::render(&plan, &base),
    };
    Outcome {
        stdout: Text::from(stdout),
        stderr: head.diagnostics.render(&head.sources),
        code: if options.exit_code && !plan.is_empty() {
            CHANGES_FOUND
        } else {
            exit::SUCCESS
        },
    }
}

/// The objects PATH renders at the base commit, whose tree is written into a private folder
/// (mode 0700 on Unix, removed when dropped). The folder's name never reaches the output: the
/// base is rendered with it as the repository root, and every file is named relative to that
/// root.
fn render_base(
    options: &DiffOptions,
    repository: &git::Repository,
    commit: &str,
    overrides: Overrides,
) -> Result<Vec<crate::render::Object>, Outcome> {
    let export = tempfile::Builder::new()
        .prefix("kdrender-diff-")
        .tempdir()
        .map_err(|e| {
            error(
                format!(
                    "cannot create a temporary folder for the base revision in {}: {e}",
                    std::env::temp_dir().display()
                ),
                IO_ERROR,
            )
        })?;
    git::export(repository, commit, export.path()).map_err(git_error)?;
    let base_path = export.path().join(&repository.prefix);
    if !base_path.is_dir() {
        return Ok(Vec::new());
    }
    let base_options = InputOptions {
        path: base_path,
        root: export.path().to_path_buf(),
        overrides,
    };
    match crate::render_objects(
        &base_options,
        Scope::UsedApps,
        crate::emit::MAX_OUTPUT_BYTES,
    ) {
        Ok(rendered) => Ok(rendered.objects),
        Err(failure) => {
            let mut diagnostics = failure.diagnostics;
            diagnostics.push(
                Diagnostic::error(format!(
                    "the base revision \"{}\" ({}) does not render, so there is nothing sound to compare with",
                    options.base,
                    git::short(commit)
                ))
                .help("the files named above are as they are at the base revision; pass another --base"),
            );
            Err(Outcome {
                stdout: Text::default(),
                stderr: diagnostics.render(&failure.sources),
                code: exit::INVALID_INPUT,
            })
        }
    }
}

/// The repository that holds PATH, found from PATH as given (never from where its symlinks
/// lead), and PATH's place in it.
fn repository(path: &Path, env: &Environment) -> Result<git::Repository, Outcome> {
    if !path.is_dir() {
        return Err(error(
            format!("{} is not a folder", path.display()),
            exit::INVALID_INPUT,
        ));
    }
    let refused = |diagnostic: Diagnostic| {
        let mut diagnostics = crate::diag::Diagnostics::default();
        diagnostics.push(diagnostic);
        Outcome {
            stdout: Text::default(),
            stderr: diagnostics.render(&crate::source::SourceMap::default()),
            code: exit::INVALID_INPUT,
        }
    };
    // Argo CD's variables do not apply: diff runs in a checkout, never in cmp-server.
    let checkout = Environment {
        argocd_app_source_path: None,
        ..env.clone()
    };
    let root =
        crate::options::repository_root(path, None, &checkout).map_err(|e| refused(e.into()))?;
    let cwd = env.working_directory().map_err(|e| refused(e.into()))?;
    let absolute = crate::load::normalize(&cwd.join(path));
    let prefix = match absolute.strip_prefix(&root) {
        Ok(inside) => crate::load::relative_path(Path::new(""), inside),
        Err(_) => String::new(),
    };
    let prefix = if prefix == "." { String::new() } else { prefix };
    git::open(&root, prefix, path).map_err(git_error)
}
