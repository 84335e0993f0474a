//! A private mount namespace in which every mount is read-only except the writable roots (and
//! `.git`/`.cadre` inside them stay read-only). Landlock confines opening and creating files but not
//! `chmod`, `chown`, `utime` or `setxattr`; a read-only mount refuses those too, and it is what makes
//! a sub-tree of a writable root read-only (Landlock rules only ever add rights beneath a path).
//!
//! Root gets the namespace directly; any other user gets it inside a fresh user namespace that
//! maps only their own uid and gid, so they gain no power over anything outside.
//!
//! The plan is built before the fork and carried out in the child between `fork` and `exec`,
//! where only async-signal-safe work is allowed: [`MountPlan::enter`] makes raw syscalls on
//! strings prepared beforehand and never allocates. Its cost does not grow with the number of
//! mounts: the writable roots' mount trees are cloned aside, one recursive `mount_setattr` makes
//! the whole tree read-only, and the clones are put back on top.

use crate::confinement::{Failure, Step};
use std::ffi::{CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

// Kernel ABI of the new mount API (linux/mount.h), stable since Linux 5.12.
const OPEN_TREE_CLONE: libc::c_uint = 1;
const OPEN_TREE_CLOEXEC: libc::c_uint = libc::O_CLOEXEC as libc::c_uint;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;
const MOUNT_ATTR_RDONLY: u64 = 1;

/// `struct mount_attr` of `mount_setattr(2)`.
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// What the child does to its mount namespace, prepared in the parent.
#[derive(Debug)]
pub(crate) struct MountPlan {
    /// `Some` for a non-root user: the contents of `uid_map` and `gid_map` of the new user
    /// namespace (each maps the user's own id only).
    id_maps: Option<(CString, CString)>,
    /// Canonical writable roots; their mounts keep the flags they had.
    writable: Vec<CString>,
    /// Canonical, existing protected sub-paths of the writable roots; made read-only.
    protected: Vec<CString>,
    /// One slot per writable root for the detached clone of its mount tree (filled in the child).
    clones: Box<[libc::c_int]>,
    /// `/` itself is a writable root: no mount becomes read-only but the protected paths.
    everything_writable: bool,
    /// A fresh tmpfs to mount once the tree is laid out, holding the command's private temp dir.
    private_tmpfs: Option<PrivateTmpfs>,
}

/// A tmpfs mounted inside the command's mount namespace only, so that it and everything written
/// to it vanish with the namespace: nobody has to remove it after the command.
#[derive(Debug)]
struct PrivateTmpfs {
    /// An existing directory the tmpfs is mounted over (its contents are hidden meanwhile).
    mount_point: CString,
    /// The private temp dir, created beneath `mount_point` once the tmpfs is there.
    dir: CString,
}

/// Mount options of the private tmpfs: only its owner may enter it, and it may use at most a
/// quarter of the machine's memory (tmpfs pages are charged to the command's memory cgroup).
const PRIVATE_TMPFS_OPTIONS: &CStr = c"mode=0700,size=25%";

pub(crate) fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("path {} contains a NUL byte", path.display()))
}

