//! Load, from a commit held in memory: the files of a Git tree that `diff` reads its base
//! revision from, in place of a checkout written to disk ([`crate::diff::git`] fills it).
//!
//! It answers the questions [`super::Reader`] asks of a file system, as a checkout of the tree
//! would: where a path leads, whether it is a folder, which files lie below a folder and in what
//! order, and what a file holds. A tree with symbolic links is never held here (only a real
//! file system says where they lead), so a path leads where it is written: to itself.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::ops::Bound;
use std::path::{Component, Path, PathBuf};

/// The files of one commit's tree, below a root that exists nowhere on disk.
pub struct CommitFiles {
    /// Where the tree's top folder is taken to be: absolute, never shown (every path in a
    /// message is relative to the rendered folder).
    root: PathBuf,
    files: BTreeMap<PathBuf, Vec<u8>>,
    /// Every folder that holds a file, the root included: a checkout creates no others.
    folders: BTreeSet<PathBuf>,
    bytes: u64,
}

impl std::fmt::Debug for CommitFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommitFiles")
            .field("root", &self.root)
            .field("files", &self.files.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl CommitFiles {
    /// An empty tree whose top folder is `root` (absolute).
    pub fn new(root: PathBuf) -> CommitFiles {
        CommitFiles {
            folders: BTreeSet::from([root.clone()]),
            root,
            files: BTreeMap::new(),
            bytes: 0,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The bytes of every file added so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Adds the file at `relative` (plain components only: the tree was checked for `..`, empty
    /// components and paths below files before it was read).
    pub fn add(&mut self, relative: &Path, content: Vec<u8>) {
        let path = self.root.join(relative);
        let mut folder = path.parent();
        while let Some(parent) = folder.filter(|parent| parent.starts_with(&self.root)) {
            if !self.folders.insert(parent.to_path_buf()) {
                break;
            }
            folder = parent.parent();
        }
        self.bytes = self.bytes.saturating_add(content.len() as u64);
        self.files.insert(path, content);
    }

    /// Where `path` (absolute) leads, as `fs::canonicalize` (`realpath`) answers in a checkout:
    /// its names taken one by one, `.` staying and `..` going up; each name must be there
    /// (else "No such file or directory"), and a file must be the last (else "Not a directory",
    /// as for `file/..` or `file/`). Outside the root the tree says nothing: such a path is
    /// taken as written, and the reader refuses it as outside.
    pub fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        let mut real = PathBuf::from("/");
        let mut names = path.components().peekable();
        while let Some(name) = names.next() {
            match name {
                Component::Prefix(_) | Component::RootDir | Component::CurDir => {}
                Component::ParentDir => {
                    real.pop();
                }
                Component::Normal(name) => {
                    real.push(name);
                    let last = names.peek().is_none() && !ends_in_separator(path);
                    if !real.starts_with(&self.root) || self.folders.contains(&real) {
                        continue;
                    }
                    if !self.files.contains_key(&real) {
                        return Err(io_error(libc_code::NOT_FOUND));
                    }
                    if !last {
                        return Err(io_error(libc_code::NOT_A_FOLDER));
                    }
                }
            }
        }
        Ok(real)
    }

    pub fn is_folder(&self, path: &Path) -> bool {
        self.folders.contains(path)
    }

    /// What the file at `path` (canonical) holds; `None` for a folder or nothing.
    pub fn file(&self, path: &Path) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    /// The files below the folder `dir`, as a walk of a checkout sorted by file name lists them
    /// (a folder's entries in name order, each folder's files where its name falls), leaving
    /// out every file below `dir` with a component that begins with a dot.
    pub fn walk(&self, dir: &Path) -> Vec<PathBuf> {
        // Paths order component by component, so the files below `dir` follow it together,
        // and in the order of a depth-first walk with sorted entries.
        self.files
            .range::<Path, _>((Bound::Excluded(dir), Bound::Unbounded))
            .map(|(path, _)| path)
            .take_while(|path| path.starts_with(dir))
            .filter(|path| {
                path.strip_prefix(dir).is_ok_and(|below| {
                    below
                        .components()
                        .all(|name| !name.as_os_str().to_string_lossy().starts_with('.'))
                })
            })
            .cloned()
            .collect()
    }
}

/// Whether the path as written ends in `/` or `/.`, after which `realpath` wants a folder.
fn ends_in_separator(path: &Path) -> bool {
    let written = path.as_os_str().to_string_lossy();
    written.ends_with('/') || written.ends_with("/.")
}

/// The errors a checkout's file system gives, by their codes there.
#[cfg(unix)]
mod libc_code {
    pub const NOT_FOUND: i32 = libc::ENOENT;
    pub const NOT_A_FOLDER: i32 = libc::ENOTDIR;
}

#[cfg(not(unix))]
mod libc_code {
    pub const NOT_FOUND: i32 = 2;
    pub const NOT_A_FOLDER: i32 = 267;
}

fn io_error(code: i32) -> io::Error {
    io::Error::from_raw_os_error(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(paths: &[&str]) -> CommitFiles {
        let mut commit = CommitFiles::new(PathBuf::from("/commit"));
        for path in paths {
            commit.add(Path::new(path), path.as_bytes().to_vec());
        }
        commit
    }

    #[test]
    fn folders_are_those_that_hold_files_and_paths_fold_as_written() {
        let commit = tree(&["apps/a/app.yaml", "top.yaml"]);
        for folder in ["/commit", "/commit/apps", "/commit/apps/a"] {
            assert!(commit.is_folder(Path::new(folder)), "{folder}");
        }
        assert!(!commit.is_folder(Path::new("/commit/top.yaml")));
        assert!(!commit.is_folder(Path::new("/")));
        assert_eq!(
            commit
                .canonicalize(Path::new("/commit/apps/./a/../a/app.yaml"))
                .unwrap(),
            Path::new("/commit/apps/a/app.yaml")
        );
        let missing = commit
            .canonicalize(Path::new("/commit/apps/b"))
            .unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert_eq!(
            commit.file(Path::new("/commit/top.yaml")),
            Some(&b"top.yaml"[..])
        );
        assert_eq!(commit.file(Path::new("/commit/apps")), None);
        assert_eq!(commit.bytes(), 23);
    }

    #[test]
    fn a_walk_lists_files_depth_first_by_name_without_dot_names_below_it() {
        let commit = tree(&[
            "a.txt",
            "a/z.yaml",
            "a/b/c.yaml",
            "a-b/x.yaml",
            "a/.hidden/x.yaml",
            "a/.env",
            ".git/config",
            "b.yaml",
        ]);
        let walked = |dir: &str| -> Vec<String> {
            commit
                .walk(Path::new(dir))
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect()
        };
        // As walkdir's sorted walk lists them: `a`'s files come before `a-b` and `a.txt`,
        // since its name sorts first.
        assert_eq!(
            walked("/commit"),
            [
                "/commit/a/b/c.yaml",
                "/commit/a/z.yaml",
                "/commit/a-b/x.yaml",
                "/commit/a.txt",
                "/commit/b.yaml",
            ]
        );
        assert_eq!(
            walked("/commit/a"),
            ["/commit/a/b/c.yaml", "/commit/a/z.yaml"]
        );
        // A dot-folder's own files, when the walk starts inside it.
        assert_eq!(walked("/commit/.git"), ["/commit/.git/config"]);
    }
}
