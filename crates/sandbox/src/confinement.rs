//! Applies a profile to a process about to `exec` the command, in the order the kernel needs:
//! mounts first (a Landlock domain may not mount), then capabilities, `no_new_privs`, Landlock,
//! and seccomp last (it forbids the calls the steps before it make).
//!
//! The work is split in two. [`Confinement::prepare`] runs in cadre before the fork: it resolves
//! paths, builds the Landlock ruleset, compiles the seccomp filters and formats every string.
//! [`Confinement::apply`] runs in the child between `fork` and `exec`; cadre may be
//! multi-threaded (tokio, the proxy), so the child may only do async-signal-safe work: it makes
//! raw syscalls on what was prepared, never allocates, never takes a lock, never panics.

use crate::SandboxPolicy;
use crate::mount_namespace::{MountPlan, c_path};
use crate::namespace_handoff;
use crate::seccomp_filter::{self, Programs, SocketRule};
use crate::{capabilities, landlock_rules};
use cadre_protocol::SecurityProfile;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The step of [`Confinement::apply`] that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Step {
    MountNamespace = 1,
    UserNamespace,
    IdMaps,
    PrivateMounts,
    CloneWritableRoot,
    ReadOnlyTree,
    AttachWritableRoot,
    BindProtected,
    ReadOnlyProtected,
    WorkingDirectory,
    DropCapabilities,
    NoNewPrivs,
    Landlock,
    Seccomp,
    PrivateTmpfs,
    PrivateTmpRule,
}

const STEPS: &[Step] = &[
    Step::MountNamespace,
    Step::UserNamespace,
    Step::IdMaps,
    Step::PrivateMounts,
    Step::CloneWritableRoot,
    Step::ReadOnlyTree,
    Step::AttachWritableRoot,
    Step::BindProtected,
    Step::ReadOnlyProtected,
    Step::WorkingDirectory,
    Step::DropCapabilities,
    Step::NoNewPrivs,
    Step::Landlock,
    Step::Seccomp,
    Step::PrivateTmpfs,
    Step::PrivateTmpRule,
];

impl Step {
    fn describe(self) -> &'static str {
        match self {
            Step::MountNamespace => "cannot create a mount namespace",
            Step::UserNamespace => {
                "cannot create a user namespace (unprivileged user namespaces may be disabled: see `sysctl kernel.unprivileged_userns_clone` and `kernel.apparmor_restrict_unprivileged_userns`)"
            }
            Step::IdMaps => "cannot map the user's ids into the user namespace",
            Step::PrivateMounts => "cannot make the mount tree private",
            Step::CloneWritableRoot => "cannot clone the mounts of a writable root",
            Step::ReadOnlyTree => "cannot make the mount tree read-only",
            Step::AttachWritableRoot => "cannot mount a writable root back",
            Step::BindProtected => "cannot bind-mount .git or .cadre",
            Step::ReadOnlyProtected => "cannot make .git or .cadre read-only",
            Step::WorkingDirectory => "cannot re-enter the working directory",
            Step::DropCapabilities => "cannot drop capabilities",
            Step::NoNewPrivs => "cannot set no_new_privs",
            Step::Landlock => "cannot enter the Landlock domain",
            Step::Seccomp => "the kernel refused the seccomp filter",
            Step::PrivateTmpfs => "cannot mount the private temp dir's tmpfs",
            Step::PrivateTmpRule => "cannot let the command write its private temp dir",
        }
    }
}

/// A failed step and its errno: all the child can report without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub step: Step,
    pub errno: i32,
}

/// Errno values stay below this; the step goes in the bits above.
const STEP_SHIFT: u32 = 16;

impl Failure {
    /// The failure of `step` with the calling thread's errno.
    pub(crate) fn last(step: Step) -> Failure {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        Failure { step, errno }
    }

    /// Packs the step and errno into an OS error code: the only thing the standard library
    /// carries from a failed `pre_exec` hook back to `spawn` in the parent. Allocates nothing.
    pub(crate) fn into_io_error(self) -> std::io::Error {
        std::io::Error::from_raw_os_error(((self.step as i32) << STEP_SHIFT) | self.errno)
    }

    /// The failure packed by [`Failure::into_io_error`], if `error` is one.
    pub(crate) fn from_io_error(error: &std::io::Error) -> Option<Failure> {
        let code = error.raw_os_error()?;
        let step = code >> STEP_SHIFT;
        let step = *STEPS.iter().find(|s| **s as i32 == step)?;
        Some(Failure {
            step,
            errno: code & ((1 << STEP_SHIFT) - 1),
        })
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            self.step.describe(),
            std::io::Error::from_raw_os_error(self.errno)
        )
    }
}

