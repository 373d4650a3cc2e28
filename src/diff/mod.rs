//! `kdrender diff`: what a change does to running systems, before it merges.
//!
//! The repository is rendered twice: as it is in the working tree, and at a base revision,
//! whose whole tree is written into a private temporary folder ([`git`]) and rendered there with
//! the same PATH relative to the repository root (so catalogs outside PATH are found on both
//! sides). The working tree and the index are never touched. The two sets of objects are
//! compared into a [`plan::Plan`] — objects added, removed and changed, the StatefulSets that
//! restart and why ([`reasons`]), scales, prunes, and warnings for changes Kubernetes refuses in
//! place or that lose data — and printed as text ([`text`]) or JSON ([`json`]).

pub mod git;
pub mod json;
pub mod plan;
pub mod reasons;
pub mod text;

use std::path::{Path, PathBuf};

use crate::cli::{Environment, InputOptions};
use crate::diag::Diagnostic;
use crate::validate::{Overrides, Scope};
use crate::{Outcome, Text, exit};

/// Exit code of `diff --exit-code` when the change does something.
pub const CHANGES_FOUND: i32 = 3;
/// Exit code when the machine fails us (a temporary folder cannot be written): sysexits' EX_IOERR,
/// as `main` uses for output errors.
const IO_ERROR: i32 = 74;

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

pub fn run(options: &DiffOptions<'_>, env: &Environment) -> Outcome {
    let mut outcome = compare(options, env);
    // Diagnostics quote input files (names, snippets): no control character of theirs reaches a
    // terminal raw (the text plan on stdout is escaped as it is written).
    outcome.stderr = text::visible_lines(&outcome.stderr);
    outcome
}

fn compare(options: &DiffOptions<'_>, env: &Environment) -> Outcome {
    let repository = match git::open(options.path) {
        Ok(repository) => repository,
        Err(e) => return git_error(e),
    };
    let commit = match git::resolve(&repository, options.base) {
        Ok(commit) => commit,
        Err(e) => return git_error(e),
    };
    let overrides = Overrides {
        namespace: options.namespace.clone(),
        argocd_namespace: env.argocd_app_namespace.clone(),
        ..Overrides::default()
    };

    // The working tree first: its problems are the ones the author is fixing.
    let head_options = InputOptions {
        path: options.path.to_path_buf(),
        root: repository.root.clone(),
        overrides: overrides.clone(),
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

    // The base: PATH in the exported tree; absent there, or no commit yet, it renders nothing.
    let mut base_objects = Vec::new();
    if let Some(commit) = &commit {
        let export = match TempDir::new() {
            Ok(dir) => dir,
            Err(message) => return error(message, IO_ERROR),
        };
        if let Err(e) = git::export(&repository, commit, export.path()) {
            return git_error(e);
        }
        let base_path = export.path().join(&repository.prefix);
        if base_path.is_dir() {
            let base_options = InputOptions {
                path: base_path,
                root: export.path().to_path_buf(),
                overrides,
            };
            match crate::render_objects(&base_options, Scope::UsedApps) {
                Ok(rendered) => base_objects = rendered.objects,
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
                    return Outcome {
                        stdout: Text::default(),
                        stderr: diagnostics.render(&failure.sources),
                        code: exit::INVALID_INPUT,
                    };
                }
            }
        }
    }

    let plan = plan::plan(&base_objects, &head.objects);
    let base = Base {
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
        Format::Text => text::render(&plan, &base, color),
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

/// A private temporary folder (mode 0700 on Unix), removed when dropped. Its name never reaches
/// the output: the base is rendered with the folder as its repository root, and every file is
/// named relative to that root.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir, String> {
        let base = std::env::temp_dir();
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        for attempt in 0..1000u32 {
            let dir = base.join(format!("kdrender-diff-{}-{attempt}", std::process::id()));
            match builder.create(&dir) {
                Ok(()) => return Ok(TempDir(dir)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot create a temporary folder for the base revision in {}: {e}",
                        base.display()
                    ));
                }
            }
        }
        Err(format!(
            "cannot create a temporary folder for the base revision in {}",
            base.display()
        ))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
