//! The exclusive lock that serialises appends from every cadre process sharing a log directory.
//!
//! `flock(2)` on a `.lock` file in the directory, held for one batch: read the chain's tail,
//! append, optionally fsync, release. The kernel drops the lock when its holder dies, so a writer
//! killed mid-append never wedges the others.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub(crate) const LOCK_FILE_NAME: &str = ".lock";

pub(crate) struct DirLock {
    file: File,
}

/// Holds the lock until dropped.
pub(crate) struct DirLockGuard<'a> {
    lock: &'a DirLock,
}

impl DirLock {
    pub(crate) fn open(dir: &Path) -> io::Result<DirLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(dir.join(LOCK_FILE_NAME))?;
        Ok(DirLock { file })
    }

    pub(crate) fn lock(&self) -> io::Result<DirLockGuard<'_>> {
        loop {
            // SAFETY: the descriptor is owned by `self.file` and open for the call's duration.
            let rc = unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(DirLockGuard { lock: self });
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

impl Drop for DirLockGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: as in `lock`; unlocking a lock we hold cannot fail in a way we could act on.
        unsafe {
            libc::flock(self.lock.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}
