//! Git plumbing for `kdrender diff`: check the repository that holds PATH, resolve the base
//! revision, and read that revision's tree into memory or write it into a private temporary
//! folder — refusing trees that git itself would never check out, and never writing through a
//! link.
//!
//! The tree is read from the object database with `git ls-tree` and `git cat-file --batch`,
//! which neither touch the working tree nor the index (and take no optional locks), and — unlike
//! `git archive` — apply no `export-ignore` or `export-subst` attributes, so the base is
//! exactly what was committed. Only `diff` runs git; `render` and `validate` never do.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};

use crate::exit;
use crate::load::commit::CommitFiles;

/// The repository that holds PATH.
#[derive(Debug)]
pub struct Repository {
    /// The working tree's top folder.
    pub root: PathBuf,
    /// PATH relative to `root` (`""` for the top folder), `/`-separated.
    pub prefix: String,
}

/// What went wrong: the user's input (exit 1: no git, no repository, no such revision, a tree
/// that cannot be written safely) or the machine (exit 74: git cannot be run or stops answering,
/// a file cannot be written).
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "kdrender diff needs the git command, which is not installed or not on PATH (render and validate do not need it)"
    )]
    NotInstalled,
    #[error("cannot run git: {0}")]
    CannotRun(#[source] io::Error),
    #[error("{} is not inside a Git working tree, which kdrender diff needs ({stderr})", shown.display())]
    NotAWorkingTree { shown: PathBuf, stderr: String },
    #[error(
        "{} belongs to the Git working tree {top}, not to the repository {} that holds it as written; kdrender diff follows no symlink to find the repository",
        shown.display(),
        root.display()
    )]
    OtherWorkingTree {
        shown: PathBuf,
        top: String,
        root: PathBuf,
    },
    #[error(
        "the base revision \"{0}\" does not exist in this repository (a branch, tag or commit is needed; in CI, fetch it first)"
    )]
    UnknownRevision(String),
    #[error("git cannot list the files of {commit}: {stderr}")]
    CannotList { commit: String, stderr: String },
    #[error(
        "the tree of {} cannot be written safely, and git itself would never check it out: {problems}",
        short(commit)
    )]
    UnsafeTree {
        commit: String,
        problems: TreeProblems,
    },
    #[error(
        "the base revision's \"{0}\" would be written through a link or over a file; kdrender never writes outside its temporary folder"
    )]
    UnsafePath(String),
    #[error("git ls-tree printed a line kdrender cannot read: {0}")]
    MalformedListing(String),
    #[error("cannot talk to git cat-file")]
    NoPipes,
    #[error("cannot read from git cat-file: {0}")]
    CannotReadBlob(#[source] io::Error),
    #[error("git cat-file answered {header:?} for {path}")]
    UnexpectedAnswer { header: String, path: String },
    #[error("git cat-file failed: {0}")]
    CatFileLost(#[source] io::Error),
    #[error("git cat-file failed: {stderr}")]
    CatFileFailed { stderr: String },
    #[error("cannot create a folder for the base revision: {0}")]
    CannotCreateFolder(#[source] io::Error),
    #[error("cannot write a file of the base revision: {0}")]
    CannotWriteFile(#[source] io::Error),
    #[error("cannot write a link of the base revision: {0}")]
    CannotWriteLink(#[source] io::Error),
}

impl GitError {
    pub fn exit_code(&self) -> i32 {
        match self {
            GitError::NotInstalled
            | GitError::NotAWorkingTree { .. }
            | GitError::OtherWorkingTree { .. }
            | GitError::UnknownRevision(_)
            | GitError::CannotList { .. }
            | GitError::UnsafeTree { .. }
            | GitError::UnsafePath(_) => exit::INVALID_INPUT,
            GitError::CannotRun(_)
            | GitError::MalformedListing(_)
            | GitError::NoPipes
            | GitError::CannotReadBlob(_)
            | GitError::UnexpectedAnswer { .. }
            | GitError::CatFileLost(_)
            | GitError::CatFileFailed { .. }
            | GitError::CannotCreateFolder(_)
            | GitError::CannotWriteFile(_)
            | GitError::CannotWriteLink(_) => exit::IO_ERROR,
        }
    }
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

fn cannot_run(e: io::Error) -> GitError {
    if e.kind() == io::ErrorKind::NotFound {
        GitError::NotInstalled
    } else {
        GitError::CannotRun(e)
    }
}

/// What git answered.
enum Answer {
    /// It succeeded: its stdout, without the final newlines.
    Succeeded(String),
    /// It failed: its stderr, trimmed.
    Failed(String),
}

/// Runs git to completion.
fn run(command: &mut Command) -> Result<Answer, GitError> {
    let output = command.output().map_err(cannot_run)?;
    Ok(if output.status.success() {
        Answer::Succeeded(
            String::from_utf8_lossy(&output.stdout)
                .trim_end_matches('\n')
                .to_string(),
        )
    } else {
        Answer::Failed(trimmed(&output.stderr))
    })
}

/// Git's stderr for a message.
fn trimmed(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).trim().to_string()
}

/// The repository whose working tree's top folder is `root`, with PATH at `prefix` below it.
/// `root` was found from PATH as given ([`crate::options::repository_root`]); git must agree that
/// it is the top of a working tree, so that a PATH whose symlinks lead into another checkout is
/// never compared against that checkout's history. `shown` is PATH as the user wrote it.
pub fn open(root: &Path, prefix: String, shown: &Path) -> Result<Repository, GitError> {
    let top = match run(git(root).args(["rev-parse", "--show-toplevel"]))? {
        Answer::Succeeded(top) => top,
        Answer::Failed(stderr) => {
            return Err(GitError::NotAWorkingTree {
                shown: shown.to_path_buf(),
                stderr,
            });
        }
    };
    let real = |path: &Path| std::fs::canonicalize(path).ok();
    if real(Path::new(&top)).is_none() || real(Path::new(&top)) != real(root) {
        return Err(GitError::OtherWorkingTree {
            shown: shown.to_path_buf(),
            top,
            root: root.to_path_buf(),
        });
    }
    Ok(Repository {
        root: root.to_path_buf(),
        prefix,
    })
}

/// The commit a revision names. `Ok(None)` for `HEAD` on a branch without commits yet (a new
/// repository), which is compared as an empty base.
pub fn resolve(repository: &Repository, revision: &str) -> Result<Option<String>, GitError> {
    let missing = || GitError::UnknownRevision(revision.to_string());
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
        Answer::Succeeded(commit) if !commit.is_empty() => Ok(Some(commit)),
        _ if revision == "HEAD" && unborn_head(repository)? => Ok(None),
        _ => Err(missing()),
    }
}

/// Whether HEAD names a branch that has no commit yet.
fn unborn_head(repository: &Repository) -> Result<bool, GitError> {
    let Answer::Succeeded(branch) =
        run(git(&repository.root).args(["symbolic-ref", "--quiet", "HEAD"]))?
    else {
        return Ok(false);
    };
    let exists = run(git(&repository.root).args(["rev-parse", "--verify", "--quiet", &branch]))?;
    Ok(matches!(exists, Answer::Failed(_)))
}

/// One entry of a tree, as `git ls-tree -r` lists it.
struct Entry {
    mode: String,
    kind: String,
    id: String,
    /// The path as git stores it: `/`-separated bytes.
    raw: Vec<u8>,
}

impl Entry {
    fn shown(&self) -> String {
        shown(&self.raw)
    }

    /// What the entry is, for a path below it.
    fn what(&self) -> &'static str {
        match (self.kind.as_str(), self.mode.as_str()) {
            (_, "120000") => "a symbolic link",
            ("commit", _) => "a submodule",
            _ => "a file",
        }
    }

    /// Only blobs (files and links) are written; submodules are left out as `git archive`
    /// leaves them out, and nothing under `.git` is (git itself never checks that out).
    fn is_written(&self) -> bool {
        self.kind == "blob"
            && self
                .raw
                .split(|&b| b == b'/')
                .all(|name| !name.eq_ignore_ascii_case(b".git"))
    }
}

/// A path from a tree, for messages: lossy UTF-8 with control characters escaped.
fn shown(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).escape_debug().to_string()
}

/// The entries of a commit's tree that a checkout holds: regular files, and symbolic links on
/// Unix. Submodules are left out, as `git archive` leaves them out.
pub struct Listing {
    entries: Vec<Entry>,
}

impl Listing {
    /// Whether the tree holds a symbolic link, which only a checkout on disk can follow.
    pub fn has_links(&self) -> bool {
        self.entries.iter().any(|entry| entry.mode == "120000")
    }
}

/// Lists the tree of `commit`. A tree that git would never check out (a path below a link or a
/// file, `.`, `..` or empty components, a path twice) is refused, naming its paths.
pub fn list(repository: &Repository, commit: &str) -> Result<Listing, GitError> {
    let listing = git(&repository.root)
        .args(["ls-tree", "-r", "-z", "--full-tree", commit])
        .output()
        .map_err(cannot_run)?;
    if !listing.status.success() {
        return Err(GitError::CannotList {
            commit: commit.to_string(),
            stderr: trimmed(&listing.stderr),
        });
    }
    let entries = parse_listing(&listing.stdout)?;
    check_tree(&entries).map_err(|problems| GitError::UnsafeTree {
        commit: commit.to_string(),
        problems,
    })?;
    let entries = entries.into_iter().filter(Entry::is_written).collect();
    Ok(Listing { entries })
}

/// Reads the files of a tree without links into memory, below `root` (a folder that exists
/// nowhere): `None` once they pass `limit` bytes in all, where the tree is better written to
/// disk with [`export`].
pub fn read(
    repository: &Repository,
    listing: &Listing,
    root: PathBuf,
    limit: u64,
) -> Result<Option<CommitFiles>, GitError> {
    let mut files = CommitFiles::new(root);
    let read = through_cat_file(repository, &listing.entries, |output, entries| {
        for entry in entries {
            let content = read_blob(output, entry)?;
            files.add(&path_of(&entry.raw), content);
            if files.bytes() > limit {
                return Ok(false);
            }
        }
        Ok(true)
    })?;
    Ok(read.then_some(files))
}

/// Writes the tree into `destination` (an empty folder). Writing never follows a link:
/// folders are created one by one and an existing component that is not a folder is an error,
/// files are created only where nothing exists yet.
pub fn export(
    repository: &Repository,
    listing: &Listing,
    destination: &Path,
) -> Result<(), GitError> {
    through_cat_file(repository, &listing.entries, |output, entries| {
        write_blobs(entries, output, destination).map(|()| true)
    })
    .map(|_| ())
}

/// Hands `take` the blobs of `entries` as `git cat-file --batch` answers them, and what it
/// answers: whether it took all of them (else git is stopped).
fn through_cat_file(
    repository: &Repository,
    entries: &[Entry],
    take: impl FnOnce(&mut BufReader<ChildStdout>, &[Entry]) -> Result<bool, GitError>,
) -> Result<bool, GitError> {
    if entries.is_empty() {
        return Ok(true);
    }
    let mut batch = git(&repository.root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(cannot_run)?;
    let (Some(mut input), Some(output)) = (batch.stdin.take(), batch.stdout.take()) else {
        return Err(GitError::NoPipes);
    };
    // Ask for every blob from another thread, so that neither side waits on a full pipe.
    let ids: String = entries.iter().map(|e| format!("{}\n", e.id)).collect();
    let writer = std::thread::spawn(move || input.write_all(ids.as_bytes()));
    let taken = take(&mut BufReader::new(output), entries);
    if !matches!(taken, Ok(true)) {
        // Stop git rather than wait for it to answer what will not be read.
        let _ = batch.kill();
    }
    let asked = writer.join();
    let finished = batch.wait_with_output();
    if !taken? {
        return Ok(false);
    }
    let finished = finished.map_err(GitError::CatFileLost)?;
    if !finished.status.success() || !matches!(asked, Ok(Ok(()))) {
        return Err(GitError::CatFileFailed {
            stderr: trimmed(&finished.stderr),
        });
    }
    Ok(true)
}

/// `git ls-tree -r -z` output: `<mode> SP <type> SP <id> TAB <path> NUL` per entry.
fn parse_listing(listing: &[u8]) -> Result<Vec<Entry>, GitError> {
    listing
        .split(|&b| b == 0)
        .filter(|record| !record.is_empty())
        .map(|record| {
            let malformed = || GitError::MalformedListing(shown(record));
            let tab = record
                .iter()
                .position(|&b| b == b'\t')
                .ok_or_else(malformed)?;
            let (header, path) = record.split_at(tab);
            let header = std::str::from_utf8(header).map_err(|_| malformed())?;
            let mut fields = header.split(' ');
            match (fields.next(), fields.next(), fields.next(), fields.next()) {
                (Some(mode), Some(kind), Some(id), None) => Ok(Entry {
                    mode: mode.to_string(),
                    kind: kind.to_string(),
                    id: id.to_string(),
                    raw: path.get(1..).unwrap_or_default().to_vec(),
                }),
                _ => Err(malformed()),
            }
        })
        .collect()
}

/// Refuses a tree that git would never check out, naming its paths: components that are
/// empty, `.` or `..`; the same path twice; a path below an entry that is a link, a file or a
/// submodule (a crafted tree holding a link `a` and a folder `a/`).
fn check_tree(entries: &[Entry]) -> Result<(), TreeProblems> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&[u8], &Entry> = BTreeMap::new();
    for entry in entries {
        if entry
            .raw
            .split(|&b| b == b'/')
            .any(|name| name.is_empty() || name == b"." || name == b"..")
        {
            problems.push(TreeProblem::Component(entry.shown()));
        }
        if seen.insert(&entry.raw, entry).is_some() {
            problems.push(TreeProblem::Twice(entry.shown()));
        }
    }
    for entry in entries {
        if let Some(parent) = entry_above(entry, &seen) {
            problems.push(TreeProblem::Below {
                path: entry.shown(),
                parent: parent.shown(),
                what: parent.what(),
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(TreeProblems(problems))
    }
}

/// The entry of the tree that lies at a folder above `entry`, if any.
fn entry_above<'a>(entry: &Entry, seen: &BTreeMap<&[u8], &'a Entry>) -> Option<&'a Entry> {
    entry
        .raw
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'/')
        .find_map(|(at, _)| seen.get(entry.raw.get(..at)?).copied())
}

/// One reason git would never check a tree out.
#[derive(Debug, PartialEq, Eq)]
pub enum TreeProblem {
    /// A path with an empty, `.` or `..` component.
    Component(String),
    /// A path in the tree twice.
    Twice(String),
    /// A path below an entry that is not a folder.
    Below {
        path: String,
        parent: String,
        what: &'static str,
    },
}

impl fmt::Display for TreeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeProblem::Component(path) => {
                write!(f, "\"{path}\" has an empty, \".\" or \"..\" component")
            }
            TreeProblem::Twice(path) => write!(f, "\"{path}\" is in the tree twice"),
            TreeProblem::Below { path, parent, what } => {
                write!(f, "\"{path}\" lies below \"{parent}\", which is {what}")
            }
        }
    }
}

