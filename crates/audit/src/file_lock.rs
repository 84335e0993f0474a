//! The exclusive lock that serialises appends from every cadre process sharing a log directory.
//!
//! `flock(2)` on a `.lock` file in the directory, held for one batch: read the chain's tail,
//! append, optionally fsync, release. The kernel drops the lock when its holder dies, so a writer
//! killed mid-append never wedges the others. Readers that must not see half an update (of the
//! head file) take the same lock shared.

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

/// A shared hold on a directory's lock, taken by a reader; released when dropped.
pub(crate) struct SharedLock {
    file: File,
}

/// Takes the directory's lock shared, if the directory has a lock file (a directory no writer
/// ever opened has nothing to wait for). Opens it read-only, so a reader needs no write access.
pub(crate) fn lock_shared_if_present(dir: &Path) -> io::Result<Option<SharedLock>> {
    let file = match File::open(dir.join(LOCK_FILE_NAME)) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    loop {
        // SAFETY: the descriptor is owned by `file` and open for the call's duration.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH) };
        if rc == 0 {
            return Ok(Some(SharedLock { file }));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

impl Drop for SharedLock {
    fn drop(&mut self) {
        // SAFETY: as above; closing the descriptor would release the lock as well.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
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