/// Everything the child needs to confine itself, prepared before the fork.
#[derive(Debug)]
pub(crate) struct Confinement {
    mounts: MountPlan,
    /// The working directory, walked to again once the mounts have changed under it.
    cwd: Option<CString>,
    landlock: OwnedFd,
    seccomp: &'static Programs,
    /// Where to send the new mount namespace once it is laid out (see `namespace_handoff`).
    namespace_handoff: Option<namespace_handoff::Sender>,
    /// The private temp dir inside a tmpfs that exists only once the mounts are laid out: its
    /// Landlock write rule can only be added then (a rule on the directory the tmpfs covers
    /// would not apply beneath it).
    tmpfs_dir: Option<CString>,
}

impl Confinement {
    /// Prepares the confinement of `policy` (None for `trusted`). `private_tmp` is writable
    /// besides the policy's roots; `proxy_port` is the only TCP port the network profiles may
    /// connect to; `cwd` is where the command starts.
    pub(crate) fn prepare(
        policy: &SandboxPolicy,
        private_tmp: Option<&Path>,
        proxy_port: Option<u16>,
        cwd: &Path,
    ) -> Result<Option<Confinement>, String> {
        if policy.profile == SecurityProfile::Trusted {
            return Ok(None);
        }
        let mut writable: Vec<PathBuf> = policy
            .writable_roots()
            .iter()
            .filter_map(|root| root.canonicalize().ok())
            .collect();
        if let Some(tmp) = private_tmp {
            writable.push(
                tmp.canonicalize().map_err(|e| {
                    format!("the private temp dir {} is missing: {e}", tmp.display())
                })?,
            );
        }
        let protected: Vec<PathBuf> = policy
            .read_only_subpaths()
            .iter()
            .filter_map(|path| path.canonicalize().ok())
            .collect();
        let network = policy.profile.allows_network();
        if network && proxy_port.is_none() {
            return Err("the network profile was started without its proxy".into());
        }
        let mounts = MountPlan::new(
            &writable.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
            &protected.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
        )?;
        // A working directory that does not resolve makes the spawn itself fail.
        let cwd = cwd.canonicalize().ok().map(|p| c_path(&p)).transpose()?;
        let landlock = landlock_rules::build(&writable, if network { proxy_port } else { None })?;
        let seccomp = seccomp_filter::programs(if network {
            SocketRule::TcpOnly
        } else {
            SocketRule::None
        })?;
        Ok(Some(Confinement {
            mounts,
            cwd,
            landlock,
            seccomp,
            namespace_handoff: None,
            tmpfs_dir: None,
        }))
    }

    /// Gives the command a private temp dir `dir` in a fresh tmpfs mounted over `mount_point` (an
    /// existing directory) inside its mount namespace, writable like a writable root. The tmpfs
    /// vanishes with the namespace, so no other process has to remove the dir after the command.
    pub(crate) fn with_private_tmpfs(
        &mut self,
        mount_point: &Path,
        dir: &Path,
    ) -> Result<(), String> {
        self.mounts.with_private_tmpfs(mount_point, dir)?;
        self.tmpfs_dir = Some(c_path(dir)?);
        Ok(())
    }

    /// Makes [`Confinement::apply`] send the command's mount namespace to `sender`'s receiver,
    /// so that the command's exit does not wait for the namespace's teardown.
    pub(crate) fn hand_namespace_to(&mut self, sender: namespace_handoff::Sender) {
        self.namespace_handoff = Some(sender);
    }

    /// Confines the calling process for good. Async-signal-safe: call it in the child between
    /// `fork` and `exec`, or in a single-threaded process.
    pub(crate) fn apply(&mut self) -> Result<(), Failure> {
        self.mounts.enter()?;
        if let Some(dir) = &self.tmpfs_dir {
            landlock_rules::allow_writes_beneath(&self.landlock, dir)?;
        }
        if let Some(sender) = &self.namespace_handoff {
            sender.send_mount_namespace();
        }
        // The working directory still points into the mounts as they were before; walk to it
        // again so relative paths land on the new (writable or read-only) mounts.
        if let Some(cwd) = &self.cwd {
            // SAFETY: valid NUL-terminated path.
            if unsafe { libc::chdir(cwd.as_ptr()) } != 0 {
                return Err(Failure::last(Step::WorkingDirectory));
            }
        }
        capabilities::drop_all()?;
        capabilities::set_no_new_privs()?;
        landlock_rules::restrict(&self.landlock)?;
        seccomp_filter::install(self.seccomp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_survive_the_trip_through_an_os_error() {
        for &step in STEPS {
            let failure = Failure {
                step,
                errno: libc::EPERM,
            };
            let error = failure.into_io_error();
            assert_eq!(Failure::from_io_error(&error), Some(failure));
        }
        let plain = std::io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(Failure::from_io_error(&plain), None);
    }

    #[test]
    fn trusted_needs_no_confinement() {
        let policy = SandboxPolicy::new(SecurityProfile::Trusted, std::env::temp_dir());
        let prepared = Confinement::prepare(&policy, None, None, &std::env::temp_dir()).unwrap();
        assert!(prepared.is_none());
    }
}
