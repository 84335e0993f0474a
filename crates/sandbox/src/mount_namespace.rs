//! A private mount namespace in which every mount is read-only except the writable roots (and
//! `.git`/`.cadre` inside them stay read-only). Landlock confines opening and creating files but not
//! `chmod`, `chown`, `utime` or `setxattr`; a read-only mount refuses those too, and it is what makes
//! a sub-tree of a writable root read-only (Landlock rules only ever add rights beneath a path).
//!
//! Root gets the namespace directly; any other user gets it inside a fresh user namespace that
//! maps only their own uid and gid, so they gain no power over anything outside.

use std::ffi::CString;
use std::io;
use std::path::{Path, PathBuf};

fn check(ret: libc::c_int, what: &str) -> Result<(), String> {
    if ret == 0 {
        Ok(())
    } else {
        Err(format!("{what}: {}", io::Error::last_os_error()))
    }
}

fn c_path(path: &Path) -> Result<CString, String> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("path {} contains a NUL byte", path.display()))
}

/// Enters a new mount namespace (inside a new user namespace unless running as root).
pub(crate) fn enter() -> Result<(), String> {
    // SAFETY: plain syscalls without pointers; the launcher is still single-threaded here.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    if uid == 0 {
        // SAFETY: see above.
        let ret = unsafe { libc::unshare(libc::CLONE_NEWNS) };
        check(ret, "cannot create a mount namespace")?;
    } else {
        // SAFETY: see above.
        let ret = unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) };
        check(
            ret,
            "cannot create a user namespace (unprivileged user namespaces may be disabled: see `sysctl kernel.unprivileged_userns_clone` and `kernel.apparmor_restrict_unprivileged_userns`)",
        )?;
        let write = |file: &str, content: String| {
            std::fs::write(file, content).map_err(|e| format!("cannot write {file}: {e}"))
        };
        write("/proc/self/setgroups", "deny".into())?;
        write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
        write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    }
    let root = c_path(Path::new("/"))?;
    // SAFETY: valid NUL-terminated strings; null source/type/data are allowed for MS_PRIVATE.
    let ret = unsafe {
        libc::mount(
            std::ptr::null(),
            root.as_ptr(),
            std::ptr::null(),
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        )
    };
    check(ret, "cannot make the mount tree private")
}

/// Bind-mounts `path` onto itself so it becomes a mount point whose flags can differ from its
/// parent's.
pub(crate) fn bind_onto_itself(path: &Path) -> Result<(), String> {
    let c = c_path(path)?;
    // SAFETY: valid NUL-terminated strings; null type/data are allowed for MS_BIND.
    let ret = unsafe {
        libc::mount(
            c.as_ptr(),
            c.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND | libc::MS_REC,
            std::ptr::null(),
        )
    };
    check(ret, &format!("cannot bind-mount {}", path.display()))
}

/// One line of `/proc/self/mountinfo`: the mount point and the per-mount flags to preserve
/// (a user namespace may not clear nosuid/nodev/noexec/atime flags it inherited).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MountEntry {
    pub mount_point: PathBuf,
    pub flags: libc::c_ulong,
    pub read_only: bool,
}

pub(crate) fn parse_mountinfo(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let mount_point = fields.nth(4)?;
            let options = fields.next()?;
            let mut flags = 0;
            let mut read_only = false;
            for option in options.split(',') {
                flags |= match option {
                    "ro" => {
                        read_only = true;
                        0
                    }
                    "nosuid" => libc::MS_NOSUID,
                    "nodev" => libc::MS_NODEV,
                    "noexec" => libc::MS_NOEXEC,
                    "noatime" => libc::MS_NOATIME,
                    "nodiratime" => libc::MS_NODIRATIME,
                    "relatime" => libc::MS_RELATIME,
                    "strictatime" => libc::MS_STRICTATIME,
                    _ => 0,
                };
            }
            Some(MountEntry {
                mount_point: PathBuf::from(unescape_octal(mount_point)),
                flags,
                read_only,
            })
        })
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4]
                .iter()
                .all(|b| (b'0'..=b'7').contains(b))
        {
            let value =
                (bytes[i + 1] - b'0') * 64 + (bytes[i + 2] - b'0') * 8 + (bytes[i + 3] - b'0');
            out.push(value);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Remounts every mount read-only except those `is_writable` accepts.
pub(crate) fn make_read_only_except(is_writable: impl Fn(&Path) -> bool) -> Result<(), String> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| format!("cannot read /proc/self/mountinfo: {e}"))?;
    for entry in parse_mountinfo(&text) {
        if entry.read_only || is_writable(&entry.mount_point) {
            continue;
        }
        let target = c_path(&entry.mount_point)?;
        // SAFETY: valid NUL-terminated target; null source/type/data are allowed for a remount.
        let ret = unsafe {
            libc::mount(
                std::ptr::null(),
                target.as_ptr(),
                std::ptr::null(),
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | entry.flags,
                std::ptr::null(),
            )
        };
        if ret != 0 {
            let err = io::Error::last_os_error();
            // A mount point removed meanwhile, or one this user cannot even reach (so neither can
            // the command), needs nothing.
            if matches!(err.raw_os_error(), Some(libc::ENOENT) | Some(libc::EACCES)) {
                continue;
            }
            return Err(format!(
                "cannot make {} read-only: {err}",
                entry.mount_point.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mount_points_and_flags() {
        let text = "22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda rw\n\
                    30 22 0:5 / /dev/with\\040space rw,nosuid,noexec - devtmpfs udev rw\n\
                    31 22 0:6 / /boot ro,nodev - ext4 /dev/sdb ro\n";
        let entries = parse_mountinfo(text);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].mount_point, PathBuf::from("/"));
        assert_eq!(entries[0].flags, libc::MS_RELATIME);
        assert_eq!(entries[1].mount_point, PathBuf::from("/dev/with space"));
        assert_eq!(entries[1].flags, libc::MS_NOSUID | libc::MS_NOEXEC);
        assert!(entries[2].read_only);
    }
}