/// Every reason a tree is refused; the first [`MAX_TREE_PROBLEMS`] are named.
#[derive(Debug, PartialEq, Eq)]
pub struct TreeProblems(pub Vec<TreeProblem>);

impl fmt::Display for TreeProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, problem) in self.0.iter().take(MAX_TREE_PROBLEMS).enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        if self.0.len() > MAX_TREE_PROBLEMS {
            write!(f, "; and {} more", self.0.len() - MAX_TREE_PROBLEMS)?;
        }
        Ok(())
    }
}

/// How many of a refused tree's problems are named.
const MAX_TREE_PROBLEMS: usize = 10;

/// A path as git stores it: bytes, which on Unix name the file whatever their encoding.
#[cfg(unix)]
fn path_of(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_of(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

fn write_blobs(
    entries: &[Entry],
    mut output: impl BufRead,
    destination: &Path,
) -> Result<(), GitError> {
    let mut folders = Folders::new(destination);
    for entry in entries {
        let content = read_blob(&mut output, entry)?;
        let target = folders.parent_of(entry)?;
        if entry.mode == "120000" {
            symlink(&content, &target).map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => unsafe_path(entry),
                _ => GitError::CannotWriteLink(e),
            })?;
        } else {
            write_new_file(&target, &content, entry)?;
        }
    }
    Ok(())
}

