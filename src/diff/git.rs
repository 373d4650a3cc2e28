//! Git plumbing for `kdrender diff`: check the repository that holds PATH, resolve the base
//! revision, and write that revision's tree into a private temporary folder — refusing trees
//! that git itself would never check out, and never writing through a link.
//!
//! The tree is read from the object database with `git ls-tree` and `git cat-file --batch`,
//! which neither touch the working tree nor the index (and take no optional locks), and — unlike
//! `git archive` — apply no `export-ignore` or `export-subst` attributes, so the base is
//! exactly what was committed. Only `diff` runs git; `render` and `validate` never do.

use std::collections::{BTreeMap, BTreeSet};
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

/// The repository whose working tree's top folder is `root`, with PATH at `prefix` below it.
/// `root` was found from PATH as given ([`crate::options::repository_root`]); git must agree that
/// it is the top of a working tree, so that a PATH whose symlinks lead into another checkout is
/// never compared against that checkout's history. `shown` is PATH as the user wrote it.
pub fn open(root: &Path, prefix: String, shown: &Path) -> Result<Repository, GitError> {
    let top = run(git(root).args(["rev-parse", "--show-toplevel"]))?.map_err(|e| {
        GitError::Input(format!(
            "{} is not inside a Git working tree, which kdrender diff needs ({e})",
            shown.display()
        ))
    })?;
    let real = |path: &Path| std::fs::canonicalize(path).ok();
    if real(Path::new(&top)).is_none() || real(Path::new(&top)) != real(root) {
        return Err(GitError::Input(format!(
            "{} belongs to the Git working tree {top}, not to the repository {} that holds it as written; kdrender diff follows no symlink to find the repository",
            shown.display(),
            root.display()
        )));
    }
    Ok(Repository {
        root: root.to_path_buf(),
        prefix,
    })
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

/// Writes the tree of `commit` into `destination` (an empty folder): regular files, and
/// symbolic links on Unix (the loader confines them to the repository like any other).
/// Submodules are left out, as `git archive` leaves them out.
///
/// A tree that git would never check out (a path below a link or a file, `.`, `..` or empty
/// components, a path twice) is refused before anything is written, naming its paths; and
/// writing never follows a link: folders are created one by one and an existing component
/// that is not a folder is an error, files are created only where nothing exists yet.
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
    let entries = parse_listing(&listing.stdout)?;
    check_tree(&entries).map_err(|problems| {
        GitError::Input(format!(
            "the tree of {} cannot be written safely, and git itself would never check it out: {problems}",
            short(commit)
        ))
    })?;
    let entries: Vec<Entry> = entries.into_iter().filter(Entry::is_written).collect();
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
    if written.is_err() {
        // Stop git rather than wait for it to answer what will not be read.
        let _ = batch.kill();
    }
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

/// `git ls-tree -r -z` output: `<mode> SP <type> SP <id> TAB <path> NUL` per entry.
fn parse_listing(listing: &[u8]) -> Result<Vec<Entry>, GitError> {
    listing
        .split(|&b| b == 0)
        .filter(|record| !record.is_empty())
        .map(|record| {
            let malformed = || {
                GitError::Io(format!(
                    "git ls-tree printed a line kdrender cannot read: {}",
                    shown(record)
                ))
            };
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
fn check_tree(entries: &[Entry]) -> Result<(), String> {
    let mut problems = Vec::new();
    let mut seen: BTreeMap<&[u8], &Entry> = BTreeMap::new();
    for entry in entries {
        if entry
            .raw
            .split(|&b| b == b'/')
            .any(|name| name.is_empty() || name == b"." || name == b"..")
        {
            problems.push(format!(
                "\"{}\" has an empty, \".\" or \"..\" component",
                entry.shown()
            ));
        }
        if seen.insert(&entry.raw, entry).is_some() {
            problems.push(format!("\"{}\" is in the tree twice", entry.shown()));
        }
    }
    for entry in entries {
        let below = entry
            .raw
            .iter()
            .enumerate()
            .filter(|&(_, &b)| b == b'/')
            .find_map(|(at, _)| seen.get(&entry.raw[..at]));
        if let Some(parent) = below {
            let what = match (parent.kind.as_str(), parent.mode.as_str()) {
                (_, "120000") => "a symbolic link",
                ("commit", _) => "a submodule",
                _ => "a file",
            };
            problems.push(format!(
                "\"{}\" lies below \"{}\", which is {what}",
                entry.shown(),
                parent.shown()
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let count = problems.len();
    problems.truncate(MAX_TREE_PROBLEMS);
    let mut text = problems.join("; ");
    if count > MAX_TREE_PROBLEMS {
        text.push_str(&format!("; and {} more", count - MAX_TREE_PROBLEMS));
    }
    Err(text)
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
    let io = |what: &str, e: std::io::Error| GitError::Io(format!("{what}: {e}"));
    let mut folders = Folders::new(destination);
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
                    entry.shown()
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
        let target = folders.parent_of(entry)?;
        if entry.mode == "120000" {
            symlink(&content, &target).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => unsafe_path(entry),
                _ => GitError::Io(format!("cannot write a link of the base revision: {e}")),
            })?;
        } else {
            write_new_file(&target, &content, entry)?;
        }
    }
    Ok(())
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
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::DirBuilder::new().create(&current).map_err(|e| {
                        GitError::Io(format!("cannot create a folder for the base revision: {e}"))
                    })?;
                }
                Err(e) => {
                    return Err(GitError::Io(format!(
                        "cannot create a folder for the base revision: {e}"
                    )));
                }
            }
            self.known.insert(current.clone());
        }
        Ok(current)
    }
}

fn unsafe_path(entry: &Entry) -> GitError {
    GitError::Input(format!(
        "the base revision's \"{}\" would be written through a link or over a file; kdrender never writes outside its temporary folder",
        entry.shown()
    ))
}

/// Creates a file where nothing exists yet (never through a link, never over a file).
fn write_new_file(target: &Path, content: &[u8], entry: &Entry) -> Result<(), GitError> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(target);
    match file {
        Ok(mut file) => file
            .write_all(content)
            .map_err(|e| GitError::Io(format!("cannot write a file of the base revision: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(unsafe_path(entry)),
        Err(e) => Err(GitError::Io(format!(
            "cannot write a file of the base revision: {e}"
        ))),
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
    &commit[..commit.len().min(12)]
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
        let problems = |listing: &[u8]| check_tree(&listed(listing)).unwrap_err();
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
            matches!(&result, Err(GitError::Input(m)) if m.contains("\"a/file.txt\" would be written through a link")),
            "{result:?}"
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "original");

        // A file that exists already is never written over, nor a link over it.
        let export = tempfile::tempdir().unwrap();
        let entries = listed(b"100644 blob aaa\tb\x00120000 blob bbb\tb\x00");
        let answer = batch(&[("aaa", b"first"), ("bbb", target.as_bytes())]);
        assert!(matches!(
            write_blobs(&entries, &answer[..], export.path()),
            Err(GitError::Input(_))
        ));
        assert_eq!(
            std::fs::read_to_string(export.path().join("b")).unwrap(),
            "first"
        );
    }
}
