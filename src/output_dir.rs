//! Folder output (`render --output-dir DIR`): one file per object and a `kustomization.yaml`
//! listing them, for Flux and for review.
//!
//! Files are named `<namespace>/<cluster>/<kind>-<name>.yaml`. The folder is replaced as a whole:
//! before rendering, a [`Staging`] folder is made beside `DIR` (`.DIR.kdrender-new-<pid>`); each
//! cluster's files are written into it on the worker that rendered the cluster, as soon as it is
//! done (so no object tree outlives its cluster, and the writes overlap the rendering), one
//! folder created per cluster; once the whole run has succeeded, `kustomization.yaml` is added
//! and the staging folder is exchanged with `DIR` in one step (Linux's `renameat2` with
//! `RENAME_EXCHANGE`), so that `DIR` always holds either the previous output or the new one, even
//! if the process is killed; the previous output, now under the staging name, is removed last,
//! its cluster folders on every core. Files whose bytes did not change are not written but
//! linked from the previous output ([`previous`]).
//! A failed run removes its staging folder and leaves `DIR` as it was.
//! Where the exchange is not available (other systems, some file systems), `DIR` is first renamed
//! to `.DIR.kdrender-old-<pid>` and the staging folder then renamed to `DIR`; a run killed between
//! the two leaves the previous output under that name, and the next run puts it back first.
//!
//! Runs that write beside the same folder take turns through an exclusive lock on the parent
//! folder, released by the system when a process dies however it dies. Holding it, a run
//! removes what killed runs left (their staging and old folders): no live run can own them. If
//! the file system cannot lock, nothing of other runs is touched.
//!
//! A folder that is not kdrender's output (no marker in its `kustomization.yaml`) is never
//! replaced, so a typo cannot wipe an unrelated folder.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::emit;
use crate::render::Object;

mod previous;

use previous::Previous;

/// Why the folder cannot be written; it is then left as it was.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// An object cannot be serialised.
    #[error("{0}")]
    Yaml(Box<dyn std::error::Error + Send + Sync>),
    #[error("{} names no folder", .0.display())]
    NoFolderName(PathBuf),
    #[error("{} exists and is not a folder", .0.display())]
    NotAFolder(PathBuf),
    #[error(
        "{} is not empty and was not written by kdrender (its kustomization.yaml lacks kdrender's marker); refusing to replace it",
        .0.display()
    )]
    NotOurs(PathBuf),
    #[error("cannot create {}: {source}", path.display())]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot put the previous output back from {} to {}: {source}", from.display(), to.display())]
    PutBack {
        from: PathBuf,
        to: PathBuf,
        source: io::Error,
    },
    #[error("cannot remove {}, left by an earlier run: {source}", path.display())]
    RemoveLeftover { path: PathBuf, source: io::Error },
    #[error("cannot move the new output into {}: {source}", dir.display())]
    MoveIn { dir: PathBuf, source: io::Error },
    #[error("cannot exchange {} with the new output: {source}", dir.display())]
    Exchange { dir: PathBuf, source: io::Error },
    #[error("cannot move {} aside: {source}", dir.display())]
    MoveAside { dir: PathBuf, source: io::Error },
    #[error("cannot remove the previous output at {}: {source}", path.display())]
    RemovePrevious { path: PathBuf, source: io::Error },
}

impl OutputError {
    /// Every refusal to write is exit code 1, with nothing written, as for invalid input.
    pub fn exit_code(&self) -> i32 {
        crate::exit::INVALID_INPUT
    }
}

/// An error that names a path, from an `io::Error`.
fn at<F>(path: &Path, error: F) -> impl FnOnce(io::Error) -> OutputError
where
    F: FnOnce(PathBuf, io::Error) -> OutputError,
{
    let path = path.to_path_buf();
    move |source| error(path, source)
}