impl MountPlan {
    pub(crate) fn new(writable: &[&Path], protected: &[&Path]) -> Result<MountPlan, String> {
        // SAFETY: geteuid and getegid have no preconditions.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        let id_maps = (uid != 0).then(|| {
            (
                CString::new(format!("{uid} {uid} 1")).expect("digits only"),
                CString::new(format!("{gid} {gid} 1")).expect("digits only"),
            )
        });
        let writable = writable
            .iter()
            .map(|p| c_path(p))
            .collect::<Result<Vec<_>, _>>()?;
        let protected = protected
            .iter()
            .map(|p| c_path(p))
            .collect::<Result<Vec<_>, _>>()?;
        let everything_writable = writable.iter().any(|root| root.as_bytes() == b"/");
        let clones = vec![-1; writable.len()].into_boxed_slice();
        Ok(MountPlan {
            id_maps,
            writable,
            protected,
            clones,
            everything_writable,
            private_tmpfs: None,
        })
    }

    /// Mounts a fresh tmpfs over `mount_point` (an existing directory) once the tree is laid out,
    /// and creates `dir` (beneath it) there with mode 0700.
    pub(crate) fn with_private_tmpfs(
        &mut self,
        mount_point: &Path,
        dir: &Path,
    ) -> Result<(), String> {
        self.private_tmpfs = Some(PrivateTmpfs {
            mount_point: c_path(mount_point)?,
            dir: c_path(dir)?,
        });
        Ok(())
    }

    /// Enters the new namespace and lays out the mounts. Async-signal-safe.
    pub(crate) fn enter(&mut self) -> Result<(), Failure> {
        match &self.id_maps {
            None => {
                // SAFETY: a plain syscall; the caller is single-threaded (a fresh child).
                check(
                    unsafe { libc::unshare(libc::CLONE_NEWNS) },
                    Step::MountNamespace,
                )?;
            }
            Some((uid_map, gid_map)) => {
                // SAFETY: as above.
                check(
                    unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) },
                    Step::UserNamespace,
                )?;
                write_file(c"/proc/self/setgroups", c"deny", Step::IdMaps)?;
                write_file(c"/proc/self/uid_map", uid_map, Step::IdMaps)?;
                write_file(c"/proc/self/gid_map", gid_map, Step::IdMaps)?;
            }
        }
        // SAFETY: valid NUL-terminated target; null source/type/data are allowed for MS_PRIVATE.
        let ret = unsafe {
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        };
        check(ret, Step::PrivateMounts)?;
        if !self.everything_writable {
            self.make_read_only_but_writable_roots()?;
        }
        for path in &self.protected {
            // SAFETY: valid NUL-terminated strings; null type/data are allowed for MS_BIND.
            let ret = unsafe {
                libc::mount(
                    path.as_ptr(),
                    path.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND | libc::MS_REC,
                    std::ptr::null(),
                )
            };
            check(ret, Step::BindProtected)?;
            set_read_only(path, Step::ReadOnlyProtected)?;
        }
        // Last, so that neither the read-only pass nor a protected path covers it.
        if let Some(tmpfs) = &self.private_tmpfs {
            tmpfs.mount()?;
        }
        Ok(())
    }

    /// Every mount read-only except the writable roots' trees, which keep their flags.
    fn make_read_only_but_writable_roots(&mut self) -> Result<(), Failure> {
        // Clone the writable roots' trees aside before the whole tree goes read-only: the clones
        // keep the flags the mounts had (writable stays writable, read-only stays read-only).
        for (root, slot) in self.writable.iter().zip(self.clones.iter_mut()) {
            // SAFETY: valid NUL-terminated path; open_tree returns a new fd or -1.
            let fd = unsafe {
                libc::syscall(
                    libc::SYS_open_tree,
                    libc::AT_FDCWD,
                    root.as_ptr(),
                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | libc::AT_RECURSIVE as libc::c_uint,
                )
            };
            if fd < 0 {
                return Err(Failure::last(Step::CloneWritableRoot));
            }
            *slot = fd as libc::c_int;
        }
        set_read_only(c"/", Step::ReadOnlyTree)?;
        for (root, &fd) in self.writable.iter().zip(self.clones.iter()) {
            // SAFETY: fd is the detached tree from open_tree above; valid NUL-terminated paths.
            let ret = unsafe {
                libc::syscall(
                    libc::SYS_move_mount,
                    fd,
                    c"".as_ptr(),
                    libc::AT_FDCWD,
                    root.as_ptr(),
                    MOVE_MOUNT_F_EMPTY_PATH,
                )
            };
            // SAFETY: closing the fd we opened; the mount stays attached.
            unsafe { libc::close(fd) };
            if ret != 0 {
                return Err(Failure::last(Step::AttachWritableRoot));
            }
        }
        Ok(())
    }
}

impl PrivateTmpfs {
    fn mount(&self) -> Result<(), Failure> {
        // SAFETY: valid NUL-terminated strings; the kernel reads the options as a C string.
        let ret = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                self.mount_point.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                PRIVATE_TMPFS_OPTIONS.as_ptr().cast(),
            )
        };
        check(ret, Step::PrivateTmpfs)?;
        // SAFETY: valid NUL-terminated path.
        check(
            unsafe { libc::mkdir(self.dir.as_ptr(), 0o700) },
            Step::PrivateTmpfs,
        )
    }
}

/// Makes the mount at `path` and every mount beneath it read-only, leaving their other flags
/// (nosuid, nodev, noexec, atime: locked in a user namespace) as they are.
fn set_read_only(path: &CStr, step: Step) -> Result<(), Failure> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: valid NUL-terminated path and a mount_attr of the size passed.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::AT_RECURSIVE as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if ret != 0 {
        return Err(Failure::last(step));
    }
    Ok(())
}

fn write_file(path: &CStr, content: &CStr, step: Step) -> Result<(), Failure> {
    // SAFETY: valid NUL-terminated path.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(Failure::last(step));
    }
    let bytes = content.to_bytes();
    // SAFETY: writes `bytes.len()` bytes from a live buffer to the fd opened above.
    let written = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
    let result = if written == bytes.len() as isize {
        Ok(())
    } else {
        Err(Failure::last(step))
    };
    // SAFETY: closing the fd opened above.
    unsafe { libc::close(fd) };
    result
}

fn check(ret: libc::c_int, step: Step) -> Result<(), Failure> {
    if ret == 0 {
        Ok(())
    } else {
        Err(Failure::last(step))
    }
}
