//! Opening a path below a folder without following any symbolic link on the way, in one step
//! (Linux's `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`).
//!
//! What opens is inside the folder and reached through real folders only: the kernel judges
//! the path as it opens it, leaving no moment in which a folder on the way could be swapped for
//! a link. `load` reads inputs below the repository root this way, and `output_dir` compares
//! the previous output's files. Elsewhere than Linux, or where the kernel refuses the call
//! (older than 5.6, or a sandbox that blocks it), nothing opens and callers go their slower way.

use std::fs::File;
use std::path::Path;

/// How the path is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Only to look at what it is (`O_PATH`): a FIFO or a device is not opened itself.
    Look,
    /// For reading, without waiting on a named pipe (`O_RDONLY | O_NONBLOCK`).
    Read,
}

/// What opening a path below a folder found.
#[derive(Debug)]
pub enum Opened {
    File(File),
    /// Nothing reachable there without a link: missing, behind a link, or any other error.
    NotWithoutLinks,
    /// The system cannot open below a folder: ask no more.
    Unsupported,
}

/// `relative`, opened below `folder` as `access` says, following no link on the way.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn open(folder: &File, relative: &Path, access: Access) -> Opened {
    use rustix::fs::{Mode, OFlags, ResolveFlags, openat2};
    use rustix::io::Errno;
    let how = match access {
        Access::Look => OFlags::PATH,
        Access::Read => OFlags::RDONLY | OFlags::NONBLOCK,
    };
    // No O_NOFOLLOW: RESOLVE_NO_SYMLINKS refuses a link as the last name too, where O_PATH with
    // O_NOFOLLOW would open the link itself.
    let flags = how | OFlags::CLOEXEC;
    let resolve = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    match openat2(folder, relative, flags, Mode::empty(), resolve) {
        Ok(fd) => Opened::File(File::from(fd)),
        Err(Errno::NOSYS | Errno::PERM) => Opened::Unsupported,
        Err(_) => Opened::NotWithoutLinks,
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn open(_: &File, _: &Path, _: Access) -> Opened {
    Opened::Unsupported
}