/// The next blob `git cat-file --batch` answers, which must be `entry`'s:
/// `<id> blob <size>\n<content>\n`.
fn read_blob(output: &mut impl BufRead, entry: &Entry) -> Result<Vec<u8>, GitError> {
    let mut header = String::new();
    output
        .read_line(&mut header)
        .map_err(GitError::CannotReadBlob)?;
    let size = header
        .trim_end()
        .strip_prefix(&format!("{} blob ", entry.id))
        .and_then(|size| size.parse::<u64>().ok())
        .ok_or_else(|| GitError::UnexpectedAnswer {
            header: header.trim_end().to_string(),
            path: entry.shown(),
        })?;
    let mut content = Vec::new();
    output
        .by_ref()
        .take(size)
        .read_to_end(&mut content)
        .map_err(GitError::CannotReadBlob)?;
    let mut newline = [0u8; 1];
    output
        .read_exact(&mut newline)
        .map_err(GitError::CannotReadBlob)?;
    Ok(content)
}

/// The folders of the exported tree, created one component at a time and never through a link.
struct Folders<'a> {
    destination: &'a Path,
    /// Folders known to be real folders of the export (created or checked).
    known: BTreeSet<PathBuf>,
}

impl<'a> Folders<'a> {
    fn new(destination: &'a Path) -> Folders<'a> {
        Folders {
            destination,
            known: BTreeSet::new(),
        }
    }

    /// Makes sure every folder above `entry` exists as a real folder; returns the entry's path.
    fn parent_of(&mut self, entry: &Entry) -> Result<PathBuf, GitError> {
        let relative = path_of(&entry.raw);
        let mut current = self.destination.to_path_buf();
        let mut components = relative.components().peekable();
        while let Some(component) = components.next() {
            let Component::Normal(name) = component else {
                return Err(unsafe_path(entry));
            };
            current.push(name);
            if components.peek().is_none() {
                break;
            }
            if self.known.contains(&current) {
                continue;
            }
            match std::fs::symlink_metadata(&current) {
                Ok(metadata) if metadata.file_type().is_dir() => {}
                Ok(_) => return Err(unsafe_path(entry)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    std::fs::DirBuilder::new()
                        .create(&current)
                        .map_err(GitError::CannotCreateFolder)?;
                }
                Err(e) => return Err(GitError::CannotCreateFolder(e)),
            }
            self.known.insert(current.clone());
        }
        Ok(current)
    }
}

fn unsafe_path(entry: &Entry) -> GitError {
    GitError::UnsafePath(entry.shown())
}

/// Creates a file where nothing exists yet (never through a link, never over a file).
fn write_new_file(target: &Path, content: &[u8], entry: &Entry) -> Result<(), GitError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target);
    match file {
        Ok(mut file) => file.write_all(content).map_err(GitError::CannotWriteFile),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(unsafe_path(entry)),
        Err(e) => Err(GitError::CannotWriteFile(e)),
    }
}

