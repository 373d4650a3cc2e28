//! Git plumbing for `kdrender diff`: find the repository that holds PATH, resolve the base
//! revision, and write that revision's tree into a private temporary folder.
//!
//! The tree is read from the object database with `git ls-tree` and `git cat-file --batch`,
//! which neither touch the working tree nor the index (and take no optional locks), and — unlike
//! `git archive` — apply no `export-ignore` or `export-subst` attributes, so the base is
//! exactly what was committed. Only `diff` runs git; `render` and `validate` never do.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository that holds PATH.
#[derive(Debug)]
pub struct Repository {
    /// The working tree's top folder.
    pub root: PathBuf,
    /// PATH relative to `root` (`""` for the top folder), `/`-separated.
    pub prefix: String,
}

/// What went wrong, and whether it is the user's input (exit 1) or the machine (exit 74).
#[derive(Debug)]
pub enum GitError {
    Input(String),
    Io(String),
}

fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(dir).stdin(Stdio::null());
    // The repository is the one that holds PATH, whatever the caller's environment says (a hook
    // runs with GIT_DIR set); no optional locks, so nothing under .git is written.
    command
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_COMMON_DIR");
    command
}

fn not_installed(e: &std::io::Error) -> GitError {
    if e.kind() == std::io::ErrorKind::NotFound {
        GitError::Input(
            "kdrender diff needs the git command, which is not installed or not on PATH (render and validate do not need it)".to_string(),
        )
    } else {
        GitError::Io(format!("cannot run git: {e}"))
    }
}

/// Runs git to completion; its trimmed stdout, or its stderr as the error.
fn run(command: &mut Command) -> Result<Result<String, String>, GitError> {
    let output = command.output().map_err(|e| not_installed(&e))?;
    if output.status.success() {
        Ok(Ok(String::from_utf8_lossy(&output.stdout)
            .trim_end_matches('\n')
            .to_string()))
    } else {
        Ok(Err(String::from_utf8_lossy(&output.stderr)
            .trim()
            .to_string()))
    }
}

/// The repository whose working tree holds `path`.
pub fn open(path: &Path) -> Result<Repository, GitError> {
    if !path.is_dir() {
        return Err(GitError::Input(format!(
            "{} is not a folder",
            path.display()
        )));
    }
    let out =
        run(git(path).args(["rev-parse", "--show-toplevel", "--show-prefix"]))?.map_err(|e| {
            GitError::Input(format!(
                "{} is not inside a Git working tree, which kdrender diff needs ({e})",
                path.display()
            ))
        })?;
    let mut lines = out.lines();
    let root = PathBuf::from(lines.next().unwrap_or_default());
    let prefix = lines
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    Ok(Repository { root, prefix })
}

/// The commit a revision names. `Ok(None)` for `HEAD` on a branch without commits yet (a new
/// repository), which is compared as an empty base.
pub fn resolve(repository: &Repository, revision: &str) -> Result<Option<String>, GitError> {
    let missing = || {
        GitError::Input(format!(
            "the base revision \"{revision}\" does not exist in this repository (a branch, tag or commit is needed; in CI, fetch it first)"
        ))
    };
    // A revision never starts with `-`; refusing it keeps it from being read as an option.
    if revision.is_empty() || revision.starts_with('-') {
        return Err(missing());
    }
    let verified = run(git(&repository.root).args([
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{revision}^{{commit}}"),
    ]))?;
    match verified {
        Ok(commit) if !commit.is_empty() => Ok(Some(commit)),
        _ if revision == "HEAD" && unborn_head(repository)? => Ok(None),
        _ => Err(missing()),
    }
}

/// Whether HEAD names a branch that has no commit yet.
fn unborn_head(repository: &Repository) -> Result<bool, GitError> {
    let Ok(branch) = run(git(&repository.root).args(["symbolic-ref", "--quiet", "HEAD"]))? else {
        return Ok(false);
    };
    let exists = run(git(&repository.root).args(["rev-parse", "--verify", "--quiet", &branch]))?;
    Ok(exists.is_err())
}

/// One file of a tree.
struct Entry {
    mode: String,
    id: String,
    path: PathBuf,
}