/// First line of the kustomization.yaml that kdrender writes; its presence marks the folder as
/// kdrender's to replace.
pub const MARKER: &str =
    "# Written by kdrender: this folder is replaced on every render; edit the inputs instead.";

/// The file an object is written to, relative to the output folder.
pub fn file_name(object: &Object) -> String {
    format!(
        "{}/{}/{}-{}.yaml",
        object.namespace,
        object.cluster,
        object.kind.as_str().to_ascii_lowercase(),
        object.name
    )
}

/// `kustomization.yaml`: the marker, then every file, sorted.
fn kustomization(mut paths: Vec<String>) -> String {
    paths.sort();
    let mut text = format!(
        "{MARKER}\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
    );
    for path in &paths {
        text.push_str("- ");
        text.push_str(path);
        text.push('\n');
    }
    text
}

/// The folder being written: a staging folder beside the output folder, under the lock, filled
/// while the run renders; removed when dropped unless it was swapped in.
#[derive(Debug)]
pub struct Staging {
    target: Target,
    path: PathBuf,
    /// The output being replaced, whose unchanged files are linked rather than written.
    previous: Option<Previous>,
    /// Held until the end of the run; `None` where the file system cannot lock.
    _lock: Option<Lock>,
}

impl Staging {
    /// Takes the lock, cleans up after killed runs, checks that `dir` may be replaced, and makes
    /// an empty staging folder beside it.
    pub fn prepare(dir: &Path) -> Result<Staging, OutputError> {
        let target = Target::of(dir)?;
        fs::create_dir_all(&target.parent).map_err(at(&target.parent, create))?;
        let lock = Lock::acquire(&target.parent).ok();
        if let Some(lock) = &lock {
            target.recover(lock)?;
        }
        if dir.exists() {
            if !dir.is_dir() {
                return Err(OutputError::NotAFolder(dir.to_path_buf()));
            }
            if !is_ours(dir)? {
                return Err(OutputError::NotOurs(dir.to_path_buf()));
            }
        }
        let path = target.new_staging()?;
        let previous = Previous::open(dir, &path);
        Ok(Staging {
            target,
            path,
            previous,
            _lock: lock,
        })
    }

    /// Writes one cluster's objects, one file each; returns their paths relative to the folder
    /// and their size in bytes. Safe to call from several workers at once.
    pub fn write_cluster(&self, objects: &[Object]) -> Result<(Vec<String>, usize), OutputError> {
        let mut paths = Vec::with_capacity(objects.len());
        let mut size = 0usize;
        let mut text = String::new();
        let mut buffer = Vec::new();
        // A cluster's objects share one folder: created once, not once per file.
        let mut made: Option<PathBuf> = None;
        for object in objects {
            let relative = file_name(object);
            let path = self.path.join(&relative);
            let parent = path.parent().unwrap_or(&self.path);
            if made.as_deref() != Some(parent) {
                fs::create_dir_all(parent).map_err(at(parent, create))?;
                made = Some(parent.to_path_buf());
            }
            text.clear();
            emit::write_yaml(&mut text, &object.value).map_err(|e| OutputError::Yaml(e.into()))?;
            self.write_file(&relative, &text, &path, &mut buffer)?;
            size = size.saturating_add(text.len());
            paths.push(relative);
        }
        Ok((paths, size))
    }

    /// Adds `kustomization.yaml` listing `paths` and puts the folder in the output folder's
    /// place; returns how many files it holds.
    pub fn finish(self, paths: Vec<String>) -> Result<usize, OutputError> {
        let files = paths.len().saturating_add(1);
        let path = self.path.join("kustomization.yaml");
        self.write_file(
            "kustomization.yaml",
            &kustomization(paths),
            &path,
            &mut Vec::new(),
        )?;
        self.swap_in()?;
        Ok(files)
    }