#[cfg(unix)]
fn symlink(target: &[u8], link: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), link)
}

#[cfg(not(unix))]
fn symlink(_target: &[u8], _link: &Path) -> std::io::Result<()> {
    // Without Unix links the entry is left out, as a checkout with core.symlinks=false would
    // not make it a working link either.
    Ok(())
}

/// A short form of a commit id for the text header.
pub fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(listing: &[u8]) -> Vec<Entry> {
        parse_listing(listing).unwrap_or_else(|_| panic!("the listing parses"))
    }

    #[test]
    fn blobs_with_plain_paths_are_written_and_submodules_and_git_folders_are_not() {
        let listing = b"100644 blob aaa\tapps/app.yaml\x00\
                        120000 blob bbb\tlink\x00\
                        160000 commit ccc\tvendor/sub\x00\
                        100644 blob eee\tx/.GIT/config\x00";
        let entries = listed(listing);
        assert!(check_tree(&entries).is_ok());
        let written: Vec<_> = entries
            .iter()
            .filter(|e| e.is_written())
            .map(|e| (e.mode.as_str(), e.id.as_str(), e.shown()))
            .collect();
        assert_eq!(
            written,
            [
                ("100644", "aaa", "apps/app.yaml".to_string()),
                ("120000", "bbb", "link".to_string())
            ]
        );
    }

    #[test]
    fn trees_git_would_never_check_out_are_refused_naming_their_paths() {
        let problems = |listing: &[u8]| check_tree(&listed(listing)).unwrap_err().to_string();
        assert_eq!(
            problems(b"120000 blob aaa\ta\x00100644 blob bbb\ta/file.txt\x00"),
            "\"a/file.txt\" lies below \"a\", which is a symbolic link"
        );
        assert_eq!(
            problems(b"100644 blob aaa\ta\x00100644 blob bbb\ta/b/c\x00"),
            "\"a/b/c\" lies below \"a\", which is a file"
        );
        assert_eq!(
            problems(b"160000 commit aaa\tsub\x00100644 blob bbb\tsub/x\x00"),
            "\"sub/x\" lies below \"sub\", which is a submodule"
        );
        assert_eq!(
            problems(b"100644 blob aaa\tb\x00100644 blob aaa\tb\x00"),
            "\"b\" is in the tree twice"
        );
        for bad in [
            &b"100644 blob aaa\t..\x00"[..],
            b"100644 blob aaa\ta/../b\x00",
            b"100644 blob aaa\t./b\x00",
            b"100644 blob aaa\ta//b\x00",
            b"100644 blob aaa\t/etc/passwd\x00",
            b"100644 blob aaa\t\x00",
        ] {
            assert!(
                problems(bad).contains("has an empty, \".\" or \"..\" component"),
                "{}",
                shown(bad)
            );
        }
        let escaped = problems(b"100644 blob aaa\t\x1b[2J/..\x00");
        assert!(escaped.starts_with("\"\\u{1b}[2J/..\""), "{escaped}");
    }

    #[test]
    fn a_refused_tree_names_its_first_ten_problems_and_counts_the_rest() {
        let listing: Vec<u8> = (0..12)
            .flat_map(|i| {
                format!("100644 blob aaa\tdup{i}\x00100644 blob aaa\tdup{i}\x00").into_bytes()
            })
            .collect();
        let refused = check_tree(&listed(&listing)).unwrap_err();
        assert_eq!(refused.0.len(), 12);
        let text = refused.to_string();
        assert!(
            text.starts_with("\"dup0\" is in the tree twice; \"dup1\""),
            "{text}"
        );
        assert!(
            text.contains("\"dup9\" is in the tree twice; and 2 more"),
            "{text}"
        );
        assert!(!text.contains("dup10"), "{text}");
    }

    #[test]
    fn a_malformed_listing_is_an_error() {
        assert!(parse_listing(b"100644 blob aaa no tab\x00").is_err());
        assert!(parse_listing(b"100644 blob\tx\x00").is_err());
    }

    /// What `git cat-file --batch` answers for these blobs, in order.
    fn batch(blobs: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (id, content) in blobs {
            out.extend_from_slice(format!("{id} blob {}\n", content.len()).as_bytes());
            out.extend_from_slice(content);
            out.push(b'\n');
        }
        out
    }

    #[test]
    fn writing_never_follows_a_link_even_when_the_tree_was_not_checked() {
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("file.txt");
        std::fs::write(&victim, "original").unwrap();
        let export = tempfile::tempdir().unwrap();
        let target = outside.path().to_string_lossy().into_owned();
        let entries = listed(b"120000 blob aaa\ta\x00100644 blob bbb\ta/file.txt\x00");
        let answer = batch(&[("aaa", target.as_bytes()), ("bbb", b"overwritten")]);
        let result = write_blobs(&entries, &answer[..], export.path());
        assert!(
            matches!(&result, Err(GitError::UnsafePath(path)) if path == "a/file.txt"),
            "{result:?}"
        );
        assert!(
            result
                .unwrap_err()
                .to_string()
                .contains("\"a/file.txt\" would be written through a link")
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original");

        // A file that exists already is never written over, nor a link over it.
        let export = tempfile::tempdir().unwrap();
        let entries = listed(b"100644 blob aaa\tb\x00120000 blob bbb\tb\x00");
        let answer = batch(&[("aaa", b"first"), ("bbb", target.as_bytes())]);
        let refused = write_blobs(&entries, &answer[..], export.path()).unwrap_err();
        assert!(matches!(refused, GitError::UnsafePath(_)), "{refused:?}");
        assert_eq!(refused.exit_code(), exit::INVALID_INPUT);
        assert_eq!(
            std::fs::read_to_string(export.path().join("b")).unwrap(),
            "first"
        );
    }

    #[test]
    fn a_tree_is_read_into_memory_up_to_a_limit_of_bytes_in_all() {
        let checkout = tempfile::tempdir().unwrap();
        let root = checkout.path();
        let git = |args: &[&str]| {
            let status = git(root).args(args).status().unwrap();
            assert!(status.success(), "git {args:?}");
        };
        std::fs::create_dir_all(root.join("apps/a")).unwrap();
        std::fs::write(root.join("apps/a/app.yaml"), "kind: KubeDirectorApp\n").unwrap();
        std::fs::write(root.join("README.md"), "read me\n").unwrap();
        git(&["init", "-q"]);
        git(&["add", "-A"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "-q",
            "-m",
            "c",
        ]);
        let repository = open(root, String::new(), root).unwrap();
        let commit = resolve(&repository, "HEAD").unwrap().unwrap();
        let listing = list(&repository, &commit).unwrap();
        assert!(!listing.has_links());
        let files = read(&repository, &listing, PathBuf::from("/c"), 30)
            .unwrap()
            .unwrap();
        assert_eq!(files.bytes(), 30);
        assert_eq!(
            files.file(Path::new("/c/apps/a/app.yaml")),
            Some(&b"kind: KubeDirectorApp\n"[..])
        );
        assert!(files.is_folder(Path::new("/c/apps")));
        // One byte less, and the tree is better written to disk.
        assert!(
            read(&repository, &listing, PathBuf::from("/c"), 29)
                .unwrap()
                .is_none()
        );
    }
}
