//! `kdrender diff`: what a change does to running systems, before it merges.
//!
//! The repository is rendered twice: at a base revision (exported with `git archive` into a
//! temporary folder) and as it is in the working tree. The two sets of objects are compared into
//! a [`plan::Plan`] — objects added, removed and changed, the StatefulSets that restart and why,
//! scales, prunes, and warnings for changes Kubernetes refuses in place or that lose data — and
//! printed as text or JSON ([`report`]).

pub mod git;
pub mod plan;
pub mod report;

use std::path::Path;

use crate::cli::{Environment, InputOptions};
use crate::diag::Diagnostic;
use crate::validate::{Overrides, Scope};
use crate::{Outcome, Text, exit};

/// Exit code of `diff --exit-code` when the change does something.
pub const CHANGES_FOUND: i32 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

pub struct DiffOptions<'a> {
    pub path: &'a Path,
    pub base: &'a str,
    pub format: Format,
    pub color: Color,
    pub exit_code: bool,
    pub namespace: Option<String>,
}

fn error(message: String) -> Outcome {
    Outcome {
        stdout: Text::default(),
        stderr: format!("error: {message}\n"),
        code: exit::INVALID_INPUT,
    }
}

pub fn run(options: &DiffOptions<'_>, env: &Environment) -> Outcome {
    let repository = match git::open(options.path) {
        Ok(repository) => repository,
        Err(message) => return error(message),
    };
    let commit = match git::resolve(&repository, options.base) {
        Ok(commit) => commit,
        Err(message) => return error(message),
    };
    let overrides = Overrides {
        namespace: options.namespace.clone(),
        argocd_namespace: env.argocd_app_namespace.clone(),
        ..Overrides::default()
    };

    // The base: the same folder in the exported tree (absent there: nothing to compare with).
    let export = match tempfile_dir() {
        Ok(dir) => dir,
        Err(message) => return error(message),
    };
    let base_objects = match &commit {
        None => Vec::new(),
        Some(commit) => {
            if let Err(message) = git::export(&repository, commit, export.path()) {
                return error(message);
            }
            let base_path = export.path().join(&repository.prefix);
            if base_path.is_dir() {
                let base_options = InputOptions {
                    path: base_path,
                    root: export.path().to_path_buf(),
                    overrides: overrides.clone(),
                };
                match crate::render_objects(&base_options, Scope::UsedApps) {
                    Ok(rendered) => rendered.objects,
                    Err(failure) => {
                        let mut diagnostics = failure.diagnostics;
                        diagnostics.push(Diagnostic::error(format!(
                            "the base revision {} does not render, so there is nothing sound to compare with",
                            options.base
                        )));
                        return Outcome {
                            stdout: Text::default(),
                            stderr: diagnostics.render(&failure.sources),
                            code: exit::INVALID_INPUT,
                        };
                    }
                }
            } else {
                Vec::new()
            }
        }
    };

    let head_options = InputOptions {
        path: options.path.to_path_buf(),
        root: repository.root.clone(),
        overrides,
    };
    let head = match crate::render_objects(&head_options, Scope::UsedApps) {
        Ok(rendered) => rendered,
        Err(failure) => {
            return Outcome {
                stdout: Text::default(),
                stderr: failure.report(),
                code: exit::INVALID_INPUT,
            };
        }
    };
    let plan = plan::plan(&base_objects, &head.objects);
    let base = report::Base {
        revision: options.base,
        commit: commit.as_deref(),
        path: &repository.prefix,
    };
    let color = match options.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => env.stdout_is_terminal && !env.no_color,
    };
    let stdout = match options.format {
        Format::Text => report::text(&plan, &base, color),
        Format::Json => report::json(&plan, &base),
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

/// A private temporary folder, removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempfile_dir() -> Result<TempDir, String> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let dir = base.join(format!("kdrender-diff-{}-{attempt}", std::process::id()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(TempDir(dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(format!(
                    "cannot create a temporary folder in {}: {e}",
                    base.display()
                ));
            }
        }
    }
    Err(format!(
        "cannot create a temporary folder in {}",
        base.display()
    ))
}