    /// Writes `text` to `path` (`relative` in the folder), or links the previous output's file
    /// there when it holds the same text.
    fn write_file(
        &self,
        relative: &str,
        text: &str,
        path: &Path,
        buffer: &mut Vec<u8>,
    ) -> Result<(), OutputError> {
        let linked = self
            .previous
            .as_ref()
            .is_some_and(|previous| previous.link_if_same(relative, text, path, buffer));
        if !linked {
            fs::write(path, text).map_err(at(path, write_error))?;
        }
        Ok(())
    }

    fn swap_in(self) -> Result<(), OutputError> {
        self.target.swap_in(&self.path)
    }
}

impl Drop for Staging {
    /// A run that did not finish leaves nothing beside the output folder. After the swap the
    /// staging name is gone (or holds a previous output that could not be removed): either
    /// way, removing it is right.
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Replaces `dir` with the given files (relative path, text) in one step.
#[cfg(test)]
fn replace(dir: &Path, files: &[(String, String)]) -> Result<(), OutputError> {
    let staging = Staging::prepare(dir)?;
    for (relative, text) in files {
        let path = staging.path.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(at(parent, create))?;
        }
        staging.write_file(relative, text, &path, &mut Vec::new())?;
    }
    staging.swap_in()
}

/// The output folder, its parent, and the names of the folders kdrender keeps beside it.
#[derive(Debug)]
struct Target {
    dir: PathBuf,
    parent: PathBuf,
    /// `.<name>.kdrender-`: the start of every staging and old folder's name.
    prefix: String,
}

/// The kinds of folder a run keeps beside the output folder.
const STAGING: &str = "new";
const RETIRED: &str = "old";

impl Target {
    fn of(dir: &Path) -> Result<Target, OutputError> {
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| OutputError::NoFolderName(dir.to_path_buf()))?;
        Ok(Target {
            dir: dir.to_path_buf(),
            parent,
            prefix: format!(".{base}.kdrender-"),
        })
    }

    /// `.<name>.kdrender-<kind>-<pid>`.
    fn beside(&self, kind: &str, id: &str) -> PathBuf {
        self.parent.join(format!("{}{kind}-{id}", self.prefix))
    }

    /// What runs left beside the folder, by kind: real folders whose names are ours, sorted.
    fn leftovers(&self, kind: &str) -> Result<Vec<PathBuf>, OutputError> {
        let start = format!("{}{kind}-", self.prefix);
        let entries = fs::read_dir(&self.parent).map_err(at(&self.parent, read))?;
        let mut found = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = name
                .strip_prefix(&start)
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()));
            if ours && entry.file_type().is_ok_and(|t| t.is_dir()) {
                found.push(entry.path());
            }
        }
        found.sort();
        Ok(found)
    }

    /// Undoes what killed runs left: puts back a previous output that a run killed between the
    /// fallback's two renames left under its old name, then removes every staging and old
    /// folder. Only with the lock, which no live run then holds.
    fn recover(&self, _lock: &Lock) -> Result<(), OutputError> {
        let retired = self.leftovers(RETIRED)?;
        if let (Err(_), Some(previous)) = (fs::symlink_metadata(&self.dir), retired.first()) {
            fs::rename(previous, &self.dir).map_err(|source| OutputError::PutBack {
                from: previous.clone(),
                to: self.dir.clone(),
                source,
            })?;
        }
        for stale in self
            .leftovers(RETIRED)?
            .iter()
            .chain(&self.leftovers(STAGING)?)
        {
            fs::remove_dir_all(stale).map_err(at(stale, |path, source| {
                OutputError::RemoveLeftover { path, source }
            }))?;
        }
        Ok(())
    }

    /// A fresh, empty staging folder of this process.
    fn new_staging(&self) -> Result<PathBuf, OutputError> {
        let staging = self.beside(STAGING, &std::process::id().to_string());
        fs::create_dir(&staging).map_err(at(&staging, create))?;
        Ok(staging)
    }

    /// Puts the staging folder in the output folder's place, atomically where the system can.
    fn swap_in(&self, staging: &Path) -> Result<(), OutputError> {
        let result = if fs::symlink_metadata(&self.dir).is_err() {
            fs::rename(staging, &self.dir).map_err(at(&self.dir, move_in))
        } else {
            match exchange(staging, &self.dir) {
                // The staging name now holds the previous output.
                Ok(()) => return remove_previous(staging),
                Err(e) if e.kind() == io::ErrorKind::Unsupported => self.swap_in_two_steps(staging),
                Err(source) => Err(OutputError::Exchange {
                    dir: self.dir.clone(),
                    source,
                }),
            }
        };
        if result.is_err() {
            let _ = fs::remove_dir_all(staging);
        }
        result
    }

    /// The fallback: the output folder aside, then the staging folder into its place. A run
    /// killed in between leaves the previous output under its old name, for the next run.
    fn swap_in_two_steps(&self, staging: &Path) -> Result<(), OutputError> {
        let retired = self.beside(RETIRED, &std::process::id().to_string());
        fs::rename(&self.dir, &retired).map_err(at(&self.dir, |dir, source| {
            OutputError::MoveAside { dir, source }
        }))?;
        if let Err(e) = fs::rename(staging, &self.dir) {
            let _ = fs::rename(&retired, &self.dir);
            return Err(move_in(self.dir.clone(), e));
        }
        remove_previous(&retired)
    }
}