/// Writes the tree of `commit` into `destination` (an empty folder): regular files, and
/// symbolic links on Unix (the loader confines them to the repository like any other).
/// Submodules are left out, as `git archive` leaves them out.
pub fn export(repository: &Repository, commit: &str, destination: &Path) -> Result<(), GitError> {
    let listing = git(&repository.root)
        .args(["ls-tree", "-r", "-z", "--full-tree", commit])
        .output()
        .map_err(|e| not_installed(&e))?;
    if !listing.status.success() {
        return Err(GitError::Input(format!(
            "git cannot list the files of {commit}: {}",
            String::from_utf8_lossy(&listing.stderr).trim()
        )));
    }
    let entries = parse_listing(&listing.stdout);
    if entries.is_empty() {
        return Ok(());
    }

    let mut batch = git(&repository.root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| not_installed(&e))?;
    let (Some(mut input), Some(output)) = (batch.stdin.take(), batch.stdout.take()) else {
        return Err(GitError::Io("cannot talk to git cat-file".to_string()));
    };
    // Ask for every blob from another thread, so that neither side waits on a full pipe.
    let ids: String = entries.iter().map(|e| format!("{}\n", e.id)).collect();
    let writer = std::thread::spawn(move || input.write_all(ids.as_bytes()));
    let written = write_blobs(&entries, BufReader::new(output), destination);
    let asked = writer.join();
    let finished = batch.wait_with_output();
    written?;
    let finished = finished.map_err(|e| GitError::Io(format!("git cat-file failed: {e}")))?;
    if !finished.status.success() || !matches!(asked, Ok(Ok(()))) {
        return Err(GitError::Io(format!(
            "git cat-file failed: {}",
            String::from_utf8_lossy(&finished.stderr).trim()
        )));
    }
    Ok(())
}

/// `git ls-tree -r -z` output: `<mode> SP <type> SP <id> TAB <path> NUL` per entry. Only blobs
/// with plain relative paths are kept (git itself refuses trees with `..` or `.git` entries).
fn parse_listing(listing: &[u8]) -> Vec<Entry> {
    listing
        .split(|&b| b == 0)
        .filter_map(|record| {
            let tab = record.iter().position(|&b| b == b'\t')?;
            let header = std::str::from_utf8(&record[..tab]).ok()?;
            let path = path_of(&record[tab + 1..])?;
            let mut fields = header.split(' ');
            let (mode, kind, id) = (fields.next()?, fields.next()?, fields.next()?);
            let plain = path.components().all(|c| match c {
                Component::Normal(name) => !name.eq_ignore_ascii_case(".git"),
                _ => false,
            });
            (kind == "blob" && plain).then(|| Entry {
                mode: mode.to_string(),
                id: id.to_string(),
                path,
            })
        })
        .collect()
}

/// A path as git stores it: bytes, which on Unix name the file whatever their encoding.
#[cfg(unix)]
fn path_of(bytes: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> Option<PathBuf> {
    std::str::from_utf8(bytes).ok().map(PathBuf::from)
}

fn write_blobs(
    entries: &[Entry],
    mut output: impl BufRead,
    destination: &Path,
) -> Result<(), GitError> {
    let io = |what: &str, e: std::io::Error| GitError::Io(format!("{what}: {e}"));
    for entry in entries {
        // `<id> blob <size>\n<content>\n`
        let mut header = String::new();
        output
            .read_line(&mut header)
            .map_err(|e| io("cannot read from git cat-file", e))?;
        let size = header
            .trim_end()
            .strip_prefix(&format!("{} blob ", entry.id))
            .and_then(|size| size.parse::<u64>().ok())
            .ok_or_else(|| {
                GitError::Io(format!(
                    "git cat-file answered {:?} for {}",
                    header.trim_end(),
                    entry.path.display()
                ))
            })?;
        let mut content = Vec::new();
        output
            .by_ref()
            .take(size)
            .read_to_end(&mut content)
            .map_err(|e| io("cannot read from git cat-file", e))?;
        let mut newline = [0u8; 1];
        output
            .read_exact(&mut newline)
            .map_err(|e| io("cannot read from git cat-file", e))?;
        let target = destination.join(&entry.path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| io("cannot create a folder for the base revision", e))?;
        }
        if entry.mode == "120000" {
            symlink(&content, &target)?;
        } else {
            std::fs::write(&target, &content)
                .map_err(|e| io("cannot write a file of the base revision", e))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &[u8], link: &Path) -> Result<(), GitError> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), link)
        .map_err(|e| GitError::Io(format!("cannot write a link of the base revision: {e}")))
}

#[cfg(not(unix))]
fn symlink(_target: &[u8], _link: &Path) -> Result<(), GitError> {
    // Without Unix links the entry is left out, as a checkout with core.symlinks=false would
    // not make it a working link either.
    Ok(())
}

/// A short form of a commit id for the text header.
pub fn short(commit: &str) -> &str {
    &commit[..commit.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_keeps_blobs_with_plain_paths_only() {
        let listing = b"100644 blob aaa\tapps/app.yaml\0\
                        120000 blob bbb\tlink\0\
                        160000 commit ccc\tvendor/sub\0\
                        100644 blob ddd\t../escape\0\
                        100644 blob eee\tx/.GIT/config\0";
        let entries = parse_listing(listing);
        let paths: Vec<_> = entries
            .iter()
            .map(|e| (e.mode.as_str(), e.id.as_str(), e.path.to_string_lossy()))
            .collect();
        assert_eq!(
            paths,
            [
                ("100644", "aaa", "apps/app.yaml".into()),
                ("120000", "bbb", "link".into())
            ]
        );
    }
}
