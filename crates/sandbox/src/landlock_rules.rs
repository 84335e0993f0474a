//! The Landlock domain a sandboxed command enters: read everywhere, write only beneath the
//! writable roots (and a few harmless devices), TCP connect only to the proxy's port, no TCP bind,
//! and scoping so that the command cannot signal processes outside its domain (cadre itself) or
//! reach abstract Unix sockets created outside it.
//!
//! The ruleset is built before the fork (rules hold inodes, not paths, so the child's new mount
//! namespace does not change what they mean); the child only enters it with one raw syscall.

use crate::confinement::{Failure, Step};
use landlock::{
    ABI, Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, Scope,
};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The oldest Landlock ABI that has every right a profile needs: truncation (3), TCP rules (4),
/// device ioctls (5), and signal and abstract-socket scoping (6).
pub(crate) const REQUIRED_ABI: ABI = ABI::V6;

/// Devices any command may open for writing: the bit buckets and the terminal.
const WRITABLE_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
];

fn err(context: &str) -> impl Fn(landlock::RulesetError) -> String + '_ {
    move |e| format!("{context}: {e}")
}

/// Builds the ruleset (fully enforceable, or an error) and returns its fd.
pub(crate) fn build(
    writable_roots: &[PathBuf],
    proxy_port: Option<u16>,
) -> Result<OwnedFd, String> {
    let abi = REQUIRED_ABI;
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(AccessFs::from_all(abi))
        .map_err(err("Landlock file-system rules"))?
        .handle_access(AccessNet::from_all(abi))
        .map_err(err("Landlock network rules"))?
        .scope(Scope::from_all(abi))
        .map_err(err("Landlock scoping"))?
        .create()
        .map_err(err("Landlock ruleset"))?;

    let everywhere = AccessFs::from_read(abi) | AccessFs::IoctlDev;
    ruleset = ruleset
        .add_rule(PathBeneath::new(open_path(Path::new("/"))?, everywhere))
        .map_err(err("Landlock read rule"))?;
    let device = AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev;
    for path in WRITABLE_DEVICES
        .iter()
        .map(Path::new)
        .chain([Path::new("/dev/pts")])
    {
        if !path.exists() {
            continue;
        }
        let access = if path.is_dir() {
            device | AccessFs::ReadDir
        } else {
            device
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(open_path(path)?, access))
            .map_err(err("Landlock device rule"))?;
    }
    for root in writable_roots {
        ruleset = ruleset
            .add_rule(PathBeneath::new(open_path(root)?, AccessFs::from_all(abi)))
            .map_err(err("Landlock write rule"))?;
    }
    if let Some(port) = proxy_port {
        ruleset = ruleset
            .add_rule(NetPort::new(port, AccessNet::ConnectTcp))
            .map_err(err("Landlock proxy rule"))?;
    }
    // A hard requirement fails above on anything the kernel cannot enforce; an fd is only missing
    // when Landlock is absent altogether.
    Option::<OwnedFd>::from(ruleset).ok_or_else(|| "Landlock is not available".to_string())
}

/// Restricts the calling thread (and every process it execs) for good. Requires
/// `no_new_privs` (set before). Async-signal-safe.
pub(crate) fn restrict(ruleset: &OwnedFd) -> Result<(), Failure> {
    // SAFETY: landlock_restrict_self with a valid ruleset fd and no flags reads no memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_restrict_self,
            ruleset.as_raw_fd(),
            0 as libc::c_uint,
        )
    };
    if ret != 0 {
        return Err(Failure::last(Step::Landlock));
    }
    Ok(())
}

/// Adds to `ruleset` the right to do anything beneath the directory `dir`, for a directory that
/// only exists once the mounts are laid out. Async-signal-safe.
pub(crate) fn allow_writes_beneath(ruleset: &OwnedFd, dir: &CStr) -> Result<(), Failure> {
    const LANDLOCK_RULE_PATH_BENEATH: libc::c_int = 1;
    /// `struct landlock_path_beneath_attr` (packed in the kernel's ABI).
    #[repr(C, packed)]
    struct PathBeneathAttr {
        allowed_access: u64,
        parent_fd: i32,
    }
    // SAFETY: valid NUL-terminated path; open returns a new fd or -1.
    let fd = unsafe {
        libc::open(
            dir.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Failure::last(Step::PrivateTmpRule));
    }
    let attr = PathBeneathAttr {
        allowed_access: AccessFs::from_all(REQUIRED_ABI).bits(),
        parent_fd: fd,
    };
    // SAFETY: a valid ruleset fd and a path_beneath attribute that outlives the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset.as_raw_fd(),
            LANDLOCK_RULE_PATH_BENEATH,
            &attr as *const PathBeneathAttr,
            0 as libc::c_uint,
        )
    };
    let failure = (ret != 0).then(|| Failure::last(Step::PrivateTmpRule));
    // SAFETY: closing the fd opened above.
    unsafe { libc::close(fd) };
    failure.map_or(Ok(()), Err)
}

fn open_path(path: &Path) -> Result<PathFd, String> {
    PathFd::new(path).map_err(|e| format!("cannot open {}: {e}", path.display()))
}

/// The Landlock ABI the running kernel offers (0 when Landlock is off).
pub(crate) fn kernel_abi() -> i32 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: landlock_create_ruleset with a null attribute and the VERSION flag only returns
    // a number; it reads and writes no memory.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<libc::c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if ret < 0 { 0 } else { ret as i32 }
}