fn create(path: PathBuf, source: io::Error) -> OutputError {
    OutputError::Create { path, source }
}

fn write_error(path: PathBuf, source: io::Error) -> OutputError {
    OutputError::Write { path, source }
}

fn read(path: PathBuf, source: io::Error) -> OutputError {
    OutputError::Read { path, source }
}

fn move_in(dir: PathBuf, source: io::Error) -> OutputError {
    OutputError::MoveIn { dir, source }
}

/// Removes the previous output: its cluster folders (`<namespace>/<cluster>`) on every core,
/// then the rest.
fn remove_previous(previous: &Path) -> Result<(), OutputError> {
    let remove = |folder: &Path| fs::remove_dir_all(folder).map_err(at(folder, removal));
    let clusters: Vec<PathBuf> = subfolders(previous)
        .iter()
        .flat_map(|namespace| subfolders(namespace))
        .collect();
    crate::parallel::map(&clusters, |folder| remove(folder))
        .into_iter()
        .collect::<Result<(), OutputError>>()?;
    remove(previous)
}

fn removal(path: PathBuf, source: io::Error) -> OutputError {
    OutputError::RemovePrevious { path, source }
}

/// The real folders (not links to folders) directly in `dir`, sorted; none if it cannot be read.
fn subfolders(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut folders: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .map(|entry| entry.path())
        .collect();
    folders.sort();
    folders
}

/// Exchanges two folders' names in one step; `Unsupported` where the system or the file system
/// cannot (EINVAL: the file system refuses the flag; ENOSYS: a kernel older than 3.15).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    use rustix::io::Errno;
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
            Err(io::ErrorKind::Unsupported.into())
        }
        result => result.map_err(io::Error::from),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

/// An exclusive lock on the output folder's parent, released when dropped or when the process
/// ends, however it ends.
#[derive(Debug)]
struct Lock {
    _file: fs::File,
}

impl Lock {
    /// Waits for the lock.
    fn acquire(parent: &Path) -> io::Result<Lock> {
        let file = fs::File::open(parent)?;
        file.lock()?;
        Ok(Lock { _file: file })
    }

    /// The lock if no one holds it.
    #[cfg(test)]
    fn try_acquire(parent: &Path) -> Option<Lock> {
        let file = fs::File::open(parent).ok()?;
        file.try_lock().ok()?;
        Some(Lock { _file: file })
    }
}

