//! What this machine can enforce: checked cheaply before every sandbox is built (so a profile
//! the kernel cannot hold is refused up front), and reported in full for `cadre doctor`.

use cadre_protocol::SecurityProfile;
use serde::Serialize;

/// Whether one profile can be enforced here, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileSupport {
    pub profile: SecurityProfile,
    pub enforceable: bool,
    /// What is missing, and what to do about it.
    pub reason: Option<String>,
}

/// The kernel features the profiles rest on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SupportReport {
    pub os: &'static str,
    /// The Landlock ABI the kernel offers (0: none); the profiles need 6 or newer.
    pub landlock_abi: i32,
    pub seccomp: bool,
    pub running_as_root: bool,
    /// Whether this user may create a user namespace (needed unless running as root).
    pub user_namespaces: bool,
    pub profiles: Vec<ProfileSupport>,
}

/// Probes the kernel (forks once to try a user namespace) and judges every profile.
pub fn support_report() -> SupportReport {
    let running_as_root = is_root();
    let user_namespaces = running_as_root || probe_user_namespace();
    let base = profile_support_reason();
    let profiles = SecurityProfile::ALL
        .iter()
        .map(|&profile| {
            let reason = if profile == SecurityProfile::Trusted {
                None
            } else if let Some(reason) = &base {
                Some(reason.clone())
            } else if !user_namespaces {
                Some("unprivileged user namespaces are disabled, so the read-only mounts cannot be set up: enable them (`sysctl kernel.unprivileged_userns_clone=1`, or on Ubuntu `kernel.apparmor_restrict_unprivileged_userns=0`) or use `--profile trusted` knowingly".into())
            } else {
                None
            };
            ProfileSupport {
                profile,
                enforceable: reason.is_none(),
                reason,
            }
        })
        .collect();
    SupportReport {
        os: std::env::consts::OS,
        landlock_abi: landlock_abi(),
        seccomp: seccomp_available(),
        running_as_root,
        user_namespaces,
        profiles,
    }
}

/// Why a restricting profile cannot be enforced here, from the checks that need no fork.
pub(crate) fn profile_support_reason() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some(format!(
            "{} has no kernel enforcement cadre can use; only Linux runs the restricting profiles",
            std::env::consts::OS
        ));
    }
    let abi = landlock_abi();
    if abi < 6 {
        return Some(format!(
            "the kernel offers Landlock ABI {abi}, and the profiles need ABI 6 (Linux 6.12) or newer with Landlock enabled (`lsm=landlock,...` on the kernel command line)"
        ));
    }
    if !seccomp_available() {
        return Some("the kernel was built without seccomp filters".into());
    }
    None
}

#[cfg(target_os = "linux")]
fn landlock_abi() -> i32 {
    crate::landlock_rules::kernel_abi()
}

#[cfg(not(target_os = "linux"))]
fn landlock_abi() -> i32 {
    0
}

#[cfg(target_os = "linux")]
fn seccomp_available() -> bool {
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) >= 0 }
}

#[cfg(not(target_os = "linux"))]
fn seccomp_available() -> bool {
    false
}

#[cfg(unix)]
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(not(unix))]
fn is_root() -> bool {
    false
}

#[cfg(target_os = "linux")]
fn probe_user_namespace() -> bool {
    // SAFETY: the child only calls async-signal-safe functions (unshare, _exit) before exiting,
    // so forking from a multi-threaded process is sound.
    unsafe {
        let pid = libc::fork();
        if pid == 0 {
            let ok = libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) == 0;
            libc::_exit(if ok { 0 } else { 1 });
        }
        if pid < 0 {
            return false;
        }
        let mut status = 0;
        libc::waitpid(pid, &mut status, 0);
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
    }
}

#[cfg(not(target_os = "linux"))]
fn probe_user_namespace() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_is_always_enforceable_and_others_agree_with_the_cheap_check() {
        let report = support_report();
        assert_eq!(report.profiles.len(), SecurityProfile::ALL.len());
        for support in &report.profiles {
            if support.profile == SecurityProfile::Trusted {
                assert!(support.enforceable);
            } else if profile_support_reason().is_some() {
                assert!(!support.enforceable && support.reason.is_some());
            }
        }
    }
}
