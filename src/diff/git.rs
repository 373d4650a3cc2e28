//! Git plumbing for `kdrender diff`: find the repository, resolve the base revision, and export
//! its tree into a temporary folder with `git archive`, which reads the object database only —
//! the working tree and the index are never touched.
//!
//! Only `diff` needs git; `render` and `validate` never run it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository that holds PATH.
#[derive(Debug)]
pub struct Repository {
    /// The working tree's top folder.
    pub root: PathBuf,
    /// PATH relative to `root` (`""` for the top folder), `/`-separated.
    pub prefix: String,
}

fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir).stdin(Stdio::null());
    // A reviewer's own settings must not change what is compared.
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    command
}

fn run(command: &mut Command, what: &str) -> Result<String, String> {
    let output = command.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            "kdrender diff needs the git command, which is not installed (render and validate do not)".to_string()
        } else {
            format!("cannot run git to {what}: {e}")
        }
    })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout)
            .trim_end_matches('\n')
            .to_string())
    } else {
        Err(format!(
            "git could not {what}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

pub fn open(path: &Path) -> Result<Repository, String> {
    if !path.is_dir() {
        return Err(format!("{} is not a folder", path.display()));
    }
    let out = run(
        git(path).args(["rev-parse", "--show-toplevel", "--show-prefix"]),
        "find the repository",
    )
    .map_err(|e| format!("{} is not inside a Git working tree ({e})", path.display()))?;
    let mut lines = out.lines();
    let root = PathBuf::from(lines.next().unwrap_or_default());
    let prefix = lines
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    Ok(Repository { root, prefix })
}

/// The commit a revision names. `Ok(None)` for `HEAD` in a repository without commits, which
/// is compared as an empty base.
pub fn resolve(repository: &Repository, revision: &str) -> Result<Option<String>, String> {
    let verified = run(
        git(&repository.root).args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{revision}^{{commit}}"),
        ]),
        "resolve the revision",
    );
    match verified {
        Ok(commit) if !commit.is_empty() => Ok(Some(commit)),
        _ if revision == "HEAD" && !has_commits(repository) => Ok(None),
        _ => Err(format!(
            "the base revision \"{revision}\" does not exist in {}",
            repository.root.display()
        )),
    }
}

fn has_commits(repository: &Repository) -> bool {
    run(
        git(&repository.root).args(["rev-list", "-n", "1", "--all"]),
        "list commits",
    )
    .is_ok_and(|out| !out.is_empty())
}

/// Writes the tree of `commit` into `destination`.
pub fn export(repository: &Repository, commit: &str, destination: &Path) -> Result<(), String> {
    let mut archive = git(&repository.root)
        .args(["archive", "--format=tar", commit])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git archive: {e}"))?;
    let Some(tar_input) = archive.stdout.take() else {
        return Err("cannot read git archive's output".to_string());
    };
    let extracted = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(destination)
        .stdin(tar_input)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run tar to unpack the base revision: {e}"))?;
    let archived = archive
        .wait_with_output()
        .map_err(|e| format!("git archive failed: {e}"))?;
    if !archived.status.success() {
        return Err(format!(
            "git archive failed: {}",
            String::from_utf8_lossy(&archived.stderr).trim()
        ));
    }
    if !extracted.status.success() {
        return Err(format!(
            "tar could not unpack the base revision: {}",
            String::from_utf8_lossy(&extracted.stderr).trim()
        ));
    }
    Ok(())
}

/// A short form of a commit id for messages.
pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}