/// An empty folder, or one whose kustomization.yaml starts with the marker.
fn is_ours(dir: &Path) -> Result<bool, OutputError> {
    let mut entries = fs::read_dir(dir).map_err(at(dir, read))?;
    if entries.next().is_none() {
        return Ok(true);
    }
    Ok(fs::read_to_string(dir.join("kustomization.yaml"))
        .is_ok_and(|text| text.lines().next() == Some(MARKER)))
}

#[cfg(test)]
fn write_all(staging: &Path, files: &[(String, String)]) -> Result<(), OutputError> {
    for (relative, text) in files {
        let path = staging.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(at(parent, create))?;
        }
        fs::write(&path, text).map_err(at(&path, |path, source| OutputError::Write {
            path,
            source,
        }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = names
            .iter()
            .map(|n| (n.to_string(), format!("{n}\n")))
            .collect();
        files.push((
            "kustomization.yaml".into(),
            format!("{MARKER}\nkind: Kustomization\n"),
        ));
        files
    }

    fn read(dir: &Path, file: &str) -> String {
        fs::read_to_string(dir.join(file)).unwrap()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// A rendered folder holding `a.yaml` with the given text.
    fn output(text: &str) -> Vec<(String, String)> {
        let mut files = files(&[]);
        files.push(("a.yaml".into(), text.into()));
        files
    }

    fn inode(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::symlink_metadata(path).unwrap().ino()
    }

    fn links(path: &Path) -> u64 {
        use std::os::unix::fs::MetadataExt;
        fs::symlink_metadata(path).unwrap().nlink()
    }

    #[test]
    fn an_unchanged_file_keeps_its_inode_and_a_changed_one_is_written_anew() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("rendered");
        let first = [
            ("a.yaml", "same\n"),
            ("b.yaml", "one\n"),
            ("c/d.yaml", "deep\n"),
        ];
        let files = |list: &[(&str, &str)]| {
            let mut all = files(&[]);
            all.extend(list.iter().map(|(n, t)| (n.to_string(), t.to_string())));
            all
        };
        replace(&out, &files(&first)).unwrap();
        let before: Vec<u64> = ["a.yaml", "b.yaml", "c/d.yaml"]
            .iter()
            .map(|f| inode(&out.join(f)))
            .collect();

        // b.yaml keeps its size but not its bytes; e.yaml is new.
        let second = [
            ("a.yaml", "same\n"),
            ("b.yaml", "two\n"),
            ("c/d.yaml", "deep\n"),
            ("e.yaml", "new\n"),
        ];
        replace(&out, &files(&second)).unwrap();
        assert_eq!(inode(&out.join("a.yaml")), before[0]);
        assert_eq!(inode(&out.join("c/d.yaml")), before[2]);
        assert_ne!(inode(&out.join("b.yaml")), before[1]);
        for (name, text) in second {
            assert_eq!(read(&out, name), text, "{name}");
            // The previous output is gone: every file has this one name only.
            assert_eq!(links(&out.join(name)), 1, "{name}");
        }
        assert_eq!(names(root.path()), ["rendered"]);
    }

    #[test]
    fn nothing_outside_the_folder_or_with_another_name_is_linked_into_it() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("rendered");
        let outside = root.path().join("outside");
        fs::create_dir_all(outside.join("sub")).unwrap();
        let wanted: Vec<(String, String)> = [
            "by-link",
            "sub/in-linked-folder",
            "shared",
            "private",
            "pipe",
        ]
        .iter()
        .map(|n| (format!("{n}.yaml"), format!("{n}\n")))
        .chain(files(&[]))
        .collect();
        replace(&out, &wanted).unwrap();

        // The previous output, tampered with: each file still holds the bytes a render writes.
        fs::write(outside.join("by-link.yaml"), "by-link\n").unwrap();
        fs::remove_file(out.join("by-link.yaml")).unwrap();
        symlink(outside.join("by-link.yaml"), out.join("by-link.yaml")).unwrap();
        fs::write(
            outside.join("sub/in-linked-folder.yaml"),
            "sub/in-linked-folder\n",
        )
        .unwrap();
        fs::remove_dir_all(out.join("sub")).unwrap();
        symlink(outside.join("sub"), out.join("sub")).unwrap();
        fs::hard_link(out.join("shared.yaml"), outside.join("shared.yaml")).unwrap();
        fs::set_permissions(out.join("private.yaml"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::remove_file(out.join("pipe.yaml")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(out.join("pipe.yaml"))
            .status()
            .unwrap();
        assert!(made.success());

        // Replacing the folder neither blocks on the pipe nor links any of them.
        replace(&out, &wanted).unwrap();
        for (name, text) in &wanted {
            let path = out.join(name);
            assert!(fs::symlink_metadata(&path).unwrap().is_file(), "{name}");
            assert_eq!(&read(&out, name), text, "{name}");
            assert_eq!(links(&path), 1, "{name}");
        }
        for name in ["by-link.yaml", "sub/in-linked-folder.yaml", "shared.yaml"] {
            assert_eq!(links(&outside.join(name)), 1, "{name}");
        }
        // The output folder itself a link to a previous output elsewhere: the link is replaced
        // by a folder, and the files it led to share nothing with the new ones.
        let elsewhere = root.path().join("elsewhere");
        replace(&elsewhere, &wanted).unwrap();
        let linked_out = root.path().join("linked");
        symlink(&elsewhere, &linked_out).unwrap();
        replace(&linked_out, &wanted).unwrap();
        assert!(fs::symlink_metadata(&linked_out).unwrap().is_dir());
        for (name, text) in &wanted {
            assert_eq!(&read(&linked_out, name), text, "{name}");
            assert_eq!(links(&elsewhere.join(name)), 1, "{name}");
        }

        let written = fs::metadata(out.join("private.yaml")).unwrap();
        let usual = fs::metadata(out.join("shared.yaml")).unwrap();
        assert_eq!(written.permissions().mode(), usual.permissions().mode());
    }

    #[test]
    fn the_exchange_swaps_two_folders_in_one_step() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        fs::create_dir(&a).unwrap();
        fs::create_dir(&b).unwrap();
        fs::write(a.join("f"), "a").unwrap();
        fs::write(b.join("f"), "b").unwrap();
        exchange(&a, &b).unwrap();
        assert_eq!((read(&a, "f"), read(&b, "f")), ("b".into(), "a".into()));
    }

    #[test]
    fn a_run_killed_at_any_point_leaves_the_old_or_the_new_folder_and_the_next_run_cleans_up() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("rendered");
        replace(&out, &output("first\n")).unwrap();
        let target = Target::of(&out).unwrap();

        // Killed while writing: a partial staging folder; the folder is the previous output.
        let partial = target.beside(STAGING, "4001");
        fs::create_dir(&partial).unwrap();
        fs::write(partial.join("a.yaml"), "half").unwrap();
        assert_eq!(read(&out, "a.yaml"), "first\n");

        // Killed right after the exchange, before removing the previous output: the folder is
        // already the new one, and the previous output waits under the staging name.
        let swapped = target.beside(STAGING, "4002");
        write_all(&swapped, &output("second\n")).unwrap();
        exchange(&swapped, &out).unwrap();
        assert_eq!(read(&out, "a.yaml"), "second\n");
        assert_eq!(read(&swapped, "a.yaml"), "first\n");

        // The next run removes both leftovers and replaces the folder.
        replace(&out, &output("third\n")).unwrap();
        assert_eq!(read(&out, "a.yaml"), "third\n");
        assert_eq!(names(root.path()), ["rendered"]);
    }

    #[test]
    fn without_the_exchange_a_run_killed_between_the_renames_is_undone_by_the_next() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("rendered");
        replace(&out, &output("first\n")).unwrap();
        let target = Target::of(&out).unwrap();

        // The fallback's whole path: the folder is replaced, nothing is left beside it.
        let staging = target.new_staging().unwrap();
        write_all(&staging, &output("second\n")).unwrap();
        target.swap_in_two_steps(&staging).unwrap();
        assert_eq!(read(&out, "a.yaml"), "second\n");
        assert_eq!(names(root.path()), ["rendered"]);

        // Killed after moving the folder aside: the folder is missing, the previous output is
        // under its old name. The next run puts it back before anything else.
        let retired = target.beside(RETIRED, "4003");
        fs::rename(&out, &retired).unwrap();
        let lock = Lock::acquire(root.path()).unwrap();
        target.recover(&lock).unwrap();
        drop(lock);
        assert_eq!(read(&out, "a.yaml"), "second\n");
        assert_eq!(names(root.path()), ["rendered"]);
    }

    #[test]
    fn what_a_live_run_holds_is_never_cleaned_up() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("rendered");
        // Another run holds the lock: this one cannot take it, so it cannot clean up (cleaning
        // needs the lock) but waits, in `replace`, until the other is done.
        let other = Lock::acquire(root.path()).unwrap();
        assert!(Lock::try_acquire(root.path()).is_none());
        drop(other);
        assert!(Lock::try_acquire(root.path()).is_some());

        // Folders beside the output whose names are not exactly a staging or old folder's are
        // not kdrender's: never removed.
        for name in [
            ".rendered.kdrender-new-notes",
            ".rendered.kdrender-new-",
            ".other.kdrender-new-1",
        ] {
            fs::create_dir(root.path().join(name)).unwrap();
        }
        fs::write(root.path().join(".rendered.kdrender-old-7"), "a file").unwrap();
        replace(&out, &output("x\n")).unwrap();
        assert_eq!(
            names(root.path()),
            [
                ".other.kdrender-new-1",
                ".rendered.kdrender-new-",
                ".rendered.kdrender-new-notes",
                ".rendered.kdrender-old-7",
                "rendered",
            ]
        );
    }

    #[test]
    fn a_killed_process_releases_the_lock() {
        use std::io::{BufRead, BufReader};
        use std::process::{Command, Stdio};
        let root = tempfile::tempdir().unwrap();
        // flock(1) takes the same kind of lock; `-o` keeps it in the flock process alone.
        let mut holder = Command::new("flock")
            .arg("-o")
            .arg(root.path())
            .args(["sh", "-c", "echo locked; exec cat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("flock (util-linux) runs");
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line, "locked\n");
        assert!(Lock::try_acquire(root.path()).is_none());
        holder.kill().unwrap(); // SIGKILL
        holder.wait().unwrap();
        drop(holder.stdin.take()); // ends the command's `cat`
        assert!(Lock::try_acquire(root.path()).is_some());
    }

    #[test]
    fn replacing_removes_stale_files_and_keeps_foreign_folders() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("rendered");
        replace(
            &out,
            &files(&["ns/a/configmap-x.yaml", "ns/a/service-y.yaml"]),
        )
        .unwrap();
        replace(&out, &files(&["ns/a/configmap-x.yaml"])).unwrap();
        assert!(out.join("ns/a/configmap-x.yaml").exists());
        assert!(!out.join("ns/a/service-y.yaml").exists());
        // Nothing is left beside the folder.
        let beside: Vec<_> = fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(beside.len(), 1);

        let foreign = root.path().join("notes");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("todo.txt"), "keep me").unwrap();
        let error = replace(&foreign, &files(&["a.yaml"])).unwrap_err();
        assert!(matches!(error, OutputError::NotOurs(_)), "{error:?}");
        assert!(
            error.to_string().contains("refusing to replace it"),
            "{error}"
        );
        assert_eq!(
            fs::read_to_string(foreign.join("todo.txt")).unwrap(),
            "keep me"
        );
    }
}
