//! The previous output's unchanged files, linked into the new output instead of written again.
//!
//! A render into a folder that already holds kdrender's output usually changes few files. For
//! each file, when the previous output holds the same path with exactly the same bytes, the new
//! output gets a hard link to it: one directory entry, instead of a new inode and its data, and
//! removing the previous output afterwards frees neither. An unchanged file thus keeps its
//! inode and modification time, so tools that watch the folder see only what changed. On file
//! systems that allocate inodes slowly after many deletions (ext4 without a journal scans every
//! recently deleted inode), this is the difference between a tenth of a second and seconds for a
//! thousand clusters.
//!
//! A file is linked only when nothing about it could differ from a file written now:
//! - the output folder is not itself a symbolic link (the link is replaced, and the folder it
//!   led to keeps its files), and the file is reached below it without following any
//!   symbolic link ([`crate::beneath`]), so nothing outside the folder is ever linked into
//!   it;
//! - it is a regular file with no other name (one link), owned by this process's user, with
//!   the permissions a new file gets here (the staging folder's, less the execute bits);
//! - its bytes are exactly the new text;
//! - the linked name ends up on that same inode (checked after linking, so a file swapped
//!   between the check and the link is written instead).
//!
//! Anything else, any error included, writes the file as before; so does every file where the
//! system cannot open below a folder. The file is opened for reading at once (without waiting
//! on a named pipe), not looked at first as inputs are: the folder is kdrender's own output.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::beneath::{self, Access, Opened};

/// `dir` itself, not a symbolic link to a folder: a link is replaced by the new output, and the
/// folder it led to keeps its files, which must not then share an inode with the new ones.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_folder(dir: &Path) -> Option<File> {
    use rustix::fs::{Mode, OFlags, open};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    open(dir, flags, Mode::empty()).ok().map(File::from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn open_folder(_: &Path) -> Option<File> {
    None
}

/// The previous output folder, open for comparing its files with the new ones.
#[derive(Debug)]
pub(super) struct Previous {
    path: PathBuf,
    dir: File,
    /// The user and permissions a file written now gets.
    uid: u32,
    mode: u32,
    /// The kernel refused `openat2`: stop asking.
    unavailable: AtomicBool,
}

impl Previous {
    /// The previous output in `dir`, if there is one to link from; `staging` is the new,
    /// empty output folder, whose owner and permissions new files share.
    pub(super) fn open(dir: &Path, staging: &Path) -> Option<Previous> {
        let folder = open_folder(dir)?;
        let staged = fs::metadata(staging).ok()?;
        Some(Previous {
            path: dir.to_path_buf(),
            dir: folder,
            uid: staged.uid(),
            mode: staged.mode() & 0o666,
            unavailable: AtomicBool::new(false),
        })
    }

    /// Links the previous output's `relative` to `destination` when it holds exactly `text`;
    /// whether it did. `buffer` is scratch space, reused across calls.
    pub(super) fn link_if_same(
        &self,
        relative: &str,
        text: &str,
        destination: &Path,
        buffer: &mut Vec<u8>,
    ) -> bool {
        if self.unavailable.load(Ordering::Relaxed) {
            return false;
        }
        let mut file = match beneath::open(&self.dir, Path::new(relative), Access::Read) {
            Opened::File(file) => file,
            Opened::NotWithoutLinks => return false,
            Opened::Unsupported => {
                self.unavailable.store(true, Ordering::Relaxed);
                return false;
            }
        };
        let Ok(found) = file.metadata() else {
            return false;
        };
        let same_kind = found.file_type().is_file()
            && found.nlink() == 1
            && found.uid() == self.uid
            && found.mode() & 0o7777 == self.mode
            && found.len() == text.len() as u64;
        if !same_kind {
            return false;
        }
        buffer.clear();
        let limit = (text.len() as u64).saturating_add(1);
        if (&mut file).take(limit).read_to_end(buffer).is_err() || buffer != text.as_bytes() {
            return false;
        }
        if fs::hard_link(self.path.join(relative), destination).is_err() {
            return false;
        }
        let linked = fs::symlink_metadata(destination)
            .is_ok_and(|l| (l.dev(), l.ino()) == (found.dev(), found.ino()));
        if !linked {
            // Something else was linked: the file is written instead.
            let _ = fs::remove_file(destination);
        }
        linked
    }
}
